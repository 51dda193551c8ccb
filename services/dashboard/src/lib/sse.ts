/**
 * The live event stream client: server-sent events read with fetch, so the bearer token travels in
 * the Authorization header and never in a URL (EventSource cannot send headers, so it would need
 * `?access_token=`, which ends up in logs and history). It reconnects by itself with backoff,
 * resumes with `Last-Event-ID` (the server replays what was missed, or sends `reset`), and treats a
 * connection that stays silent past the server's ping interval as dead (a laptop waking from sleep
 * keeps a socket that will never deliver again).
 *
 * Runs in the browser and in Node 20 (fetch, ReadableStream, TextDecoder): unit-tested in Node
 * against a real HTTP server. Parsing is eventsource-parser's (the WHATWG algorithm).
 */
import { createParser } from 'eventsource-parser';

export interface StreamEvent {
  id: string | undefined;
  event: string;
  data: string;
}

/** What the connection is doing, for the offline banner. */
export type StreamState =
  | { kind: 'connecting'; attempt: number }
  | { kind: 'open' }
  | { kind: 'offline'; attempt: number; retryAt: number; reason: string }
  | { kind: 'unauthorized'; reason: string }
  | { kind: 'unavailable'; reason: string };

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 15_000 };

/** The delay before reconnect attempt `attempt` (1-based): doubling from initialMs, capped. */
export function reconnectDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt - 1));
}

export interface LiveStreamOptions {
  url: string;
  /** The bearer token, read at each (re)connect. */
  token: () => string | null;
  onEvent: (e: StreamEvent) => void;
  onState?: (s: StreamState) => void;
  backoff?: BackoffPolicy;
  /** No byte for this long = a dead connection (the server pings every 15 s). */
  silenceMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

/** Reads `problem+json` (`detail`, `code`) from a refused stream, if it has one. */
async function refusal(res: Response): Promise<{ code: string; detail: string }> {
  try {
    const p = (await res.json()) as { code?: string; detail?: string };
    return { code: p.code ?? `HTTP_${res.status}`, detail: p.detail ?? res.statusText };
  } catch {
    return { code: `HTTP_${res.status}`, detail: res.statusText || `HTTP ${res.status}` };
  }
}

export class LiveStream {
  #lastEventId: string | undefined;
  #abort: AbortController | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #stopped = true;
  #attempt = 0;
  readonly #o: Required<Omit<LiveStreamOptions, 'onState'>> & Pick<LiveStreamOptions, 'onState'>;

  constructor(o: LiveStreamOptions) {
    this.#o = { backoff: DEFAULT_BACKOFF, silenceMs: 45_000, fetch: globalThis.fetch.bind(globalThis), now: Date.now, ...o };
  }

  /** The id of the last event received: sent as Last-Event-ID on reconnect. */
  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#attempt = 0;
    void this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#abort?.abort();
    this.#abort = null;
  }

  /** Reconnects at once (the browser came back online), resuming from the last id. */
  reconnectNow(): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#abort?.abort();
    this.#attempt = 0;
    void this.#connect();
  }

  #state(s: StreamState): void {
    this.#o.onState?.(s);
  }

  #retry(reason: string): void {
    if (this.#stopped) return;
    this.#attempt += 1;
    const delay = reconnectDelay(this.#attempt, this.#o.backoff);
    this.#state({ kind: 'offline', attempt: this.#attempt, retryAt: this.#o.now() + delay, reason });
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#connect();
    }, delay);
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    const abort = new AbortController();
    this.#abort = abort;
    this.#state({ kind: 'connecting', attempt: this.#attempt });
    const token = this.#o.token();
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (this.#lastEventId) headers['last-event-id'] = this.#lastEventId;
    let res: Response;
    try {
      res = await this.#o.fetch(this.#o.url, { headers, signal: abort.signal });
    } catch (err) {
      if (abort.signal.aborted) return;
      this.#retry(`cannot reach the server (${(err as Error).message})`);
      return;
    }
    if (!res.ok || !res.body) {
      const why = await refusal(res);
      if (res.status === 401) return this.#giveUp({ kind: 'unauthorized', reason: why.detail });
      if (why.code === 'SSE_UNAVAILABLE') return this.#giveUp({ kind: 'unavailable', reason: why.detail });
      this.#retry(`${why.code}: ${why.detail}`);
      return;
    }
    await this.#read(res.body, abort);
  }

  #giveUp(s: StreamState): void {
    this.#stopped = true;
    this.#state(s);
  }

  async #read(body: ReadableStream<Uint8Array>, abort: AbortController): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let watchdog: ReturnType<typeof setTimeout> | null = null;
    const feed = (): void => {
      if (watchdog) clearTimeout(watchdog);
      watchdog = setTimeout(() => abort.abort(), this.#o.silenceMs);
    };
    const parser = createParser({
      onEvent: (m) => {
        if (m.id) this.#lastEventId = m.id;
        const event = m.event ?? 'message';
        // `ready` is the server's first frame: the stream is really open, the backoff starts over.
        if (event === 'ready') {
          this.#attempt = 0;
          this.#state({ kind: 'open' });
        }
        this.#o.onEvent({ id: m.id, event, data: m.data });
      },
    });
    feed();
    let reason = 'the server closed the stream';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        feed();
        parser.feed(decoder.decode(value, { stream: true }));
      }
    } catch (err) {
      reason = abort.signal.aborted && !this.#stopped ? `no data for ${Math.round(this.#o.silenceMs / 1000)} s` : `connection lost (${(err as Error).message})`;
    } finally {
      if (watchdog) clearTimeout(watchdog);
    }
    if (this.#stopped || (abort !== this.#abort && this.#abort !== null)) return;
    this.#retry(reason);
  }
}
