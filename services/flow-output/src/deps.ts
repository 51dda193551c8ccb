/**
 * What flow-output needs from the runtime that runs it (docs/adr/0021): the store, the publisher,
 * the media engine's flow side (the port), a logger and the settings. The AWS runtime builds these
 * from configuration (shared/runtimes/aws/flow-output.ts), the local runtime from its own
 * infrastructure (shared/runtimes/local/services/flow-output.ts); both call the same factories.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '../../../shared/config/index.ts';
import type { FlowEngine } from '../../../shared/engines/port/ports.ts';
import type { EventPublisher } from '../../../shared/events/publisher.ts';
import type { Logger } from '../../../shared/logging/logger.ts';

export interface FlowOutputDeps {
  config: Config;
  dynamo: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  publisher: EventPublisher;
  log: Logger;
  flow: FlowEngine;
}
