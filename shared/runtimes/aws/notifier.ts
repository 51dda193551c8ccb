/**
 * Lambda entry of the notifier (DEPS-CONVENTION.md): builds `NotifierDeps` from configuration once
 * per container (only the clients the notifier calls: DynamoDB, EventBridge, KMS, SNS; no media
 * engine) and exports its handlers, which serverless.yml names:
 *
 *   notifierInbox  shared/runtimes/aws/notifier.inbox   NotifierQueue (SQS)
 *   notifierTick   shared/runtimes/aws/notifier.tick    rate(1 minute), the backstop
 *   notifierWake   shared/runtimes/aws/notifier.wake    NotifierWakeQueue (SQS delayed messages: precise waits, ADR 0027)
 *   notifierApi    shared/runtimes/aws/notifier.api     /api/admin/notifications/{proxy+}
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, Context, SQSEvent } from 'aws-lambda';
import { handle } from 'hono/aws-lambda';
import { createApiHandler } from '../../../services/notifier/src/handlers/api.ts';
import { createInboxHandler } from '../../../services/notifier/src/handlers/inbox.ts';
import { createTickHandler } from '../../../services/notifier/src/handlers/tick.ts';
import { createWakeHandler } from '../../../services/notifier/src/handlers/wake.ts';
import type { NotifierDeps } from '../../../services/notifier/src/deps.ts';
import { apiAuthFor } from '../../auth/api-auth.ts';
import { config, type Config } from '../../config/index.ts';
import { EventBridgePublisher } from '../../events/publisher.ts';
import { createLogger } from '../../logging/logger.ts';
import { EgressPolicy, systemResolver } from '../../net/egress.ts';
import { KmsCipher } from '../../secrets/kms-cipher.ts';
import { createDocumentClient, createDynamoClient } from '../../store/dynamo.ts';

/** The notifier's settings as configuration gives them (the local runtime uses this too). */
export function notifierSettings(cfg: Config): NotifierDeps['settings'] {
  return {
    stage: cfg.stage,
    groupWaitMs: cfg.notifyGroupWaitSeconds * 1000,
    groupIntervalMs: cfg.notifyGroupIntervalSeconds * 1000,
    repeatIntervalMs: cfg.notifyRepeatIntervalSeconds * 1000,
    destinationGraceMs: cfg.notifyDestinationGraceSeconds * 1000,
    inputGraceMs: cfg.notifyInputGraceSeconds * 1000,
    retryInitialMs: cfg.notifyRetryInitialSeconds * 1000,
    snsTopicArn: cfg.notifyTopicArn ?? null,
    primaryChannelId: cfg.primaryChannelId ?? null,
  };
}

/** NotifierDeps from configuration (construction only: no AWS call until a handler runs). */
export function createAwsNotifierDeps(cfg: Config): NotifierDeps {
  if (!cfg.kmsKeyId) throw new Error('The notifier needs FANOUT_KMS_KEY_ID (serverless.yml sets it from the stack).');
  const dynamo = createDynamoClient({ region: cfg.awsRegion, ...(cfg.dynamoEndpoint ? { endpoint: cfg.dynamoEndpoint } : {}) });
  const doc = createDocumentClient(dynamo);
  return {
    dynamo,
    doc,
    tables: { notifier: cfg.tableNotifier, destinations: cfg.tableDestinations, idempotency: cfg.tableIdempotency },
    publisher: new EventBridgePublisher(new EventBridgeClient({ region: cfg.awsRegion }), cfg.eventBus),
    cipher: KmsCipher.create(cfg.kmsKeyId, cfg.awsRegion),
    log: createLogger('notifier'),
    auth: apiAuthFor({ doc }, cfg),
    settings: notifierSettings(cfg),
    sns: new SNSClient({ region: cfg.awsRegion }),
    ...(cfg.notifyWakeQueueUrl ? { wake: { sqs: new SQSClient({ region: cfg.awsRegion }), queueUrl: cfg.notifyWakeQueueUrl } } : {}),
    egress: { policy: new EgressPolicy({ allowPrivate: cfg.egressAllowPrivate, allowHosts: cfg.egressAllowHosts }), resolve: systemResolver },
  };
}

let deps: NotifierDeps | undefined;
const notifierDeps = (): NotifierDeps => (deps ??= createAwsNotifierDeps(config()));

let inboxHandler: ReturnType<typeof createInboxHandler> | undefined;
let tickHandler: ReturnType<typeof createTickHandler> | undefined;
let wakeHandler: ReturnType<typeof createWakeHandler> | undefined;
let apiHandler: ReturnType<typeof handle> | undefined;

export const inbox = (event: SQSEvent, context: Context) => {
  inboxHandler ??= createInboxHandler(notifierDeps());
  return inboxHandler(event, context);
};

export const tick = () => {
  tickHandler ??= createTickHandler(notifierDeps());
  return tickHandler();
};

export const wake = (event: SQSEvent) => {
  wakeHandler ??= createWakeHandler(notifierDeps());
  return wakeHandler(event);
};

export const api = async (event: APIGatewayProxyEventV2, context: Context) => {
  apiHandler ??= handle(createApiHandler(notifierDeps()));
  // hono types the v2 body as `string | null`; API Gateway omits it for GET requests.
  return apiHandler({ ...event, body: event.body ?? null } as unknown as Parameters<ReturnType<typeof handle>>[0], context);
};
