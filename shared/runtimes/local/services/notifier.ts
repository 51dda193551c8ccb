/**
 * The notifier in the local runtime: its deps from the local infrastructure, its handlers by the
 * export names of its Lambda entry (shared/runtimes/aws/notifier.ts), and the two things AWS does
 * for it that the local twin must do itself (`attach`):
 *
 *   dead-letter queues   CloudWatch alarms on each DLQ (serverless.yml) emit "CloudWatch Alarm
 *                        State Change" on the default bus; here the bus's own DLQs are watched and
 *                        the same native event is delivered when one fills or empties, so the
 *                        consumer under test is the consumer on AWS
 *   precise waits        on AWS the notifier schedules its own wake-ups on NotifierWakeQueue (SQS
 *                        DelaySeconds, ADR 0027); here there is no wake queue URL (a queue's Ref has
 *                        no local value), so the runtime runs notifierTick when the notifier says it
 *                        next has something to do (group wait, Retry-After, retry), and every minute
 */
import type { NotifierDeps } from '../../../../services/notifier/src/deps.ts';
import { createApiHandler } from '../../../../services/notifier/src/handlers/api.ts';
import { createInboxHandler } from '../../../../services/notifier/src/handlers/inbox.ts';
import { createTickHandler } from '../../../../services/notifier/src/handlers/tick.ts';
import { createWakeHandler } from '../../../../services/notifier/src/handlers/wake.ts';
import { notifierOpenApiDocument } from '../../../../services/notifier/src/http/app.ts';
import { createLogger } from '../../../logging/logger.ts';
import { EgressPolicy, systemResolver } from '../../../net/egress.ts';
import { notifierSettings } from '../../aws/notifier.ts';
import type { LambdaHandler } from '../bus.ts';
import { defineLocalService } from './local-service.ts';

export const notifier = defineLocalService<NotifierDeps>({
  deps: (infra) => {
    const cfg = infra.config;
    return {
      dynamo: infra.dynamo,
      doc: infra.doc,
      tables: { notifier: cfg.tableNotifier, destinations: cfg.tableDestinations, idempotency: cfg.tableIdempotency },
      publisher: infra.publisher,
      cipher: infra.cipher,
      log: createLogger('notifier'),
      auth: infra.auth,
      settings: notifierSettings(cfg),
      egress: { policy: new EgressPolicy({ allowPrivate: cfg.egressAllowPrivate, allowHosts: cfg.egressAllowHosts }), resolve: infra.resolveHost ?? systemResolver },
      ...(infra.fetch ? { fetch: infra.fetch } : {}),
    };
  },
  handlers: { inbox: createInboxHandler, tick: createTickHandler, wake: createWakeHandler, api: createApiHandler },
  needsEngine: true,
  openApi: () => notifierOpenApiDocument() as never,
  attach: ({ deps, bus, infra }) => {
    const { wiring, config } = infra;
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
      timer = setTimeout(
        () => {
          timerAt = Infinity;
          void bus.runScheduled('notifierTick').catch(() => undefined); // runScheduled logs its failures
        },
        Math.max(0, at - Date.now()) + 5,
      );
      timer.unref();
    };
    const runTick = async () => {
      const r = await tick();
      wakeAt(r.nextWakeAt);
      return r;
    };
    const handlers: Record<string, LambdaHandler> = {
      inbox: async (event, context) => {
        const out = await inbox(event as Parameters<typeof inbox>[0], context as unknown as Parameters<typeof inbox>[1]);
        // Learn when the next thing is due (the inbox ran what was due at once).
        void runTick().catch(() => undefined);
        return out;
      },
      tick: runTick,
    };

    // Dead-letter queues: the native alarm event when one fills (ALARM) or empties (OK).
    const dlqs = [...new Set(wiring.queues.map((q) => q.deadLetterQueue).filter((q): q is string => q !== undefined))];
    const deployment = wiring.environment.FANOUT_DEPLOYMENT ?? `${wiring.service}-${wiring.stage}`;
    const alarming = new Map<string, boolean>();
    let checking = false;
    const checkDlqs = () => {
      if (checking || stopped) return;
      checking = true;
      try {
        const stats = bus.queueStats();
        for (const id of dlqs) {
          const s = stats[id];
          const depth = s ? s.visible + s.inFlight + (s.delayed ?? 0) : 0;
          const now = depth > 0;
          if ((alarming.get(id) ?? false) === now) continue;
          alarming.set(id, now);
          const alarmName = `${deployment}-dlq-${id}`;
          const value = now ? 'ALARM' : 'OK';
          bus.deliverServiceEvent({
            Source: 'aws.cloudwatch',
            DetailType: 'CloudWatch Alarm State Change',
            Resources: [`arn:aws:cloudwatch:${config.awsRegion}:000000000000:alarm:${alarmName}`],
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
    const unsubscribe = bus.onChange(checkDlqs);
    return {
      handlers,
      stop() {
        stopped = true;
        clearTimeout(timer);
        unsubscribe();
      },
    };
  },
});
