/** What the destination API's routes are given (handlers/api.ts builds it from the service's deps). */
import type { ApiAuth } from '../../../../shared/auth/api-auth.ts';
import type { Logger } from '../../../../shared/logging/logger.ts';
import type { CatalogService } from '../app/catalog-service.ts';
import type { DestinationService } from '../app/destination-service.ts';
import type { LiveApiDeps } from '../deps.ts';
import type { Platform } from '../domain/platforms.ts';
import type { Preset } from '../domain/presets.ts';
import type { CatalogRepository } from '../store/catalog-repository.ts';
import type { DestinationRepository } from '../store/destination-repository.ts';
import type { SystemStore } from '../store/system-store.ts';

export interface ApiDeps extends LiveApiDeps {
  service: DestinationService;
  catalog: CatalogService;
  destinations: DestinationRepository;
  presets: CatalogRepository<Preset>;
  platforms: CatalogRepository<Platform>;
  system: SystemStore;
  /** The process's one authentication (token store, rate limits): shared/auth/api-auth.ts. */
  auth: ApiAuth;
  logger: Logger;
  runtime: string;
  version: string;
  /** Event streams one token may hold open (FANOUT_SSE_STREAMS_PER_TOKEN; default 20). */
  sseStreamsPerToken?: number;
}
