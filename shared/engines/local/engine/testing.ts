/**
 * Test support for the local engine's end-to-end tests (not used by the engine):
 *
 * - `startTestSource()`: a contribution encoder (FFmpeg test pattern and tone, H.264/AAC, sent over
 *   SRT by `fanout-srt call` with the passphrase on its stdin) in its own process group, with
 *   `killGroup()` and `exited()`;
 * - `mediaProcessesInProc()` and `tcpConnectionsTo()`: what is really running and connected, read
 *   from /proc, for "nothing leaked" checks;
 * - `alertsFor()` / `statesFor()` and `nativeSchemaProblems()`: the native events an engine emitted,
 *   per channel, and whether they pass the native schemas inside the envelope the bus adds.
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { MediaConnectFlowStatusChange, MediaConnectSourceFailoverSwitch, MediaConnectSourceHealth, MediaLiveChannelAlert, MediaLiveChannelStateChange } from '../../../../events/native/schemas.ts';
import type { NativeEngineEvent } from '../../port/ports.ts';
import { isAlive, readCmdline, readStatFields } from '../process/proc.ts';
import { type SpawnTestSourceOptions, spawnTestSource } from './ingest/test-source.ts';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './native-events.ts';

/** Starts a test source calling the engine's SRT listener, leading its own process group. */
export function startTestSource(o: Omit<SpawnTestSourceOptions, 'output' | 'detached'>): ChildProcess {
  const child = spawnTestSource({ ...o, output: 'pipe', detached: true });
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}

/** SIGKILLs the child's process group, if it is still there. */
export function killGroup(child: ChildProcess | null): void {
  if (!child?.pid) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

/** Resolves with the exit code (null after a signal) once the child has exited. */
export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

/** Live ffmpeg, fanout-srt and srt-live-transmit processes whose command line mentions one of `marks`. */
export function mediaProcessesInProc(marks: readonly string[]): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const argv = readCmdline(Number(e));
    if (!argv || !isAlive(Number(e))) continue;
    if (!/ffmpeg$|fanout-srt$|srt-live-transmit$/.test(argv[0] ?? '')) continue;
    // Children of this process (the engine spawns them here; FFmpegs reading a pipe mention no
    // port), or whatever mentions a mark (one left behind by a dead parent).
    if (readStatFields(Number(e))?.field(4) === process.pid || argv.some((a) => marks.some((m) => a.includes(m)))) out.push(Number(e));
  }
  return out;
}

/** TCP connections this process holds to `port` (its socket fds matched in /proc/net/tcp and tcp6). */
export function tcpConnectionsTo(port: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m?.[1]) inodes.add(m[1]);
    } catch {
      /* closed meanwhile */
    }
  }
  let n = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      const remotePort = parseInt(f[2]?.split(':')[1] ?? '', 16);
      if (remotePort === port && inodes.has(f[9] ?? '')) n += 1;
    }
  }
  return n;
}

const ofChannel = (events: readonly NativeEngineEvent[], detailType: string, channelId: string): NativeEngineEvent[] => events.filter((e) => e.detailType === detailType && String(e.detail['channel_arn']).endsWith(`:${channelId}`));

/** The "MediaLive Channel Alert" events of one channel. */
export const alertsFor = (events: readonly NativeEngineEvent[], channelId: string): NativeEngineEvent[] => ofChannel(events, 'MediaLive Channel Alert', channelId);

/** The states of one channel's "MediaLive Channel State Change" events, in order. */
export const statesFor = (events: readonly NativeEngineEvent[], channelId: string): unknown[] => ofChannel(events, 'MediaLive Channel State Change', channelId).map((e) => e.detail['state']);

const NATIVE_SCHEMAS = {
  'MediaLive Channel State Change': MediaLiveChannelStateChange,
  'MediaLive Channel Alert': MediaLiveChannelAlert,
  'MediaConnect Flow Status Change': MediaConnectFlowStatusChange,
  'MediaConnect Source Health': MediaConnectSourceHealth,
  'MediaConnect Source Failover Switch': MediaConnectSourceFailoverSwitch,
} as const;

/** Why each event fails its native schema, inside the envelope the bus adds (empty: all pass). */
export function nativeSchemaProblems(events: readonly NativeEngineEvent[]): string[] {
  const problems: string[] = [];
  for (const [i, e] of events.entries()) {
    const schema = NATIVE_SCHEMAS[e.detailType as keyof typeof NATIVE_SCHEMAS];
    if (!schema) {
      problems.push(`#${i}: unknown detail-type ${e.detailType}`);
      continue;
    }
    const envelope = { version: '0', id: `e-${i}`, 'detail-type': e.detailType, source: e.source, account: LOCAL_ACCOUNT, time: new Date().toISOString(), region: LOCAL_REGION, resources: e.resources, detail: e.detail };
    const r = schema.safeParse(envelope);
    if (!r.success) problems.push(`#${i} ${e.detailType}: ${r.error.message}`);
  }
  return problems;
}
