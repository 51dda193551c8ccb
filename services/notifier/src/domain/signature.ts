/**
 * Webhook signatures, the Standard Webhooks scheme (standard-webhooks/standard-webhooks,
 * spec/standard-webhooks.md), signed with its reference library (`standardwebhooks`):
 *
 *   webhook-id:         the delivery id (the same on every retry: receivers deduplicate by it)
 *   webhook-timestamp:  the attempt's time, integer Unix seconds
 *   webhook-signature:  `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, space-separated
 *                       when several keys are in use (rotation)
 *
 * The secret is `whsec_<base64 of at least 24 random bytes>` (the key is the decoded bytes).
 * Receivers verify by recomputing the signature over the raw body, comparing in constant time,
 * rejecting a timestamp more than 5 minutes from their clock, and refusing a `webhook-id` they
 * have already accepted within that window: together that rejects replays. `verifyWebhook` does
 * exactly that with an injected clock (the library's own `verify` reads the system clock).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;
export const SECRET_PREFIX = 'whsec_';

/** A new signing secret (32 random bytes). */
export function generateWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** The headers that sign `body` for one attempt at `at`. */
export function signWebhook(p: { secrets: readonly string[]; id: string; body: string; at: Date }): SignedHeaders {
  if (p.secrets.length === 0) throw new Error('no signing secret');
  if (p.id.includes('.')) throw new Error('a webhook id must not contain "."'); // the spec's rule: it is a field separator
  const signatures = p.secrets.map((s) => new Webhook(s).sign(p.id, p.at, p.body));
  return { 'webhook-id': p.id, 'webhook-timestamp': String(Math.floor(p.at.getTime() / 1000)), 'webhook-signature': signatures.join(' ') };
}

export type VerifyResult = { ok: true; id: string } | { ok: false; reason: 'missing-headers' | 'bad-timestamp' | 'too-old' | 'too-new' | 'bad-signature' | 'replayed' };

/**
 * What a receiver does. `seen(id)` answers whether the id was already accepted in the tolerance
 * window (the receiver's own store); pass `() => false` to check the signature alone.
 */
export function verifyWebhook(p: { secret: string; headers: Record<string, string | undefined>; body: string; now: Date; seen: (id: string) => boolean; toleranceSeconds?: number }): VerifyResult {
  const h: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(p.headers)) h[k.toLowerCase()] = v;
  const id = h['webhook-id'];
  const ts = h['webhook-timestamp'];
  const sig = h['webhook-signature'];
  if (!id || !ts || !sig) return { ok: false, reason: 'missing-headers' };
  if (!/^\d{1,12}$/.test(ts)) return { ok: false, reason: 'bad-timestamp' };
  const tolerance = p.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS;
  const nowS = Math.floor(p.now.getTime() / 1000);
  const tsS = Number(ts);
  if (nowS - tsS > tolerance) return { ok: false, reason: 'too-old' };
  if (tsS - nowS > tolerance) return { ok: false, reason: 'too-new' };
  const expected = Buffer.from(new Webhook(p.secret).sign(id, new Date(tsS * 1000), p.body).split(',')[1]!);
  const match = sig.split(' ').some((v) => {
    const [version, value] = v.split(',');
    if (version !== 'v1' || value === undefined) return false;
    const got = Buffer.from(value);
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
  if (!match) return { ok: false, reason: 'bad-signature' };
  if (p.seen(id)) return { ok: false, reason: 'replayed' };
  return { ok: true, id };
}
