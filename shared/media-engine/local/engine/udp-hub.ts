/**
 * A UDP fan-out hub on loopback: every byte received on its port is sent on, in order and unchanged,
 * to each registered target port, batched: the datagrams of up to 20 ms (at most 48 KiB) go out as
 * one datagram (`BATCH_BYTES`, `BATCH_MS`), which cuts the sends, and the consumers' reads, by an
 * order of magnitude. The engine uses two kinds:
 *
 * - the flow hub, fed by srt-live-transmit, whose targets are the flow outputs (one per
 *   destination) plus internal taps (primary HLS, shared encoders);
 * - one rendition hub per shared encoder, whose targets are the pushers of the channels using it.
 *
 * Why Node and UDP rather than pipes: a target is just a port, so adding or removing one never
 * touches another (no process restarts, no shared pipe), a slow or dead consumer cannot block the
 * others (UDP has no back-pressure; each FFmpeg reads into its own FIFO), and it is the same model
 * as a MediaConnect output. Loopback UDP does not reorder, and with 4 MB socket buffers and
 * FFmpeg's input FIFO it does not drop at these rates.
 *
 * The hub also measures what passes (bytes, packets, bitrate) and tells its owner when media starts
 * and stops arriving (`onActivity`), which drives the primary HLS and the recovery of channels.
 *
 * Joining mid-stream: with `gopCache`, the hub keeps the datagrams since the latest keyframe
 * (`gop-cache.ts`). A consumer (re)starting calls `hold(id)` (no live datagrams to a socket that
 * is not bound yet or is half-way through a restart), waits until its FFmpeg has bound the port
 * (`waitUdpBound`), then `replay(id)`: the hub sends the cached GOP, paced, then whatever arrived
 * meanwhile, then live again: the consumer sees one continuous stream starting at a keyframe.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { LOOPBACK } from './argv.ts';
import { GopCache } from './gop-cache.ts';

export interface UdpHubOptions {
  /** For logs. */
  name: string;
  /** Socket buffer request (the kernel caps it at net.core.[rw]mem_max). Default 4 MiB. */
  bufferBytes?: number;
  /** No datagram for this long = media stopped. Default 2000. */
  idleAfterMs?: number;
  /** Called when media starts arriving (true) and when it stops (false). */
  onActivity?: (active: boolean) => void;
  /** Keep the latest GOP for `replay()`. Default false. */
  gopCache?: boolean;
}

interface Target {
  port: number;
  /** 'live': every batch is sent; 'held': nothing is; 'replaying': live batches queue in `pending`. */
  mode: 'live' | 'held' | 'replaying';
  /** Batches (each a list of received datagrams) that arrived during a replay. */
  pending: Buffer[][];
  pendingPackets: number;
}

export interface UdpHubStats {
  port: number;
  packetsIn: number;
  bytesIn: number;
  /** Over the last full second; null before one has passed. */
  bitrateKbps: number | null;
  /** Epoch ms of the last datagram. */
  lastPacketAt: number | null;
  active: boolean;
  datagramsOut: number;
  sendErrors: number;
  targets: number;
  recvBufferBytes: number;
  sendBufferBytes: number;
}

const TICK_MS = 250;
/**
 * Received datagrams are sent on in batches: one outgoing datagram carries up to this many bytes
 * of them (MPEG-TS does not care where datagrams end, and FFmpeg's UDP input reads up to 64 KiB
 * per datagram). One sendmsg per batch and consumer instead of one per 1316-byte packet: at
 * 6 Mbit/s that is about 40 sends a second per consumer instead of 570, and as many fewer reads
 * in each FFmpeg.
 */
export const BATCH_BYTES = 48 * 1024;
/** A batch waits at most this long for more datagrams (the latency the batching adds). */
export const BATCH_MS = 20;
/** Bytes sent per event-loop turn while replaying (a burst must not overflow the receiver's socket buffer). */
const REPLAY_SLICE_BYTES = 96 * 1024;
/** A consumer that lags this far behind during a replay gets live data dropped rather than queued without bound. */
const MAX_PENDING = 20_000;

/** Splits datagrams into groups of at most `BATCH_BYTES` (a datagram larger than that goes alone). */
function groups(datagrams: readonly Buffer[]): Buffer[][] {
  const out: Buffer[][] = [];
  let cur: Buffer[] = [];
  let bytes = 0;
  for (const d of datagrams) {
    if (cur.length > 0 && bytes + d.length > BATCH_BYTES) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(d);
    bytes += d.length;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/**
 * Resolves true once something has bound UDP `127.0.0.1:port` (read from /proc/net/udp), false
 * after `timeoutMs`. Lets the hub start a replay exactly when the consumer can receive it.
 */
export async function waitUdpBound(port: number, timeoutMs = 5000, isCancelled: () => boolean = () => false): Promise<boolean> {
  // local_address (second column) of 127.0.0.1:50000 reads "0100007F:C350".
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const table = await readFile('/proc/net/udp', 'utf8');
      if (table.split('\n').some((l) => l.trim().split(/\s+/)[1] === local)) return true;
    } catch {
      return false; // no /proc: cannot tell; the caller replays at once
    }
    if (isCancelled() || Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A free UDP port on loopback (bound, then released for the process that will bind it). */
export async function allocateUdpPort(exclude: ReadonlySet<number> = new Set()): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createSocket('udp4');
      s.once('error', reject);
      s.bind(0, LOOPBACK, () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
    if (!exclude.has(port)) return port;
  }
  throw new Error('could not allocate a free UDP port on loopback');
}

export class UdpHub {
  readonly name: string;
  readonly #socket: Socket;
  readonly #targets = new Map<string, Target>();
  readonly #cache: GopCache | null;
  readonly #idleAfterMs: number;
  readonly #onActivity: ((active: boolean) => void) | undefined;
  #timer: NodeJS.Timeout | null = null;
  /** Received, not yet sent on. */
  #batch: Buffer[] = [];
  #batchBytes = 0;
  #batchTimer: NodeJS.Timeout | null = null;
  #packetsIn = 0;
  #bytesIn = 0;
  #datagramsOut = 0;
  #sendErrors = 0;
  #lastPacketAt: number | null = null;
  #active = false;
  #windowStart = Date.now();
  #windowBytes = 0;
  #bitrateKbps: number | null = null;
  #closed = false;

  private constructor(socket: Socket, o: UdpHubOptions) {
    this.name = o.name;
    this.#socket = socket;
    this.#idleAfterMs = o.idleAfterMs ?? 2000;
    this.#onActivity = o.onActivity;
    this.#cache = o.gopCache ? new GopCache() : null;
  }

  /** Binds a hub on 127.0.0.1:<ephemeral>. */
  static async open(o: UdpHubOptions): Promise<UdpHub> {
    const socket = createSocket({ type: 'udp4', recvBufferSize: o.bufferBytes ?? 4 << 20, sendBufferSize: o.bufferBytes ?? 4 << 20 });
    const hub = new UdpHub(socket, o);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, LOOPBACK, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    // Errors after bind (e.g. an ICMP error surfacing on a send) must not crash the control plane.
    socket.on('error', () => {
      hub.#sendErrors += 1;
    });
    socket.on('message', (msg) => hub.#onMessage(msg));
    hub.#timer = setInterval(() => hub.#tick(), TICK_MS);
    hub.#timer.unref();
    return hub;
  }

  get port(): number {
    return this.#socket.address().port;
  }

  get active(): boolean {
    return this.#active;
  }

  /**
   * Sends a copy of every datagram to `127.0.0.1:port` from now on (replaces an earlier target of
   * the same id); with `held`, only once `replay(id)` is called.
   */
  addTarget(id: string, port: number, o: { held?: boolean } = {}): void {
    this.#targets.set(id, { port, mode: o.held ? 'held' : 'live', pending: [], pendingPackets: 0 });
  }

  /** Stops sending to a target until `replay(id)` (its consumer is restarting). */
  hold(id: string): void {
    const t = this.#targets.get(id);
    if (t) {
      t.mode = 'held';
      t.pending = [];
      t.pendingPackets = 0;
    }
  }

  /**
   * Sends the cached GOP (if any) to a target, paced, then what arrived meanwhile, then goes live.
   * @returns the number of datagrams replayed from the cache
   */
  replay(id: string): number {
    const t = this.#targets.get(id);
    if (!t) return 0;
    // What is still batched is in the snapshot: it must not reach this target a second time.
    this.#flush();
    const cached = this.#cache?.snapshot() ?? [];
    const burst = groups(cached);
    t.mode = 'replaying';
    t.pending = [];
    t.pendingPackets = 0;
    let i = 0;
    const step = (): void => {
      if (this.#closed || this.#targets.get(id) !== t || t.mode !== 'replaying') return;
      let bytes = 0;
      while (i < burst.length && bytes < REPLAY_SLICE_BYTES) {
        const g = burst[i++] as Buffer[];
        this.#send(g, t.port);
        for (const d of g) bytes += d.length;
      }
      if (i < burst.length) {
        setImmediate(step);
        return;
      }
      for (const g of t.pending) this.#send(g, t.port);
      t.pending = [];
      t.pendingPackets = 0;
      t.mode = 'live';
    };
    step();
    return cached.length;
  }

  /** Idempotent. */
  removeTarget(id: string): void {
    this.#targets.delete(id);
  }

  targetPort(id: string): number | null {
    return this.#targets.get(id)?.port ?? null;
  }

  targets(): { id: string; port: number; mode: Target['mode'] }[] {
    return [...this.#targets].map(([id, t]) => ({ id, port: t.port, mode: t.mode }));
  }

  /** Sends `datagrams` as ONE datagram (scatter-gather, no copy). */
  #send(datagrams: Buffer[], port: number): void {
    // The buffers are never modified after they arrive, so every send can share them.
    this.#socket.send(datagrams, port, LOOPBACK, (err) => {
      if (err) this.#sendErrors += 1;
    });
    this.#datagramsOut += 1;
  }

  stats(): UdpHubStats {
    return {
      port: this.port,
      packetsIn: this.#packetsIn,
      bytesIn: this.#bytesIn,
      bitrateKbps: this.#active ? this.#bitrateKbps : 0,
      lastPacketAt: this.#lastPacketAt,
      active: this.#active,
      datagramsOut: this.#datagramsOut,
      sendErrors: this.#sendErrors,
      targets: this.#targets.size,
      recvBufferBytes: this.#socket.getRecvBufferSize(),
      sendBufferBytes: this.#socket.getSendBufferSize(),
    };
  }

  #onMessage(msg: Buffer): void {
    const now = Date.now();
    this.#packetsIn += 1;
    this.#bytesIn += msg.length;
    this.#windowBytes += msg.length;
    this.#lastPacketAt = now;
    this.#cache?.push(msg);
    if (this.#batchBytes + msg.length > BATCH_BYTES) this.#flush();
    this.#batch.push(msg);
    this.#batchBytes += msg.length;
    if (this.#batchBytes >= BATCH_BYTES) this.#flush();
    else this.#batchTimer ??= setTimeout(() => this.#flush(), BATCH_MS);
    if (!this.#active) this.#setActive(true);
  }

  /** Hands the batch to every target: sent to live ones, queued for replaying ones. */
  #flush(): void {
    if (this.#batchTimer) clearTimeout(this.#batchTimer);
    this.#batchTimer = null;
    const batch = this.#batch;
    if (batch.length === 0) return;
    this.#batch = [];
    this.#batchBytes = 0;
    for (const t of this.#targets.values()) {
      if (t.mode === 'live') this.#send(batch, t.port);
      else if (t.mode === 'replaying' && t.pendingPackets < MAX_PENDING) {
        t.pending.push(batch);
        t.pendingPackets += batch.length;
      }
    }
  }

  #tick(): void {
    const now = Date.now();
    if (now - this.#windowStart >= 1000) {
      this.#bitrateKbps = Math.round((this.#windowBytes * 8) / (now - this.#windowStart));
      this.#windowStart = now;
      this.#windowBytes = 0;
    }
    if (this.#active && (this.#lastPacketAt === null || now - this.#lastPacketAt > this.#idleAfterMs)) this.#setActive(false);
  }

  #setActive(active: boolean): void {
    this.#active = active;
    // After a gap the next datagrams need not continue the cached GOP (a new encoder session).
    if (!active) this.#cache?.reset();
    try {
      this.#onActivity?.(active);
    } catch {
      /* an owner's listener must not break the hub */
    }
  }

  /** Closes the socket; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#batchTimer) clearTimeout(this.#batchTimer);
    this.#targets.clear();
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }
}
