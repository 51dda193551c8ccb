/**
 * What the destination service needs from the runtime that runs it (docs/adr/0021): a store, a
 * publisher, a cipher, the process's API authentication, a logger and the settings. Typed only
 * with the shared libraries and the engine port: the service never imports a runtime. The AWS
 * runtime builds these from configuration (shared/runtimes/aws/destination.ts), the local
 * runtime from its dynalite, bus and key file (shared/runtimes/local/services/destination.ts);
 * both hand them to the same handler factories (handlers/*.ts).
 */
import type { RequestObserver } from '../../../shared/http/api-kit.ts';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ApiAuth } from '../../../shared/auth/api-auth.ts';
import type { Config } from '../../../shared/config/index.ts';
import type { ChannelMetrics, InputHealth, InputRedundancy } from '../../../shared/engines/port/ports.ts';
import type { EventPublisher } from '../../../shared/events/publisher.ts';
import type { Logger } from '../../../shared/logging/logger.ts';
import type { HostResolver } from '../../../shared/net/egress.ts';
import type { SecretCipher } from '../../../shared/secrets/cipher.ts';
import type { OpenApiFragment } from '../../../shared/http/openapi-doc.ts';
import type { SseHub } from './http/sse-hub.ts';

export interface DestinationDeps {
  config: Config;
  dynamo: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  publisher: EventPublisher;
  cipher: SecretCipher;
  /** The process's one authentication (token store, rate limits); the local runtime shares it with channel-provisioner's API. */
  auth: ApiAuth;
  log: Logger;
  /** Resolves host names for the egress policy; absent = the system resolver (tests inject one: no DNS). */
  resolveHost?: HostResolver;
  /** The API's live parts: the local runtime's engine in-process; on AWS, readers of MediaConnect and CloudWatch. */
  live?: LiveApiDeps;
}

/** The API's live parts, each optional: where a part is absent its route answers as documented (503, null, 501). */
export interface LiveApiDeps {
  /** The live event stream; absent where the runtime cannot stream (API Gateway buffers responses). */
  sse?: SseHub;
  ssePingMs?: number;
  /**
   * Per-destination metrics: live from the media engine when it runs in this process, from
   * CloudWatch on AWS (shared/engines/aws/metrics-reader.ts).
   */
  metrics?: (d: { destinationId: string; mediaLiveChannelId: string | null }) => ChannelMetrics | null | Promise<ChannelMetrics | null>;
  /** The contribution input's health, from the engine (flow-output's source). */
  inputHealth?: () => Promise<InputHealth>;
  /**
   * Main and backup inputs (issue 15, ADR 0024): read, switched, tested and configured directly on
   * the engine's port. Absent where the engine has none: those routes answer 501
   * INPUT_REDUNDANCY_UNSUPPORTED and the health route reports the main input alone.
   */
  inputs?: InputRedundancy;
  /** Where the primary HLS output is written (served at /hls/primary/index.m3u8). */
  hlsDir?: string;
  /** The engine's processes (local engine), commands redacted. */
  processes?: () => unknown[];
  /** Extra health checks (e.g. the media engine). */
  health?: () => Promise<Record<string, string>>;
  /** Told of every answered request (request metrics, by route pattern). */
  observeRequest?: RequestObserver;
  /** Other services' routes on the same HTTP API (channel-provisioner's), merged into /api/openapi.json. */
  openApiExtra?: OpenApiFragment[];
}
