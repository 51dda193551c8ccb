/**
 * The infrastructure every service's handlers use: the DynamoDB document client, the event
 * publisher and the secret cipher. On AWS it is built from configuration on first use (one per
 * Lambda container); the local runtime installs its own (dynalite, the in-process bus, the key
 * file) before any handler runs. Handlers never build clients themselves.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { config } from '../config/index.ts';
import { AppError } from '../errors/index.ts';
import { EventBridgePublisher, type EventPublisher, type TappedPublisher } from '../events/publisher.ts';
import type { ChannelEngine, FlowEngine } from '../media-engine/ports.ts';
import type { SecretCipher } from '../secrets/cipher.ts';
import { KmsCipher } from '../secrets/kms-cipher.ts';
import { createDocumentClient, createDynamoClient } from '../store/dynamo.ts';

export interface Infrastructure {
  dynamo: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  publisher: EventPublisher;
  cipher: SecretCipher;
  /** Present in the local runtime: lets in-process listeners (the live event stream) see published events. */
  tap?: TappedPublisher;
  /** The media engine: the local one (installed by the local runtime) or the AWS one (issue 4). */
  engines?: { flow: FlowEngine; channel: ChannelEngine };
}

let current: Infrastructure | undefined;

export function installInfrastructure(infra: Infrastructure): void {
  current = infra;
}

export function infrastructure(): Infrastructure {
  if (!current) {
    const cfg = config();
    const dynamo = createDynamoClient({ region: cfg.awsRegion, ...(cfg.dynamoEndpoint ? { endpoint: cfg.dynamoEndpoint } : {}) });
    if (!cfg.kmsKeyId) throw new Error('FANOUT_KMS_KEY_ID is required in the aws runtime');
    current = {
      dynamo,
      doc: createDocumentClient(dynamo),
      publisher: new EventBridgePublisher(new EventBridgeClient({ region: cfg.awsRegion }), cfg.eventBus),
      cipher: KmsCipher.create(cfg.kmsKeyId, cfg.awsRegion),
    };
  }
  return current;
}

/** The media engine, or ENGINE_UNAVAILABLE (the SQS retry runs the step again later). */
export function engines(): { flow: FlowEngine; channel: ChannelEngine } {
  const e = infrastructure().engines;
  if (!e) throw new AppError('ENGINE_UNAVAILABLE', 'No media engine is configured in this runtime.');
  return e;
}
