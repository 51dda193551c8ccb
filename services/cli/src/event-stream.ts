/**
 * Follows the API's live event stream (`GET /api/events`, server-sent events) for as long as the
 * caller wants: parses frames with eventsource-parser, remembers the last event id and, when the
 * connection drops (Fanout restarts, a proxy times out, the network blips), reconnects with
 * `Last-Event-ID` after a backoff (1 s doubling to 30 s, reset once connected), so nothing in
 * between is lost; when the server cannot resume it sends `reset`. A connection silent for longer
 * than three pings is treated as dead. Refusals that retrying cannot fix (401, 403, and 501 where
 * the runtime cannot stream) end it with the API's problem.
 */
import { createParser } from 'eventsource-parser';
import { problemFrom, unreachable, type Api } from './client.ts';
import { CliError } from './errors.ts';

export interface StreamEvent {
  id?: string;
  event: string;
  /** The parsed JSON data (the raw text when it is not JSON). */
  data: unknown;
}

export interface FollowOptions {
  signal: AbortSignal;
  onEvent(e: StreamEvent): void | Promise<void>;
  /** Each time a connection is open (the first and every reconnection). */
  onOpen?(reconnected: boolean): void | Promise<void>;
  /** A connection was lost; the next attempt comes in `delayMs`. */
  onDrop?(reason: string, delayMs: number): void;
  /** Start after this id (resume). */
  lastEventId?: string;
  /** A connection with no bytes for this long is dropped and made again (default 45 s: three pings). */
  idleTimeoutMs?: number;
}

/** Whether an error ends the follow (retrying cannot help). */
function fatal(err: unknown): boolean {
  if (!(err instanceof CliError)) return false;
  const s = err.problem.status;
  return s !== undefined && s >= 400 && s < 500 && s !== 408 && s !== 429 ? true : s === 501;
}

/** Follows the stream until `signal` aborts (resolves) or a fatal refusal (rejects). */
export async function followEvents(api: Api, o: FollowOptions): Promise<void> {
  let lastEventId = o.lastEventId;
  let delay = 1000;
  let connectedBefore = false;
  while (!o.signal.aborted) {
    const attempt = new AbortController();
    const onAbort = (): void => attempt.abort();
    o.signal.addEventListener('abort', onAbort, { once: true });
    let reason = 'the stream ended';
    try {
      const headers: Record<string, string> = { ...api.headers(), accept: 'text/event-stream' };
      if (lastEventId) headers['last-event-id'] = lastEventId;
      let res: Response;
      try {
        res = await fetch(api.url('/api/events'), { headers, signal: attempt.signal });
      } catch (err) {
        throw unreachable(api.conn.url, err);
      }
      if (!res.ok) {
        const text = await res.text();
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        throw problemFrom(res.status, parsed, text, 'GET', '/api/events');
      }
      delay = 1000;
      await o.onOpen?.(connectedBefore);
      connectedBefore = true;
      const pending: StreamEvent[] = [];
      const parser = createParser({
        onEvent(m) {
          if (m.id) lastEventId = m.id;
          let data: unknown = m.data;
          try {
            data = JSON.parse(m.data);
          } catch {
            // not JSON: pass the text on
          }
          pending.push({ ...(m.id ? { id: m.id } : {}), event: m.event ?? 'message', data });
        },
      });
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      const idleMs = o.idleTimeoutMs ?? 45_000;
      let idle = setTimeout(() => attempt.abort(new Error('idle')), idleMs);
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          clearTimeout(idle);
          idle = setTimeout(() => attempt.abort(new Error('idle')), idleMs);
          parser.feed(decoder.decode(value, { stream: true }));
          while (pending.length > 0) await o.onEvent(pending.shift()!);
        }
      } catch (err) {
        if (o.signal.aborted) return;
        reason = attempt.signal.reason instanceof Error && attempt.signal.reason.message === 'idle' ? `nothing heard for ${Math.round(idleMs / 1000)} s` : `the connection broke (${(err as Error).message})`;
      } finally {
        clearTimeout(idle);
      }
    } catch (err) {
      if (o.signal.aborted) return;
      if (fatal(err)) throw err;
      reason = err instanceof CliError ? err.problem.detail : String(err);
    } finally {
      o.signal.removeEventListener('abort', onAbort);
      attempt.abort();
    }
    if (o.signal.aborted) return;
    o.onDrop?.(reason, delay);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, delay);
      o.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
    delay = Math.min(delay * 2, 30_000);
  }
}
