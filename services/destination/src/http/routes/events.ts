/**
 * The live event stream (GET /api/events, server-sent events): ids, Last-Event-ID resume, pings,
 * a bound on the streams one token holds, and the end of a revoked token's streams. Described by
 * hand in openapi.ts (zod-openapi cannot describe a stream).
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { AppError } from '../../../../../shared/errors/index.ts';
import { requireAccess } from '../../../../../shared/http/api-kit.ts';
import type { ApiDeps } from '../api-deps.ts';
import type { SseEvent } from '../sse-hub.ts';
import type { Env } from './common.ts';

/**
 * An event's SSE frame, encoded once however many streams send it (ADR 0025: with 50 dashboards
 * open, each status change was serialised and encoded 50 times). The same frame Hono's writeSSE
 * writes: `event:`, `data:` (one line: JSON has no raw newlines), `id:` when it has one.
 */
const frames = new WeakMap<SseEvent, Uint8Array>();
const encoder = new TextEncoder();
export function frameOf(e: SseEvent): Uint8Array {
  let f = frames.get(e);
  if (!f) {
    f = encoder.encode(`event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n${e.id ? `id: ${e.id}\n` : ''}\n`);
    frames.set(e, f);
  }
  return f;
}

export function mountEventStream(app: OpenAPIHono<Env>, deps: ApiDeps): void {
  // A revoked token's open streams end at once (the store tells every listener of a revocation).
  if (deps.sse) {
    const hub = deps.sse;
    deps.auth.tokens.onRevoked((tokenId) => hub.closeToken(tokenId));
  }

  app.get('/api/events', requireAccess('operator', { queryToken: true }), async (c) => {
    const hub = deps.sse;
    if (!hub) throw new AppError('SSE_UNAVAILABLE', 'This runtime cannot stream events; poll GET /api/destinations.');
    // HEAD: the headers only. (Hono answers HEAD with the GET handler and drops the body: a stream
    // opened here would never see its client go, and would hold one of the token's places for good.)
    if (c.req.method === 'HEAD') return c.body(null, 200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    const max = deps.sseStreamsPerToken ?? 20;
    const resumeFrom = c.req.header('last-event-id') ?? c.req.query('lastEventId');
    const queue: SseEvent[] = [];
    let wake: (() => void) | undefined;
    let ended: string | undefined;
    // Held from here (before the response starts), so the bound holds however fast streams are opened.
    const held = hub.open(
      c.get('principal').tokenId,
      max,
      (e) => {
        queue.push(e);
        wake?.();
      },
      (reason) => {
        ended = reason;
        wake?.();
      },
    );
    if (!held) throw new AppError('TOO_MANY_STREAMS', `This token already holds ${max} open event streams (the most one token may hold).`, { maxStreams: max });
    c.header('cache-control', 'no-store');
    c.header('x-accel-buffering', 'no');
    return streamSSE(c, async (stream) => {
      let closed = false;
      stream.onAbort(() => {
        closed = true;
        wake?.();
      });
      try {
        const missed = hub.since(resumeFrom);
        if (missed === null) await stream.writeSSE({ event: 'reset', data: JSON.stringify({ reason: 'cannot resume from that id; reload the list' }) });
        else queue.unshift(...missed);
        await stream.writeSSE({ event: 'ready', data: JSON.stringify({ at: new Date().toISOString() }) });
        const pingMs = deps.ssePingMs ?? 15_000;
        while (!closed && ended === undefined) {
          while (queue.length > 0 && !closed && ended === undefined) {
            await stream.write(frameOf(queue.shift()!));
          }
          if (closed || ended !== undefined) break;
          const timedOut = await new Promise<boolean>((resolve) => {
            const t = setTimeout(() => resolve(true), pingMs);
            wake = () => {
              clearTimeout(t);
              resolve(false);
            };
          });
          wake = undefined;
          if (timedOut && !closed && ended === undefined) await stream.writeSSE({ event: 'ping', data: JSON.stringify({ at: new Date().toISOString() }) });
        }
        if (ended !== undefined && !closed) await stream.writeSSE({ event: 'closed', data: JSON.stringify({ reason: ended }) });
      } finally {
        held.close();
      }
    });
  });
}
