/**
 * Precise waits on AWS: the notifier wakes itself up with SQS delayed messages instead of waiting
 * for the minute tick (ADR 0027). After every run (inbox batch, tick, wake) the notifier knows when
 * it next has something to do (`nextWakeAt`: a group_wait or group_interval ending, a
 * repeat_interval, a grace period, a retry or a Slack Retry-After); `scheduleWake` puts one message
 * on NotifierWakeQueue with `DelaySeconds` = the time left (SQS allows at most 900 s), and the
 * `notifierWake` function (`handleWake`) runs the notifier when it arrives. A wait longer than
 * 900 s is a chain: a message that arrives early is sent again with the time still left, under the
 * same id, until it is due.
 *
 * Idempotent and cheap:
 *   - the wakes already on their way are remembered (NotifierTable `state`/`wake`, conditional
 *     write): a wake at or before the wanted time covers it (when it fires, the run schedules the
 *     next one), so a busy inbox does not send a message per batch;
 *   - a wake delivered twice, or one that finds nothing due, runs the notifier once more, which
 *     sends nothing twice (queues take a notification once; alerting's tick is state-based);
 *   - a wake lost (deleted queue, a crash between the send and the write) is forgotten after
 *     `FORGET_MS`, and the minute tick, kept as a backstop, covers the gap.
 * The local runtime has no wake queue: its own timer does the same (shared/runtimes/local/services/notifier.ts).
 */
import { randomUUID } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../../../../shared/logging/logger.ts';
import type { NotifierStore } from '../store/notifier-store.ts';

/** SQS's longest delay. */
export const MAX_DELAY_SECONDS = 900;
/** A wake this late (its message is gone) no longer covers anything. */
const FORGET_MS = 5 * 60_000;
/** A message arriving this close to its time is due (SQS delays are whole seconds). */
const DUE_SLACK_MS = 1000;
/** Wakes remembered at most (the earliest kept). */
const MAX_PENDING = 20;

export interface WakeDeps {
  sqs: Pick<SQSClient, 'send'>;
  queueUrl: string;
}

export interface WakeMessage {
  /** The chain's id (the same on every re-delay). */
  id: string;
  /** When the notifier wants to run (ISO 8601). */
  wakeAt: string;
}

interface WakeState {
  pending: { id: string; at: number }[];
}

/** Whole seconds to wait for `atMs` from `nowMs`, within SQS's 0..900. */
export function delaySecondsFor(atMs: number, nowMs: number): number {
  return Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil((atMs - nowMs) / 1000)));
}

async function send(w: WakeDeps, m: WakeMessage, nowMs: number): Promise<number> {
  const delay = delaySecondsFor(Date.parse(m.wakeAt), nowMs);
  await w.sqs.send(new SendMessageCommand({ QueueUrl: w.queueUrl, MessageBody: JSON.stringify(m), DelaySeconds: delay }));
  return delay;
}

/**
 * Makes sure a wake arrives at `at` (null: nothing to schedule). Answers what it did: `covered`
 * when a wake at or before `at` is already on its way, `sent` with the message's delay otherwise.
 */
export async function scheduleWake(o: { wake: WakeDeps; store: NotifierStore; at: Date | null; now: Date; log: Logger }): Promise<{ outcome: 'none' | 'covered' | 'sent'; delaySeconds?: number; id?: string }> {
  if (o.at === null) return { outcome: 'none' };
  const atMs = o.at.getTime();
  const nowMs = o.now.getTime();
  const live = (s: WakeState | undefined) => (s?.pending ?? []).filter((p) => p.at > nowMs - FORGET_MS);
  const covered = (s: WakeState | undefined) => live(s).some((p) => p.at <= atMs);
  // Read first: the common case (already covered) writes nothing.
  const before = await o.store.readJson<WakeState>('state', 'wake');
  if (covered(before)) return { outcome: 'covered' };
  const message: WakeMessage = { id: randomUUID(), wakeAt: o.at.toISOString() };
  // Sent before it is remembered: a crash in between leaves an extra wake (harmless), never a missing one.
  const delaySeconds = await send(o.wake, message, nowMs);
  await o.store.mutate<WakeState, void>('state', 'wake', (s) => {
    const pending = [...live(s), { id: message.id, at: atMs }].sort((a, b) => a.at - b.at).slice(0, MAX_PENDING);
    return { next: { pending }, result: undefined };
  });
  o.log.debug('notifier wake scheduled', { wakeAt: message.wakeAt, delaySeconds });
  return { outcome: 'sent', delaySeconds, id: message.id };
}

/**
 * One wake message arrived. Early (a wait longer than 900 s): sent again with the time left, same
 * id, and `run` is not called. Due: forgotten from the pending wakes, then `run` (which schedules
 * the next wake itself).
 */
export async function handleWake(o: { wake: WakeDeps; store: NotifierStore; body: string; now: Date; run: () => Promise<unknown>; log: Logger }): Promise<'redelayed' | 'ran'> {
  let m: WakeMessage | undefined;
  try {
    const parsed = JSON.parse(o.body) as Partial<WakeMessage>;
    if (typeof parsed.id === 'string' && typeof parsed.wakeAt === 'string' && Number.isFinite(Date.parse(parsed.wakeAt))) m = { id: parsed.id, wakeAt: parsed.wakeAt };
  } catch {
    // not ours: run anyway (it does no harm) and let the message go
  }
  const nowMs = o.now.getTime();
  if (m && Date.parse(m.wakeAt) - nowMs > DUE_SLACK_MS) {
    const delaySeconds = await send(o.wake, m, nowMs);
    o.log.debug('notifier wake not due yet; sent again', { wakeAt: m.wakeAt, delaySeconds });
    return 'redelayed';
  }
  if (m) {
    const id = m.id;
    await o.store.mutate<WakeState, void>('state', 'wake', (s) => (s?.pending.some((p) => p.id === id) ? { next: { pending: s.pending.filter((p) => p.id !== id) }, result: undefined } : { result: undefined }));
  }
  await o.run();
  return 'ran';
}
