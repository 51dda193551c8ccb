/** The contribution input: connected or not, from where and since when, its SRT statistics, the URLs to copy. */
import { input, now } from '../../state/live.ts';
import { config } from '../../state/session.ts';
import { CopyButton } from '../../components/common.tsx';
import { formatBitrate, formatDuration, formatNumber, secondsSince } from '../../lib/format.ts';

/** The SRT URL an encoder calls, without the passphrase (which is never shown here). */
export function srtUrl(): string | null {
  const srt = config.srt;
  if (!srt) return null;
  const host = srt.host && srt.host !== '0.0.0.0' && srt.host !== '::' ? srt.host : location.hostname;
  return `srt://${host.includes(':') ? `[${host}]` : host}:${srt.port}`;
}

export function hlsUrl(): string {
  return new URL(config.hlsUrl, location.href).toString();
}

export function IngestCard() {
  const i = input.value;
  const srt = srtUrl();
  const hls = hlsUrl();
  const wrongPassphrase = i?.lastError?.code === 'SRT_PASSPHRASE_REJECTED';
  return (
    <section class="card ingest" aria-labelledby="ingest-title">
      <h2 id="ingest-title">Contribution input (SRT)</h2>
      <p class="ingest-state" data-testid="ingest-state">
        <span class={`dot dot-${i?.connected ? 'ok' : i?.lastError ? 'bad' : 'off'}`} aria-hidden="true" />
        {!i ? 'Waiting for the engine…' : i.connected ? 'Encoder connected' : 'No encoder connected'}
      </p>
      {i?.lastError && !i.connected ? (
        <div class="problem" role="status">
          <p class="problem-detail">{wrongPassphrase ? `Wrong passphrase: ${i.lastError.message}` : i.lastError.message}</p>
          <p class="problem-hint">{i.lastError.hint}</p>
        </div>
      ) : null}
      <dl class="facts">
        <dt>Source</dt>
        <dd>{i?.sourceAddress ?? '–'}</dd>
        <dt>Connected for</dt>
        <dd>{i?.connected ? formatDuration(secondsSince(i.connectedSince, now.value)) : '–'}</dd>
        <dt>Bitrate in</dt>
        <dd data-testid="ingest-bitrate">{formatBitrate(i?.bitrateInKbps)}</dd>
        <dt>Packet loss</dt>
        <dd>{i?.packetLossPercent === null || i?.packetLossPercent === undefined ? '–' : `${i.packetLossPercent.toFixed(2)} % (${i.packetsLost ?? 0} lost)`}</dd>
        <dt>Retransmits</dt>
        <dd>{formatNumber(i?.retransmits)}</dd>
        <dt>RTT</dt>
        <dd>{formatNumber(i?.rttMs, 'ms', 1)}</dd>
      </dl>
      <div class="url-row">
        <span class="url-label">SRT URL</span>
        <code class="url">{srt ?? 'not known here'}</code>
        {srt ? <CopyButton text={srt} label="Copy the SRT URL" /> : null}
      </div>
      {config.srt ? <p class="muted">Caller mode, {config.srt.keyLength ? `AES-${config.srt.keyLength * 8}` : 'AES (key length of your choice)'}, with the passphrase you were given (never shown here).</p> : null}
      <div class="url-row">
        <span class="url-label">Primary HLS</span>
        <code class="url">{hls}</code>
        <CopyButton text={hls} label="Copy the primary HLS URL" />
      </div>
    </section>
  );
}
