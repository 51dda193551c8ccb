/**
 * The notifier's use cases, over the pure domain:
 *
 *   receive(event)      an event → alert updates (alerts.ts) → the alerting state (alerting.ts)
 *   run()               what is due now: alerting's tick → a notification per group → each channel's
 *                       queue (filtered by its alert types and least severity) → attempts through
 *                       the senders → outcomes recorded (delivery records, NotificationSent /
 *                       NotificationFailed); answers when it has something to do next
 *   test(channelId)     one test message, sent at once, recorded like any delivery
 *   channels            the admin's delivery channels (URLs encrypted, shown masked)
 *
 * Idempotent where it matters: a notification is queued once per channel whatever retries of a
 * tick do (by its id), a queue's in-flight attempt is claimed with a conditional write (one sender
 * at a time), and an attempt interrupted by a crash counts as a failed attempt after its lease.
 */
import { randomUUID } from 'node:crypto';
import { channelIdFromArn } from '../../../../events/native/schemas.ts';
import { NotificationFailedV1, NotificationSentV1 } from '../../../../events/catalogue.ts';
import { AppError } from '../../../../shared/errors/index.ts';
import { buildEntry } from '../../../../shared/events/publisher.ts';
import { Secret } from '../../../../shared/secrets/secret.ts';
import { DestinationReader } from '../../../../shared/store/destination-reader.ts';
import type { NotifierDeps } from '../deps.ts';
import { ALERT_NAMES, alertsFromEvent, deadLetterAlert, SEVERITIES, type AlertContext, type AlertName, type ReceivedEvent, type Severity } from '../domain/alerts.ts';
import { DEFAULT_ROUTE, emptyAlerting, nextWakeAt, receive, tick, type Notification, type RouteConfig } from '../domain/alerting.ts';
import {
  complete,
  DEFAULT_RETRY_POLICY,
  enqueue,
  failedRecord,
  forChannel,
  newQueue,
  nextDue,
  sentRecord,
  type AttemptOutcome,
  type ChannelKind,
  type ChannelSettings,
  type CompletionResult,
  type Delivery,
  type RetryPolicy,
} from '../domain/delivery.ts';
import { maskUrl, scrub } from '../domain/mask.ts';
import type { RenderContext } from '../domain/render.ts';
import { generateWebhookSecret } from '../domain/signature.ts';
import { NotifierStore, type ChannelRecord, type DeliveryRecord, type StoredQueue } from '../store/notifier-store.ts';
import { attempt, type SenderDeps } from './senders.ts';

/** An attempt claimed longer ago than this was cut short (a crash, a timeout): it counts as failed. */
const IN_FLIGHT_LEASE_MS = 120_000;
/** Notification ids a queue remembers having taken, so a retried tick never queues one twice. */
const RECENT_IDS = 200;

export interface ChannelInput {
  name: string;
  kind: ChannelKind;
  url?: string;
  enabled?: boolean;
  alertNames?: AlertName[] | 'all';
  minSeverity?: Severity;
}

export type ChannelPatch = Partial<Omit<ChannelInput, 'kind'>> & { version?: number };

/** A channel as the API shows it: the target masked, never a URL or secret. */
export type ChannelView = Omit<ChannelRecord, 'urlCiphertext' | 'signingSecretCiphertext'>;

export function viewOf(c: ChannelRecord): ChannelView {
  const { urlCiphertext: _u, signingSecretCiphertext: _s, ...view } = c;
  return view;
}

export class Notifier {
  readonly store: NotifierStore;
  private readonly destinations: DestinationReader;
  private readonly route: RouteConfig;
  private readonly policy: RetryPolicy;
  private readonly senders: SenderDeps;
  private readonly now: () => Date;
  /** One use case at a time in this process (Lambda runs one anyway; the local runtime has many callers). */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: NotifierDeps) {
    this.store = new NotifierStore(deps.doc, deps.tables.notifier);
    this.destinations = new DestinationReader(deps.doc, deps.tables.destinations, '');
    const s = deps.settings;
    this.route = { ...DEFAULT_ROUTE, groupWaitMs: s.groupWaitMs, groupIntervalMs: s.groupIntervalMs, repeatIntervalMs: s.repeatIntervalMs };
    this.policy = { ...DEFAULT_RETRY_POLICY, initialIntervalMs: s.retryInitialMs, maximumIntervalMs: Math.max(s.retryInitialMs, DEFAULT_RETRY_POLICY.maximumIntervalMs) };
    this.senders = { fetch: deps.fetch ?? fetch, ...(deps.sns ? { sns: deps.sns } : {}), snsTopicArn: s.snsTopicArn, log: deps.log };
    this.now = deps.now ?? (() => new Date());
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  // ---------------------------------------------------------------- alerts in

  /** Records the alerts one event gives. */
  receive(e: ReceivedEvent): Promise<void> {
    return this.serial(async () => {
      const ctx = await this.contextFor(e);
      const updates = alertsFromEvent(e, ctx);
      if (updates.length === 0) return;
      await this.store.alerting((s) => ({ next: updates.reduce((st, u) => receive(st, u, this.route), s ?? emptyAlerting()), result: undefined }));
    });
  }

  /** A dead-letter queue's alarm changed: messages wait there (depth > 0) or it is empty again. */
  receiveDeadLetter(p: { queue: string; depth: number; at: string }): Promise<void> {
    return this.serial(async () => {
      const u = deadLetterAlert({ ...p, stage: this.deps.settings.stage });
      await this.store.alerting((s) => ({ next: receive(s ?? emptyAlerting(), u, this.route), result: undefined }));
    });
  }

  /** What the alert rules need to know of the event's destination or channel, read before the (synchronous) rules run. */
  private async contextFor(e: ReceivedEvent): Promise<AlertContext> {
    const known = new Map<string, { name: string; platform: string }>();
    const owners = new Map<string, string>();
    const data = (e.detail as { data?: { destinationId?: unknown } } | null)?.data;
    const destinationId = typeof data?.destinationId === 'string' ? data.destinationId : undefined;
    if (destinationId) {
      const live = e.detailType === 'DestinationDeleted' ? undefined : await this.destinations.get(destinationId);
      if (live) {
        known.set(destinationId, { name: live.name, platform: live.platform });
        await this.store.rememberDestination(destinationId, { name: live.name, platform: live.platform });
      } else {
        const remembered = await this.store.destination(destinationId);
        if (remembered) known.set(destinationId, remembered);
      }
    }
    // Only a channel alert names its channel's owner (channelAlert in domain/alerts.ts); a state
    // change does not, and finding the owner reads every destination (ADR 0025: at 1,000
    // destinations, one such read per channel event made the notifier the saga's slowest step).
    if (e.source === 'aws.medialive' && e.detailType === 'MediaLive Channel Alert') {
      const arn = (e.detail as { channel_arn?: unknown } | null)?.channel_arn;
      if (typeof arn === 'string' && arn.includes(':channel:')) {
        const channelId = channelIdFromArn(arn);
        if (channelId === this.deps.settings.primaryChannelId) owners.set(arn, 'primary');
        else {
          const d = (await this.destinations.list()).find((x) => x.mediaLiveChannelId === channelId);
          if (d) {
            owners.set(arn, d.destinationId);
            known.set(d.destinationId, { name: d.name, platform: d.platform });
          }
        }
      }
    }
    return {
      stage: this.deps.settings.stage,
      destination: (id) => known.get(id),
      channelOwner: (arn) => owners.get(arn),
      graceMs: this.deps.settings.destinationGraceMs,
      inputGraceMs: this.deps.settings.inputGraceMs,
    };
  }

  // ---------------------------------------------------------------- notifications out

  /** Sends what is due; answers when there is something to do next (null: nothing scheduled). */
  run(): Promise<{ nextWakeAt: Date | null; sent: number; failed: number }> {
    return this.serial(async () => {
      const now = this.now();
      const channels = (await this.store.channels()).filter((c) => c.enabled);
      const alertingWake = await this.store.alerting(async (s) => {
        const state = s ?? emptyAlerting();
        const out = tick(state, now.toISOString(), this.route);
        // Queued before the state is saved: a tick that loses its write runs again with the same
        // notifications (same ids), which each queue takes once.
        for (const n of out.notifications) for (const c of channels) await this.queueFor(c, n, now);
        return { ...(out.notifications.length > 0 || JSON.stringify(out.state) !== JSON.stringify(state) ? { next: out.state } : {}), result: nextWakeAt(out.state) };
      });
      let sent = 0;
      let failed = 0;
      let wake: number | null = alertingWake ? Date.parse(alertingWake) : null;
      const byId = new Map(channels.map((c) => [c.channelId, c]));
      const secrets = await this.secrets(channels);
      for (const { channelId } of await this.store.queues()) {
        const c = byId.get(channelId);
        if (!c) continue;
        const r = await this.pump(c, secrets);
        sent += r.sent;
        failed += r.failed;
        if (r.waitUntil !== null) wake = wake === null ? r.waitUntil : Math.min(wake, r.waitUntil);
      }
      return { nextWakeAt: wake === null ? null : new Date(wake), sent, failed };
    });
  }

  private settingsOf(c: ChannelRecord): ChannelSettings {
    return { channelId: c.channelId, name: c.name, kind: c.kind, enabled: c.enabled, alertNames: c.alertNames, minSeverity: c.minSeverity, target: c.target };
  }

  private async queueFor(c: ChannelRecord, n: Notification, now: Date): Promise<void> {
    const mine = forChannel(n, this.settingsOf(c));
    if (!mine) return;
    await this.store.queue(c.channelId, (sq) => {
      const stored: StoredQueue = sq ?? { queue: newQueue(this.settingsOf(c)), inFlightSinceMs: null, recentIds: [] };
      if (stored.recentIds.includes(n.id)) return { result: undefined };
      return { next: { ...stored, queue: enqueue({ ...stored.queue, channel: this.settingsOf(c) }, mine, now), recentIds: [...stored.recentIds, n.id].slice(-RECENT_IDS) }, result: undefined };
    });
  }

  /** Every secret a message must not show: the channels' URLs and signing secrets. */
  private async secrets(channels: readonly ChannelRecord[]): Promise<Map<string, { url?: string; signingSecret?: string }>> {
    const out = new Map<string, { url?: string; signingSecret?: string }>();
    for (const c of channels) {
      const url = c.urlCiphertext ? (await this.deps.cipher.decrypt(c.urlCiphertext, urlContext(c.channelId))).reveal() : undefined;
      const signingSecret = c.signingSecretCiphertext ? (await this.deps.cipher.decrypt(c.signingSecretCiphertext, secretContext(c.channelId))).reveal() : undefined;
      out.set(c.channelId, { ...(url ? { url } : {}), ...(signingSecret ? { signingSecret } : {}) });
    }
    return out;
  }

  private renderContext(secrets: Map<string, { url?: string; signingSecret?: string }>): RenderContext {
    return { stage: this.deps.settings.stage, secrets: [...secrets.values()].flatMap((s) => [s.url, s.signingSecret].filter((x): x is string => !!x)) };
  }

  /** Attempts what is due on one channel until it must wait. */
  private async pump(c: ChannelRecord, secrets: Map<string, { url?: string; signingSecret?: string }>): Promise<{ sent: number; failed: number; waitUntil: number | null }> {
    let sent = 0;
    let failed = 0;
    for (;;) {
      const now = this.now();
      const claim = await this.store.queue<{ delivery: Delivery } | { waitUntil: number | null; interrupted?: CompletionResult }>(c.channelId, (sq) => {
        if (!sq) return { result: { waitUntil: null } };
        let q = { ...sq.queue, channel: this.settingsOf(c) };
        let interrupted: CompletionResult | undefined;
        if (q.inFlight) {
          if (sq.inFlightSinceMs !== null && now.getTime() - sq.inFlightSinceMs < IN_FLIGHT_LEASE_MS) return { result: { waitUntil: sq.inFlightSinceMs + IN_FLIGHT_LEASE_MS } };
          const done = complete(q, { kind: 'network', code: 'INTERRUPTED', message: 'the attempt was cut short' }, now, this.policy);
          q = done.queue;
          interrupted = done.result;
        }
        const due = nextDue(q, now);
        if ('delivery' in due) return { next: { ...sq, queue: due.queue, inFlightSinceMs: now.getTime() }, result: { delivery: due.delivery } };
        return { next: { ...sq, queue: due.queue, inFlightSinceMs: null }, result: { waitUntil: due.waitUntil ? due.waitUntil.getTime() : null, ...(interrupted ? { interrupted } : {}) } };
      });
      if ('waitUntil' in claim) {
        if (claim.interrupted) await this.settle(c, claim.interrupted, false);
        return { sent, failed, waitUntil: claim.waitUntil };
      }
      const s = secrets.get(c.channelId) ?? {};
      const outcome = await attempt(this.senders, {
        kind: c.kind,
        channelName: c.name,
        deliveryId: claim.delivery.deliveryId,
        notifications: claim.delivery.notifications,
        ...s,
        render: this.renderContext(secrets),
        now,
      });
      const result = await this.store.queue<CompletionResult | null>(c.channelId, (sq) => {
        if (!sq?.queue.inFlight || sq.queue.inFlight.deliveryId !== claim.delivery.deliveryId) return { result: null }; // taken over after the lease
        const done = complete({ ...sq.queue, channel: this.settingsOf(c) }, outcome, this.now(), this.policy);
        return { next: { ...sq, queue: done.queue, inFlightSinceMs: null }, result: done.result };
      });
      if (!result) continue;
      await this.settle(c, result, false);
      if (result.kind === 'sent') sent++;
      if (result.kind === 'failed') failed++;
      if (result.kind === 'retry') this.deps.log.warn('notification delivery will be retried', { channelId: c.channelId, kind: c.kind, deliveryId: result.delivery.deliveryId, reason: scrub(result.reason) });
    }
  }

  /** Records a finished delivery and publishes NotificationSent / NotificationFailed. */
  private async settle(c: ChannelRecord, r: CompletionResult, test: boolean): Promise<DeliveryRecord | null> {
    if (r.kind === 'retry') return null;
    const q = newQueue(this.settingsOf(c));
    const record: DeliveryRecord =
      r.kind === 'sent'
        ? (() => {
            const d = sentRecord(q, r);
            return {
              deliveryId: d.deliveryId,
              channelId: c.channelId,
              channelName: c.name,
              channel: c.kind,
              target: c.target,
              outcome: 'sent',
              reason: null,
              status: d.status,
              severity: d.severity,
              alertNames: d.alertNames,
              groups: d.groups,
              attempts: d.attempts,
              httpStatus: d.httpStatus,
              error: null,
              test,
              at: d.deliveredAt,
            };
          })()
        : (() => {
            const d = failedRecord(q, r, (s) => scrub(s));
            return {
              deliveryId: d.deliveryId,
              channelId: c.channelId,
              channelName: c.name,
              channel: c.kind,
              target: c.target,
              outcome: 'failed',
              reason: d.outcome,
              status: d.status,
              severity: d.severity,
              alertNames: d.alertNames,
              groups: d.groups,
              attempts: d.attempts,
              httpStatus: d.httpStatus,
              error: d.error,
              test,
              at: d.failedAt,
            };
          })();
    await this.store.recordDelivery(record);
    const entry =
      r.kind === 'sent'
        ? buildEntry(NotificationSentV1, sentRecord(q, r), { correlationId: r.delivery.deliveryId })
        : buildEntry(
            NotificationFailedV1,
            failedRecord(q, r, (s) => scrub(s)),
            { correlationId: r.delivery.deliveryId },
          );
    await this.deps.publisher.publish([entry]);
    (r.kind === 'sent' ? this.deps.log.info : this.deps.log.warn).call(this.deps.log, r.kind === 'sent' ? 'notification delivered' : 'notification failed', {
      channelId: c.channelId,
      kind: c.kind,
      deliveryId: r.delivery.deliveryId,
      outcome: record.outcome,
      attempts: record.attempts,
      httpStatus: record.httpStatus,
      errorCode: record.error?.code,
    });
    return record;
  }

  // ---------------------------------------------------------------- test message

  /** Sends one test message to the channel now (one attempt) and records it. */
  test(channelId: string, requestedBy: string): Promise<DeliveryRecord> {
    return this.serial(async () => {
      const c = await this.requireChannel(channelId);
      const now = this.now();
      const n: Notification = {
        id: `test-${randomUUID()}`,
        groupKey: 'test',
        groupLabels: { scope: 'test' },
        status: 'firing',
        reason: 'initial',
        severity: 'info',
        firing: [
          {
            fingerprint: 'test',
            status: 'firing',
            labels: { alertname: 'TestMessage', severity: 'info', scope: 'test', stage: this.deps.settings.stage },
            annotations: { summary: `Test message from Fanout (${c.name})`, description: `Sent on request of token ${requestedBy}: this channel works.`, hint: 'Nothing to do.' },
            startsAt: now.toISOString(),
            endsAt: null,
          },
        ],
        resolved: [],
        at: now.toISOString(),
      };
      const secrets = await this.secrets([c]);
      const q0 = enqueue(newQueue(this.settingsOf(c)), n, now);
      const due = nextDue({ ...q0, nextSendAtMs: 0 }, now);
      if (!('delivery' in due)) throw new Error('a fresh queue has its delivery due');
      const outcome: AttemptOutcome = await attempt(this.senders, {
        kind: c.kind,
        channelName: c.name,
        deliveryId: due.delivery.deliveryId,
        notifications: [n],
        ...(secrets.get(c.channelId) ?? {}),
        render: this.renderContext(secrets),
        now,
      });
      // One attempt: a test tells the admin what happens now, it is not retried.
      const done = complete(due.queue, outcome, this.now(), { ...this.policy, maximumAttempts: 1, maximumRateLimited: 0 });
      return (await this.settle(c, done.result, true))!;
    });
  }

  // ---------------------------------------------------------------- channels

  private async requireChannel(channelId: string): Promise<ChannelRecord> {
    const c = await this.store.channel(channelId);
    if (!c) throw new AppError('NOTIFICATION_CHANNEL_NOT_FOUND', `No notification channel ${channelId}.`);
    return c;
  }

  async listChannels(): Promise<ChannelView[]> {
    return (await this.store.channels()).map(viewOf);
  }

  async getChannel(channelId: string): Promise<ChannelView> {
    return viewOf(await this.requireChannel(channelId));
  }

  /** Creates a channel; a webhook's signing secret is in the answer this once, never again. */
  async createChannel(input: ChannelInput): Promise<{ channel: ChannelView; signingSecret?: string }> {
    const channelId = randomUUID();
    const now = this.now().toISOString();
    const target = await this.targetOf(input.kind, input.url);
    const signingSecret = input.kind === 'webhook' ? generateWebhookSecret() : undefined;
    const record = await this.store.putChannel(
      {
        channelId,
        name: input.name,
        kind: input.kind,
        enabled: input.enabled ?? true,
        alertNames: input.alertNames ?? 'all',
        minSeverity: input.minSeverity ?? 'warning',
        target,
        ...(input.url ? { urlCiphertext: await this.deps.cipher.encrypt(new Secret(input.url), urlContext(channelId)) } : {}),
        ...(signingSecret ? { signingSecretCiphertext: await this.deps.cipher.encrypt(new Secret(signingSecret), secretContext(channelId)) } : {}),
        createdAt: now,
        updatedAt: now,
      },
      0,
    );
    this.deps.log.info('notification channel created', { channelId, kind: record.kind, target: record.target });
    return { channel: viewOf(record), ...(signingSecret ? { signingSecret } : {}) };
  }

  async updateChannel(channelId: string, patch: ChannelPatch): Promise<ChannelView> {
    for (let attempt = 1; ; attempt++) {
      const c = await this.requireChannel(channelId);
      if (patch.version !== undefined && patch.version !== c.version) throw new AppError('VERSION_CONFLICT', `The channel is at version ${c.version}.`);
      const next: ChannelRecord = {
        ...c,
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
        ...(patch.alertNames !== undefined ? { alertNames: patch.alertNames } : {}),
        ...(patch.minSeverity !== undefined ? { minSeverity: patch.minSeverity } : {}),
        updatedAt: this.now().toISOString(),
      };
      if (patch.url !== undefined) {
        next.target = await this.targetOf(c.kind, patch.url);
        next.urlCiphertext = await this.deps.cipher.encrypt(new Secret(patch.url), urlContext(channelId));
      }
      const { version, ...rest } = next;
      try {
        return viewOf(await this.store.putChannel(rest, version));
      } catch (err) {
        // Without a version the caller asked for "the latest": read it again.
        if ((err as { code?: string }).code !== 'VERSION_CONFLICT' || patch.version !== undefined || attempt >= 5) throw err;
      }
    }
  }

  async deleteChannel(channelId: string): Promise<void> {
    await this.requireChannel(channelId);
    await this.store.deleteChannel(channelId);
    this.deps.log.info('notification channel deleted', { channelId });
  }

  /** The masked target of a channel, after checking its URL (and, for SNS, that a topic exists). */
  private async targetOf(kind: ChannelKind, url: string | undefined): Promise<string> {
    if (kind === 'log') {
      if (url) throw new AppError('NOTIFICATION_CHANNEL_INVALID', 'A log channel takes no URL.');
      return 'log';
    }
    if (kind === 'sns') {
      if (url) throw new AppError('NOTIFICATION_CHANNEL_INVALID', "An SNS channel takes no URL: it publishes to the stack's topic.");
      if (!this.deps.settings.snsTopicArn) throw new AppError('NOTIFICATION_CHANNEL_INVALID', 'This runtime has no SNS topic (SNS channels exist on AWS, FANOUT_NOTIFY_TOPIC_ARN).');
      return this.deps.settings.snsTopicArn;
    }
    if (!url) throw new AppError('NOTIFICATION_CHANNEL_INVALID', `A ${kind} channel needs its URL.`);
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new AppError('NOTIFICATION_CHANNEL_INVALID', 'The URL is not a valid URL.');
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new AppError('NOTIFICATION_CHANNEL_INVALID', 'The URL must be https:// (or http:// to a receiver of your own).');
    if (u.username || u.password) throw new AppError('NOTIFICATION_CHANNEL_INVALID', 'Credentials in the URL are not supported.');
    if (this.deps.egress) {
      const refusal = await this.deps.egress.policy.check(u.hostname, this.deps.egress.resolve).catch(() => null);
      if (refusal) throw new AppError('EGRESS_REFUSED', `Fanout may not send to ${u.hostname} (${refusal.reason}).`);
    }
    return maskUrl(url);
  }

  // ---------------------------------------------------------------- reads

  deliveries(limit: number, channelId?: string): Promise<DeliveryRecord[]> {
    return this.store.deliveries(limit, channelId);
  }

  /** The alert types (for the per-channel choice) and what fires now. */
  async alerts(): Promise<{ alertNames: readonly AlertName[]; severities: readonly Severity[]; firing: { alertname: string; scope: string; severity: string; since: string; summary: string }[] }> {
    const s = (await this.store.readJson<ReturnType<typeof emptyAlerting>>('state', 'alerting')) ?? emptyAlerting();
    const now = this.now().getTime();
    const firing = Object.values(s.groups).flatMap((g) =>
      Object.values(g.alerts as Record<string, { labels: Record<string, string>; annotations: { summary: string }; startsAtMs: number; activeAtMs: number; resolvedAtMs: number | null }>)
        .filter((a) => a.resolvedAtMs === null && a.activeAtMs <= now)
        .map((a) => ({ alertname: a.labels.alertname ?? '', scope: a.labels.scope ?? '', severity: a.labels.severity ?? 'info', since: new Date(a.startsAtMs).toISOString(), summary: scrub(a.annotations.summary) })),
    );
    return { alertNames: ALERT_NAMES, severities: SEVERITIES, firing };
  }
}

const urlContext = (channelId: string) => `notifier:channel:${channelId}:url`;
const secretContext = (channelId: string) => `notifier:channel:${channelId}:signing-secret`;
