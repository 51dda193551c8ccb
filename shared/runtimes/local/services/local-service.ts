/**
 * How the local runtime gives a service what it needs (docs/adr/0021): one file per service in
 * this folder, each a `defineLocalService({ deps, handlers })`: `deps` builds the service's Deps
 * from the local infrastructure (dynalite, the in-process bus's publisher, the key file, the
 * engine, the process's one ApiAuth), `handlers` are the service's handler factories under the
 * export names of its Lambda entry (shared/runtimes/aws/<service>.ts), which serverless.yml names.
 * The bus and the HTTP server find a function's handler by that name; deps are built once per
 * runtime start and shared by the service's handlers.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ApiAuth } from '../../../auth/api-auth.ts';
import type { Config } from '../../../config/index.ts';
import type { EngineProcess } from '../../../engines/local/index.ts';
import type { ChannelEngine, FlowEngine, InputHealth } from '../../../engines/port/ports.ts';
import type { EventPublisher } from '../../../events/publisher.ts';
import type { OpenApiFragment } from '../../../http/openapi-doc.ts';
import type { HostResolver } from '../../../net/egress.ts';
import type { SecretCipher } from '../../../secrets/cipher.ts';
import type { SseHub } from '../../../../services/destination/src/http/sse-hub.ts';
import type { RequestObserver } from '../../../http/api-kit.ts';
import type { LambdaHandler, LocalEventBus } from '../bus.ts';
import type { LocalWiring } from '../serverless-config.ts';

/** The engine a local runtime drives: both ports, plus what only an in-process engine can tell. */
export type LocalEngine = FlowEngine & ChannelEngine & { inputHealth(): Promise<InputHealth>; close(): Promise<void>; processes?(): EngineProcess[] };

/** What the local runtime has to give its services (one per start). */
export interface LocalInfrastructure {
  config: Config;
  dataDir: string;
  dynamo: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  /** The in-process bus's publisher (tapped: the live event stream sees what is published). */
  publisher: EventPublisher;
  cipher: SecretCipher;
  /** The process's one ApiAuth: every service's routes check tokens with it. */
  auth: ApiAuth;
  /** Which engine this start drives (`none`: only the services that need none run). */
  engineKind: 'local' | 'memory' | 'aws-fake' | 'none';
  /** Absent with engine `none`. */
  engine?: LocalEngine;
  /** The stack's primary channel, where the engine has one (aws-fake). */
  primaryChannelId?: string;
  resolveHost?: HostResolver;
  sse: SseHub;
  ssePingMs?: number;
  /** Every other service's part of the OpenAPI document (their `openApi`), for the one served at /api/openapi.json. */
  openApiExtra: OpenApiFragment[];
  /** What serverless.yml declares (queues, DLQs, the deployment's name), for a twin that mirrors AWS's alarms. */
  wiring: LocalWiring;
  /** HTTP for outbound webhooks (the notifier's Slack and webhook channels); default the global fetch. */
  fetch?: typeof fetch;
  /** Told of every answered API request, by every app (GET /metrics: latency by matched route). */
  observeRequest?: RequestObserver;
}

export interface LocalService<D> {
  deps(infra: LocalInfrastructure): D;
  /** The service's handler factories, by the export names of its Lambda entry. */
  handlers: Record<string, (deps: D) => unknown>;
  /** Runs only with a media engine (engine `none` leaves its functions out). */
  needsEngine?: boolean;
  /** Its part of the HTTP API's OpenAPI document, from its route definitions (served by the destination API). */
  openApi?: () => OpenApiFragment;
  /** Its scheduled functions to run once at start-up, after the outbox sweep (services in registry order). */
  atStart?: string[];
  /**
   * What the local twin must do for it that AWS does by itself (watch the bus for the DLQ alarms,
   * wake up when its next message is due...); stopped with the runtime. Attached before any
   * handler is built: `handlers` it returns stand in for the plain ones of the same export name.
   */
  attach?: (o: { deps: D; bus: LocalEventBus; infra: LocalInfrastructure }) => { stop(): void | Promise<void>; handlers?: Record<string, LambdaHandler> } | void;
}

export function defineLocalService<D>(service: LocalService<D>): LocalService<D> {
  return service;
}

/** The engine, for a service that cannot run without one. */
export function requireEngine(infra: LocalInfrastructure, service: string): LocalEngine {
  if (!infra.engine) throw new Error(`${service} needs a media engine; this runtime was started with engine "none"`);
  return infra.engine;
}
