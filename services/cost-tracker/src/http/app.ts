/**
 * cost-tracker's HTTP API: a small Hono (zod-openapi) app of its own, like channel-provisioner's.
 * On AWS the `costTrackerApi` function serves these routes of the one HTTP API; the local runtime
 * dispatches them here by the same routes of serverless.yml. Tokens are checked with the process's
 * one ApiAuth; each route declares who may call it (ADR 0012).
 *
 *   GET  /api/cost                 operators and admins: month to date, projection, breakdowns, budget
 *   GET  /api/cost/sessions        operators and admins: usage sessions with their lines; JSON, or
 *                                  FOCUS CSV with ?format=csv or Accept: text/csv
 *   POST /api/cost/estimate        operators and admins: the what-if (changes nothing)
 *   GET  /api/admin/cost/budget    admins: the monthly budget and the thresholds crossed
 *   PUT  /api/admin/cost/budget    admins: set it
 *   GET  /api/admin/cost/rates     admins: the rate table in force (every rate with its source) and the overrides
 *   PUT  /api/admin/cost/rates     admins: replace the overrides (refused as a whole if one names an unknown key)
 *   POST /api/admin/cost/rates/refresh  admins: read the AWS Price List now (AWS; PRICE_LIST_UNAVAILABLE elsewhere)
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { apiRoute, assertAccessDeclared, installApiBasics, problemResponses, validationHook, type ApiEnv } from '../../../../shared/http/api-kit.ts';
import type { ApiAuth } from '../../../../shared/auth/api-auth.ts';
import type { Logger } from '../../../../shared/logging/logger.ts';
import type { CostTracker } from '../app/cost-tracker.ts';
import type { BudgetRecord, PriceListRecord } from '../store/cost-store.ts';
import { focusCsv, focusRows } from '../domain/focus.ts';
import { formatMicros } from '../domain/money.ts';
import type { CostLine } from '../domain/pricing.ts';
import type { PricedSession } from '../domain/summary.ts';
import * as s from './schemas.ts';

export interface CostApiDeps {
  tracker: CostTracker;
  auth: ApiAuth;
  logger: Logger;
}

const json = <T>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });

const lineOut = (l: CostLine) => ({
  serviceLine: l.serviceLine,
  category: l.category,
  description: l.description,
  quantity: l.quantity,
  unit: l.unit,
  unitPrice: l.unitPrice,
  cost: formatMicros(l.costMicros),
  rateKey: l.rateKey,
  rateSource: l.rateSource,
  estimated: l.estimated,
  missingRate: l.missingRate,
  computation: l.computation,
});

const sessionOut = ({ session: x, pricing }: PricedSession) => ({
  sessionId: x.sessionId,
  resource: x.resource,
  kind: x.kind,
  startedAt: x.startedAt,
  endedAt: x.endedAt,
  durationSeconds: x.durationMs / 1000,
  destinationName: x.attributes.destinationName,
  platform: x.attributes.platform,
  presetId: x.attributes.presetId,
  engine: x.attributes.engine,
  restarts: x.restarts,
  bytesOut: x.bytesOut,
  cpuSeconds: x.cpuSeconds,
  endReason: x.endReason,
  endEstimated: x.endEstimated,
  provisional: x.provisional,
  cost: formatMicros(pricing.totalMicros),
  estimated: pricing.estimated,
  lines: pricing.lines.map(lineOut),
});

const priceListOut = (r: PriceListRecord | undefined) => (r ? { refreshedAt: r.refreshedAt, region: r.region, rates: r.rates.length, services: r.services } : null);

const budgetOut = (r: BudgetRecord | undefined) => ({
  budget: r?.config ? { amount: formatMicros(r.config.budgetMicros), thresholdsPercent: r.config.thresholdsPercent, minElapsedHours: r.config.minElapsedHours, timeZone: r.config.timeZone } : null,
  crossed: { month: r?.state.month ?? null, thresholdsPercent: r?.state.crossed ?? [] },
  updatedBy: r?.updatedBy ?? null,
});

/** CSV when asked by ?format=csv, or by an Accept header that prefers text/csv to JSON. */
function wantsCsv(format: string | undefined, accept: string | undefined): boolean {
  if (format) return format === 'csv';
  if (!accept) return false;
  const q = (type: string) => {
    for (const part of accept.split(',')) {
      const [media, ...params] = part.trim().split(';');
      if (media?.trim().toLowerCase() !== type) continue;
      const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return qp ? Number(qp.slice(2)) || 0 : 1;
    }
    return -1;
  };
  const csv = q('text/csv');
  return csv > 0 && csv >= q('application/json');
}

export function createCostApp(deps: CostApiDeps): OpenAPIHono<ApiEnv> {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  installApiBasics(app, { logger: deps.logger, auth: deps.auth });
  const t = deps.tracker;

  app.openapi(
    apiRoute({
      access: 'operator',
      method: 'get',
      path: '/api/cost',
      tags: ['cost'],
      summary:
        'What Fanout costs this month: month to date, projection to month end, per destination, platform, service line and category (idle, redundancy and shared rows of their own), the budget, and how each figure was computed (docs/cost.md).',
      request: { query: s.CostReportQuerySchema },
      responses: { 200: json(s.CostReportSchema, 'The cost report'), ...problemResponses },
    }),
    async (c) => c.json(await t.report(c.req.valid('query').month), 200),
  );

  app.openapi(
    apiRoute({
      access: 'operator',
      method: 'get',
      path: '/api/cost/sessions',
      tags: ['cost'],
      summary: 'Usage sessions (settled, and open or settling ones marked provisional) with their priced lines; `?format=csv` or `Accept: text/csv` gives one FinOps FOCUS row per line and UTC month.',
      request: { query: s.SessionsQuerySchema },
      responses: {
        200: { description: 'Sessions as JSON, or FOCUS CSV', content: { 'application/json': { schema: s.SessionListSchema }, 'text/csv': { schema: { type: 'string' } } } },
        ...problemResponses,
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const { asOf, table, chosen } = await t.sessions({
        ...(q.from ? { from: q.from } : {}),
        ...(q.to ? { to: q.to } : {}),
        ...(q.destinationId ? { destinationId: q.destinationId } : {}),
        ...(q.platform ? { platform: q.platform } : {}),
        ...(q.resourceKind ? { resourceKind: q.resourceKind } : {}),
        ...(q.kind ? { kind: q.kind } : {}),
        ...(q.includeOpen ? { includeOpen: q.includeOpen === 'true' } : {}),
      });
      if (wantsCsv(q.format, c.req.header('accept'))) {
        const csv = focusCsv(focusRows(chosen.flatMap((p) => p.pricing.lines)));
        return c.body(csv, 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="fanout-usage-sessions.csv"', 'cache-control': 'no-store' }) as never;
      }
      const total = chosen.reduce((sum, p) => sum + p.pricing.totalMicros, 0);
      return c.json({ asOf, rateTable: table.id, currency: 'USD' as const, total: formatMicros(total), sessions: chosen.map(sessionOut) }, 200);
    },
  );

  app.openapi(
    apiRoute({
      access: 'operator',
      method: 'post',
      path: '/api/cost/estimate',
      tags: ['cost'],
      summary: "What-if: hours per month × destinations × presets, with or without the primary and a backup input, priced as Fanout runs it and as the plan's fixed design would (changes nothing).",
      request: { body: { required: true, content: { 'application/json': { schema: s.EstimateRequestSchema } } } },
      responses: { 200: json(s.EstimateResultSchema, 'Both designs, line by line'), ...problemResponses },
    }),
    async (c) => {
      const r = await t.estimate(c.req.valid('json'));
      return c.json(
        {
          currency: 'USD' as const,
          rateTable: r.table.id,
          fanout: { total: formatMicros(r.fanout.totalMicros), estimated: r.fanout.estimated, missingRates: r.fanout.missingRates, assumptions: r.fanout.assumptions, lines: r.fanout.lines.map(lineOut) },
          fixedDesign: { total: formatMicros(r.fixed.totalMicros), estimated: r.fixed.estimated, lines: r.fixed.lines.map(lineOut) },
          saving: formatMicros(r.savingMicros),
        },
        200,
      );
    },
  );

  app.openapi(
    apiRoute({
      access: 'admin',
      method: 'get',
      path: '/api/admin/cost/budget',
      tags: ['cost'],
      summary: 'Admins: the monthly budget and the thresholds crossed this month.',
      responses: { 200: json(s.BudgetSchema, 'The budget (null when none is set)'), ...problemResponses },
    }),
    async (c) => c.json(budgetOut(await t.budget()), 200),
  );

  app.openapi(
    apiRoute({
      access: 'admin',
      method: 'put',
      path: '/api/admin/cost/budget',
      tags: ['cost'],
      summary: 'Admins: set the monthly budget. BudgetThresholdCrossed is published once per threshold per month when the projection (or the month to date) reaches it; a changed budget does not re-arm a threshold already crossed.',
      request: { body: { required: true, content: { 'application/json': { schema: s.BudgetRequestSchema } } } },
      responses: { 200: json(s.BudgetSchema, 'The budget as stored'), ...problemResponses },
    }),
    async (c) => {
      const body = c.req.valid('json');
      return c.json(budgetOut(await t.setBudget(body, c.get('principal').tokenId)), 200);
    },
  );

  app.openapi(
    apiRoute({
      access: 'admin',
      method: 'get',
      path: '/api/admin/cost/rates',
      tags: ['cost'],
      summary: 'Admins: the rate table in force (each rate with its source, effective date and whether it is estimated) and the overrides.',
      responses: { 200: json(s.RatesSchema, 'Rates'), ...problemResponses },
    }),
    async (c) => {
      const { table, overrides, priceList } = await t.rates();
      return c.json({ table: { id: table.id, currency: table.currency, region: table.region, rates: table.rates }, overrides, priceList: priceListOut(priceList) }, 200);
    },
  );

  app.openapi(
    apiRoute({
      access: 'admin',
      method: 'put',
      path: '/api/admin/cost/rates',
      tags: ['cost'],
      summary: 'Admins: replace the rate overrides (each a dated rate of its own, source `admin`; the shipped figure stays in the table). An override of a key the table does not know is refused and nothing changes.',
      request: { body: { required: true, content: { 'application/json': { schema: s.RatesRequestSchema } } } },
      responses: { 200: json(s.RatesSchema, 'Rates with the new overrides'), ...problemResponses },
    }),
    async (c) => {
      await t.setRates(c.req.valid('json').overrides, c.get('principal').tokenId);
      const { table, overrides, priceList } = await t.rates();
      return c.json({ table: { id: table.id, currency: table.currency, region: table.region, rates: table.rates }, overrides, priceList: priceListOut(priceList) }, 200);
    },
  );

  app.openapi(
    apiRoute({
      access: 'admin',
      method: 'post',
      path: '/api/admin/cost/rates/refresh',
      tags: ['cost'],
      summary:
        "Admins: read the AWS Price List now (MediaLive, MediaConnect, MediaPackage in the deployment's Region) and add its rates to the table (source `aws-price-list`, dated by the price list); overrides still win. 503 PRICE_LIST_UNAVAILABLE, changing nothing, where the Price List cannot be read (the local runtime, a denied call).",
      responses: { 200: json(s.PriceListStatusSchema, 'What the refresh read and added'), ...problemResponses },
    }),
    async (c) => c.json(priceListOut(await t.refreshRates())!, 200),
  );

  assertAccessDeclared(app);
  return app;
}

/** This API's part of the OpenAPI document (merged into contracts/openapi.json). */
export function costOpenApiDocument(app: OpenAPIHono<ApiEnv>, version: string) {
  return app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 'Fanout cost-tracker API', version } });
}
