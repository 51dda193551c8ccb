/**
 * The infrastructure every service's handlers use: the DynamoDB document client, the event
 * publisher and the secret cipher. On AWS it is built from configuration on first use (one per
 * Lambda container); the local runtime installs its own (dynalite, the in-process bus, the key
 * file) before any handler runs. Handlers never build clients themselves.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { config, type Config } from '../../config/index.ts';
import { AppError } from '../../errors/index.ts';
import { EventBridgePublisher, type EventPublisher, type TappedPublisher } from '../../events/publisher.ts';
import { createLogger } from '../../logging/logger.ts';
// The production entry only: test support (fake, request capture, model validator) stays out of Lambda bundles.
import { AwsMediaEngine, createAwsClients, type AwsEngineDeps } from '../../engines/aws/index.ts';
import type { ChannelEngine, FlowEngine } from '../../engines/port/ports.ts';
import type { HostResolver } from '../../net/egress.ts';
import type { SecretCipher } from '../../secrets/cipher.ts';
import { KmsCipher } from '../../secrets/kms-cipher.ts';
import { createDocumentClient, createDynamoClient } from '../../store/dynamo.ts';

export interface Infrastructure {
  dynamo: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  publisher: EventPublisher;
  cipher: SecretCipher;
  /** Present in the local runtime: lets in-process listeners (the live event stream) see published events. */
  tap?: TappedPublisher;
  /** The media engine: the local one (installed by the local runtime) or the AWS one (`AwsMediaEngine`). */
  engines?: { flow: FlowEngine; channel: ChannelEngine };
  /** Resolves host names for the egress policy; absent = the system resolver (tests inject one: no DNS). */
  resolveHost?: HostResolver;
}

let current: Infrastructure | undefined;

export function installInfrastructure(infra: Infrastructure): void {
  current = infra;
}

export function infrastructure(): Infrastructure {
  current ??= createAwsInfrastructure(config());
  return current;
}

/** Settings the aws runtime cannot run without (serverless.yml sets all of them from the stack). */
const REQUIRED_ON_AWS = [
  ['kmsKeyId', 'FANOUT_KMS_KEY_ID'],
  ['deployment', 'FANOUT_DEPLOYMENT'],
  ['mediaConnectFlowArn', 'FANOUT_MEDIACONNECT_FLOW_ARN'],
  ['mediaLiveRoleArn', 'FANOUT_MEDIALIVE_ROLE_ARN'],
] as const satisfies readonly (readonly [keyof Config, string])[];

/**
 * The aws runtime's infrastructure, built from configuration. Construction only: no AWS call is
 * made until a handler uses a client. Every missing setting is reported at once; the engine checks
 * the values themselves (flow ARN vs output ARN, the flow's Region vs AWS_REGION, role ARN).
 */
export function createAwsInfrastructure(cfg: Config, engineDeps?: AwsEngineDeps): Infrastructure {
  const missing = REQUIRED_ON_AWS.filter(([key]) => !cfg[key]).map(([, env]) => env);
  if (missing.length > 0) {
    throw new Error(
      `The aws runtime needs ${missing.join(', ')} (serverless.yml sets ${missing.length === 1 ? 'it' : 'them'} from the stack's resources; ` +
        'a function deployed without them was deployed from another template).',
    );
  }
  const dynamo = createDynamoClient({ region: cfg.awsRegion, ...(cfg.dynamoEndpoint ? { endpoint: cfg.dynamoEndpoint } : {}) });
  const engine = new AwsMediaEngine(
    {
      flowArn: cfg.mediaConnectFlowArn!,
      mediaLiveRoleArn: cfg.mediaLiveRoleArn!,
      region: cfg.awsRegion,
      deployment: cfg.deployment!,
      tags: {},
      ...(cfg.primaryChannelId ? { primaryChannelId: cfg.primaryChannelId } : {}),
    },
    engineDeps ?? { ...createAwsClients(cfg.awsRegion), logger: engineLogger() },
  );
  return {
    dynamo,
    doc: createDocumentClient(dynamo),
    publisher: new EventBridgePublisher(new EventBridgeClient({ region: cfg.awsRegion }), cfg.eventBus),
    cipher: KmsCipher.create(cfg.kmsKeyId!, cfg.awsRegion),
    engines: { flow: engine, channel: engine },
  };
}

/** The engine's log lines, through the project's (secret-scrubbing) logger, created on first use. */
function engineLogger(): NonNullable<AwsEngineDeps['logger']> {
  const log = () => createLogger('media-engine');
  return {
    info: (message, attributes) => log().info(message, attributes ?? {}),
    warn: (message, attributes) => log().warn(message, attributes ?? {}),
  };
}

/** The media engine, or ENGINE_UNAVAILABLE (the SQS retry runs the step again later). */
export function engines(): { flow: FlowEngine; channel: ChannelEngine } {
  const e = infrastructure().engines;
  if (!e) throw new AppError('ENGINE_UNAVAILABLE', 'No media engine is configured in this runtime.');
  return e;
}
