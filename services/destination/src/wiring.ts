/**
 * The destination service's composition root: builds its repositories and use cases from the
 * process's infrastructure and configuration. Used by the Lambda handlers and the local runtime.
 */
import { apiAuth } from '../../../shared/auth/api-auth.ts';
import type { TokenStore } from '../../../shared/auth/tokens.ts';
import { config } from '../../../shared/config/index.ts';
import { EmbeddedOutbox } from '../../../shared/events/outbox.ts';
import { createLogger } from '../../../shared/logging/logger.ts';
import { EgressPolicy, systemResolver } from '../../../shared/net/egress.ts';
import { infrastructure } from '../../../shared/runtimes/aws/infrastructure.ts';
import { migrateTable, type MigrationReport } from '../../../shared/store/schema-version.ts';
import { CatalogService } from './app/catalog-service.ts';
import { DestinationService } from './app/destination-service.ts';
import { BUILT_IN_PLATFORMS, type Platform } from './domain/platforms.ts';
import { BUILT_IN_PRESETS, type Preset } from './domain/presets.ts';
import { createApp, type ApiDeps } from './http/app.ts';
import type { SseHub } from './http/sse-hub.ts';
import { CatalogRepository } from './store/catalog-repository.ts';
import { DestinationRepository } from './store/destination-repository.ts';
import { DESTINATION_SCHEMA, PLATFORM_SCHEMA, PRESET_SCHEMA } from './store/record-schemas.ts';
import { SystemStore } from './store/system-store.ts';

export const SERVICE_NAME = 'destination';
export const VERSION = '0.1.0';

export interface DestinationModule {
  service: DestinationService;
  catalog: CatalogService;
  destinations: DestinationRepository;
  presets: CatalogRepository<Preset>;
  platforms: CatalogRepository<Platform>;
  system: SystemStore;
  /** The process's one token store (apiAuth().tokens): what the admin routes change, every route checks. */
  tokens: TokenStore;
  outbox: EmbeddedOutbox;
  /** Seeds built-in platforms and presets (idempotent; admins' edits are kept). */
  seed(): Promise<void>;
  /**
   * Rewrites every destination, preset and platform record older than the current schema in place
   * (ADR 0017); idempotent, once per process. STORE_SCHEMA_TOO_NEW when a newer Fanout wrote one.
   */
  migrateStored(): Promise<MigrationReport[]>;
}

let cached: DestinationModule | undefined;

export function destinationModule(): DestinationModule {
  if (cached) return cached;
  const cfg = config();
  const infra = infrastructure();
  const logger = createLogger(SERVICE_NAME);
  const outbox = new EmbeddedOutbox(infra.doc, infra.publisher, cfg.tableDestinations, 'destinationId', logger);
  const destinations = new DestinationRepository(infra.doc, cfg.tableDestinations, outbox);
  const presets = new CatalogRepository<Preset>(infra.doc, cfg.tablePresets, 'presetId', 'PRESET_NOT_FOUND', PRESET_SCHEMA);
  const platforms = new CatalogRepository<Platform>(infra.doc, cfg.tablePlatforms, 'platformId', 'PLATFORM_NOT_FOUND', PLATFORM_SCHEMA);
  const system = new SystemStore(infra.doc, cfg.tableSystem);
  const egress = { policy: new EgressPolicy({ allowPrivate: cfg.egressAllowPrivate, allowHosts: cfg.egressAllowHosts }), resolve: infra.resolveHost ?? systemResolver };
  const service = new DestinationService({ destinations, presets, platforms, system, cipher: infra.cipher, logger, egress });
  const catalog = new CatalogService(presets, platforms, destinations);
  let seeded: Promise<void> | undefined;
  let migrated: Promise<MigrationReport[]> | undefined;
  cached = {
    service,
    catalog,
    destinations,
    presets,
    platforms,
    system,
    tokens: apiAuth().tokens,
    outbox,
    seed: () =>
      (seeded ??= Promise.all([platforms.seed(BUILT_IN_PLATFORMS), presets.seed(BUILT_IN_PRESETS)]).then(() => undefined)),
    migrateStored: () => {
      migrated ??= Promise.all([
        migrateTable(infra.doc, cfg.tableDestinations, 'destinationId', DESTINATION_SCHEMA),
        migrateTable(infra.doc, cfg.tablePresets, 'presetId', PRESET_SCHEMA),
        migrateTable(infra.doc, cfg.tablePlatforms, 'platformId', PLATFORM_SCHEMA),
      ]);
      // A failed run (the store was down) is tried again by the next caller.
      migrated.catch(() => (migrated = undefined));
      return migrated;
    },
  };
  return cached;
}

/** Forgets the cached module (tests and the local runtime's restarts). */
export function resetDestinationModule(): void {
  cached = undefined;
}

export function createDestinationApi(extra: Partial<Pick<ApiDeps, 'sse' | 'ssePingMs' | 'metrics' | 'health' | 'observeRequest' | 'inputHealth' | 'hlsDir' | 'processes' | 'openApiExtra' | 'auth'>> = {}) {
  const m = destinationModule();
  const cfg = config();
  return createApp({
    service: m.service,
    catalog: m.catalog,
    destinations: m.destinations,
    presets: m.presets,
    platforms: m.platforms,
    system: m.system,
    auth: apiAuth(),
    sseStreamsPerToken: cfg.sseStreamsPerToken,
    logger: createLogger(SERVICE_NAME),
    runtime: cfg.runtime,
    version: VERSION,
    ...extra,
  });
}

/**
 * Feeds the live event stream from published domain events: the destination events, and the
 * contribution flow's state (FlowStateChanged, from flow-output) as `flow.status`.
 */
export function forwardToSse(hub: SseHub, entry: { Source: string; DetailType: string; Detail: string }): void {
  const names: Record<string, string> = {
    'fanout.destination/DestinationCreated': 'destination.created',
    'fanout.destination/DestinationUpdated': 'destination.updated',
    'fanout.destination/DestinationStatusChanged': 'destination.status',
    'fanout.destination/DestinationDeleted': 'destination.deleted',
    'fanout.flow-output/FlowStateChanged': 'flow.status',
  };
  const event = names[`${entry.Source}/${entry.DetailType}`];
  if (!event) return;
  const detail = JSON.parse(entry.Detail) as { id: string; occurredAt: string; data: unknown };
  hub.publish(event, { eventId: detail.id, occurredAt: detail.occurredAt, ...(detail.data as object) });
}
