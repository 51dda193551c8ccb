/**
 * The backup input card (issue 15), beside the ingest card: both inputs' health, which one feeds
 * the outputs, the failover mode, the last switch (when and why), the slate's countdown; "Switch
 * to backup" / "Switch to main" and "Test backup". Live from the event stream (input.health,
 * input.switched). Where the engine has no backup input the card says so and offers nothing.
 */
import { useState } from 'preact/hooks';
import { problemOf } from '../../api/client.ts';
import type { BackupTestResult, InputOfPair, InputSwitch, Problem } from '../../api/types.ts';
import { ProblemView } from '../../components/common.tsx';
import { formatBitrate, formatDuration, secondsSince } from '../../lib/format.ts';
import { input, now, refreshInput } from '../../state/live.ts';
import { api } from '../../state/session.ts';

const WHY: Record<InputSwitch['reason'], string> = {
  'input-loss': 'input lost',
  recovered: 'input recovered',
  manual: 'switched by an operator',
  'slate-timeout': 'slate time ran out: destinations stopped',
};
const NAMES: Record<string, string> = { main: 'Main', backup: 'Backup', slate: 'Slate' };

function InputRow({ name, h, active }: { name: 'main' | 'backup'; h: InputOfPair; active: boolean }) {
  const state = !h.configured ? 'not configured' : h.connected ? `connected from ${h.sourceAddress ?? '?'}` : h.lastError ? h.lastError.message : 'no encoder connected';
  return (
    <li class="row" data-testid={`input-${name}`}>
      <div class="row-main">
        <strong>
          <span class={`dot dot-${h.connected ? 'ok' : h.lastError ? 'bad' : 'off'}`} aria-hidden="true" /> {NAMES[name]}
          {active ? (
            <>
              {' '}
              <span class="chip chip-running">active</span>
            </>
          ) : null}
        </strong>
        <span class="muted">
          {state}
          {h.connected ? ` · ${formatBitrate(h.bitrateInKbps)} · for ${formatDuration(secondsSince(h.connectedSince, now.value))}` : ''}
        </span>
      </div>
    </li>
  );
}

export function BackupInputCard() {
  const i = input.value;
  const [pending, setPending] = useState<string | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [test, setTest] = useState<BackupTestResult | null>(null);
  const run = async (what: string, call: () => Promise<void>): Promise<void> => {
    setPending(what);
    setProblem(null);
    try {
      await call();
    } catch (err) {
      setProblem(problemOf(err));
    } finally {
      setPending(null);
    }
  };
  const switchTo = (to: 'main' | 'backup') =>
    run(`switch-${to}`, async () => {
      await api.post<InputSwitch>('/api/mediaconnect/inputs/switch', { to });
      await refreshInput();
    });
  const testBackup = () => run('test', async () => setTest(await api.post<BackupTestResult>('/api/mediaconnect/inputs/backup/test')));

  if (!i?.inputs || !i.settings) {
    return (
      <section class="card backup-input" aria-labelledby="backup-title">
        <h2 id="backup-title">Backup input</h2>
        <p class="muted" data-testid="backup-unavailable">
          {!i ? 'Waiting for the engine…' : 'This media engine has no backup input.'}
        </p>
      </section>
    );
  }
  const active = i.active ?? null;
  const s = i.settings;
  const last = i.lastSwitch ?? null;
  const slateLeft = i.slate ? Math.max(0, (Date.parse(i.slate.stopsAt) - now.value) / 1000) : null;
  return (
    <section class="card backup-input" aria-labelledby="backup-title">
      <h2 id="backup-title">Backup input</h2>
      <p class="ingest-state" data-testid="active-input">
        <span class={`dot dot-${active === 'slate' ? 'bad' : active ? 'ok' : 'off'}`} aria-hidden="true" />
        {active === null ? 'No input has connected yet' : active === 'slate' ? 'Slate on air: no input delivers' : `On the ${active} input`}
      </p>
      {i.slate ? (
        <div class="problem" role="status" data-testid="slate">
          <p class="problem-detail">The destinations carry the slate; they stop in {formatDuration(slateLeft)} unless an input returns.</p>
          <p class="problem-hint">Check the encoders on the main and backup inputs.</p>
        </div>
      ) : null}
      <ul class="rows">
        <InputRow name="main" h={i.inputs.main} active={active === 'main'} />
        <InputRow name="backup" h={i.inputs.backup} active={active === 'backup'} />
      </ul>
      <dl class="facts">
        <dt>Mode</dt>
        <dd data-testid="failover-mode">
          {s.mode}
          {s.mode === 'automatic' ? `, ${s.errorClearTimeMs === null ? 'non-revertive' : `back to main after ${s.errorClearTimeMs / 1000} s clean`}` : ''}
        </dd>
        <dt>Last switch</dt>
        <dd data-testid="last-switch">{last ? `${NAMES[last.from ?? ''] ?? 'nothing'} → ${NAMES[last.to]}, ${WHY[last.reason]}, ${formatDuration(secondsSince(last.at, now.value))} ago` : 'none'}</dd>
      </dl>
      <ProblemView problem={problem} />
      <div class="actions">
        {active === 'backup' ? (
          <button type="button" class="btn" disabled={pending !== null || !i.inputs.main.connected} onClick={() => void switchTo('main')}>
            {pending === 'switch-main' ? 'Switching…' : 'Switch to main'}
          </button>
        ) : (
          <button type="button" class="btn" disabled={pending !== null || !i.inputs.backup.configured || !i.inputs.backup.connected} onClick={() => void switchTo('backup')}>
            {pending === 'switch-backup' ? 'Switching…' : 'Switch to backup'}
          </button>
        )}
        <button type="button" class="btn" disabled={pending !== null || !i.inputs.backup.configured} onClick={() => void testBackup()}>
          {pending === 'test' ? 'Testing…' : 'Test backup'}
        </button>
      </div>
      {test ? (
        <div class="test-result" role="status" data-testid="backup-test">
          <p>
            {test.connected && test.decodable ? (test.problems.length ? 'Backup usable, with problems' : 'Backup ready') : test.connected ? 'Backup connected but not decodable' : 'Backup not connected'}
            {test.video ? ` · ${test.video.codec} ${test.video.width}×${test.video.height}` : ''}
            {test.audio ? ` · ${test.audio.codec}` : ''}
          </p>
          {test.problems.length ? (
            <ul>
              {test.problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
