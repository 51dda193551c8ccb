/**
 * What the local engine shows of itself, read-only: its processes (redacted, for the API, operators
 * and tests), the primary HLS's status, the flow hub's counters and a channel's metrics. Nothing
 * here changes state; the figures are those `Channels.sample()` measured and the supervisors'.
 */
import { join } from 'node:path';
import type { LastError } from '../../../../events/envelope.ts';
import type { ChannelMetrics } from '../../port/ports.ts';
import type { ProcessSupervisor, SupervisorState } from '../process/supervisor.ts';
import type { Channel, Channels } from './channels.ts';
import type { EngineContext } from './engine-context.ts';
import type { Flow } from './flow.ts';
import type { SourcePool } from './source-pool.ts';

/** A process of the engine, as shown to operators (command redacted). */
export interface EngineProcess {
  name: string;
  role: 'ingest' | 'hls' | 'encoder' | 'pusher';
  channelIds: string[];
  pid: number | null;
  state: SupervisorState;
  restarts: number;
  attempt: number;
  lastError: LastError | null;
  command: string[];
  /**
   * CPU time measured inside this process when it has no pid of its own (an in-process RTMP
   * publisher: its media writes, `RtmpPublisherStats.cpuMicros`); `start` names the run it counts from.
   */
  cpu?: { start: string; seconds: number };
}

export interface PrimaryHlsStatus {
  state: SupervisorState;
  playlistPath: string;
  pid: number | null;
  lastError: LastError | null;
}

/** Every process the engine runs, redacted; none before the engine started. */
export function processes(ctx: EngineContext, flow: Flow, pool: SourcePool, channels: Channels): EngineProcess[] {
  const view = (sup: ProcessSupervisor, role: EngineProcess['role'], channelIds: string[]): EngineProcess => {
    const s = sup.status();
    return {
      name: s.name,
      role,
      channelIds,
      pid: s.pid,
      state: s.state,
      restarts: s.restarts,
      attempt: s.attempt,
      lastError: ctx.lastError(s.lastError),
      command: s.command.map((a) => ctx.redact(a)),
    };
  };
  const sups = flow.supervisors();
  if (!sups) return [];
  const out: EngineProcess[] = [view(sups.ingest, 'ingest', [])];
  if (sups.backupIngest) out.push(view(sups.backupIngest, 'ingest', []));
  out.push(view(sups.hls, 'hls', []));
  // The slate (while it runs) encodes for every output: listed as an encoder, serving no channel of its own.
  if (sups.slate) out.push(view(sups.slate, 'encoder', []));
  // The passthrough mux is listed as an encoder (the API's roles): it serves its channels the same way.
  for (const src of pool.all()) out.push(view(src.sup, 'encoder', [...src.users]));
  // Publishers run inside this process: synthetic entries, no pid.
  for (const ch of channels.all()) if (ch.sourceKey) out.push(publisherView(ctx, ch));
  return out;
}

function publisherView(ctx: EngineContext, ch: Channel): EngineProcess {
  const st = ch.publish?.stats ?? null;
  const state: SupervisorState = ch.gaveUp ? 'failed' : ch.retryTimer ? 'backoff' : ch.publish?.pushing ? 'running' : ch.publish ? 'starting' : 'idle';
  return {
    name: `publisher-${ch.id}`,
    role: 'pusher',
    channelIds: [ch.id],
    pid: null,
    state,
    restarts: ch.restarts,
    attempt: ch.backoff.attempt,
    lastError: ch.error ? { ...ch.error } : st?.error ? ctx.lastError(st.error) : null,
    command: ['rtmp-publisher', ctx.redact(`${ch.spec.target.url.replace(/\/+$/, '')}/${ch.spec.target.streamKey.reveal()}`)],
    ...(st ? { cpu: { start: `${ch.id}#${ch.restarts}`, seconds: st.cpuMicros / 1e6 } } : {}),
  };
}

/** The primary HLS output. */
export function primaryHls(ctx: EngineContext, flow: Flow): PrimaryHlsStatus {
  const playlistPath = join(flow.hlsDir, 'index.m3u8');
  const sups = flow.supervisors();
  if (!sups) return { state: 'idle', playlistPath, pid: null, lastError: null };
  const s = sups.hls.status();
  return { state: s.state, playlistPath, pid: s.pid, lastError: ctx.lastError(s.lastError) };
}

/** A channel's publishing figures (and its encoder's, if it has one); null if there is no such channel. */
export function channelMetrics(pool: SourcePool, ch: Channel | undefined): ChannelMetrics | null {
  if (!ch) return null;
  const now = Date.now();
  const pub = ch.publish;
  const st = pub?.stats ?? null;
  const live = st !== null && st.state === 'publishing';
  const src = ch.sourceKey ? pool.get(ch.sourceKey) : undefined;
  const enc = src?.kind === 'encoder' ? (src.sup.status().progress ?? null) : null;
  return {
    bitrateKbps: live ? pub!.bitrateKbps : null,
    fps: live ? pub!.fps : null,
    frames: st ? st.videoFramesSent : null,
    droppedFrames: st ? st.droppedVideoFrames + st.droppedAudioFrames + (enc?.dropFrames ?? 0) : (enc?.dropFrames ?? null),
    duplicatedFrames: enc?.dupFrames ?? null,
    speed: src && live ? (src.sup.status().progress?.speed ?? null) : null,
    uptimeSeconds: ch.pushingSince !== null ? Math.round((now - ch.pushingSince) / 1000) : null,
    restarts: ch.restarts,
    bytesSent: ch.bytesSentBefore + (st?.bytesSent ?? 0),
    attempt: ch.sourceKey !== null ? ch.backoff.attempt : null,
    nextRetryAt: ch.backoff.nextRetryAt !== null ? new Date(ch.backoff.nextRetryAt).toISOString() : null,
    updatedAt: new Date(now).toISOString(),
  };
}
