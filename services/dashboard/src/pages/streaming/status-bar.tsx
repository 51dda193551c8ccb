/** The streaming dashboard's status bar: flow, destinations running, outbound bandwidth, session, input. */
import { useComputed } from '@preact/signals';
import { destinationIds, entries, flow, input, now } from '../../state/live.ts';
import { formatBitrate, formatDuration, secondsSince } from '../../lib/format.ts';
import { deriveHealth } from '../../lib/health.ts';

export function StatusBar() {
  const counts = useComputed(() => {
    let running = 0;
    let kbps = 0;
    const t = now.value;
    for (const id of destinationIds.value) {
      const e = entries.get(id);
      if (!e) continue;
      const d = e.dest.value;
      if (d.status === 'running') running += 1;
      // Only what the counters show leaving counts as outbound.
      if (deriveHealth(d.status, e.samples.value, t).level === 'ok') kbps += e.metrics.value?.bitrateKbps ?? 0;
    }
    return { running, total: destinationIds.value.length, kbps };
  });
  const f = flow.value;
  const i = input.value;
  const session = i?.connected ? secondsSince(i.connectedSince, now.value) : null;
  const inputLevel = !i ? 'off' : i.connected ? ((i.packetLossPercent ?? 0) > 1 ? 'warn' : 'ok') : i.lastError ? 'bad' : 'off';
  const inputWords = !i ? 'Unknown' : i.connected ? ((i.packetLossPercent ?? 0) > 1 ? 'Connected, losing packets' : 'Connected') : i.lastError ? 'Refused' : 'No encoder';
  return (
    <section class="status-bar" aria-label="Status">
      <div class="stat">
        <span class="stat-label">Flow</span>
        <span class="stat-value" data-testid="flow-state">
          {f?.state ?? 'Unknown'}
        </span>
      </div>
      <div class="stat">
        <span class="stat-label">Running</span>
        <span class="stat-value" data-testid="running-count">
          {counts.value.running} of {counts.value.total}
        </span>
      </div>
      <div class="stat">
        <span class="stat-label">Outbound</span>
        <span class="stat-value" data-testid="outbound">
          {formatBitrate(counts.value.kbps)}
        </span>
      </div>
      <div class="stat">
        <span class="stat-label">Session</span>
        <span class="stat-value">{formatDuration(session)}</span>
      </div>
      <div class="stat">
        <span class="stat-label">Input</span>
        <span class="stat-value" data-testid="input-summary">
          <span class={`dot dot-${inputLevel}`} aria-hidden="true" />
          {inputWords}
        </span>
      </div>
    </section>
  );
}
