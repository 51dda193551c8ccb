/**
 * Delivery policy, pure and clock-injected: which channels a notification goes to, when a
 * channel may send next, what happens to a burst, and what an attempt's outcome means.
 *
 * Per channel a queue (plain JSON, a store keeps it):
 *
 *   rate limit      Slack allows one message per second per incoming webhook: `minIntervalMs`
 *                   (1000 for Slack, 0 for SNS and webhooks) between sends
 *   429             the webhook waits `Retry-After` (seconds or an HTTP date) before anything else is
 *                   sent to it; rate-limited retries do not use up the attempts
 *   merge           on a mergeable channel (Slack) everything waiting becomes one message: a newer
 *                   notification of a group replaces the older one (it is the group's whole state),
 *                   other groups join it. Webhooks and SNS send one delivery per notification
 *   retries         Temporal's retry-policy vocabulary: initial interval, backoff coefficient,
 *                   maximum interval, maximum attempts, non-retryable codes; a non-retryable
 *                   answer (Slack 404 `no_service`, 410 `channel_is_archived`, 403) fails at once
 *
 *   enqueue(q, n, now)          a notification for this channel
 *   nextDue(q, now)             the delivery to attempt now, or when to look again
 *   complete(q, outcome, now)   record the in-flight attempt's outcome
 */
import type { AlertName, Severity } from './alerts.ts';
import { SEVERITIES } from './alerts.ts';
import type { Notification } from './alerting.ts';

export type ChannelKind = 'slack' | 'sns' | 'webhook' | 'log';

export interface ChannelSettings {
  channelId: string;
  /** The admin's name for it ("ops Slack"). */
  name: string;
  kind: ChannelKind;
  enabled: boolean;
  /** The alert types this channel gets. */
  alertNames: readonly AlertName[] | 'all';
  /** The least severe alert it gets. */
  minSeverity: Severity;
  /** Where it goes, already masked (never the webhook URL itself). */
  target: string;
}

/**
 * The notification as this channel gets it: alerts of disabled types or below its severity are
 * left out; null when nothing is left.
 */
export function forChannel(n: Notification, ch: ChannelSettings): Notification | null {
  if (!ch.enabled) return null;
  const keep = (labels: Readonly<Record<string, string>>): boolean => {
    const name = labels.alertname as AlertName;
    const sev = (labels.severity ?? 'info') as Severity;
    return (ch.alertNames === 'all' || ch.alertNames.includes(name)) && SEVERITIES.indexOf(sev) <= SEVERITIES.indexOf(ch.minSeverity);
  };
  const firing = n.firing.filter((a) => keep(a.labels));
  const resolved = n.resolved.filter((a) => keep(a.labels));
  if (firing.length === 0 && resolved.length === 0) return null;
  return { ...n, firing, resolved, status: firing.length > 0 ? 'firing' : 'resolved' };
}

// ---- retry policy ---------------------------------------------------------------------------------

export interface RetryPolicy {
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
  /** 0 = unlimited. */
  maximumAttempts: number;
  nonRetryableStatusCodes: readonly number[];
  nonRetryableErrorCodes: readonly string[];
  /** 429s tolerated for one delivery before it fails (they do not count as attempts). */
  maximumRateLimited: number;
}

/** Temporal's defaults (1 s, ×2, max 100 × initial), 8 attempts, and the answers retrying cannot fix. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  initialIntervalMs: 1_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 100_000,
  maximumAttempts: 8,
  // 400 invalid_payload, 401/403 invalid_token / action_prohibited, 404 no_service /
  // channel_not_found, 410 channel_is_archived, 413 payload too large.
  nonRetryableStatusCodes: [400, 401, 403, 404, 410, 413],
  nonRetryableErrorCodes: ['INVALID_URL', 'ERR_INVALID_URL', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID'],
  maximumRateLimited: 30,
}) as RetryPolicy;

/** The delay before attempt `attempt + 1` after `attempt` failures: min(initial × coefficient^(attempt−1), maximum). */
export function backoffMs(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.initialIntervalMs * policy.backoffCoefficient ** Math.max(0, attempt - 1), policy.maximumIntervalMs);
}

/** `Retry-After` as milliseconds from `now`: delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | null {
  if (value === null || value === undefined) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - now.getTime()) : null;
}

export type AttemptOutcome = { kind: 'ok'; status: number | null } | { kind: 'http'; status: number; retryAfterMs: number | null; detail?: string } | { kind: 'network'; code: string; message: string };

// ---- the channel queue ------------------------------------------------------------------------------

export interface Delivery {
  /** Stable across retries (the webhook's `webhook-id`): the first notification's id, then a counter. */
  deliveryId: string;
  notifications: Notification[];
  attempts: number;
  rateLimited: number;
  queuedAtMs: number;
  firstAttemptAtMs: number | null;
  notBeforeMs: number;
  lastOutcome: AttemptOutcome | null;
}

export interface ChannelQueue {
  channel: ChannelSettings;
  minIntervalMs: number;
  mergeable: boolean;
  /** Nothing is sent to this channel before this instant (rate limit, Retry-After). */
  nextSendAtMs: number;
  inFlight: Delivery | null;
  waiting: Delivery[];
  /** Counts deliveries made, for unique ids. */
  seq: number;
}

export function newQueue(channel: ChannelSettings): ChannelQueue {
  const slack = channel.kind === 'slack';
  return { channel, minIntervalMs: slack ? 1_000 : 0, mergeable: slack, nextSendAtMs: 0, inFlight: null, waiting: [], seq: 0 };
}

/** Merges notifications: a newer one of a group replaces the older (each is its group's whole state). */
function merge(into: readonly Notification[], add: readonly Notification[]): Notification[] {
  const out = [...into];
  for (const n of add) {
    const i = out.findIndex((x) => x.groupKey === n.groupKey);
    if (i >= 0) out[i] = Date.parse(n.at) >= Date.parse(out[i]!.at) ? n : out[i]!;
    else out.push(n);
  }
  return out;
}

/** Queues a notification for this channel (merged into what waits, on a mergeable channel). */
export function enqueue(q: ChannelQueue, n: Notification, now: Date): ChannelQueue {
  const nowMs = now.getTime();
  const next = structuredClone(q);
  if (next.mergeable && next.waiting.length > 0) {
    const w = next.waiting[0]!;
    w.notifications = merge(w.notifications, [n]);
    return next;
  }
  next.seq += 1;
  // Usable as a `webhook-id` (no "."), stable across retries.
  const deliveryId = `${q.channel.channelId}-${next.seq}-${n.id}`.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 200);
  next.waiting.push({ deliveryId, notifications: [n], attempts: 0, rateLimited: 0, queuedAtMs: nowMs, firstAttemptAtMs: null, notBeforeMs: nowMs, lastOutcome: null });
  return next;
}

/** The delivery to attempt now (it becomes in flight), or when to look again (null: nothing queued or one in flight). */
export function nextDue(q: ChannelQueue, now: Date): { queue: ChannelQueue; delivery: Delivery } | { queue: ChannelQueue; waitUntil: Date | null } {
  const nowMs = now.getTime();
  const head = q.waiting[0];
  if (q.inFlight || !head) return { queue: q, waitUntil: null };
  const due = Math.max(q.nextSendAtMs, head.notBeforeMs);
  if (due > nowMs) return { queue: q, waitUntil: new Date(due) };
  const next = structuredClone(q);
  const d = next.waiting.shift()!;
  d.attempts += 1;
  d.firstAttemptAtMs ??= nowMs;
  next.inFlight = d;
  next.nextSendAtMs = nowMs + next.minIntervalMs;
  return { queue: next, delivery: structuredClone(d) };
}

export type CompletionResult =
  | { kind: 'sent'; delivery: Delivery; at: Date }
  | { kind: 'retry'; delivery: Delivery; at: Date; reason: string }
  | { kind: 'failed'; delivery: Delivery; at: Date; outcome: 'non-retryable' | 'attempts-exhausted'; reason: string };

function describe(o: AttemptOutcome): string {
  if (o.kind === 'ok') return 'delivered';
  if (o.kind === 'http') return `HTTP ${o.status}${o.detail ? ` ${o.detail}` : ''}`;
  return `${o.code}: ${o.message}`;
}

/** Records the outcome of the in-flight attempt and decides what follows. */
export function complete(q: ChannelQueue, outcome: AttemptOutcome, now: Date, policy: RetryPolicy = DEFAULT_RETRY_POLICY): { queue: ChannelQueue; result: CompletionResult } {
  if (!q.inFlight) throw new Error(`no delivery in flight on channel ${q.channel.channelId}`);
  const nowMs = now.getTime();
  const next = structuredClone(q);
  const d = next.inFlight!;
  next.inFlight = null;
  d.lastOutcome = outcome;
  if (outcome.kind === 'ok') return { queue: next, result: { kind: 'sent', delivery: d, at: now } };

  const requeue = (notBeforeMs: number, reason: string): { queue: ChannelQueue; result: CompletionResult } => {
    d.notBeforeMs = notBeforeMs;
    // What arrived meanwhile joins the retried message on a mergeable channel.
    if (next.mergeable && next.waiting.length > 0) {
      d.notifications = merge(d.notifications, next.waiting.shift()!.notifications);
    }
    next.waiting.unshift(d);
    return { queue: next, result: { kind: 'retry', delivery: d, at: new Date(notBeforeMs), reason } };
  };
  const fail = (kind: 'non-retryable' | 'attempts-exhausted', reason: string) => ({ queue: next, result: { kind: 'failed' as const, delivery: d, at: now, outcome: kind, reason } });

  if (outcome.kind === 'http' && outcome.status === 429) {
    d.attempts -= 1; // a rate limit is not the message's fault
    d.rateLimited += 1;
    if (d.rateLimited > policy.maximumRateLimited) return fail('attempts-exhausted', `rate limited ${d.rateLimited} times`);
    const wait = outcome.retryAfterMs ?? backoffMs(policy, d.rateLimited);
    next.nextSendAtMs = Math.max(next.nextSendAtMs, nowMs + wait);
    return requeue(nowMs + wait, `HTTP 429: waiting ${wait} ms (Retry-After)`);
  }
  const nonRetryable = (outcome.kind === 'http' && policy.nonRetryableStatusCodes.includes(outcome.status)) || (outcome.kind === 'network' && policy.nonRetryableErrorCodes.includes(outcome.code));
  if (nonRetryable) return fail('non-retryable', describe(outcome));
  if (policy.maximumAttempts > 0 && d.attempts >= policy.maximumAttempts) return fail('attempts-exhausted', `${describe(outcome)} after ${d.attempts} attempts`);
  const wait = outcome.kind === 'http' && outcome.retryAfterMs !== null && outcome.status === 503 ? Math.max(outcome.retryAfterMs, backoffMs(policy, d.attempts)) : backoffMs(policy, d.attempts);
  return requeue(nowMs + wait, `${describe(outcome)}: attempt ${d.attempts + 1} in ${wait} ms`);
}

// ---- delivery records -------------------------------------------------------------------------------

function subject(q: ChannelQueue, d: Delivery) {
  const alerts = d.notifications.flatMap((n) => [...n.firing, ...n.resolved]);
  const firing = d.notifications.some((n) => n.firing.length > 0);
  const sev = d.notifications.filter((n) => (firing ? n.firing.length > 0 : true)).map((n) => n.severity);
  return {
    deliveryId: d.deliveryId,
    channel: q.channel.kind,
    channelName: q.channel.name,
    target: q.channel.target,
    groups: d.notifications.map((n) => n.groupKey),
    alertNames: [...new Set(alerts.map((a) => a.labels.alertname ?? 'unknown'))].sort(),
    status: firing ? ('firing' as const) : ('resolved' as const),
    severity: sev.includes('critical') ? ('critical' as const) : sev.includes('warning') ? ('warning' as const) : ('info' as const),
    attempts: Math.max(1, d.attempts + d.rateLimited),
    firstAttemptAt: new Date(d.firstAttemptAtMs ?? d.queuedAtMs).toISOString(),
  };
}

/** `NotificationSent` v1 data. */
export function sentRecord(q: ChannelQueue, r: Extract<CompletionResult, { kind: 'sent' }>) {
  const o = r.delivery.lastOutcome;
  return { ...subject(q, r.delivery), deliveredAt: r.at.toISOString(), httpStatus: o?.kind === 'ok' ? o.status : null };
}

/** `NotificationFailed` v1 data (the reason is already free of secrets: outcomes carry codes and statuses). */
export function failedRecord(q: ChannelQueue, r: Extract<CompletionResult, { kind: 'failed' }>, scrubText: (s: string) => string) {
  const o = r.delivery.lastOutcome;
  const code = o?.kind === 'http' ? `HTTP_${o.status}` : o?.kind === 'network' ? o.code : 'UNKNOWN';
  return {
    ...subject(q, r.delivery),
    failedAt: r.at.toISOString(),
    httpStatus: o?.kind === 'http' ? o.status : null,
    outcome: r.outcome,
    error: {
      code: code.slice(0, 64),
      message: scrubText(r.reason).slice(0, 500),
      hint:
        r.outcome === 'non-retryable'
          ? "The receiver refused the message: check the channel's settings (a removed Slack webhook answers 404, an archived channel 410), then send a test message."
          : 'The receiver kept failing; check that it is up and reachable, then send a test message.',
    },
  };
}
