/**
 * What channel-provisioner needs from the runtime that runs it (docs/adr/0021): the store, the
 * publisher, the cipher (stream keys go to the engine decrypted), the media engine's two ports,
 * the process's API authentication, a logger and the settings. The AWS runtime builds these from
 * configuration (shared/runtimes/aws/channel-provisioner.ts), the local runtime from its own
 * infrastructure (shared/runtimes/local/services/channel-provisioner.ts); both call the same factories.
 */
import type { RequestObserver } from '../../../shared/http/api-kit.ts';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ApiAuth } from '../../../shared/auth/api-auth.ts';
import type { Config } from '../../../shared/config/index.ts';
import type { ChannelEngine, FlowEngine } from '../../../shared/engines/port/ports.ts';
import type { EventPublisher } from '../../../shared/events/publisher.ts';
import type { Logger } from '../../../shared/logging/logger.ts';
import type { SecretCipher } from '../../../shared/secrets/cipher.ts';

export interface ChannelProvisionerDeps {
  /** Told of every answered API request (request metrics, by route pattern). */
  observeRequest?: RequestObserver;
  config: Config;
  dynamo: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  publisher: EventPublisher;
  cipher: SecretCipher;
  /** The process's one authentication (the destination API's too, in the local runtime). */
  auth: ApiAuth;
  log: Logger;
  channel: ChannelEngine;
  /** Only to remove orphaned outputs (on AWS: delete orphaned MEDIACONNECT inputs). */
  flow: FlowEngine;
}
