/**
 * One destination: platform mark, name, preset, status in colour and words, health from what
 * actually leaves, bitrate sparkline, fps, uptime, restarts, the last error with its hint and the
 * countdown to the next retry, and its commands (disabled while one is in flight). The stream key
 * shows as its last four characters at most.
 */
import { useState } from 'preact/hooks';
import { ConfirmDialog, PlatformBadge, ProblemView, StatusChip } from '../../components/common.tsx';
import { Sparkline } from '../../components/sparkline.tsx';
import { formatBitrate, formatDuration, formatNumber, maskedKey } from '../../lib/format.ts';
import { deriveHealth } from '../../lib/health.ts';
import { retryCountdown } from '../../lib/retry.ts';
import { platforms } from '../../state/catalog.ts';
import { command, now, type DestinationEntry } from '../../state/live.ts';
import { DestinationForm } from './destination-form.tsx';

function host(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol.replace(':', '')}://${u.host}`;
  } catch {
    return url;
  }
}

export function DestinationCard({ entry }: { entry: DestinationEntry }) {
  const d = entry.dest.value;
  const m = entry.metrics.value;
  const samples = entry.samples.value;
  const pending = entry.pending.value;
  const health = deriveHealth(d.status, samples, now.value);
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const platformName = platforms.value?.find((p) => p.platformId === d.platform)?.name ?? d.platform;
  const retry = d.status === 'error' || (m?.attempt ?? 0) > 0 ? retryCountdown(m?.nextRetryAt, m?.attempt, now.value) : null;
  const canStart = d.desired === 'stopped' && !['deleting', 'creating'].includes(d.status);
  const canStop = d.desired === 'running' && d.status !== 'deleting';
  const titleId = `dest-${d.destinationId}`;

  if (editing) return <DestinationForm editing={d} onDone={() => setEditing(false)} />;
  return (
    <article class={`card dest dest-${health.level}`} data-destination={d.destinationId} aria-labelledby={titleId}>
      <header class="dest-head">
        <PlatformBadge platform={d.platform} name={platformName} />
        <div class="dest-title">
          <h3 id={titleId} class="dest-name">
            {d.name}
          </h3>
          <p class="dest-sub">
            {platformName} · {d.preset} · <span class="nowrap">key {maskedKey(d.streamKeyLast4)}</span>
          </p>
          <p class="dest-sub dest-url">{host(d.rtmpUrl)}</p>
        </div>
        <StatusChip status={d.status} />
      </header>
      <p class="health" data-health={health.level}>
        <span class={`dot dot-${health.level}`} aria-hidden="true" />
        <strong>{health.label}</strong> <span class="muted">{health.reason}</span>
      </p>
      <div class="dest-metrics">
        <Sparkline samples={samples} label={`Bitrate of ${d.name}`} />
        <dl class="facts facts-inline">
          <dt>Bitrate</dt>
          <dd data-testid="bitrate">{d.status === 'running' ? formatBitrate(m?.bitrateKbps) : '–'}</dd>
          <dt>FPS</dt>
          <dd>{d.status === 'running' ? formatNumber(m?.fps, '', 0) : '–'}</dd>
          <dt>Uptime</dt>
          <dd>{d.status === 'running' ? formatDuration(m?.uptimeSeconds) : '–'}</dd>
          <dt>Restarts</dt>
          <dd>{formatNumber(m?.restarts)}</dd>
        </dl>
      </div>
      {d.lastError ? (
        <div class="problem" role="status">
          <p class="problem-detail">{d.lastError.message}</p>
          <p class="problem-hint">{d.lastError.hint}</p>
          <p class="problem-code">
            {d.lastError.code}
            {retry ? ` · ${retry.text}` : ''}
          </p>
        </div>
      ) : retry ? (
        <p class="muted">{retry.text}</p>
      ) : null}
      {d.channelReclaimed ? <p class="muted">Its channel was released while stopped; starting re-creates it (a few seconds more).</p> : null}
      <ProblemView problem={entry.problem.value} />
      <div class="actions">
        {canStop ? (
          <button type="button" class="btn" disabled={pending !== null} onClick={() => void command(entry.id, 'stop')}>
            {pending === 'stop' ? 'Stopping…' : 'Stop'}
          </button>
        ) : (
          <button type="button" class="btn btn-primary" disabled={pending !== null || !canStart} onClick={() => void command(entry.id, 'start')}>
            {pending === 'start' ? 'Starting…' : 'Start'}
          </button>
        )}
        <button type="button" class="btn" disabled={pending !== null || d.status === 'deleting'} onClick={() => setEditing(true)}>
          Edit
        </button>
        <button type="button" class="btn btn-danger-outline" disabled={pending !== null || d.status === 'deleting'} onClick={() => setConfirming(true)}>
          Remove
        </button>
      </div>
      <ConfirmDialog
        open={confirming}
        title={`Remove “${d.name}”?`}
        confirmLabel="Remove"
        danger
        onCancel={() => setConfirming(false)}
        onConfirm={() => {
          setConfirming(false);
          void command(entry.id, 'remove');
        }}
      >
        <p>It stops streaming to {platformName}, and its channel and output are deleted. The other destinations are not touched.</p>
      </ConfirmDialog>
    </article>
  );
}
