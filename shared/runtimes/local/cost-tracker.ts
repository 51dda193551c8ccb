/**
 * cost-tracker in the local runtime: builds `CostTrackerDeps` from the local infrastructure
 * (dynalite, the in-process bus's publisher, the local engine's processes) and calls the service's
 * handler factories. runtime.ts uses it in one marked block ("cost-tracker wiring"); this file is
 * the whole of it, so it moves as one piece onto the runtime's deps mechanism (DEPS-CONVENTION).
 *
 *   handlers   by serverless.yml function name (costTrackerInbox, costTrackerTick,
 *              costTrackerSummary): the bus runs these instead of importing the Lambda entry
 *   api        the Hono app of costTrackerApi's routes
 *   openApi    its part of the OpenAPI document (/api/openapi.json)
 */
import { availableParallelism } from 'node:os';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ApiAuth } from '../../auth/api-auth.ts';
import type { Config } from '../../config/index.ts';
import type { EventPublisher } from '../../events/publisher.ts';
import { createLogger } from '../../logging/logger.ts';
import { SERVICE_NAME, VERSION } from '../../../services/cost-tracker/src/app/build.ts';
import type { CostTrackerDeps, EngineProcessInfo } from '../../../services/cost-tracker/src/deps.ts';
import { createCostApi } from '../../../services/cost-tracker/src/handlers/api.ts';
import { createInboxHandler } from '../../../services/cost-tracker/src/handlers/inbox.ts';
import { createSummaryHandler } from '../../../services/cost-tracker/src/handlers/summary.ts';
import { createTickHandler } from '../../../services/cost-tracker/src/handlers/tick.ts';
import { costOpenApiDocument, createCostApp } from '../../../services/cost-tracker/src/http/app.ts';
import type { LambdaHandler } from './bus.ts';

export interface LocalCostTracker {
  handlers: Record<string, LambdaHandler>;
  api: { fetch: (req: Request, env?: unknown) => Response | Promise<Response> };
  deps: CostTrackerDeps;
}

/** The OpenAPI part (route registration needs no live dependencies). */
export function costTrackerOpenApi(): unknown {
  return costOpenApiDocument(createCostApp({} as Parameters<typeof createCostApp>[0]), VERSION);
}

export function createLocalCostTracker(o: {
  cfg: Config;
  dynamo: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  publisher: EventPublisher;
  auth: ApiAuth;
  /** `local` for the local media engine; the memory and aws-fake engines mimic AWS. */
  engine: 'aws' | 'local';
  processes?: () => EngineProcessInfo[];
  primaryChannelId?: string;
}): LocalCostTracker {
  const deps: CostTrackerDeps = {
    doc: o.doc,
    idempotency: { client: o.dynamo, tableName: o.cfg.tableIdempotency },
    publisher: o.publisher,
    log: createLogger(SERVICE_NAME),
    tables: { costs: o.cfg.tableCosts, destinations: o.cfg.tableDestinations, presets: o.cfg.tablePresets },
    engine: o.engine,
    timeZone: o.cfg.costTimeZone,
    settleMs: o.cfg.costSettleSeconds * 1000,
    local: { machineHourUsd: o.cfg.costLocalMachineHourUsd, cores: o.cfg.costLocalCores > 0 ? o.cfg.costLocalCores : availableParallelism() },
    ...(o.processes ? { processes: o.processes } : {}),
    ...(o.primaryChannelId ? { primaryChannelId: o.primaryChannelId } : {}),
    auth: o.auth,
  };
  return {
    deps,
    handlers: {
      costTrackerInbox: createInboxHandler(deps) as LambdaHandler,
      costTrackerTick: createTickHandler(deps) as LambdaHandler,
      costTrackerSummary: createSummaryHandler(deps) as LambdaHandler,
    },
    api: createCostApi(deps),
  };
}
