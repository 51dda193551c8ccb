/**
 * What the notifier's handlers need, and nothing more (DEPS-CONVENTION.md): the runtimes build
 * it (shared/runtimes/aws/notifier.ts on Lambda, shared/runtimes/local/services/notifier.ts in the local
 * runtime) and hand it to the factories in src/handlers/. Typed only with the shared libraries
 * and the SDK clients the notifier calls; no service locator, nothing from shared/runtimes/.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ApiAuth } from '../../../shared/auth/api-auth.ts';
import type { EventPublisher } from '../../../shared/events/publisher.ts';
import type { Logger } from '../../../shared/logging/logger.ts';
import type { EgressPolicy, HostResolver } from '../../../shared/net/egress.ts';
import type { SecretCipher } from '../../../shared/secrets/cipher.ts';

export interface NotifierSettings {
  /** The stage named in messages and in the SNS `stage` attribute. */
  stage: string;
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  /** A destination (or the primary) in error this long is an alert. */
  destinationGraceMs: number;
  /** The contribution gone this long is an alert. */
  inputGraceMs: number;
  /** First retry interval of a failed delivery. */
  retryInitialMs: number;
  /** The SNS topic `sns` channels publish to (null: none in this runtime). */
  snsTopicArn: string | null;
  /** The stack's primary MediaLive channel (AWS), so its channel alerts are labelled `primary`. */
  primaryChannelId: string | null;
}

export interface NotifierDeps {
  /** DynamoDB (the document client for the notifier's table, the raw one for consumer idempotency). */
  dynamo: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  tables: { notifier: string; destinations: string; idempotency: string };
  publisher: EventPublisher;
  /** Webhook URLs and signing secrets at rest (KMS on AWS, the key file locally). */
  cipher: SecretCipher;
  log: Logger;
  /** The process's one ApiAuth (the admin API). */
  auth: ApiAuth;
  settings: NotifierSettings;
  /** SNS, for `sns` channels (absent: they fail with SNS_UNAVAILABLE). */
  sns?: Pick<SNSClient, 'send'>;
  /**
   * AWS: the wake queue (NotifierWakeQueue) the notifier schedules its next run on with SQS
   * DelaySeconds (app/wake.ts, ADR 0027). Absent: the minute tick (locally, the runtime's timer).
   */
  wake?: { sqs: Pick<SQSClient, 'send'>; queueUrl: string };
  /** HTTP for Slack and webhooks (default: the global fetch). */
  fetch?: typeof fetch;
  /** Where Slack and webhook URLs may point (checked when a channel is saved); absent: anywhere. */
  egress?: { policy: EgressPolicy; resolve: HostResolver };
  now?: () => Date;
}
