/**
 * cost-tracker's Lambda entry (shared/runtimes/aws/cost-tracker.ts) invoked with the event shapes
 * AWS delivers, on dynalite: an SQS batch of EventBridge events for the inbox (a channel running,
 * then idle, the same events again; no settle window, so the session closes at once), a schedule event for the tick, API Gateway v2 events for the
 * API. EventBridge is mocked (aws-sdk-client-mock) and every PutEvents it receives is checked
 * against the official EventBridge model.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetProductsCommand, PricingClient, type GetProductsCommandInput } from '@aws-sdk/client-pricing';
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { ChannelStateChangedV1 } from '../events/catalogue.ts';
import { TokenStore } from '../shared/auth/tokens.ts';
import { loadConfig, setConfig } from '../shared/config/index.ts';
import { ModelValidator, formatProblem } from '../shared/engines/aws/model-validator.ts';
import { MODELS_DIR } from '../shared/engines/aws/request-capture.ts';
import { buildEntry } from '../shared/events/publisher.ts';
import { ensureTables, startDynalite, type EmbeddedDynamo } from '../shared/runtimes/local/dynalite.ts';
import { loadServerlessConfig } from '../shared/runtimes/local/serverless-config.ts';
import { Secret } from '../shared/secrets/secret.ts';
import { createDocumentClient, createDynamoClient } from '../shared/store/dynamo.ts';
import { existsSync } from 'node:fs';
import { httpEvent as lambdaHttpEvent, lambdaContext } from './support/lambda.ts';
import { PRODUCTS_BY_SERVICE } from '../services/cost-tracker/src/domain/testing/price-list-fixtures.ts';

const TOKEN = 'lambda-cost-token-0123456789abcdef';
const DEST = '5b0c8f0e-3f7e-4d43-9a53-8d1a2f0c9e11';
let db: EmbeddedDynamo;
const eventBridge = mockClient(EventBridgeClient);
const pricing = mockClient(PricingClient);
const context = lambdaContext('fanout-dev-costTrackerInbox');

function httpEvent(method: string, path: string, query = ''): APIGatewayProxyEventV2 {
  return lambdaHttpEvent(method, path, { token: TOKEN, query, routeKey: `${method} ${path}` });
}

function sqsBatch(entries: { Source: string; DetailType: string; Detail: string }[]): SQSEvent {
  return {
    Records: entries.map((e, i) => ({
      messageId: `m-${i}-${Math.random()}`,
      receiptHandle: 'r',
      body: JSON.stringify({
        version: '0',
        id: `eb-${i}-${Math.random()}`,
        'detail-type': e.DetailType,
        source: e.Source,
        account: '111122223333',
        time: new Date().toISOString(),
        region: 'eu-west-1',
        resources: [],
        detail: JSON.parse(e.Detail),
      }),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'x', ApproximateFirstReceiveTimestamp: String(Date.now()) },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:111122223333:fanout-dev-CostTrackerQueue',
      awsRegion: 'eu-west-1',
    })),
  };
}

const channelState = (state: 'RUNNING' | 'IDLE', observedAt: string) => buildEntry(ChannelStateChangedV1, { destinationId: DEST, channelId: 'ch-1', state, observedAt, error: null } as never, { correlationId: 'c1' });

before(async () => {
  const wiring = loadServerlessConfig({ stage: 'dev' });
  db = await startDynalite(undefined);
  setConfig(loadConfig({ ...wiring.environment, FANOUT_RUNTIME: 'aws', FANOUT_LOG_LEVEL: 'WARN', FANOUT_DYNAMODB_ENDPOINT: db.endpoint, FANOUT_COST_SETTLE_SECONDS: '0', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' }));
  const dynamo = createDynamoClient({ region: 'eu-west-1', endpoint: db.endpoint });
  await ensureTables(dynamo, wiring.tables);
  await new TokenStore(createDocumentClient(dynamo), wiring.environment.FANOUT_TABLE_TOKENS!).put(new Secret(TOKEN), { name: 'admin', role: 'admin' });
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
});

after(async () => {
  eventBridge.restore();
  pricing.restore();
  await db.close();
});

test('inbox, tick and API of the Lambda entry: one session from a run, duplicates ignored, PutEvents valid per the model', async (t) => {
  const entry = await import('../shared/runtimes/aws/cost-tracker.ts');
  const t0 = Date.now();
  const start = channelState('RUNNING', new Date(t0 - 20 * 60_000).toISOString());
  const stop = channelState('IDLE', new Date(t0 - 5 * 60_000).toISOString());
  // Each event once, then both again (a redelivery: the consumer's idempotency and the reducer both ignore it).
  for (const batch of [[start], [stop], [start, stop]]) {
    const out = (await entry.inbox(sqsBatch(batch), context)) as { batchItemFailures: unknown[] };
    assert.deepEqual(out.batchItemFailures, []);
  }
  await entry.tick();
  const res = (await entry.api(httpEvent('GET', '/api/cost/sessions', `destinationId=${DEST}&kind=running`), context)) as { statusCode: number; body: string };
  assert.equal(res.statusCode, 200, res.body);
  const sessions = JSON.parse(res.body).sessions as { durationSeconds: number; provisional: boolean }[];
  assert.equal(sessions.length, 1);
  assert.equal(sessions[0]!.durationSeconds, 15 * 60);
  assert.equal(sessions[0]!.provisional, false);
  const anonymous = (await entry.api({ ...httpEvent('GET', '/api/cost'), headers: { host: 'x' } }, context)) as { statusCode: number; headers: Record<string, string> };
  assert.equal(anonymous.statusCode, 401);
  assert.match(anonymous.headers['content-type'] ?? '', /problem\+json/);

  const calls = eventBridge.commandCalls(PutEventsCommand);
  const closed = calls.flatMap((c) => c.args[0].input.Entries ?? []).filter((e) => e.DetailType === 'UsageSessionClosed' && JSON.parse(e.Detail!).data.kind === 'running');
  assert.equal(closed.length, 1, 'UsageSessionClosed once for the run');
  const modelFile = join(MODELS_DIR, 'events.service-2.json');
  if (!existsSync(modelFile)) return t.skip(`no EventBridge model at ${modelFile}`);
  const model = ModelValidator.fromFile(modelFile);
  for (const c of calls) assert.deepEqual(model.validate('PutEvents', c.args[0].input).map(formatProblem), []);
});

/** EMF lines written to stdout while `fn` runs (Powertools Metrics writes them there). */
async function emfLinesOf(fn: () => Promise<unknown>): Promise<Record<string, any>[]> {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    lines.push(String(chunk));
    return write(chunk, ...rest);
  }) as typeof process.stdout.write;
  try {
    await fn();
  } finally {
    process.stdout.write = write;
  }
  return lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as Record<string, any>);
}

test('the tick writes the cost figures as EMF: the same month to date, per destination row, budget and ratio as GET /api/cost', async () => {
  const entry = await import('../shared/runtimes/aws/cost-tracker.ts');
  const put = { ...httpEvent('PUT', '/api/admin/cost/budget'), headers: { ...httpEvent('PUT', '/api/admin/cost/budget').headers, 'content-type': 'application/json' }, body: JSON.stringify({ amount: 400 }) };
  const set = (await entry.api(put, context)) as { statusCode: number; body: string };
  assert.equal(set.statusCode, 200, set.body);
  const emf = await emfLinesOf(() => entry.tick());
  const report = JSON.parse(((await entry.api(httpEvent('GET', '/api/cost'), context)) as { body: string }).body) as {
    month: string;
    monthToDate: string;
    byDestination: { key: string; cost: string }[];
  };
  for (const line of emf) {
    const d = line._aws.CloudWatchMetrics[0];
    assert.equal(d.Namespace, 'Fanout');
    assert.equal(line.service, 'cost-tracker');
    assert.equal(line.deployment, 'fanout-dev');
    assert.equal(line.month, report.month, 'the month as metadata');
    assert.ok(d.Metrics.every((m: { Unit: string }) => m.Unit === 'None'));
  }
  const totals = emf.filter((l) => 'CostMonthToDate' in l);
  assert.equal(totals.length, 1);
  const [total] = totals;
  assert.deepEqual(total!._aws.CloudWatchMetrics[0].Dimensions, [['service', 'deployment']]);
  assert.deepEqual(total!._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name).sort(), ['CostBudget', 'CostBudgetUsedRatio', 'CostMonthToDate']);
  assert.equal(total!.CostMonthToDate, Number(report.monthToDate));
  assert.equal(total!.CostBudget, 400);
  assert.ok(Math.abs(total!.CostBudgetUsedRatio - Number(report.monthToDate) / 400) < 1e-6);

  const rows = emf.filter((l) => 'CostDestinationMonthToDate' in l);
  assert.ok(report.byDestination.length > 0, 'the first test recorded a session');
  assert.deepEqual(rows.map((l) => l.destination).sort(), report.byDestination.map((r) => r.key).sort());
  for (const l of rows) {
    assert.deepEqual(l._aws.CloudWatchMetrics[0].Dimensions, [['service', 'deployment', 'destination']]);
    assert.equal(l.CostDestinationMonthToDate, Number(report.byDestination.find((r) => r.key === l.destination)!.cost));
  }
  assert.ok(!emf.some((l) => JSON.stringify(l).includes(TOKEN)), 'no token in a metric line');
});

/** A fake Price List: every request checked against the official Pricing model, answers in pages of 3 from the fixtures. */
function fakePriceList(o: { failFor?: string } = {}): { requests: GetProductsCommandInput[]; problems: string[] } {
  const model = ModelValidator.fromFile(join(MODELS_DIR, 'pricing.service-2.json'));
  const requests: GetProductsCommandInput[] = [];
  const problems: string[] = [];
  pricing.reset();
  pricing.on(GetProductsCommand).callsFake(async (input: GetProductsCommandInput) => {
    requests.push(input);
    problems.push(...model.validate('GetProducts', input).map(formatProblem));
    if (input.ServiceCode === o.failFor) throw Object.assign(new Error('User is not authorized to perform: pricing:GetProducts'), { name: 'AccessDeniedException' });
    const region = input.Filters?.find((f) => f.Field === 'regionCode')?.Value;
    const all = (PRODUCTS_BY_SERVICE[input.ServiceCode!] ?? []).filter((p) => JSON.parse(p).product.attributes.regionCode === region);
    const from = input.NextToken ? Number(input.NextToken.split(':')[1]) : 0;
    const page = all.slice(from, from + 3);
    return { FormatVersion: 'aws_v1', PriceList: page, ...(from + 3 < all.length ? { NextToken: `page:${from + 3}` } : {}) };
  });
  return { requests, problems };
}

const adminPost = (path: string) => ({ ...httpEvent('POST', path), headers: { ...httpEvent('POST', path).headers, 'content-type': 'application/json' }, body: '{}' });

test('the AWS Price List refresh: on demand and scheduled, every GetProducts valid per the Pricing model, rates sourced and dated, overrides still win, a failed read changes nothing', async (t) => {
  if (!existsSync(join(MODELS_DIR, 'pricing.service-2.json'))) return t.skip(`no Pricing model in ${MODELS_DIR}`);
  const entry = await import('../shared/runtimes/aws/cost-tracker.ts');
  const fake = fakePriceList();
  const res = (await entry.api(adminPost('/api/admin/cost/rates/refresh'), context)) as { statusCode: number; body: string };
  assert.equal(res.statusCode, 200, res.body);
  const out = JSON.parse(res.body) as { region: string; rates: number; services: { serviceCode: string; products: number; mapped: number; unmatched: string[] }[] };
  assert.equal(out.region, 'eu-west-1');
  assert.deepEqual(fake.problems, []);
  assert.deepEqual([...new Set(fake.requests.map((r) => r.ServiceCode))], ['AWSElementalMediaLive', 'AWSElementalMediaConnect', 'AWSElementalMediaPackage']);
  assert.ok(fake.requests.every((r) => r.FormatVersion === 'aws_v1' && r.Filters?.some((f) => f.Type === 'TERM_MATCH' && f.Field === 'regionCode' && f.Value === 'eu-west-1')));
  assert.ok(
    fake.requests.some((r) => r.NextToken),
    'pages followed',
  );
  assert.equal(out.services.find((x) => x.serviceCode === 'AWSElementalMediaLive')!.products, PRODUCTS_BY_SERVICE.AWSElementalMediaLive!.length, 'every page read');
  assert.equal(out.rates, 12);
  assert.ok(out.services.find((x) => x.serviceCode === 'AWSElementalMediaConnect')!.unmatched.includes('EUW1-MediaConnect-DataTransfer-Out-Internet'));

  const rates = async () =>
    JSON.parse(((await entry.api(httpEvent('GET', '/api/admin/cost/rates'), context)) as { body: string }).body) as {
      table: { rates: { key: string; price: number; source: { kind: string }; effectiveDate: string | null }[] };
      priceList: { rates: number } | null;
    };
  const r1 = await rates();
  assert.equal(r1.priceList?.rates, 12);
  const flow = r1.table.rates.filter((r) => r.key === 'mediaconnect:flow-hour');
  assert.deepEqual(
    flow.map((r) => [r.source.kind, r.price, r.effectiveDate]),
    [
      ['third-party', 0.16, null],
      ['aws-price-list', 0.17, '2026-11-01'],
    ],
    'the shipped figure stays for the record; the refreshed one is dated by the price list',
  );

  // An admin override of the flow-hour wins over the refreshed rate: the primary flow's session line says admin.
  const put = {
    ...httpEvent('PUT', '/api/admin/cost/rates'),
    headers: { ...httpEvent('PUT', '/api/admin/cost/rates').headers, 'content-type': 'application/json' },
    body: JSON.stringify({ overrides: [{ key: 'mediaconnect:flow-hour', price: 0.15, note: 'our contract' }] }),
  };
  assert.equal(((await entry.api(put, context)) as { statusCode: number }).statusCode, 200);
  const { costTrackerDeps } = entry;
  const { costTrackerFor } = await import('../services/cost-tracker/src/app/build.ts');
  const { lookupRate } = await import('../services/cost-tracker/src/domain/rates.ts');
  const { table } = await costTrackerFor(costTrackerDeps()).rates();
  assert.equal(lookupRate(table, 'mediaconnect:flow-hour', new Date().toISOString())?.price, 0.15);
  assert.equal(lookupRate(table, 'mediapackage:ingest-gb', new Date().toISOString())?.price, 0.032);

  // The scheduled function refreshes the same way; a failed read answers 503 and changes nothing.
  assert.deepEqual(await entry.priceList(), { refreshed: true, rates: 12, unmatched: 4 });
  fakePriceList({ failFor: 'AWSElementalMediaPackage' });
  const failed = (await entry.api(adminPost('/api/admin/cost/rates/refresh'), context)) as { statusCode: number; body: string; headers: Record<string, string> };
  assert.equal(failed.statusCode, 503);
  assert.match(failed.headers['content-type'] ?? '', /problem\+json/);
  assert.equal(JSON.parse(failed.body).code, 'PRICE_LIST_UNAVAILABLE');
  assert.equal(JSON.parse(failed.body).reason, 'AccessDeniedException');
  assert.equal((await rates()).priceList?.rates, 12, 'the stored rates are left as they were');
  await assert.rejects(() => entry.priceList(), /PRICE_LIST_UNAVAILABLE|could not be read/);
});
