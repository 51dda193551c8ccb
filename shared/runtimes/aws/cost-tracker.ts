/**
 * cost-tracker's Lambda entry (DEPS-CONVENTION): builds `CostTrackerDeps` from configuration once
 * per container, with only the clients this service uses (DynamoDB, EventBridge, Pricing; no media engine),
 * and exports the handlers serverless.yml names: `api`, `inbox`, `tick` (which also writes the cost
 * figures as CloudWatch EMF, cost-metrics.ts), `summary`, `priceList` (the daily AWS Price List
 * refresh of the rate table).
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { PricingClient } from '@aws-sdk/client-pricing';
import type { APIGatewayProxyEventV2, Context, SQSEvent } from 'aws-lambda';
import { apiAuthFor } from '../../auth/api-auth.ts';
import { config } from '../../config/index.ts';
import { EventBridgePublisher } from '../../events/publisher.ts';
import { createLogger } from '../../logging/logger.ts';
import { createDocumentClient, createDynamoClient } from '../../store/dynamo.ts';
import type { CostTrackerDeps } from '../../../services/cost-tracker/src/deps.ts';
import { costTrackerFor, SERVICE_NAME } from '../../../services/cost-tracker/src/app/build.ts';
import { createApiHandler } from '../../../services/cost-tracker/src/handlers/api.ts';
import { createInboxHandler } from '../../../services/cost-tracker/src/handlers/inbox.ts';
import { createPriceListHandler } from '../../../services/cost-tracker/src/handlers/price-list.ts';
import { createSummaryHandler } from '../../../services/cost-tracker/src/handlers/summary.ts';
import { createTickHandler } from '../../../services/cost-tracker/src/handlers/tick.ts';
import { publishCostMetrics } from './cost-metrics.ts';

/** Where the Price List API is called (it serves every Region's products). */
export const PRICE_LIST_ENDPOINT_REGION = 'us-east-1';

let deps: CostTrackerDeps | undefined;

/** The deps of this container, built on first use (no AWS call is made until a handler uses a client). */
export function costTrackerDeps(): CostTrackerDeps {
  if (deps) return deps;
  const cfg = config();
  const dynamo = createDynamoClient({ region: cfg.awsRegion, ...(cfg.dynamoEndpoint ? { endpoint: cfg.dynamoEndpoint } : {}) });
  const doc = createDocumentClient(dynamo);
  deps = {
    doc,
    idempotency: { client: dynamo, tableName: cfg.tableIdempotency },
    publisher: new EventBridgePublisher(new EventBridgeClient({ region: cfg.awsRegion }), cfg.eventBus),
    log: createLogger(SERVICE_NAME),
    tables: { costs: cfg.tableCosts, destinations: cfg.tableDestinations, presets: cfg.tablePresets },
    engine: 'aws',
    timeZone: cfg.costTimeZone,
    settleMs: cfg.costSettleSeconds * 1000,
    local: { machineHourUsd: cfg.costLocalMachineHourUsd, cores: 1 },
    ...(cfg.primaryChannelId ? { primaryChannelId: cfg.primaryChannelId } : {}),
    // The Price List API answers in us-east-1 (also eu-central-1, ap-south-1) for every Region's
    // products; the products read are the deployment's Region's.
    priceList: { client: new PricingClient({ region: PRICE_LIST_ENDPOINT_REGION }), region: cfg.awsRegion },
    auth: apiAuthFor({ doc }, cfg),
  };
  return deps;
}

type Lazy<A extends unknown[], R> = (...args: A) => Promise<R>;
function lazy<A extends unknown[], R>(make: () => (...args: A) => R | Promise<R>): Lazy<A, R> {
  let h: ((...args: A) => R | Promise<R>) | undefined;
  return async (...args: A) => {
    h ??= make();
    return h(...args);
  };
}

export const api = lazy((): ((e: APIGatewayProxyEventV2, c: Context) => Promise<unknown>) => createApiHandler(costTrackerDeps()));
export const inbox = lazy((): ((e: SQSEvent, c: Context) => Promise<unknown>) => createInboxHandler(costTrackerDeps()));
/**
 * The minute tick, then the cost figures as EMF (cost-metrics.ts: the local runtime's
 * `fanout_cost_*` gauges). A failure to compute them is logged, never the tick's failure.
 */
export const tick = lazy(() => {
  const d = costTrackerDeps();
  const run = createTickHandler(d);
  return async () => {
    const out = await run();
    try {
      publishCostMetrics(await costTrackerFor(d).gauges(), { deployment: config().deployment });
    } catch (err) {
      d.log.warn('cost metrics not published', { error: err instanceof Error ? err.message : String(err) });
    }
    return out;
  };
});
export const summary = lazy(() => createSummaryHandler(costTrackerDeps()));
export const priceList = lazy(() => createPriceListHandler(costTrackerDeps()));
