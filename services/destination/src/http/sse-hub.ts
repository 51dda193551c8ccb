/**
 * The live event stream behind `GET /api/events`: a ring buffer of recent status events with
 * ids, so a dashboard that reconnects with `Last-Event-ID` gets what it missed. Ids are
 * `<boot>-<seq>`: an id from an earlier process (or older than the buffer) cannot be resumed, and
 * the client is told to reload (`event: reset`).
 *
 * Streams are held per token: at most `maxPerToken` at once (one more is refused, so one token
 * cannot hold the process's sockets and memory), and `closeToken` ends every stream of a token
 * the moment it is revoked.
 */
import { randomBytes } from 'node:crypto';

export interface SseEvent {
  id: string;
  event: string;
  data: unknown;
}

/** One open stream: `close` when the client goes; `end` when the server ends it (calls its onEnd). */
export interface SseStream {
  close(): void;
  end(reason: string): void;
}

export class SseHub {
  private readonly boot = randomBytes(4).toString('hex');
  private seq = 0;
  private readonly buffer: SseEvent[] = [];
  private readonly subscribers = new Set<(e: SseEvent) => void>();
  private readonly streams = new Map<string, Set<SseStream>>();

  constructor(private readonly capacity = 1000) {}

  /**
   * Opens a stream for `tokenId`: it receives every event from now on until `close()` (or until
   * the token is revoked: `onEnd` is called). Null when the token already holds `maxPerToken`.
   */
  open(tokenId: string, maxPerToken: number, onEvent: (e: SseEvent) => void, onEnd: (reason: string) => void): SseStream | null {
    const mine = this.streams.get(tokenId) ?? new Set<SseStream>();
    if (mine.size >= maxPerToken) return null;
    const unsubscribe = this.subscribe(onEvent);
    const stream: SseStream = {
      end: (reason) => {
        stream.close();
        onEnd(reason);
      },
      close: () => {
        unsubscribe();
        mine.delete(stream);
        if (mine.size === 0 && this.streams.get(tokenId) === mine) this.streams.delete(tokenId);
      },
    };
    mine.add(stream);
    this.streams.set(tokenId, mine);
    return stream;
  }

  /** Ends every open stream of a token (it was revoked). */
  closeToken(tokenId: string, reason = 'token revoked'): void {
    for (const s of [...(this.streams.get(tokenId) ?? [])]) s.end(reason);
  }

  /** Open streams of a token. */
  streamsOf(tokenId: string): number {
    return this.streams.get(tokenId)?.size ?? 0;
  }

  publish(event: string, data: unknown): SseEvent {
    const e: SseEvent = { id: `${this.boot}-${++this.seq}`, event, data };
    this.buffer.push(e);
    if (this.buffer.length > this.capacity) this.buffer.shift();
    for (const s of this.subscribers) s(e);
    return e;
  }

  /**
   * Sends an ephemeral event (live metrics) to current subscribers only: no id, not buffered, so
   * it never pushes status changes out of the resume buffer.
   */
  broadcast(event: string, data: unknown): void {
    const e: SseEvent = { id: '', event, data };
    for (const s of this.subscribers) s(e);
  }

  /** Events after `lastEventId`, or null when that id cannot be resumed (unknown boot or too old). */
  since(lastEventId: string | undefined): SseEvent[] | null {
    if (!lastEventId) return [];
    const [boot, seqText] = lastEventId.split('-');
    const seq = Number(seqText);
    if (boot !== this.boot || !Number.isInteger(seq)) return null;
    const oldest = this.buffer[0] ? Number(this.buffer[0].id.split('-')[1]) : this.seq + 1;
    if (seq < oldest - 1) return null;
    return this.buffer.filter((e) => Number(e.id.split('-')[1]) > seq);
  }

  subscribe(fn: (e: SseEvent) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }
}
