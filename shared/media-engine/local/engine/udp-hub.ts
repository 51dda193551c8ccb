/**
 * A UDP fan-out hub on loopback: every datagram received on its port is sent on, unchanged, to each
 * registered target port. The engine uses two kinds:
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
 */
import { createSocket, type Socket } from 'node:dgram';
import { LOOPBACK } from './argv.ts';

export interface UdpHubOptions {
  /** For logs. */
  name: string;
  /** Socket buffer request (the kernel caps it at net.core.[rw]mem_max). Default 4 MiB. */
  bufferBytes?: number;
  /** No datagram for this long = media stopped. Default 2000. */
  idleAfterMs?: number;
  /** Called when media starts arriving (true) and when it stops (false). */
  onActivity?: (active: boolean) => void;
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
  readonly #targets = new Map<string, number>();
  readonly #idleAfterMs: number;
  readonly #onActivity: ((active: boolean) => void) | undefined;
  #timer: NodeJS.Timeout | null = null;
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

  /** Sends a copy of every datagram to `127.0.0.1:port` from now on (replaces an earlier target of the same id). */
  addTarget(id: string, port: number): void {
    this.#targets.set(id, port);
  }

  /** Idempotent. */
  removeTarget(id: string): void {
    this.#targets.delete(id);
  }

  targetPort(id: string): number | null {
    return this.#targets.get(id) ?? null;
  }

  targets(): { id: string; port: number }[] {
    return [...this.#targets].map(([id, port]) => ({ id, port }));
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
    for (const port of this.#targets.values()) {
      // The buffer is never modified after this, so every send can share it.
      this.#socket.send(msg, port, LOOPBACK, (err) => {
        if (err) this.#sendErrors += 1;
      });
      this.#datagramsOut += 1;
    }
    if (!this.#active) this.#setActive(true);
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
    this.#targets.clear();
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }
}
