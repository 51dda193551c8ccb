/**
 * Infrastructure: the engine (local or AWS), the contribution flow and its outputs, every channel
 * with its state and uptime (live, from the event stream), the local engine's processes, and the
 * orphan check ("validate") with a cleanup that first lists what it will remove.
 */
import { useEffect, useState } from 'preact/hooks';
import { fieldErrors, problemOf } from '../../api/client.ts';
import type { CleanupResult, EngineProcess, FailoverSettings, Health, Problem, ValidationReport } from '../../api/types.ts';
import { ConfirmDialog, Field, ProblemView, StatusChip } from '../../components/common.tsx';
import { formatDuration } from '../../lib/format.ts';
import { destinationIds, entries, flow, input, refreshInput } from '../../state/live.ts';
import { api } from '../../state/session.ts';

/**
 * Failover settings (admin: they change what the engine does by itself, ADR 0024): mode, how soon
 * an input is lost, the revert time or non-revertive, the slate's time. Shown where the engine has
 * a backup input.
 */
function Failover() {
  const current = input.value?.settings;
  const [draft, setDraft] = useState<FailoverSettings | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  if (!current) return null;
  const d = draft ?? current;
  const set = (patch: Partial<FailoverSettings>) => {
    setDraft({ ...d, ...patch });
    setSaved(false);
  };
  const byField = fieldErrors(problem, ['mode', 'inputLossThresholdMs', 'errorClearTimeMs', 'slateTimeoutMs']);
  const save = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      await api.put<FailoverSettings>('/api/mediaconnect/inputs/failover', d);
      await refreshInput();
      setDraft(null);
      setSaved(true);
    } catch (err) {
      setProblem(problemOf(err));
    } finally {
      setBusy(false);
    }
  };
  const seconds = (ms: number | null) => (ms === null ? '' : String(ms / 1000));
  const toMs = (v: string) => Math.round(Number(v) * 1000);
  return (
    <section class="card" aria-labelledby="failover-title">
      <h2 id="failover-title">Input failover</h2>
      <form onSubmit={(e) => void save(e)}>
        <Field id="failover-mode" label="Mode" error={byField.mode}>
          <select id="failover-mode" value={d.mode} onChange={(e) => set({ mode: (e.target as HTMLSelectElement).value as FailoverSettings['mode'] })}>
            <option value="automatic">automatic: switch on input loss</option>
            <option value="manual">manual: only an operator switches</option>
          </select>
        </Field>
        <Field id="failover-loss" label="Input lost after (seconds without media)" error={byField.inputLossThresholdMs}>
          <input id="failover-loss" type="number" min="0.1" step="0.1" value={seconds(d.inputLossThresholdMs)} onInput={(e) => set({ inputLossThresholdMs: toMs((e.target as HTMLInputElement).value) })} />
        </Field>
        <label class="checks">
          <input type="checkbox" checked={d.errorClearTimeMs !== null} onChange={(e) => set({ errorClearTimeMs: (e.target as HTMLInputElement).checked ? 10_000 : null })} /> Switch back to the main once it is clean (revertive)
        </label>
        {d.errorClearTimeMs !== null ? (
          <Field id="failover-revert" label="Back to the main after (seconds clean)" error={byField.errorClearTimeMs}>
            <input id="failover-revert" type="number" min="1" step="1" value={seconds(d.errorClearTimeMs)} onInput={(e) => set({ errorClearTimeMs: toMs((e.target as HTMLInputElement).value) })} />
          </Field>
        ) : null}
        <Field id="failover-slate" label="Slate for at most (seconds with no input)" error={byField.slateTimeoutMs}>
          <input id="failover-slate" type="number" min="1" step="1" value={seconds(d.slateTimeoutMs)} onInput={(e) => set({ slateTimeoutMs: toMs((e.target as HTMLInputElement).value) })} />
        </Field>
        <ProblemView problem={problem} />
        <div class="actions">
          <button type="submit" class="btn btn-primary" disabled={busy || draft === null}>
            {busy ? 'Saving…' : 'Save failover settings'}
          </button>
          {saved ? (
            <span role="status" data-testid="failover-saved">
              Saved.
            </span>
          ) : null}
        </div>
      </form>
    </section>
  );
}

function Channels() {
  const rows = destinationIds.value.map((id) => entries.get(id)!).filter((e) => e && e.dest.value.mediaLiveChannelId);
  return (
    <section class="card" aria-labelledby="channels-title">
      <h2 id="channels-title">Channels</h2>
      {rows.length === 0 ? (
        <p class="empty">No channel exists (a destination gets its channel when it is added).</p>
      ) : (
        <ul class="rows">
          {rows.map((e) => {
            const d = e.dest.value;
            return (
              <li key={d.destinationId} class="row">
                <div class="row-main">
                  <strong>{d.name}</strong>
                  <span class="muted">
                    channel {d.mediaLiveChannelId} · uptime {d.status === 'running' ? formatDuration(e.metrics.value?.uptimeSeconds) : '–'}
                  </span>
                </div>
                <StatusChip status={d.status} />
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

function Processes() {
  const [list, setList] = useState<EngineProcess[] | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const load = async (): Promise<void> => {
    try {
      setList((await api.get<{ processes: EngineProcess[] }>('/api/admin/engine/processes')).processes);
      setProblem(null);
    } catch (err) {
      setProblem(problemOf(err));
    }
  };
  useEffect(() => void load(), []);
  return (
    <section class="card" aria-labelledby="procs-title">
      <div class="section-head">
        <h2 id="procs-title">Engine processes</h2>
        <button type="button" class="btn btn-small" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      <ProblemView problem={problem} />
      {list === null && !problem ? <p role="status">Loading…</p> : null}
      {list && list.length === 0 ? <p class="empty">No process runs.</p> : null}
      {list && list.length > 0 ? (
        <ul class="rows">
          {list.map((p) => (
            <li key={p.name} class="row">
              <div class="row-main">
                <strong>{p.name}</strong>
                <span class="muted">
                  {p.role} · {p.state} · pid {p.pid ?? '–'} · {p.restarts} restart{p.restarts === 1 ? '' : 's'}
                </span>
                {p.lastError ? <span class="muted">last error: {p.lastError.message}</span> : null}
                <code class="cmd">{p.command.join(' ')}</code>
              </div>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

function Orphans() {
  const [report, setReport] = useState<ValidationReport | null>(null);
  const [result, setResult] = useState<CleanupResult | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const validate = async (): Promise<void> => {
    setBusy(true);
    setProblem(null);
    try {
      setReport(await api.get<ValidationReport>('/api/channels/validate'));
    } catch (err) {
      setProblem(problemOf(err));
    } finally {
      setBusy(false);
    }
  };
  const cleanup = async (): Promise<void> => {
    if (!report) return;
    setConfirming(false);
    setBusy(true);
    try {
      setResult(await api.post<CleanupResult>('/api/channels/cleanup', { only: report.orphans.map((o) => o.id) }));
      setReport(await api.get<ValidationReport>('/api/channels/validate'));
    } catch (err) {
      setProblem(problemOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" aria-labelledby="validate-title">
      <div class="section-head">
        <h2 id="validate-title">Orphans and mismatches</h2>
        <div class="actions">
          <button type="button" class="btn" disabled={busy} onClick={() => void validate()}>
            Validate
          </button>
          <button type="button" class="btn btn-danger-outline" disabled={busy || !report || report.orphans.length === 0} onClick={() => setConfirming(true)}>
            Clean up orphans…
          </button>
        </div>
      </div>
      <ProblemView problem={problem} />
      {!report ? <p class="muted">Validate compares the engine's channels and outputs with the destinations: nothing is changed.</p> : null}
      {report ? (
        <>
          <p data-testid="validate-summary">
            Checked {new Date(report.checkedAt).toLocaleTimeString()}: {report.orphans.length} orphan{report.orphans.length === 1 ? '' : 's'}, {report.mismatches.length} mismatch{report.mismatches.length === 1 ? '' : 'es'}.
          </p>
          {report.orphans.length > 0 ? (
            <ul class="rows">
              {report.orphans.map((o) => (
                <li key={o.id} class="row">
                  <div class="row-main">
                    <strong>
                      {o.kind} {o.id}
                    </strong>
                    <span class="muted">
                      {o.reason} · destination {o.destinationId ?? 'unknown'} · state {o.state ?? '–'}
                    </span>
                  </div>
                </li>
              ))}
            </ul>
          ) : null}
          {report.mismatches.length > 0 ? (
            <ul class="rows">
              {report.mismatches.map((m) => (
                <li key={m.destinationId} class="row">
                  <div class="row-main">
                    <strong>{entries.get(m.destinationId)?.dest.value.name ?? m.destinationId}</strong>
                    <span class="muted">
                      {m.reason}: store says {m.storeStatus}, engine {m.engineState ?? 'has no channel'}, expected {m.expectedState} (the reconcile repairs it within a minute)
                    </span>
                  </div>
                </li>
              ))}
            </ul>
          ) : null}
        </>
      ) : null}
      {result ? (
        <p role="status">
          Cleanup: {result.removed} removed, {result.removing} being removed, {result.failed} failed.
        </p>
      ) : null}
      <ConfirmDialog open={confirming} title="Remove these orphans?" confirmLabel="Remove them" danger onCancel={() => setConfirming(false)} onConfirm={() => void cleanup()}>
        <p>They belong to no destination. This stops and deletes:</p>
        <ul>
          {report?.orphans.map((o) => (
            <li key={o.id}>
              {o.kind} {o.id}
            </li>
          ))}
        </ul>
      </ConfirmDialog>
    </section>
  );
}

export function InfrastructurePage() {
  const [health, setHealth] = useState<Health | null>(null);
  useEffect(() => {
    void api.get<Health>('/api/health').then(setHealth, () => setHealth(null));
  }, []);
  const f = flow.value;
  return (
    <>
      <section class="card" aria-labelledby="engine-title">
        <h2 id="engine-title">Engine and flow</h2>
        <dl class="facts">
          <dt>Engine</dt>
          <dd data-testid="engine">{health ? (health.runtime === 'aws' ? 'AWS (MediaConnect, MediaLive, MediaPackage)' : 'local (FFmpeg, fanout-srt over libsrt)') : '–'}</dd>
          <dt>Health</dt>
          <dd>
            {health
              ? `${health.status} (${Object.entries(health.checks)
                  .map(([k, v]) => `${k} ${v}`)
                  .join(', ')})`
              : '–'}
          </dd>
          <dt>Flow</dt>
          <dd>{f?.state ?? 'UNKNOWN'}</dd>
          <dt>Flow ARN</dt>
          <dd class="wrap">{f?.flowArn ?? '–'}</dd>
          <dt>Outputs</dt>
          <dd>{f?.outputs ?? '–'}</dd>
          <dt>Source</dt>
          <dd>{f?.sourceConnected ? `connected from ${f.sourceAddress ?? '?'}` : 'not connected'}</dd>
          <dt>Primary channel</dt>
          <dd>{f?.primary ? `${f.primary.channelId ?? '–'}: ${f.primary.state ?? 'unknown'}${f.primary.error ? ` (${f.primary.error.message})` : ''}` : 'follows the flow (local)'}</dd>
        </dl>
      </section>
      <Failover />
      <Channels />
      <Processes />
      <Orphans />
    </>
  );
}
