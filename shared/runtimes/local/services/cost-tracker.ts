/**
 * cost-tracker in the local runtime: its deps from the local infrastructure (dynalite, the
 * in-process bus's publisher, the local engine's processes for the CPU-time split), its handlers
 * by the export names of its Lambda entry (shared/runtimes/aws/cost-tracker.ts). No AWS Price List
 * here (no network beyond loopback): `priceList` does nothing, the refresh route answers
 * PRICE_LIST_UNAVAILABLE.
 */
import { availableParallelism } from 'node:os';
import { createLogger } from '../../../logging/logger.ts';
import { SERVICE_NAME, VERSION } from '../../../../services/cost-tracker/src/app/build.ts';
import type { CostTrackerDeps } from '../../../../services/cost-tracker/src/deps.ts';
import { createCostApi } from '../../../../services/cost-tracker/src/handlers/api.ts';
import { createInboxHandler } from '../../../../services/cost-tracker/src/handlers/inbox.ts';
import { createPriceListHandler } from '../../../../services/cost-tracker/src/handlers/price-list.ts';
import { createSummaryHandler } from '../../../../services/cost-tracker/src/handlers/summary.ts';
import { createTickHandler } from '../../../../services/cost-tracker/src/handlers/tick.ts';
import { costOpenApiDocument, createCostApp } from '../../../../services/cost-tracker/src/http/app.ts';
import { defineLocalService, requireEngine } from './local-service.ts';

/** Its part of the OpenAPI document (route registration needs no live dependencies). */
export function costTrackerOpenApi(): unknown {
  return costOpenApiDocument(createCostApp({} as Parameters<typeof createCostApp>[0]), VERSION);
}

export const costTracker = defineLocalService<CostTrackerDeps>({
  deps: (infra) => {
    const engine = requireEngine(infra, SERVICE_NAME);
    const cfg = infra.config;
    return {
      doc: infra.doc,
      idempotency: { client: infra.dynamo, tableName: cfg.tableIdempotency },
      publisher: infra.publisher,
      log: createLogger(SERVICE_NAME),
      tables: { costs: cfg.tableCosts, destinations: cfg.tableDestinations, presets: cfg.tablePresets },
      // The local engine bills machine time; the memory and aws-fake engines mimic AWS.
      engine: infra.engineKind === 'local' ? 'local' : 'aws',
      timeZone: cfg.costTimeZone,
      settleMs: cfg.costSettleSeconds * 1000,
      local: { machineHourUsd: cfg.costLocalMachineHourUsd, cores: cfg.costLocalCores > 0 ? cfg.costLocalCores : availableParallelism() },
      ...(engine.processes ? { processes: () => engine.processes!() } : {}),
      ...(infra.primaryChannelId ? { primaryChannelId: infra.primaryChannelId } : {}),
      auth: infra.auth,
    };
  },
  handlers: { api: createCostApi, inbox: createInboxHandler, tick: createTickHandler, summary: createSummaryHandler, priceList: createPriceListHandler },
  needsEngine: true,
  openApi: () => costTrackerOpenApi() as never,
  atStart: ['costTrackerTick'],
});
