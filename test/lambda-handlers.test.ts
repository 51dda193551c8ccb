/**
 * The Lambda entry points (shared/runtimes/aws/<service>.ts) invoked with the event shapes AWS
 * delivers: API Gateway HTTP API (payload v2) for the APIs, an SQS batch of EventBridge events for
 * the inbox, a scheduled event for the outbox relay. They run on dynalite with a capturing
 * publisher and a key-file cipher (EventBridge and KMS cannot run here), channel-provisioner's
 * with the production AWS engine over the in-memory AWS: the same handlers and adapters Lambda runs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { DescribeFlowCommand, DescribeFlowSourceMetadataCommand, ListTagsForResourceCommand, MediaConnectClient, TagResourceCommand, UpdateFlowCommand } from '@aws-sdk/client-mediaconnect';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient, type AwsStub } from 'aws-sdk-client-mock';
import { FlowOutputAddedV1 } from '../events/catalogue.ts';
import { apiAuthFor } from '../shared/auth/api-auth.ts';
import { TokenStore } from '../shared/auth/tokens.ts';
import { config, loadConfig, setConfig } from '../shared/config/index.ts';
import { AwsMediaEngine } from '../shared/engines/aws/index.ts';
import { AwsFake } from '../shared/engines/aws/testing.ts';
import { capturedFromMock, expectAllValid, modelsOrSkip } from '../shared/engines/aws/request-capture.ts';
import { buildEntry, type BusEntry } from '../shared/events/publisher.ts';
import { createLogger } from '../shared/logging/logger.ts';
import { channelProvisionerLambdas } from '../shared/runtimes/aws/channel-provisioner.ts';
import { destinationLambdas } from '../shared/runtimes/aws/destination.ts';
import { createApiMetrics } from '../shared/runtimes/aws/api-metrics.ts';
import { awsDestinationReaders, resetDestinationReaders } from '../shared/runtimes/aws/destination-readers.ts';
import type { DestinationDeps } from '../services/destination/src/deps.ts';
import { ensureTables, startDynalite, type EmbeddedDynamo } from '../shared/runtimes/local/dynalite.ts';
import { loadServerlessConfig } from '../shared/runtimes/local/serverless-config.ts';
import { LocalKeyFileCipher } from '../shared/secrets/cipher.ts';
import { Secret } from '../shared/secrets/secret.ts';
import { createDocumentClient, createDynamoClient } from '../shared/store/dynamo.ts';
import { pathSpellings } from './support/raw-http.ts';
import { httpEvent as lambdaHttpEvent, lambdaContext, lambdaEnvironment } from './support/lambda.ts';
import { testResolver } from './support/local.ts';

const TOKEN = 'lambda-test-token-0123456789abcdef';
const OPERATOR = 'lambda-operator-token-0123456789abcdef';
const published: BusEntry[] = [];
let db: EmbeddedDynamo;
let dir: string;
let fake: AwsFake;
let destination: ReturnType<typeof destinationLambdas>;
let destinationDeps: DestinationDeps;
let channels: ReturnType<typeof channelProvisionerLambdas>;

const context = lambdaContext('fanout-dev-api');

function httpEvent(method: string, path: string, body?: unknown): APIGatewayProxyEventV2 {
  return lambdaHttpEvent(method, path, { token: TOKEN, body });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fanout-lambda-'));
  const wiring = loadServerlessConfig({ stage: 'dev' });
  db = await startDynalite(undefined);
  // A small failed-authentication budget, to see it counted by API Gateway's sourceIp.
  const env = { ...wiring.environment, FANOUT_RUNTIME: 'aws', FANOUT_LOG_LEVEL: 'WARN', FANOUT_DYNAMODB_ENDPOINT: db.endpoint, FANOUT_AUTH_FAILURES_PER_MINUTE: '3' };
  const cfg = loadConfig(env);
  setConfig(cfg);
  const dynamo = createDynamoClient({ region: 'eu-west-1', endpoint: db.endpoint });
  await ensureTables(dynamo, wiring.tables);
  const doc = createDocumentClient(dynamo);
  // Only the AWS services that cannot run here are replaced: EventBridge (captured) and KMS (key file).
  // Names resolve through the tests' resolver: no DNS query leaves the machine.
  const base = { config: cfg, dynamo, doc, publisher: { publish: async (e: BusEntry[]) => void published.push(...e) }, cipher: LocalKeyFileCipher.open(join(dir, 'k.key')) };
  destinationDeps = { ...base, auth: apiAuthFor({ doc }, cfg), log: createLogger('destination'), resolveHost: testResolver };
  destination = destinationLambdas(() => destinationDeps);
  fake = new AwsFake();
  const engine = new AwsMediaEngine(
    { flowArn: fake.flowArn, mediaLiveRoleArn: `arn:aws:iam::${fake.account}:role/fanout-dev-medialive`, region: fake.region, deployment: 'fanout-dev', tags: {} },
    { medialive: fake.medialive, mediaconnect: fake.mediaconnect },
  );
  // Each Lambda function has an ApiAuth of its own, as each container does on AWS.
  const channelDeps = { ...base, auth: apiAuthFor({ doc }, cfg), log: createLogger('channel-provisioner'), channel: engine, flow: engine };
  channels = channelProvisionerLambdas(() => channelDeps);
  await new TokenStore(doc, wiring.environment.FANOUT_TABLE_TOKENS!).put(new Secret(TOKEN), { name: 'admin', role: 'admin' });
  await new TokenStore(doc, wiring.environment.FANOUT_TABLE_TOKENS!).put(new Secret(OPERATOR), { name: 'operator', role: 'operator' });
});

after(async () => {
  fake?.close();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the API handler answers API Gateway v2 events', async () => {
  const handler = destination.api;
  const health = await handler({ ...httpEvent('GET', '/api/health'), headers: { host: 'x' } }, context);
  assert.equal(health.statusCode, 200);
  const created = await handler(httpEvent('POST', '/api/destinations', { name: 'YT', platform: 'youtube', streamKey: 'lambda-stream-key-0123' }), context);
  assert.equal(created.statusCode, 201, created.body);
  const body = JSON.parse(created.body!) as { destinationId: string; status: string };
  assert.equal(body.status, 'creating');
  assert.equal(published.at(-1)?.DetailType, 'DestinationCreated');
  const missing = await handler(httpEvent('GET', '/api/destinations/00000000-0000-4000-8000-000000000000'), context);
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.headers?.['content-type'], 'application/problem+json');
  const sse = await handler(httpEvent('GET', '/api/events'), context);
  assert.equal(sse.statusCode, 501, 'API Gateway cannot stream: the live event stream says so');
  for (const e of published) assert.ok(!e.Detail.includes('lambda-stream-key'));
});

test('on AWS the API reads input health from MediaConnect and destination metrics from CloudWatch (no 503, no null), requests valid against the models', async (t) => {
  const flowArn = 'arn:aws:mediaconnect:eu-west-1:111122223333:flow:1-AbCdEfGhIjKlMnOp-0123456789ab:fanout-dev-ingest';
  // What serverless.yml sets from the stack (its Fn::GetAtt has no value offline).
  setConfig({ ...config(), mediaConnectFlowArn: flowArn });
  // (The MediaConnect client's types are of an older @smithy/types: cast as aws-fake.ts does.)
  const mc = mockClient(MediaConnectClient as unknown as Parameters<typeof mockClient>[0]) as AwsStub<any, any, any>;
  const cw = mockClient(CloudWatchClient);
  try {
    mc.on(DescribeFlowCommand as never).resolves({
      Flow: {
        FlowArn: flowArn,
        Name: 'fanout-dev-ingest',
        Status: 'ACTIVE',
        AvailabilityZone: 'eu-west-1a',
        Entitlements: [],
        Outputs: [],
        Source: { Name: 'srt-in', SourceArn: `${flowArn}:source`, IngestIp: '198.51.100.7', IngestPort: 9998 },
        // The stack's second SRT listener and source failover (serverless.yml ContributionBackupSource).
        Sources: [
          { Name: 'srt-in', SourceArn: `${flowArn}:source`, IngestIp: '198.51.100.7', IngestPort: 9998 },
          { Name: 'srt-backup', SourceArn: `${flowArn}:source-backup`, IngestIp: '198.51.100.7', IngestPort: 9999 },
        ],
        SourceFailoverConfig: { State: 'ENABLED', FailoverMode: 'FAILOVER', SourcePriority: { PrimarySource: 'srt-in' } },
      },
    });
    mc.on(ListTagsForResourceCommand as never).resolves({ Tags: {} });
    mc.on(TagResourceCommand as never).resolves({});
    mc.on(UpdateFlowCommand as never).resolves({});
    mc.on(DescribeFlowSourceMetadataCommand as never).resolves({
      FlowArn: flowArn,
      Timestamp: new Date(),
      Messages: [],
      TransportMediaInfo: { Programs: [{ PcrPid: 256, ProgramName: 'p', ProgramNumber: 1, ProgramPid: 4096, Streams: [] }] },
    });
    cw.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
      MetricDataResults: input.MetricDataQueries!.map((q) => {
        const v = ({ SourceRoundTripTime: 41, SourceBitRate: 5_000_000, NetworkOut: 4.2, OutputVideoFrameRate: 30, ActiveOutputs: 1 } as Record<string, number>)[q.MetricStat!.Metric!.MetricName!];
        return { Id: q.Id, StatusCode: 'Complete', Timestamps: v === undefined ? [] : [new Date()], Values: v === undefined ? [] : [v] };
      }),
    }));
    // The api function as its entry builds it on AWS: the readers of MediaConnect and CloudWatch in its deps.
    resetDestinationReaders();
    const handler = destinationLambdas(() => ({ ...destinationDeps, live: awsDestinationReaders() })).api;
    const health = await handler(httpEvent('GET', '/api/mediaconnect/inputs/health'), context);
    assert.equal(health.statusCode, 200, health.body);
    const h = JSON.parse(health.body!) as { connected: boolean; rttMs: number; bitrateInKbps: number; active: string; inputs: { backup: { configured: boolean; connected: boolean } } };
    assert.deepEqual([h.connected, h.rttMs, h.bitrateInKbps], [true, 41, 5000]);
    assert.deepEqual([h.active, h.inputs.backup.configured, h.inputs.backup.connected], ['main', true, true], 'both inputs, from the flow (ADR 0024 "AWS")');
    // A manual switch from the API Lambda: UpdateFlow names the backup the primary source; recorded on the flow's tags.
    const switched = await handler(httpEvent('POST', '/api/mediaconnect/inputs/switch', { to: 'backup' }), context);
    assert.equal(switched.statusCode, 200, switched.body);
    assert.deepEqual((JSON.parse(switched.body!) as { to: string; reason: string }).reason, 'manual');
    assert.deepEqual(
      mc.commandCalls(UpdateFlowCommand as never).map((c) => (c.args[0] as { input: { SourceFailoverConfig: unknown } }).input.SourceFailoverConfig),
      [{ State: 'ENABLED', FailoverMode: 'FAILOVER', SourcePriority: { PrimarySource: 'srt-backup' } }],
    );

    const created = JSON.parse((await handler(httpEvent('POST', '/api/destinations', { name: 'CW', platform: 'youtube', streamKey: 'lambda-cw-stream-key-0123' }), context)).body!) as { destinationId: string };
    const doc = createDocumentClient(createDynamoClient({ region: 'eu-west-1', endpoint: db.endpoint }));
    await doc.send(new UpdateCommand({ TableName: config().tableDestinations, Key: { destinationId: created.destinationId }, UpdateExpression: 'SET mediaLiveChannelId = :c', ExpressionAttributeValues: { ':c': '7654321' } }));
    const metrics = await handler(httpEvent('GET', `/api/destinations/${created.destinationId}/metrics`), context);
    assert.equal(metrics.statusCode, 200, metrics.body);
    const m = (JSON.parse(metrics.body!) as { metrics: { bitrateKbps: number; fps: number } | null }).metrics;
    assert.deepEqual([m?.bitrateKbps, m?.fps], [4200, 30]);
    const channelQuery = cw
      .commandCalls(GetMetricDataCommand)
      .map((c) => c.args[0].input)
      .find((i) => i.MetricDataQueries!.some((q) => q.MetricStat!.Metric!.Namespace === 'AWS/MediaLive'))!;
    assert.ok(channelQuery.MetricDataQueries!.every((q) => q.MetricStat!.Metric!.Dimensions!.some((d) => d.Name === 'ChannelId' && d.Value === '7654321')));
    const models = modelsOrSkip(t);
    if (models) expectAllValid([...capturedFromMock(mc, 'mediaconnect'), ...capturedFromMock(cw, 'cloudwatch')], models);
  } finally {
    mc.restore();
    cw.restore();
  }
});

test("the api function's own metrics: one EMF line per request (namespace Fanout, service and deployment dimensions), the route pattern as metadata", async () => {
  // As the entry does: every request observed, one EMF line published after each invocation.
  const apiMetrics = createApiMetrics({ deployment: 'fanout-dev' });
  const handler = destinationLambdas(() => ({ ...destinationDeps, live: { observeRequest: apiMetrics.observeRequest } }), { afterRequest: () => apiMetrics.publish() }).api;
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    lines.push(String(chunk));
    return write(chunk, ...rest);
  }) as typeof process.stdout.write;
  try {
    assert.equal((await handler(httpEvent('GET', '/api/destinations/00000000-0000-4000-8000-000000000000'), context)).statusCode, 404);
  } finally {
    process.stdout.write = write;
  }
  const emf = lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as Record<string, any>);
  assert.equal(emf.length, 1, 'one line for the one request');
  const [line] = emf;
  const directive = line!._aws.CloudWatchMetrics[0];
  assert.equal(directive.Namespace, 'Fanout');
  assert.deepEqual(directive.Dimensions, [['service', 'deployment']]);
  assert.deepEqual(directive.Metrics.map((m: { Name: string }) => m.Name).sort(), ['ApiLatency', 'ApiRequests']);
  assert.equal(line!.ApiRequests, 1);
  assert.ok(line!.ApiLatency >= 0);
  assert.deepEqual([line!.route, line!.method, line!.status], ['/api/destinations/:id', 'GET', '404']);
  assert.ok(!JSON.stringify(line).includes('00000000-0000-4000-8000-000000000000'), 'no raw path');
});

test('the inbox handler takes an SQS batch of EventBridge events and reports partial failures', async () => {
  const api = destination.api;
  const created = JSON.parse((await api(httpEvent('POST', '/api/destinations', { name: 'T', platform: 'twitch', streamKey: 'lambda-twitch-0123456' }), context)).body!) as { destinationId: string };
  const handler = destination.inbox;
  const entry = buildEntry(
    FlowOutputAddedV1,
    { destinationId: created.destinationId, flowArn: 'arn:aws:mediaconnect:eu-west-1:111122223333:flow:1-x:f', outputArn: 'arn:aws:medialive:eu-west-1:111122223333:input:123' },
    { correlationId: 'c' },
  );
  const eventBridge = (detail: string, id: string) =>
    JSON.stringify({ version: '0', id, 'detail-type': entry.DetailType, source: entry.Source, account: '111122223333', time: '2026-11-21T10:00:00Z', region: 'eu-west-1', resources: [], detail: JSON.parse(detail) });
  const record = (messageId: string, body: string) => ({
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1795255200000', SenderId: 'AIDAEVENTS', ApproximateFirstReceiveTimestamp: '1795255200001' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:111122223333:DestinationInboxQueue',
    awsRegion: 'eu-west-1',
  });
  const batch = { Records: [record('m1', eventBridge(entry.Detail, 'eb-1')), record('m2', '{not json')] } as SQSEvent;
  const result = await handler(batch, context);
  assert.deepEqual(result.batchItemFailures, [{ itemIdentifier: 'm2' }], 'only the poison message is reported');
  const d = JSON.parse((await api(httpEvent('GET', `/api/destinations/${created.destinationId}`), context)).body!) as { mediaConnectOutputArn: string };
  assert.equal(d.mediaConnectOutputArn, 'arn:aws:medialive:eu-west-1:111122223333:input:123');
});

test('the outbox relay handler runs on a schedule event and publishes nothing twice', async () => {
  const handler = destination.outboxRelay;
  const before = published.length;
  const out = await handler();
  assert.equal(out.published, 0, 'everything was already published after each write');
  assert.equal(published.length, before);
});

test('channelProvisionerApi Lambda: its routes with the API Gateway v2 shape, bearer tokens checked in the app, problem+json errors', async () => {
  const handler = channels.api;
  const validate = { ...httpEvent('GET', '/api/channels/validate'), routeKey: 'GET /api/channels/validate' };
  const anonymous = await handler({ ...validate, headers: { host: 'x' } }, context);
  assert.equal(anonymous.statusCode, 401);
  assert.match(String(anonymous.headers?.['content-type']), /application\/problem\+json/);
  // The engine answers (the AWS engine over the in-memory AWS): nothing of this deployment is orphaned.
  const report = await handler(validate, context);
  assert.equal(report.statusCode, 200, report.body);
  assert.match(String(report.headers?.['content-type']), /application\/json/);
  const bad = await handler({ ...httpEvent('POST', '/api/channels/cleanup', { only: [] }), routeKey: 'POST /api/channels/cleanup' }, context);
  assert.equal(bad.statusCode, 400);
  assert.equal(JSON.parse(bad.body!).code, 'VALIDATION_FAILED');
});

test('through the Lambda adapter too, an operator is refused every admin route in every path spelling, by both API functions', async () => {
  const destinationApi = destination.api;
  const channelApi = channels.api;
  const as = (token: string, method: string, path: string, body?: unknown) => ({ ...httpEvent(method, path, body), headers: { ...httpEvent(method, path, body).headers, authorization: `Bearer ${token}` } });
  const admin: [string, string, unknown?][] = [
    ['POST', '/api/admin/tokens', { name: 'Escalate', role: 'admin' }],
    ['GET', '/api/admin/tokens'],
    ['DELETE', '/api/admin/presets/generic-720p30'],
    ['POST', '/api/channels/cleanup', {}],
  ];
  let tried = 0;
  for (const [method, path, body] of admin) {
    // Not vacuous: the admin gets past the access check on the canonical path (whatever comes next).
    const owner = path.startsWith('/api/channels/') ? channelApi : destinationApi;
    const ok = await owner(as(TOKEN, method, path, body && { name: 'Made by the admin', role: 'operator' }), context);
    assert.ok(![401, 403, 404].includes(ok.statusCode!), `${method} ${path} as admin: ${ok.statusCode} ${ok.body}`);
    for (const spelling of pathSpellings(path)) {
      // API Gateway may send a spelling to either function ($default or the specific route): both must refuse it.
      for (const fn of [destinationApi, channelApi]) {
        const r = await fn(as(OPERATOR, method, spelling, body), context);
        const code = (JSON.parse(r.body!) as { code: string }).code;
        assert.ok((r.statusCode === 403 && code === 'FORBIDDEN') || (r.statusCode === 404 && code === 'ROUTE_NOT_FOUND'), `${method} ${spelling}: ${r.statusCode} ${r.body}`);
        tried++;
      }
    }
  }
  assert.ok(tried > 300, `${tried} requests`);
  const tokens = JSON.parse((await destinationApi(as(TOKEN, 'GET', '/api/admin/tokens'), context)).body!) as { tokens: { name: string }[] };
  assert.ok(!tokens.tokens.some((t) => t.name === 'Escalate'), 'an operator made a token');
});

test("on Lambda, failed authentications are counted by API Gateway's sourceIp, never X-Forwarded-For", async () => {
  const handler = destination.api;
  const from = (sourceIp: string, headers: Record<string, string> = {}) => {
    const e = httpEvent('GET', '/api/destinations');
    return handler({ ...e, headers: { ...e.headers, authorization: 'Bearer fo_wrong', ...headers }, requestContext: { ...e.requestContext, http: { ...e.requestContext.http, sourceIp } } }, context);
  };
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await from('198.51.100.1', { 'x-forwarded-for': `192.0.2.${i}` })).statusCode);
  assert.deepEqual(statuses, [401, 401, 401, 429]);
  const limited = await from('198.51.100.1');
  assert.equal(JSON.parse(limited.body!).code, 'AUTH_RATE_LIMITED');
  assert.ok(Number(limited.headers?.['retry-after']) >= 1, `Retry-After ${limited.headers?.['retry-after']}`);
  assert.equal((await from('198.51.100.2')).statusCode, 401, 'another address has its own budget');
});

test('the notifier Lambda entry: deps from configuration, the admin API on a v2 event, the inbox on an SQS batch', async () => {
  const { createAwsNotifierDeps } = await import('../shared/runtimes/aws/notifier.ts');
  const { createApiHandler } = await import('../services/notifier/src/handlers/api.ts');
  const { createInboxHandler } = await import('../services/notifier/src/handlers/inbox.ts');
  const { handle } = await import('hono/aws-lambda');
  const cfg = loadConfig(lambdaEnvironment(db.endpoint, { FANOUT_NOTIFY_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:fanout-dev-notifications' }));
  assert.throws(() => createAwsNotifierDeps({ ...cfg, kmsKeyId: undefined }), /FANOUT_KMS_KEY_ID/);
  const built = createAwsNotifierDeps(cfg);
  assert.equal(built.settings.stage, 'dev');
  assert.equal(built.settings.snsTopicArn, 'arn:aws:sns:eu-west-1:111122223333:fanout-dev-notifications');
  assert.equal(built.tables.notifier, 'fanout-dev-notifier');
  // KMS and EventBridge cannot run here: the key file and a capturing publisher stand in.
  const deps = { ...built, cipher: LocalKeyFileCipher.open(join(dir, 'n.key')), publisher: { publish: async (e: BusEntry[]) => void published.push(...e) }, egress: undefined };
  const api = handle(createApiHandler(deps));
  const call = (e: APIGatewayProxyEventV2) => api({ ...e, body: e.body ?? null } as never, context) as Promise<{ statusCode: number; body: string }>;
  const sns = await call(httpEvent('POST', '/api/admin/notifications/channels', { name: 'ops SNS', kind: 'sns' }));
  assert.equal(sns.statusCode, 201, sns.body);
  assert.equal(JSON.parse(sns.body).channel.target, 'arn:aws:sns:eu-west-1:111122223333:fanout-dev-notifications');
  const list = await call(httpEvent('GET', '/api/admin/notifications/channels'));
  assert.equal(JSON.parse(list.body).channels.length, 1);
  const forbidden = await call({ ...httpEvent('GET', '/api/admin/notifications/deliveries'), headers: { host: 'x', authorization: `Bearer ${OPERATOR}` } });
  assert.equal(forbidden.statusCode, 403);
  const inbox = createInboxHandler(deps);
  const alarm = {
    version: '0',
    id: 'a-1',
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '111122223333',
    time: '2026-11-21T10:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: { alarmName: 'fanout-dev-dlq-FlowOutputDLQ', state: { value: 'ALARM', reasonData: '{"recentDatapoints":[3.0]}' } },
  };
  const sqs: SQSEvent = {
    Records: [
      {
        messageId: 'm1',
        receiptHandle: 'h',
        body: JSON.stringify(alarm),
        attributes: {} as never,
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:eu-west-1:111122223333:NotifierQueue',
        awsRegion: 'eu-west-1',
      },
    ],
  };
  assert.deepEqual(await inbox(sqs, context), { batchItemFailures: [] });
  const alerts = JSON.parse((await call(httpEvent('GET', '/api/admin/notifications/alerts'))).body);
  assert.deepEqual(
    alerts.firing.map((a: { alertname: string; summary: string }) => [a.alertname, a.summary]),
    [['DeadLetterQueueMessage', '3 message(s) in the dead-letter queue FlowOutputDLQ']],
  );
});
