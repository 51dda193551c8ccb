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
import type { HostResolver } from '../../../net/egress.ts';
import type { SecretCipher } from '../../../secrets/cipher.ts';
import type { SseHub } from '../../../../services/destination/src/http/sse-hub.ts';
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
  /** Absent with engine `none` (only the destination service runs then). */
  engine?: LocalEngine;
  /** How the engine bills: `local` (machine time) for the local engine; the memory and aws-fake engines mimic AWS. */
  engineKind?: 'local' | 'aws';
  /** The primary MediaLive channel of the in-memory AWS (engine `aws-fake`). */
  primaryChannelId?: string;
  resolveHost?: HostResolver;
  sse: SseHub;
  ssePingMs?: number;
  /** The in-process EventBridge/SQS, for what a service's local twin must do on it (`LocalService.local`). */
  bus: LocalEventBus;
  wiring: LocalWiring;
  /** HTTP for outbound webhooks (the notifier's Slack and webhook channels); default the global fetch. */
  fetch?: typeof fetch;
}

export interface LocalService<D> {
  deps(infra: LocalInfrastructure): D;
  /** The service's handler factories, by the export names of its Lambda entry. */
  handlers: Record<string, (deps: D) => unknown>;
  /**
   * What only the local twin must do for the service, where AWS does it with an alarm or a
   * schedule (the notifier: the DLQ alarms, a wake-up when its next message is due). Started once
   * the bus runs; its `handlers` stand in for the plain ones of the same export name.
   */
  local?(deps: D, infra: LocalInfrastructure): { handlers?: Record<string, LambdaHandler>; stop(): void };
}

export function defineLocalService<D>(service: LocalService<D>): LocalService<D> {
  return service;
}

/** The engine, for a service that cannot run without one. */
export function requireEngine(infra: LocalInfrastructure, service: string): LocalEngine {
  if (!infra.engine) throw new Error(`${service} needs a media engine; this runtime was started with engine "none"`);
  return infra.engine;
}
