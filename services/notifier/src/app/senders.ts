/**
 * One attempt of a delivery on each kind of channel, answered as the domain's `AttemptOutcome`
 * (ok, an HTTP status with its Retry-After, or a network error code): what to do next is
 * delivery.ts's business, not the sender's.
 *
 *   slack     POST the Block Kit payload to the incoming webhook (one message for a merged burst)
 *   webhook   POST Alertmanager's body, signed (Standard Webhooks: webhook-id / -timestamp /
 *             -signature), one notification per delivery
 *   sns       Publish to the stack's topic with the filterable message attributes
 *   log       a structured log record
 *
 * HTTP: no redirects followed (a 3xx is an answer, not a place to send the message to), a 10 s
 * timeout, and only the status, Retry-After and a short piece of the body are kept (Slack names
 * its errors there: `no_service`, `channel_is_archived`).
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Logger } from '../../../../shared/logging/logger.ts';
import type { Notification } from '../domain/alerting.ts';
import { parseRetryAfter, type AttemptOutcome, type ChannelKind } from '../domain/delivery.ts';
import { renderLog, renderSlack, renderSns, renderWebhook, type RenderContext } from '../domain/render.ts';
import { signWebhook } from '../domain/signature.ts';

export interface Attempt {
  kind: ChannelKind;
  channelName: string;
  deliveryId: string;
  notifications: readonly Notification[];
  /** slack / webhook: the URL (a secret). */
  url?: string;
  /** webhook: the signing secret. */
  signingSecret?: string;
  render: RenderContext;
  now: Date;
}

export interface SenderDeps {
  fetch: typeof fetch;
  sns?: Pick<SNSClient, 'send'>;
  snsTopicArn: string | null;
  log: Logger;
}

const TIMEOUT_MS = 10_000;
const USER_AGENT = 'Fanout-Notifier/1';

async function post(deps: SenderDeps, url: string, body: string, headers: Record<string, string>, now: Date): Promise<AttemptOutcome> {
  let res: Response;
  try {
    res = await deps.fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...headers }, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    return networkOutcome(err);
  }
  const text = (await res.text().catch(() => '')).slice(0, 200);
  if (res.status >= 200 && res.status < 300) return { kind: 'ok', status: res.status };
  // Slack's error names are plain words (no_service); anything else is left out of the record.
  const detail = /^[a-z_]{1,64}$/.test(text.trim()) ? text.trim() : undefined;
  return { kind: 'http', status: res.status, retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), now), ...(detail ? { detail } : {}) };
}

/** A fetch failure as a network outcome: the system error code (ECONNREFUSED, ENOTFOUND, ...). */
export function networkOutcome(err: unknown): AttemptOutcome {
  const e = err as { name?: string; code?: string; cause?: { code?: string; name?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return { kind: 'network', code: 'TIMEOUT', message: `no answer within ${TIMEOUT_MS / 1000} s` };
  if (e?.name === 'TypeError' && /invalid url/i.test(String((err as Error).message))) return { kind: 'network', code: 'INVALID_URL', message: 'the URL is not valid' };
  const code = e?.cause?.code ?? e?.code ?? e?.cause?.name ?? 'NETWORK_ERROR';
  return { kind: 'network', code: String(code).slice(0, 64), message: 'the receiver could not be reached' };
}

export async function attempt(deps: SenderDeps, a: Attempt): Promise<AttemptOutcome> {
  switch (a.kind) {
    case 'slack': {
      if (!a.url) return { kind: 'network', code: 'INVALID_URL', message: 'the channel has no URL' };
      return post(deps, a.url, JSON.stringify(renderSlack(a.notifications, a.render)), {}, a.now);
    }
    case 'webhook': {
      if (!a.url || !a.signingSecret) return { kind: 'network', code: 'INVALID_URL', message: 'the channel has no URL' };
      // Webhooks are not merged: one notification per delivery (delivery.ts).
      const { body } = renderWebhook(a.notifications[0]!, { ...a.render, receiver: a.channelName });
      return post(deps, a.url, body, { ...signWebhook({ secrets: [a.signingSecret], id: a.deliveryId, body, at: a.now }) }, a.now);
    }
    case 'sns': {
      if (!deps.sns || !deps.snsTopicArn) return { kind: 'network', code: 'SNS_UNAVAILABLE', message: 'no SNS topic in this runtime' };
      try {
        await deps.sns.send(new PublishCommand({ TopicArn: deps.snsTopicArn, ...renderSns(a.notifications, a.render) }));
        return { kind: 'ok', status: null };
      } catch (err) {
        const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
        const status = e.$metadata?.httpStatusCode;
        if (status) return { kind: 'http', status, retryAfterMs: null, detail: (e.name ?? '').replace(/[^A-Za-z]/g, '').slice(0, 64) };
        return networkOutcome(err);
      }
    }
    case 'log': {
      for (const n of a.notifications) deps.log.info('notification', renderLog(n, a.render));
      return { kind: 'ok', status: null };
    }
  }
}
