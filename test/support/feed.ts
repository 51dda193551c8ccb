/**
 * Test support: a live contribution feed. The whole local runtime with the real local media engine
 * (see local.ts), its SRT listener on loopback with a passphrase, and a test source (FFmpeg: test
 * pattern and tone, H.264/AAC in MPEG-TS, sent by `fanout-srt call` over encrypted SRT, the
 * passphrase on its stdin) calling it, as an encoder would.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnTestSource } from '../../shared/engines/local/index.ts';
import { eventually, startTestRuntime, type TestRuntime } from './local.ts';
import { freeUdpPort } from './nginx-rtmp.ts';

/** The test source's picture: a passthrough output must show exactly this. */
export const FEED_PICTURE = { width: 640, height: 360, fps: 30 } as const;

export interface TestFeed {
  rt: TestRuntime;
  srtPort: number;
  /** The test source started with the runtime (connected when `startTestFeed` resolves). */
  encoder: ChildProcess;
  /** Starts another test source towards the listener, with `passphrase` (the feed's by default). */
  spawnSource(passphrase?: string): ChildProcess;
  /**
   * Brings the main encoder back as a real one comes back: calls, and calls again whenever the
   * caller gives up, until the main input reports a connection made after the first call.
   * Needed right after a kill: for 1.5 s the listener still takes the dead caller for alive and
   * refuses the new one (fanout-srt.c, STALE_MS), while its health still says connected.
   */
  reconnect(timeoutMs?: number): Promise<ChildProcess>;
  /** Kills every test source it started, then stops the runtime. */
  close(): Promise<void>;
}

/**
 * Starts the runtime with the local engine and a test source, and resolves once the input reports
 * the encoder connected. `env` adds to (or overrides) the runtime's environment.
 */
export async function startTestFeed(opts: { passphrase: string; bitrate?: number; env?: Record<string, string> }): Promise<TestFeed> {
  // Not the default 9998, which other tests or a running Fanout may hold.
  const srtPort = await freeUdpPort();
  const rt = await startTestRuntime({ FANOUT_SRT_PORT: String(srtPort), FANOUT_SRT_HOST: '127.0.0.1', FANOUT_SRT_PASSPHRASE: opts.passphrase, FANOUT_X264_PRESET: 'ultrafast', ...opts.env }, { engine: 'local' });
  const sources = new Set<ChildProcess>();
  /** The end of the latest test source's stderr, for a failure's message. */
  let sourceStderr = '';
  const spawnSource = (passphrase = opts.passphrase): ChildProcess => {
    const child = spawnTestSource({ host: '127.0.0.1', port: srtPort, passphrase, keyLength: 16, ...FEED_PICTURE, bitrate: opts.bitrate ?? 1_200_000, detached: false });
    child.stdout!.resume();
    sourceStderr = '';
    child.stderr!.on('data', (d: Buffer) => (sourceStderr = (sourceStderr + d.toString()).slice(-1500)));
    sources.add(child);
    child.once('exit', () => sources.delete(child));
    return child;
  };
  const reconnect = async (timeoutMs = 20_000): Promise<ChildProcess> => {
    const since = Date.now();
    let child = spawnSource();
    await eventually(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) child = spawnSource();
        const h = (await rt.api('GET', '/api/mediaconnect/inputs/health')).json as { connectedSince?: string | null; inputs?: { main: { connectedSince: string | null } } };
        const at = (h.inputs?.main ?? h).connectedSince;
        // The engine stamps the notice with this process's clock, when it reads it.
        return typeof at === 'string' && Date.parse(at) >= since && child.exitCode === null;
      },
      { timeoutMs, what: 'the main encoder connected again' },
    );
    return child;
  };
  const close = async () => {
    for (const s of sources) s.kill('SIGKILL');
    await rt.close();
  };
  let encoder: ChildProcess | undefined;
  try {
    // The SRT caller gives up after about 3 s without an answer, so it calls once the listener
    // runs (the flow ACTIVE), and calls again if it gave up all the same, as a real encoder would.
    await eventually(async () => (await rt.api('GET', '/api/mediaconnect/flow/status')).json?.state === 'ACTIVE', { timeoutMs: 20_000, what: 'the flow ACTIVE' });
    encoder = spawnSource();
    await eventually(
      async () => {
        if (encoder!.exitCode !== null || encoder!.signalCode !== null) encoder = spawnSource();
        return (await rt.api('GET', '/api/mediaconnect/inputs/health')).json.connected === true;
      },
      { timeoutMs: 20_000, what: 'the encoder to connect' },
    );
  } catch (err) {
    // What the input and the encoder said: a start-up that fails only now and then needs it.
    const health = await rt.api('GET', '/api/mediaconnect/inputs/health').then(
      (r) => JSON.stringify(r.json),
      (e: unknown) => String(e),
    );
    await close();
    // Masked all the same, should anything ever print it.
    throw new Error(`${(err as Error).message}\ninput health: ${health}\ntest source stderr: ${sourceStderr.split(opts.passphrase).join('***')}`);
  }
  return { rt, srtPort, encoder: encoder!, spawnSource, reconnect, close };
}

/** Waits until the primary HLS playlist lists a segment, and returns it. */
export async function primaryPlaylist(rt: TestRuntime, timeoutMs = 20_000): Promise<string> {
  return eventually(
    async () => {
      const res = await fetch(`${rt.url}/hls/primary/index.m3u8`);
      const text = res.ok ? await res.text() : '';
      return text.includes('#EXTINF') ? text : null;
    },
    { timeoutMs, what: 'an HLS playlist with segments' },
  );
}
