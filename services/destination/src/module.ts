/**
 * The destination service put together from its dependencies (deps.ts): repositories, the use
 * cases, the outbox. One module per deps object, whichever of the service's handlers asks first
 * (the API, the inbox and the outbox relay of one process share its repositories and its memos).
 */
import type { TokenStore } from '../../../shared/auth/tokens.ts';
import { EmbeddedOutbox } from '../../../shared/events/outbox.ts';
import { EgressPolicy, systemResolver } from '../../../shared/net/egress.ts';
import { migrateTable, type MigrationReport } from '../../../shared/store/schema-version.ts';
import { CatalogService } from './app/catalog-service.ts';
import { DestinationService } from './app/destination-service.ts';
import type { DestinationDeps } from './deps.ts';
import { BUILT_IN_PLATFORMS, type Platform } from './domain/platforms.ts';
import { BUILT_IN_PRESETS, type Preset } from './domain/presets.ts';
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
  /** The process's one token store (deps.auth.tokens): what the admin routes change, every route checks. */
  tokens: TokenStore;
  outbox: EmbeddedOutbox;
  /** Seeds built-in platforms and presets (idempotent; admins' edits are kept). */
  seed(): Promise<void>;
  /**
   * Rewrites every destination, preset and platform record older than the current schema in place
   * (ADR 0017); idempotent, once per module. STORE_SCHEMA_TOO_NEW when a newer Fanout wrote one.
   */
  migrateStored(): Promise<MigrationReport[]>;
}

const modules = new WeakMap<DestinationDeps, DestinationModule>();

export function destinationModule(deps: DestinationDeps): DestinationModule {
  const known = modules.get(deps);
  if (known) return known;
  const { config: cfg, doc } = deps;
  const logger = deps.log;
  const outbox = new EmbeddedOutbox(doc, deps.publisher, cfg.tableDestinations, 'destinationId', logger);
  const destinations = new DestinationRepository(doc, cfg.tableDestinations, outbox);
  const presets = new CatalogRepository<Preset>(doc, cfg.tablePresets, 'presetId', 'PRESET_NOT_FOUND', PRESET_SCHEMA);
  const platforms = new CatalogRepository<Platform>(doc, cfg.tablePlatforms, 'platformId', 'PLATFORM_NOT_FOUND', PLATFORM_SCHEMA);
  const system = new SystemStore(doc, cfg.tableSystem);
  const egress = { policy: new EgressPolicy({ allowPrivate: cfg.egressAllowPrivate, allowHosts: cfg.egressAllowHosts }), resolve: deps.resolveHost ?? systemResolver };
  const service = new DestinationService({ destinations, presets, platforms, system, cipher: deps.cipher, logger, egress });
  const catalog = new CatalogService(presets, platforms, destinations);
  let seeded: Promise<void> | undefined;
  let migrated: Promise<MigrationReport[]> | undefined;
  const m: DestinationModule = {
    service,
    catalog,
    destinations,
    presets,
    platforms,
    system,
    tokens: deps.auth.tokens,
    outbox,
    seed: () => (seeded ??= Promise.all([platforms.seed(BUILT_IN_PLATFORMS), presets.seed(BUILT_IN_PRESETS)]).then(() => undefined)),
    migrateStored: () => {
      migrated ??= Promise.all([
        migrateTable(doc, cfg.tableDestinations, 'destinationId', DESTINATION_SCHEMA),
        migrateTable(doc, cfg.tablePresets, 'presetId', PRESET_SCHEMA),
        migrateTable(doc, cfg.tablePlatforms, 'platformId', PLATFORM_SCHEMA),
      ]);
      // A failed run (the store was down) is tried again by the next caller.
      migrated.catch(() => (migrated = undefined));
      return migrated;
    },
  };
  modules.set(deps, m);
  return m;
}
