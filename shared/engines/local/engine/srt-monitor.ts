/**
 * Reads srt-live-transmit's reports as data: the caller connecting and leaving, callers rejected
 * for a wrong passphrase (its log, on stderr: `line()`), and the periodic JSON statistics
 * (`-pf:json -statsout:/dev/fd/3`, its stdout being the media: `statsLine()`). Pure: feed it
 * lines, it returns what they mean. What srt-live-transmit 1.5.1 prints (with `-ll:note`), from
 * recordings:
 *
 *   stderr  07:26:18.416078/SRT:RcvQ:w1.N:SRT.cn: PASSING request from: 127.0.0.1:34199 to agent:147665603
 *   stderr  Accepted SRT source connection
 *   stderr  SRT source disconnected
 *   stderr  07:25:56.420051/SRT:RcvQ:w1!W:SRT.cn: processConnectRequest: rsp(REJECT): 1010 - Incorrect passphrase
 *   fd 3    {"sid":…,"link":{"rtt":0.038,…},"recv":{"packets":105,"packetsLost":0,"packetsRetransmitted":0,"mbitRate":0.71,…}}
 *
 * A caller's address only shows in the handshake line before "Accepted": the monitor remembers the
 * last one. Statistics are per interval (not cumulative): the monitor sums them per connection.
 * Note that the listener serves one caller at a time: while an encoder is connected a second
 * caller gets no answer at all (its handshake times out), so only rejections that happen while
 * nobody is connected can be seen here.
 *
 * Two threads write that stderr: srt-live-transmit's own messages go out in pieces (unbuffered
 * `cerr << "Accepted SRT " << "source" << " connection" << endl`: one write each) and libsrt's
 * receiving thread writes its log records whole, so a record can land inside a message (recorded
 * about once in 60 connections):
 *
 *   Accepted SRT source15:35:19.377870/SRT:RcvQ:w1.N:SRT.cn: Listener managed the connection request …
 *    connection
 *
 * `line()` puts such messages back together: the text before a record that does not start its
 * line is kept, and joined to the next line that is not a record.
 */
import { type ClassifiedError, classifyStderr } from '../process/stderr-classifier.ts';

export interface SrtStatsSample {
  rttMs: number | null;
  mbitRate: number | null;
  packets: number;
  packetsLost: number;
  packetsRetransmitted: number;
}

export type SrtIngestEvent =
  | { type: 'connected'; address: string | null; at: number }
  | { type: 'disconnected'; at: number }
  | { type: 'rejected'; error: ClassifiedError; address: string | null; at: number }
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

const PASSING = /PASSING request from: (\S+?)(?: to agent|$)/;
/** The start of a libsrt log record (`-ll:note` and up): its time of day, then `/SRT:`. */
const SRT_RECORD = /\d{2}:\d{2}:\d{2}\.\d{6}\/SRT:/;
/** A fragment longer than this is no message cut in two: dropped, it must not grow. */
const MAX_FRAGMENT = 256;
const REJECT = /rsp\(REJECT\)|connection rejected due to/;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Parses one stats line; null if it is not one. */
export function parseSrtStats(line: string): SrtStatsSample | null {
  if (!line.startsWith('{')) return null;
  let j: { link?: { rtt?: unknown }; recv?: Record<string, unknown> };
  try {
    j = JSON.parse(line) as typeof j;
  } catch {
    return null;
  }
  const recv = j.recv ?? {};
  return {
    rttMs: num(j.link?.rtt),
    mbitRate: num(recv['mbitRate']),
    packets: num(recv['packets']) ?? 0,
    packetsLost: num(recv['packetsLost']) ?? 0,
    packetsRetransmitted: num(recv['packetsRetransmitted']) ?? 0,
  };
}

export class SrtIngestMonitor {
  #state: SrtIngestState = SrtIngestMonitor.#initial();
  #pendingAddress: string | null = null;
  #lastRejectedBy: string | null = null;
  /** The beginning of one of srt-live-transmit's messages that a libsrt record cut off (see above). */
  #fragment = '';
  readonly #secrets: readonly string[];

  constructor(secrets: readonly string[] = []) {
    this.#secrets = secrets;
  }

  static #initial(): SrtIngestState {
    return {
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
    };
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

  /** Feeds one line of the statistics (fd 3); returns the sample, if it is one. */
  statsLine(text: string, at: number): SrtIngestEvent[] {
    const stats = parseSrtStats(text);
    if (!stats) return [];
    const s = this.#state;
    s.rttMs = stats.rttMs;
    s.mbitRate = stats.mbitRate;
    s.packets += stats.packets;
    s.packetsLost += stats.packetsLost;
    s.packetsRetransmitted += stats.packetsRetransmitted;
    const total = stats.packets + stats.packetsLost;
    s.lossPercent = total > 0 ? Math.round((stats.packetsLost / total) * 10_000) / 100 : 0;
    return [{ type: 'stats', sample: stats, at }];
  }

  /** Feeds one (already redacted) line of the log (stderr); returns what it means, if anything. */
  line(text: string, at: number): SrtIngestEvent[] {
    const record = SRT_RECORD.exec(text);
    if (record && record.index > 0) {
      // A record written into the middle of a message: keep the message's beginning.
      this.#fragment = (this.#fragment + text.slice(0, record.index)).slice(-MAX_FRAGMENT);
      return this.#meaning(text.slice(record.index), at);
    }
    if (!record && this.#fragment !== '') {
      const whole = this.#fragment + text;
      this.#fragment = '';
      return this.#meaning(whole, at);
    }
    return this.#meaning(text, at);
  }

  #meaning(text: string, at: number): SrtIngestEvent[] {
    const passing = PASSING.exec(text);
    if (passing) {
      this.#pendingAddress = passing[1] ?? null;
      return [];
    }
    if (text.includes('Accepted SRT source connection')) {
      const address = this.#pendingAddress;
      this.#pendingAddress = null;
      const lastRejection = this.#state.lastRejection;
      const lastRejectionAt = this.#state.lastRejectionAt;
      this.#state = { ...SrtIngestMonitor.#initial(), connected: true, address, connectedSince: at, lastRejection, lastRejectionAt };
      return [{ type: 'connected', address, at }];
    }
    if (text.includes('SRT source disconnected')) {
      if (!this.#state.connected) return [];
      this.#reset();
      return [{ type: 'disconnected', at }];
    }
    if (REJECT.test(text)) {
      const error = classifyStderr([text], { secrets: this.#secrets });
      if (error.code !== 'SRT_PASSPHRASE_REJECTED') return [];
      // libsrt logs one rejection in several lines within a millisecond: report it once per caller.
      const address = this.#pendingAddress;
      const repeat = this.#lastRejectedBy === address && this.#state.lastRejectionAt !== null && at - this.#state.lastRejectionAt < 1000;
      this.#state.lastRejection = error;
      this.#state.lastRejectionAt = at;
      this.#lastRejectedBy = address;
      return repeat ? [] : [{ type: 'rejected', error, address, at }];
    }
    return [];
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
