/**
 * Notifications (admins): the channels (Slack, signed webhook, SNS, log) with the alert types and
 * least severity each gets, on/off, "send a test message", what fires now, and the last deliveries
 * with their outcome. Webhook URLs are secrets: typed once into a password field, shown masked
 * afterwards; a webhook channel's signing secret is shown once, with a copy button.
 */
import { useEffect, useState } from 'preact/hooks';
import { fieldErrors, problemOf } from '../../api/client.ts';
import type { NotificationAlerts, NotificationChannel, NotificationChannelCreated, NotificationDelivery, NotificationKind, NotificationSeverity, Problem } from '../../api/types.ts';
import { ConfirmDialog, described, Field, OneTimeSecret, ProblemView } from '../../components/common.tsx';
import { api } from '../../state/session.ts';

const BASE = '/api/admin/notifications';
const KINDS: { kind: NotificationKind; label: string }[] = [
  { kind: 'slack', label: 'Slack (incoming webhook)' },
  { kind: 'webhook', label: 'Webhook (signed, Alertmanager format)' },
  { kind: 'sns', label: 'SNS topic (AWS)' },
  { kind: 'log', label: 'Log' },
];

export function NotificationsPage() {
  const [channels, setChannels] = useState<NotificationChannel[] | null>(null);
  const [deliveries, setDeliveries] = useState<NotificationDelivery[]>([]);
  const [alerts, setAlerts] = useState<NotificationAlerts | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [name, setName] = useState('');
  const [kind, setKind] = useState<NotificationKind>('slack');
  const [url, setUrl] = useState('');
  const [minSeverity, setMinSeverity] = useState<NotificationSeverity>('warning');
  const [formProblem, setFormProblem] = useState<Problem | null>(null);
  const [created, setCreated] = useState<NotificationChannelCreated | null>(null);
  const [removing, setRemoving] = useState<NotificationChannel | null>(null);
  const [testResult, setTestResult] = useState<NotificationDelivery | null>(null);

  const load = async (): Promise<void> => {
    try {
      const [c, d, a] = await Promise.all([api.get<{ channels: NotificationChannel[] }>(`${BASE}/channels`), api.get<{ deliveries: NotificationDelivery[] }>(`${BASE}/deliveries?limit=20`), api.get<NotificationAlerts>(`${BASE}/alerts`)]);
      setChannels(c.channels);
      setDeliveries(d.deliveries);
      setAlerts(a);
      setProblem(null);
    } catch (err) {
      setProblem(problemOf(err));
    }
  };
  useEffect(() => void load(), []);

  const create = async (ev: Event): Promise<void> => {
    ev.preventDefault();
    setFormProblem(null);
    try {
      const c = await api.post<NotificationChannelCreated>(`${BASE}/channels`, { name, kind, minSeverity, ...(kind === 'slack' || kind === 'webhook' ? { url } : {}) });
      setCreated(c);
      setName('');
      setUrl('');
      await load();
    } catch (err) {
      setFormProblem(problemOf(err));
    }
  };
  const update = async (c: NotificationChannel, patch: Partial<Pick<NotificationChannel, 'enabled' | 'alertNames' | 'minSeverity'>>): Promise<void> => {
    try {
      await api.put(`${BASE}/channels/${encodeURIComponent(c.channelId)}`, patch);
      await load();
    } catch (err) {
      setProblem(problemOf(err));
    }
  };
  const toggleAlert = (c: NotificationChannel, alertName: string, on: boolean): Promise<void> => {
    const all = alerts?.alertNames ?? [];
    const current = c.alertNames === 'all' ? all : c.alertNames;
    const next = on ? [...new Set([...current, alertName])] : current.filter((n) => n !== alertName);
    return update(c, { alertNames: next.length === all.length ? 'all' : next });
  };
  const test = async (c: NotificationChannel): Promise<void> => {
    setTestResult(null);
    try {
      setTestResult(await api.post<NotificationDelivery>(`${BASE}/channels/${encodeURIComponent(c.channelId)}/test`));
      await load();
    } catch (err) {
      setProblem(problemOf(err));
    }
  };
  const remove = async (c: NotificationChannel): Promise<void> => {
    setRemoving(null);
    try {
      await api.del(`${BASE}/channels/${encodeURIComponent(c.channelId)}`);
      await load();
    } catch (err) {
      setProblem(problemOf(err));
    }
  };
  const errs = fieldErrors(formProblem, ['name', 'kind', 'url', 'minSeverity']);
  const needsUrl = kind === 'slack' || kind === 'webhook';

  return (
    <>
      <form class="card" onSubmit={(e) => void create(e)} noValidate aria-labelledby="new-channel-title">
        <h2 id="new-channel-title">New notification channel</h2>
        <div class="form-grid">
          <Field id="channel-name" label="Name" error={errs.name}>
            <input id="channel-name" type="text" autocomplete="off" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} {...described('channel-name', errs.name)} />
          </Field>
          <Field id="channel-kind" label="Kind" error={errs.kind}>
            <select id="channel-kind" value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value as NotificationKind)} {...described('channel-kind', errs.kind)}>
              {KINDS.map((k) => (
                <option key={k.kind} value={k.kind}>
                  {k.label}
                </option>
              ))}
            </select>
          </Field>
          {needsUrl ? (
            <Field id="channel-url" label="Webhook URL (a secret: stored encrypted, shown masked)" error={errs.url}>
              <input id="channel-url" type="password" autocomplete="off" spellcheck={false} value={url} onInput={(e) => setUrl((e.target as HTMLInputElement).value)} {...described('channel-url', errs.url)} />
            </Field>
          ) : null}
          <Field id="channel-severity" label="Least severity" error={errs.minSeverity}>
            <select id="channel-severity" value={minSeverity} onChange={(e) => setMinSeverity((e.target as HTMLSelectElement).value as NotificationSeverity)} {...described('channel-severity', errs.minSeverity)}>
              <option value="critical">critical only</option>
              <option value="warning">warning and critical</option>
              <option value="info">everything</option>
            </select>
          </Field>
        </div>
        {errs[''] || (formProblem && !formProblem.errors) ? <ProblemView problem={{ ...formProblem!, detail: errs[''] ?? formProblem!.detail }} /> : null}
        <div class="actions">
          <button type="submit" class="btn btn-primary">
            Add channel
          </button>
        </div>
        {created?.signingSecret ? (
          <OneTimeSecret testId="signing-secret" value={created.signingSecret} copyLabel="Copy the signing secret" onDone={() => setCreated(null)}>
            Signing secret of <strong>{created.channel.name}</strong>. It is shown only now: give it to the receiver, which verifies each request's <code>webhook-signature</code> with it.
          </OneTimeSecret>
        ) : null}
      </form>

      <section class="card" aria-labelledby="channels-title">
        <h2 id="channels-title">Channels</h2>
        <ProblemView problem={problem} />
        {testResult ? (
          <p class={`banner ${testResult.outcome === 'sent' ? 'banner-ok' : 'banner-error'}`} role="status" data-testid="test-result">
            Test message to {testResult.channelName}:{' '}
            {testResult.outcome === 'sent' ? `delivered${testResult.httpStatus ? ` (HTTP ${testResult.httpStatus})` : ''}` : `not delivered: ${testResult.error?.message ?? ''} ${testResult.error?.hint ?? ''}`}
          </p>
        ) : null}
        {!channels ? (
          <p role="status">Loading…</p>
        ) : channels.length === 0 ? (
          <p class="empty">No channels: nobody is told when something breaks.</p>
        ) : (
          <ul class="rows">
            {channels.map((c) => (
              <li key={c.channelId} class="row" data-testid={`channel-${c.name}`}>
                <div class="row-main">
                  <strong>{c.name}</strong>
                  <span class="muted">
                    {c.kind} · {c.target} · {c.enabled ? 'on' : 'off'}
                  </span>
                  <fieldset class="checks">
                    <legend>Alert types for {c.name}</legend>
                    {(alerts?.alertNames ?? []).map((n) => (
                      <label key={n}>
                        <input type="checkbox" checked={c.alertNames === 'all' || c.alertNames.includes(n)} onChange={(e) => void toggleAlert(c, n, (e.target as HTMLInputElement).checked)} /> {n}
                      </label>
                    ))}
                  </fieldset>
                  <label>
                    Least severity{' '}
                    <select value={c.minSeverity} onChange={(e) => void update(c, { minSeverity: (e.target as HTMLSelectElement).value as NotificationSeverity })} aria-label={`Least severity for ${c.name}`}>
                      <option value="critical">critical</option>
                      <option value="warning">warning</option>
                      <option value="info">info</option>
                    </select>
                  </label>
                </div>
                <div class="actions">
                  <button type="button" class="btn btn-small" onClick={() => void update(c, { enabled: !c.enabled })} aria-label={`${c.enabled ? 'Disable' : 'Enable'} ${c.name}`}>
                    {c.enabled ? 'Disable' : 'Enable'}
                  </button>
                  <button type="button" class="btn btn-small" onClick={() => void test(c)} aria-label={`Send test to ${c.name}`}>
                    Send test
                  </button>
                  <button type="button" class="btn btn-danger-outline btn-small" onClick={() => setRemoving(c)} aria-label={`Remove ${c.name}`}>
                    Remove
                  </button>
                </div>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section class="card" aria-labelledby="firing-title">
        <h2 id="firing-title">Firing now</h2>
        {!alerts || alerts.firing.length === 0 ? (
          <p class="empty">Nothing fires.</p>
        ) : (
          <ul class="rows">
            {alerts.firing.map((a) => (
              <li key={`${a.alertname}-${a.scope}`} class="row">
                <div class="row-main">
                  <strong>{a.summary}</strong>
                  <span class="muted">
                    {a.alertname} · {a.severity} · since {new Date(a.since).toLocaleString()}
                  </span>
                </div>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section class="card" aria-labelledby="deliveries-title">
        <h2 id="deliveries-title">Last deliveries</h2>
        {deliveries.length === 0 ? (
          <p class="empty">No deliveries yet.</p>
        ) : (
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Channel</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">About</th>
                  <th scope="col">Tries</th>
                  <th scope="col">Detail</th>
                </tr>
              </thead>
              <tbody>
                {deliveries.map((d) => (
                  <tr key={`${d.deliveryId}-${d.at}`}>
                    <td>{new Date(d.at).toLocaleString()}</td>
                    <td>{d.channelName}</td>
                    <td>{d.outcome}</td>
                    <td>{d.test ? 'test message' : `${d.status}: ${d.alertNames.join(', ')}`}</td>
                    <td>{d.attempts}</td>
                    <td>{d.error ? `${d.error.code}: ${d.error.hint}` : d.httpStatus ? `HTTP ${d.httpStatus}` : ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <ConfirmDialog open={removing !== null} title={`Remove “${removing?.name ?? ''}”?`} confirmLabel="Remove" danger onCancel={() => setRemoving(null)} onConfirm={() => removing && void remove(removing)}>
        <p>It gets no more notifications; what waits in its queue is dropped.</p>
      </ConfirmDialog>
    </>
  );
}
