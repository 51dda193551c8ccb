import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handlerRef, loadServerlessConfig, parseRate, parseServerlessConfig, ServerlessConfigError } from './serverless-config.ts';

test('the real serverless.yml: event routing wiring', () => {
  const w = loadServerlessConfig({ stage: 'dev' });
  assert.equal(w.service, 'fanout');
  assert.equal(w.stage, 'dev');
  assert.equal(w.region, 'eu-west-1');
  assert.deepEqual(w.buses, [{ logicalId: 'FanoutBus', name: 'fanout-dev' }]);

  const rule = w.rules.find((r) => r.logicalId === 'DestinationInboxRule');
  assert.ok(rule, 'DestinationInboxRule exists');
  assert.equal(rule.busName, 'fanout-dev');
  assert.equal(rule.enabled, true);
  assert.deepEqual(rule.eventPattern, { source: ['fanout.channel-provisioner', 'fanout.flow-output'] });
  assert.deepEqual(rule.targetQueues, ['DestinationInboxQueue']);

  const queue = w.queues.find((q) => q.logicalId === 'DestinationInboxQueue');
  assert.ok(queue);
  assert.equal(queue.visibilityTimeoutSeconds, 180);
  assert.equal(queue.deadLetterQueue, 'DestinationInboxDLQ');
  assert.equal(queue.maxReceiveCount, 5);
  assert.ok(w.queues.some((q) => q.logicalId === 'DestinationInboxDLQ' && q.deadLetterQueue === undefined));

  const consumer = (name: string, service: string, queue: string, timeoutSeconds: number) => ({
    name,
    handler: { file: `shared/runtimes/aws/${service}.ts`, exportName: 'inbox' },
    queue,
    batchSize: 10,
    maximumBatchingWindowSeconds: 0,
    reportBatchItemFailures: true,
    timeoutSeconds,
  });
  assert.deepEqual(w.sqsFunctions, [
    consumer('destinationInbox', 'destination', 'DestinationInboxQueue', 30),
    consumer('flowOutputInbox', 'flow-output', 'FlowOutputQueue', 60),
    consumer('channelProvisionerInbox', 'channel-provisioner', 'ChannelProvisionerQueue', 60),
    // cost-tracker's handlers are factories over its deps; its Lambda entry is in shared/runtimes/aws/ (DEPS-CONVENTION).
    { ...consumer('costTrackerInbox', 'cost-tracker', 'CostTrackerQueue', 60), handler: { file: 'shared/runtimes/aws/cost-tracker.ts', exportName: 'inbox' }, maximumBatchingWindowSeconds: 1 },
    // Off the operator's critical path, both batch for a second (docs/performance.md, "Start-to-live").
    { ...consumer('notifierInbox', 'notifier', 'NotifierQueue', 60), handler: { file: 'shared/runtimes/aws/notifier.ts', exportName: 'inbox' }, maximumBatchingWindowSeconds: 1 },
    // The notifier's own wake-ups (SQS DelaySeconds, ADR 0027): no rule feeds this queue.
    { ...consumer('notifierWake', 'notifier', 'NotifierWakeQueue', 120), handler: { file: 'shared/runtimes/aws/notifier.ts', exportName: 'wake' } },
  ]);
  // AWS guidance: each queue's visibility timeout is at least 6x its consumer's timeout; each has a DLQ.
  for (const fn of w.sqsFunctions) {
    const q = w.queues.find((x) => x.logicalId === fn.queue)!;
    assert.ok(q.visibilityTimeoutSeconds >= 6 * fn.timeoutSeconds, `${fn.queue} visibility timeout`);
    assert.equal(q.maxReceiveCount, 5);
    assert.ok(q.deadLetterQueue && w.queues.some((x) => x.logicalId === q.deadLetterQueue));
  }
  const target = (logicalId: string) => w.rules.find((r) => r.logicalId === logicalId);
  assert.deepEqual(target('FlowOutputRule')?.targetQueues, ['FlowOutputQueue']);
  assert.equal(target('FlowOutputNativeRule')?.busName, 'default');
  assert.deepEqual(target('FlowOutputNativeRule')?.eventPattern, { source: ['aws.mediaconnect'], 'detail-type': ['MediaConnect Flow Status Change', 'MediaConnect Source Health', 'MediaConnect Source Failover Switch'] });
  assert.deepEqual(target('ChannelProvisionerRule')?.targetQueues, ['ChannelProvisionerQueue']);
  assert.equal(target('ChannelProvisionerNativeRule')?.busName, 'default');
  assert.deepEqual(target('ChannelProvisionerNativeRule')?.eventPattern, { source: ['aws.medialive'], 'detail-type': ['MediaLive Channel State Change', 'MediaLive Channel Alert'] });
  assert.deepEqual(target('NotifierRule')?.targetQueues, ['NotifierQueue']);
  assert.equal(target('NotifierNativeRule')?.busName, 'default');
  assert.deepEqual(target('NotifierNativeRule')?.eventPattern, {
    $or: [
      { source: ['aws.medialive'], 'detail-type': ['MediaLive Channel Alert'] },
      { source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], detail: { alarmName: [{ prefix: 'fanout-dev-dlq-' }] } },
    ],
  });

  const scheduled = (name: string, service: string, exportName: string, timeoutSeconds: number) => ({
    name,
    handler: { file: `shared/runtimes/aws/${service}.ts`, exportName },
    rateSeconds: 60,
    timeoutSeconds,
  });
  assert.deepEqual(w.scheduledFunctions, [
    scheduled('outboxRelay', 'destination', 'outboxRelay', 60),
    scheduled('flowOutputReconcile', 'flow-output', 'reconcile', 120),
    scheduled('channelReconcile', 'channel-provisioner', 'reconcile', 300),
    { name: 'costTrackerTick', handler: { file: 'shared/runtimes/aws/cost-tracker.ts', exportName: 'tick' }, rateSeconds: 60, timeoutSeconds: 60 },
    { name: 'costTrackerSummary', handler: { file: 'shared/runtimes/aws/cost-tracker.ts', exportName: 'summary' }, rateSeconds: 3600, timeoutSeconds: 60 },
    { name: 'costTrackerPriceList', handler: { file: 'shared/runtimes/aws/cost-tracker.ts', exportName: 'priceList' }, rateSeconds: 86400, timeoutSeconds: 120 },
    { name: 'notifierTick', handler: { file: 'shared/runtimes/aws/notifier.ts', exportName: 'tick' }, rateSeconds: 60, timeoutSeconds: 120 },
  ]);
  assert.deepEqual(
    w.httpApiFunctions.map((f) => [f.name, f.handler.file, f.routes]),
    [
      ['api', 'shared/runtimes/aws/destination.ts', ['*']],
      ['channelProvisionerApi', 'shared/runtimes/aws/channel-provisioner.ts', ['GET /api/channels/validate', 'POST /api/channels/cleanup']],
      ['costTrackerApi', 'shared/runtimes/aws/cost-tracker.ts', ['GET /api/cost', 'GET /api/cost/sessions', 'POST /api/cost/estimate', '* /api/admin/cost/budget', '* /api/admin/cost/rates', '* /api/admin/cost/rates/refresh']],
      ['notifierApi', 'shared/runtimes/aws/notifier.ts', ['* /api/admin/notifications/{proxy+}']],
    ],
  );
});

test('the real serverless.yml: tables and environment', () => {
  const w = loadServerlessConfig({ stage: 'dev' });
  const keys = Object.fromEntries(w.tables.map((t) => [t.logicalId, [t.tableName, t.keySchema, t.attributeDefinitions]]));
  const hash = (name: string) => [[{ AttributeName: name, KeyType: 'HASH' }], [{ AttributeName: name, AttributeType: 'S' }]];
  assert.deepEqual(keys, {
    DestinationsTable: [
      'fanout-dev-destinations',
      [{ AttributeName: 'destinationId', KeyType: 'HASH' }],
      [
        { AttributeName: 'destinationId', AttributeType: 'S' },
        { AttributeName: 'listKey', AttributeType: 'S' },
        { AttributeName: 'listSort', AttributeType: 'S' },
      ],
    ],
    PresetsTable: ['fanout-dev-presets', ...hash('presetId')],
    PlatformsTable: ['fanout-dev-platforms', ...hash('platformId')],
    TokensTable: ['fanout-dev-tokens', ...hash('tokenHash')],
    SystemTable: ['fanout-dev-system', ...hash('pk')],
    IdempotencyTable: ['fanout-dev-idempotency', ...hash('id')],
    FlowOutputsTable: ['fanout-dev-flow-outputs', ...hash('destinationId')],
    CostsTable: ['fanout-dev-costs', ...hash('pk')],
    ChannelsTable: [
      'fanout-dev-channels',
      [{ AttributeName: 'destinationId', KeyType: 'HASH' }],
      [
        { AttributeName: 'destinationId', AttributeType: 'S' },
        { AttributeName: 'channelId', AttributeType: 'S' },
      ],
    ],
    NotifierTable: [
      'fanout-dev-notifier',
      [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
    ],
  });
  assert.ok(JSON.stringify(w.tables.find((t) => t.logicalId === 'ChannelsTable')?.globalSecondaryIndexes).includes('channelId-index'));
  assert.equal(w.tables.find((t) => t.logicalId === 'IdempotencyTable')?.ttlAttribute, 'expiration');

  assert.deepEqual(w.environment, {
    FANOUT_RUNTIME: 'aws',
    FANOUT_EVENT_BUS: 'fanout-dev',
    FANOUT_TABLE_DESTINATIONS: 'fanout-dev-destinations',
    FANOUT_TABLE_PRESETS: 'fanout-dev-presets',
    FANOUT_TABLE_PLATFORMS: 'fanout-dev-platforms',
    FANOUT_TABLE_TOKENS: 'fanout-dev-tokens',
    FANOUT_TABLE_SYSTEM: 'fanout-dev-system',
    FANOUT_TABLE_IDEMPOTENCY: 'fanout-dev-idempotency',
    FANOUT_TABLE_FLOW_OUTPUTS: 'fanout-dev-flow-outputs',
    FANOUT_TABLE_CHANNELS: 'fanout-dev-channels',
    FANOUT_TABLE_COSTS: 'fanout-dev-costs',
    FANOUT_TABLE_NOTIFIER: 'fanout-dev-notifier',
    FANOUT_STAGE: 'dev',
    FANOUT_DEPLOYMENT: 'fanout-dev',
    POWERTOOLS_SERVICE_NAME: 'fanout',
    NODE_OPTIONS: '--enable-source-maps',
  });
  // AWS resources with no local value (the local runtime has its own key file and media engine).
  assert.deepEqual(w.omittedEnvironment, ['FANOUT_KMS_KEY_ID', 'FANOUT_MEDIACONNECT_FLOW_ARN', 'FANOUT_MEDIALIVE_ROLE_ARN', 'FANOUT_PRIMARY_CHANNEL_ID', 'FANOUT_NOTIFY_TOPIC_ARN', 'FANOUT_NOTIFY_WAKE_QUEUE_URL']);
});

test('the real serverless.yml: stage and region options flow into names', () => {
  const w = loadServerlessConfig({ stage: 'prod', region: 'us-west-2' });
  assert.equal(w.stage, 'prod');
  assert.equal(w.region, 'us-west-2');
  assert.deepEqual(
    w.buses.map((b) => b.name),
    ['fanout-prod'],
  );
  assert.equal(w.rules[0]?.busName, 'fanout-prod');
  assert.equal(w.environment['FANOUT_TABLE_TOKENS'], 'fanout-prod-tokens');
  assert.equal(w.environment['FANOUT_DEPLOYMENT'], 'fanout-prod');
});

const base = (extra: string) => `
service: svc
provider:
  name: aws
  stage: \${opt:stage, 'dev'}
  region: \${opt:region, 'eu-central-1'}
${extra}
`;

test('variables: sls, opt, self, aws, env, fallbacks, nesting, CloudFormation placeholders', () => {
  const yml = base(`
  environment:
    STAGE: \${sls:stage}
    SERVICE: \${self:service}
    REGION: \${aws:region}
    ACCOUNT: \${aws:accountId}
    FROM_ENV: \${env:SVC_TEST_VALUE, 'fallback'}
    ENV_FALLBACK: \${env:SVC_TEST_MISSING, 'fallback'}
    NESTED: \${self:custom.byStage.\${sls:stage}}
    CHAINED: \${opt:custom, \${self:custom.fallback}}
    NUMBER: \${opt:nope, 42}
    EMBEDDED: pre-\${self:custom.name}-\${sls:stage}-post
    SUB: 'arn:\${AWS::Partition}:x:\${Table.Arn}'
custom:
  name: \${self:service}-\${sls:stage}
  fallback: from-self
  byStage:
    dev: dev-value
    prod: prod-value
functions: {}
`);
  const w = parseServerlessConfig(yml, { env: { SVC_TEST_VALUE: 'from-env' } });
  assert.deepEqual(w.environment, {
    STAGE: 'dev',
    SERVICE: 'svc',
    REGION: 'eu-central-1',
    ACCOUNT: '000000000000',
    FROM_ENV: 'from-env',
    ENV_FALLBACK: 'fallback',
    NESTED: 'dev-value',
    CHAINED: 'from-self',
    NUMBER: '42',
    EMBEDDED: 'pre-svc-dev-dev-post',
    SUB: 'arn:${AWS::Partition}:x:${Table.Arn}',
  });
  const prod = parseServerlessConfig(yml, { stage: 'prod', options: { custom: 'cli' }, env: {} });
  assert.equal(prod.environment['NESTED'], 'prod-value');
  assert.equal(prod.environment['CHAINED'], 'cli');
  assert.equal(prod.environment['EMBEDDED'], 'pre-svc-prod-prod-post');
});

test('only the parts the local runtime uses must be resolvable', () => {
  const yml = base(`
resources:
  Resources:
    Secret:
      Type: AWS::SSM::Parameter
      Properties:
        Value: \${ssm:/only/on/aws}
`);
  assert.doesNotThrow(() => parseServerlessConfig(yml));
});

const failures: [string, string, RegExp][] = [
  ['short-form intrinsics', base(`  environment:\n    T: !Ref Table\n`), /short-form intrinsics/],
  ['unsupported variable source', base(`  environment:\n    T: \${ssm:/x/y}\n`), /provider\.environment\.T: .*"ssm:\/x\/y" is not supported/],
  ['missing value without fallback', base(`  environment:\n    T: \${self:custom.nope}\n`), /cannot resolve \$\{self:custom\.nope\}: no value and no fallback/],
  ['circular self reference', base(`custom:\n  a: \${self:custom.b}\n  b: \${self:custom.a}\nfunctions:\n  f:\n    handler: a.handler\n    timeout: \${self:custom.a}\n`), /circular reference/],
  ['unsupported function event', base(`functions:\n  f:\n    handler: src/f.handler\n    events:\n      - sns: topic\n`), /functions\.f\.events\.0: "sns" events are not supported/],
  ['cron schedule', base(`functions:\n  f:\n    handler: src/f.handler\n    events:\n      - schedule: cron(0 12 * * ? *)\n`), /cron\(\) is not supported/],
  ['function-level environment', base(`functions:\n  f:\n    handler: src/f.handler\n    environment:\n      A: b\n`), /function-level environment is not supported/],
  ['bad handler', base(`functions:\n  f:\n    handler: nodot\n`), /not of the form path\/to\/file\.exportName/],
  [
    'rule targeting something that is not a queue',
    base(`resources:\n  Resources:\n    T:\n      Type: AWS::SNS::Topic\n    R:\n      Type: AWS::Events::Rule\n      Properties:\n        EventPattern: {source: [a]}\n        Targets:\n          - Id: t\n            Arn: {Ref: T}\n`),
    /Targets\.0\.Arn: cannot resolve .* to an SQS queue/,
  ],
  ['invalid event pattern', base(`resources:\n  Resources:\n    R:\n      Type: AWS::Events::Rule\n      Properties:\n        EventPattern: {source: [{bogus: 1}]}\n`), /EventPattern: invalid event pattern .*unknown operator "bogus"/],
  ['sqs event on an unknown queue', base(`functions:\n  f:\n    handler: src/f.handler\n    events:\n      - sqs:\n          arn: {Fn::GetAtt: [Nope, Arn]}\n`), /Nope is not an AWS::SQS::Queue of this file/],
];

for (const [name, yml, message] of failures) {
  test(`fails loudly: ${name}`, () => {
    assert.throws(
      () => parseServerlessConfig(yml),
      (err: unknown) => err instanceof ServerlessConfigError && message.test(err.message),
    );
  });
}

test('rules: default bus, JSON string patterns, queue ARN strings, disabled state', () => {
  const w = parseServerlessConfig(
    base(`
resources:
  Resources:
    Q:
      Type: AWS::SQS::Queue
      Properties:
        QueueName: named-queue
        RedrivePolicy: '{"deadLetterTargetArn": "arn:aws:sqs:eu-central-1:1:named-dlq", "maxReceiveCount": 2}'
    D:
      Type: AWS::SQS::Queue
      Properties:
        QueueName: named-dlq
    R:
      Type: AWS::Events::Rule
      Properties:
        State: DISABLED
        EventPattern: '{"detail-type": ["X"]}'
        Targets:
          - Id: q
            Arn: arn:aws:sqs:eu-central-1:1:named-queue
`),
  );
  assert.deepEqual(w.rules, [{ logicalId: 'R', name: 'R', busName: 'default', enabled: false, eventPattern: { 'detail-type': ['X'] }, targetQueues: ['Q'] }]);
  assert.deepEqual(w.queues[0], { logicalId: 'Q', queueName: 'named-queue', visibilityTimeoutSeconds: 30, delaySeconds: 0, deadLetterQueue: 'D', maxReceiveCount: 2 });
  assert.equal(w.queues[1]?.queueName, 'named-dlq');
});

test('handlerRef maps serverless handler strings to files and exports', () => {
  assert.deepEqual(handlerRef('services/x/src/handlers/inbox.handler'), { file: 'services/x/src/handlers/inbox.ts', exportName: 'handler' });
  assert.deepEqual(handlerRef('a.b/c.main'), { file: 'a.b/c.ts', exportName: 'main' });
  assert.throws(() => handlerRef('services/x.y/handler'), ServerlessConfigError);
});

test('parseRate', () => {
  assert.equal(parseRate('rate(1 minute)'), 60);
  assert.equal(parseRate('rate(5 minutes)'), 300);
  assert.equal(parseRate('rate(1 hour)'), 3600);
  assert.equal(parseRate('rate(2 days)'), 172800);
  for (const bad of ['rate(1 minutes)', 'rate(5 minute)', 'rate(0 minutes)', 'rate(10 seconds)', 'cron(* * * * ? *)', 5]) {
    assert.throws(() => parseRate(bad), ServerlessConfigError, String(bad));
  }
});
