/**
 * The notifier in the local runtime: its deps from the local infrastructure, its handlers for the
 * in-process bus, its admin app for the HTTP server, and the two things AWS does for it that the
 * local twin must do itself:
 *
 *   dead-letter queues   CloudWatch alarms on each DLQ (serverless.yml) emit "CloudWatch Alarm
 *                        State Change" on the default bus; here the bus's own DLQs are watched and
 *                        the same native event is delivered when one fills or empties, so the
 *                        consumer under test is the consumer on AWS
 *   precise waits        notifierTick runs every minute on both; locally it also runs when the
 *                        notifier says it next has something to do (group wait, Retry-After, retry)
 *
 * The runtime calls `createLocalNotifier` from one marked block in runtime.ts; nothing else of the
 * runtime knows the notifier.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { NotifierDeps } from '../../../services/notifier/src/deps.ts';
import { createApiHandler } from '../../../services/notifier/src/handlers/api.ts';
import { createInboxHandler } from '../../../services/notifier/src/handlers/inbox.ts';
import { createTickHandler } from '../../../services/notifier/src/handlers/tick.ts';
import { notifierOpenApiDocument } from '../../../services/notifier/src/http/app.ts';
import type { ApiAuth } from '../../auth/api-auth.ts';
import type { Config } from '../../config/index.ts';
import type { EventPublisher } from '../../events/publisher.ts';
import { createLogger } from '../../logging/logger.ts';
import { EgressPolicy, systemResolver, type HostResolver } from '../../net/egress.ts';
import type { SecretCipher } from '../../secrets/cipher.ts';
import { notifierSettings } from '../aws/notifier.ts';
import type { LambdaHandler, LocalEventBus } from './bus.ts';
import type { LocalWiring } from './serverless-config.ts';

export interface LocalNotifierOptions {
  dynamo: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  publisher: EventPublisher;
  cipher: SecretCipher;
  auth: ApiAuth;
  config: Config;
  bus: LocalEventBus;
  wiring: LocalWiring;
  resolveHost?: HostResolver;
  /** HTTP for Slack and webhooks (default the global fetch). */
  fetch?: typeof fetch;
}

export interface LocalNotifier {
  /** By serverless.yml function name: what the bus runs instead of the Lambda entry. */
  handlers: Record<string, LambdaHandler>;
  /** The admin app, for `/api/admin/notifications/*`. */
  app: { fetch: (req: Request, env?: unknown) => Response | Promise<Response> };
  deps: NotifierDeps;
  stop(): void;
}

export const NOTIFIER_FUNCTIONS = new Set(['notifierInbox', 'notifierTick', 'notifierApi']);

export function createLocalNotifier(o: LocalNotifierOptions): LocalNotifier {
  const log = createLogger('notifier');
  const deps: NotifierDeps = {
    dynamo: o.dynamo,
    doc: o.doc,
    tables: { notifier: o.config.tableNotifier, destinations: o.config.tableDestinations, idempotency: o.config.tableIdempotency },
    publisher: o.publisher,
    cipher: o.cipher,
    log,
    auth: o.auth,
    settings: notifierSettings(o.config),
    egress: { policy: new EgressPolicy({ allowPrivate: o.config.egressAllowPrivate, allowHosts: o.config.egressAllowHosts }), resolve: o.resolveHost ?? systemResolver },
    ...(o.fetch ? { fetch: o.fetch } : {}),
  };
  const inbox = createInboxHandler(deps);
  const tick = createTickHandler(deps);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Infinity;
  const wakeAt = (iso: string | null) => {
    if (stopped || iso === null) return;
    const at = Date.parse(iso);
    if (at >= timerAt) return;
    clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(() => {
      timerAt = Infinity;
      void o.bus.runScheduled('notifierTick').catch(() => undefined); // runScheduled logs its failures
    }, Math.max(0, at - Date.now()) + 5);
    timer.unref();
  };
  const runTick = async () => {
    const r = await tick();
    wakeAt(r.nextWakeAt);
    return r;
  };
  const handlers: Record<string, LambdaHandler> = {
    notifierInbox: async (event, context) => {
      const out = await inbox(event as Parameters<typeof inbox>[0], context as unknown as Parameters<typeof inbox>[1]);
      // Learn when the next thing is due (the inbox ran what was due at once).
      void runTick().catch(() => undefined);
      return out;
    },
    notifierTick: runTick,
  };

  // Dead-letter queues: the native alarm event when one fills (ALARM) or empties (OK).
  const dlqs = [...new Set(o.wiring.queues.map((q) => q.deadLetterQueue).filter((q): q is string => q !== undefined))];
  const deployment = o.wiring.environment.FANOUT_DEPLOYMENT ?? `${o.wiring.service}-${o.wiring.stage}`;
  const alarming = new Map<string, boolean>();
  let checking = false;
  const checkDlqs = () => {
    if (checking || stopped) return;
    checking = true;
    try {
      const stats = o.bus.queueStats();
      for (const id of dlqs) {
        const s = stats[id];
        const depth = s ? s.visible + s.inFlight + (s.delayed ?? 0) : 0;
        const now = depth > 0;
        if ((alarming.get(id) ?? false) === now) continue;
        alarming.set(id, now);
        const alarmName = `${deployment}-dlq-${id}`;
        const value = now ? 'ALARM' : 'OK';
        o.bus.deliverServiceEvent({
          Source: 'aws.cloudwatch',
          DetailType: 'CloudWatch Alarm State Change',
          Resources: [`arn:aws:cloudwatch:${o.config.awsRegion}:000000000000:alarm:${alarmName}`],
          Detail: JSON.stringify({
            alarmName,
            state: { value, reason: `local runtime: ${depth} message(s) in ${id}`, reasonData: JSON.stringify({ version: '1.0', statistic: 'Maximum', recentDatapoints: [depth], threshold: 0 }), timestamp: new Date().toISOString() },
            previousState: { value: now ? 'OK' : 'ALARM' },
          }),
        });
      }
    } finally {
      checking = false;
    }
  };
  const unsubscribe = o.bus.onChange(checkDlqs);

  return {
    handlers,
    app: createApiHandler(deps),
    deps,
    stop() {
      stopped = true;
      clearTimeout(timer);
      unsubscribe();
    },
  };
}

/** The notifier's part of the OpenAPI document the destination API serves. */
export const notifierOpenApi = () => notifierOpenApiDocument();
