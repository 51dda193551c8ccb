/**
 * Reads the SRT ingest's events as data. `fanout-srt listen` writes one JSON object a line on fd 3
 * (see fanout-srt.c): it says itself when a caller connects and leaves, when libsrt rejected a
 * handshake (and why: 1010/1011 are a passphrase that differs), when a second caller was refused
 * while one is connected, and the SRT statistics of each interval. Pure: feed it lines, it returns
 * what they mean; nothing is scraped from a log any more (srt-live-transmit's stderr was).
 *
 *   {"event":"connected","address":"127.0.0.1:34199"}
 *   {"event":"rejected","reason":"passphrase","code":1010,"address":"127.0.0.1:34200"}
 *   {"event":"stats","rttMs":0.04,"mbitRate":6.1,"packets":575,"packetsLost":0,"packetsRetransmitted":0,…}
 *   {"event":"disconnected"}
 *
 * Statistics are per interval (not cumulative): the monitor sums them per connection.
 */
import { type ClassifiedError, errorFor } from '../../process/stderr-classifier.ts';

export interface SrtStatsSample {
  rttMs: number | null;
  mbitRate: number | null;
  packets: number;
  packetsLost: number;
  packetsRetransmitted: number;
}

export type SrtIngestEvent =
  | { type: 'listening'; at: number }
  | { type: 'connected'; address: string | null; at: number }
  | { type: 'disconnected'; at: number }
  | { type: 'rejected'; error: ClassifiedError; address: string | null; at: number }
  | { type: 'busy'; address: string | null; at: number }
  | { type: 'stats'; sample: SrtStatsSample; at: number };

export interface SrtIngestState {
  connected: boolean;
  address: string | null;
  connectedSince: number | null;
  rttMs: number | null;
  mbitRate: number | null;
  /** Since the current connection started. */
  packets: number;
  packetsLost: number;
  packetsRetransmitted: number;
  /** Of the last stats interval, percent. */
  lossPercent: number | null;
  lastRejection: ClassifiedError | null;
  lastRejectionAt: number | null;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length <= 80 ? v : null);

/** Parses one event line; null if it is not one. */
export function parseIngestEvent(line: string): Record<string, unknown> | null {
  if (!line.startsWith('{')) return null;
  try {
    const j = JSON.parse(line) as unknown;
    return j && typeof j === 'object' && typeof (j as { event?: unknown }).event === 'string' ? (j as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The input before anything has called (and after a restart of the ingest). */
export const IDLE_INGEST_STATE: Readonly<SrtIngestState> = Object.freeze({
  connected: false,
  address: null,
  connectedSince: null,
  rttMs: null,
  mbitRate: null,
  packets: 0,
  packetsLost: 0,
  packetsRetransmitted: 0,
  lossPercent: null,
  lastRejection: null,
  lastRejectionAt: null,
});

export class SrtIngestMonitor {
  #state: SrtIngestState = SrtIngestMonitor.#initial();

  static #initial(): SrtIngestState {
    return { ...IDLE_INGEST_STATE };
  }

  state(): SrtIngestState {
    return { ...this.#state };
  }

  /** The process ended: whoever was connected is gone. */
  processExited(at: number): SrtIngestEvent[] {
    if (!this.#state.connected) return [];
    this.#reset();
    return [{ type: 'disconnected', at }];
  }

  /** Feeds one line of fd 3; returns what it means, if anything. */
  line(text: string, at: number): SrtIngestEvent[] {
    const j = parseIngestEvent(text);
    if (!j) return [];
    switch (j['event']) {
      case 'listening':
        return [{ type: 'listening', at }];
      case 'connected': {
        const address = str(j['address']);
        const { lastRejection, lastRejectionAt } = this.#state;
        this.#state = { ...SrtIngestMonitor.#initial(), connected: true, address, connectedSince: at, lastRejection, lastRejectionAt };
        return [{ type: 'connected', address, at }];
      }
      case 'disconnected':
        if (!this.#state.connected) return [];
        this.#reset();
        return [{ type: 'disconnected', at }];
      case 'busy':
        return [{ type: 'busy', address: str(j['address']), at }];
      case 'rejected': {
        if (j['reason'] !== 'passphrase') return [];
        const address = str(j['address']);
        const error = errorFor('SRT_PASSPHRASE_REJECTED', `libsrt rejected the handshake of ${address ?? 'a caller'} (${num(j['code']) ?? '?'}: the passphrases differ)`, [], {
          message: 'A caller was rejected because its SRT passphrase differs from ours',
          retryable: true,
        });
        this.#state.lastRejection = error;
        this.#state.lastRejectionAt = at;
        return [{ type: 'rejected', error, address, at }];
      }
      case 'stats': {
        const sample: SrtStatsSample = {
          rttMs: num(j['rttMs']),
          mbitRate: num(j['mbitRate']),
          packets: num(j['packets']) ?? 0,
          packetsLost: num(j['packetsLost']) ?? 0,
          packetsRetransmitted: num(j['packetsRetransmitted']) ?? 0,
        };
        const s = this.#state;
        s.rttMs = sample.rttMs;
        s.mbitRate = sample.mbitRate;
        s.packets += sample.packets;
        s.packetsLost += sample.packetsLost;
        s.packetsRetransmitted += sample.packetsRetransmitted;
        const total = sample.packets + sample.packetsLost;
        s.lossPercent = total > 0 ? Math.round((sample.packetsLost / total) * 10_000) / 100 : 0;
        return [{ type: 'stats', sample, at }];
      }
      default:
        return [];
    }
  }

  /** Forgets the last rejection (a caller has connected since, or it is old news). */
  clearRejection(): void {
    this.#state.lastRejection = null;
    this.#state.lastRejectionAt = null;
  }

  #reset(): void {
    const { lastRejection, lastRejectionAt } = this.#state;
    this.#state = { ...SrtIngestMonitor.#initial(), lastRejection, lastRejectionAt };
  }
}
