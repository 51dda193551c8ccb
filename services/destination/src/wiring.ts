/**
 * The destination service's composition root: builds its repositories and use cases from the
 * process's infrastructure and configuration. Used by the Lambda handlers and the local runtime.
 */
import { RateLimiter } from '../../../shared/auth/rate-limit.ts';
import { TokenStore } from '../../../shared/auth/tokens.ts';
import { config } from '../../../shared/config/index.ts';
import { EmbeddedOutbox } from '../../../shared/events/outbox.ts';
import { createLogger } from '../../../shared/logging/logger.ts';
import { infrastructure } from '../../../shared/runtime/infrastructure.ts';
import { CatalogService } from './app/catalog-service.ts';
import { DestinationService } from './app/destination-service.ts';
import { BUILT_IN_PLATFORMS, type Platform } from './domain/platforms.ts';
import { BUILT_IN_PRESETS, type Preset } from './domain/presets.ts';
import { createApp, type ApiDeps } from './http/app.ts';
import type { SseHub } from './http/sse-hub.ts';
import { CatalogRepository } from './store/catalog-repository.ts';
import { DestinationRepository } from './store/destination-repository.ts';
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
  tokens: TokenStore;
  outbox: EmbeddedOutbox;
  /** Seeds built-in platforms and presets (idempotent; admins' edits are kept). */
  seed(): Promise<void>;
}

let cached: DestinationModule | undefined;

export function destinationModule(): DestinationModule {
  if (cached) return cached;
  const cfg = config();
  const infra = infrastructure();
  const logger = createLogger(SERVICE_NAME);
  const outbox = new EmbeddedOutbox(infra.doc, infra.publisher, cfg.tableDestinations, 'destinationId', logger);
  const destinations = new DestinationRepository(infra.doc, cfg.tableDestinations, outbox);
  const presets = new CatalogRepository<Preset>(infra.doc, cfg.tablePresets, 'presetId', 'PRESET_NOT_FOUND');
  const platforms = new CatalogRepository<Platform>(infra.doc, cfg.tablePlatforms, 'platformId', 'PLATFORM_NOT_FOUND');
  const system = new SystemStore(infra.doc, cfg.tableSystem);
  const service = new DestinationService({ destinations, presets, platforms, system, cipher: infra.cipher, logger });
  const catalog = new CatalogService(presets, platforms, destinations);
  let seeded: Promise<void> | undefined;
  cached = {
    service,
    catalog,
    destinations,
    presets,
    platforms,
    system,
    tokens: new TokenStore(infra.doc, cfg.tableTokens),
    outbox,
    seed: () =>
      (seeded ??= Promise.all([platforms.seed(BUILT_IN_PLATFORMS), presets.seed(BUILT_IN_PRESETS)]).then(() => undefined)),
  };
  return cached;
}

/** Forgets the cached module (tests and the local runtime's restarts). */
export function resetDestinationModule(): void {
  cached = undefined;
}

export function createDestinationApi(extra: Partial<Pick<ApiDeps, 'sse' | 'ssePingMs' | 'metrics' | 'health' | 'inputHealth' | 'hlsDir' | 'processes' | 'openApiExtra'>> = {}) {
  const m = destinationModule();
  const cfg = config();
  return createApp({
    service: m.service,
    catalog: m.catalog,
    destinations: m.destinations,
    presets: m.presets,
    platforms: m.platforms,
    system: m.system,
    tokens: m.tokens,
    rateLimiter: new RateLimiter(cfg.rateLimitPerMinute),
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
