/**
 * Packages the service exactly as a deploy would (`serverless package --stage dev`), offline and
 * without AWS credentials, and checks the generated CloudFormation.
 *
 * Offline notes (Serverless Framework v3.40): `package` needs no AWS account or credentials as long
 * as serverless.yml uses no variable that calls AWS (${aws:accountId}, ${ssm:}, ${cf:}, ...): the
 * AWS provider only talks to AWS on deploy. Telemetry and update notifications are best-effort
 * background requests; SLS_TELEMETRY_DISABLED=1 and SLS_NOTIFICATIONS_MODE=off switch them off so
 * nothing is attempted. `npx --no` refuses to download anything if the local install is missing.
 * Verified with no network at all (`unshare -n`): packaging takes ~3-6 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function packageService(outDir: string): Promise<{ stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', CI: '1' };
  // Prove no credentials are needed: none from the environment, none from ~/.aws.
  for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_DEFAULT_PROFILE']) delete env[key];
  env['AWS_SHARED_CREDENTIALS_FILE'] = join(outDir, 'no-credentials');
  env['AWS_CONFIG_FILE'] = join(outDir, 'no-config');
  return new Promise((resolve, reject) => {
    execFile(
      'npx',
      ['--no', 'serverless', 'package', '--stage', 'dev', '--package', outDir],
      { cwd: repo, env, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`serverless package failed: ${err.message}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
        else resolve({ stdout, stderr });
      },
    );
  });
}

function ofType(resources: Json, type: string): [string, Json][] {
  return Object.entries(resources).filter(([, r]) => r.Type === type) as [string, Json][];
}

/** Every IAM-style statement anywhere in the template (role policies, queue/bucket/key policies). */
function statements(node: unknown, out: Json[] = []): Json[] {
  if (Array.isArray(node)) for (const n of node) statements(n, out);
  else if (node && typeof node === 'object') {
    const obj = node as Json;
    if (Array.isArray(obj['Statement'])) out.push(...(obj['Statement'] as Json[]));
    for (const value of Object.values(obj)) statements(value, out);
  }
  return out;
}

const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

test('serverless package --stage dev produces the expected CloudFormation', { timeout: 300_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'fanout-sls-'));
  try {
    const started = Date.now();
    await packageService(out);
    const seconds = (Date.now() - started) / 1000;
    assert.ok(seconds < 240, `packaging took ${seconds} s`);

    const files = readdirSync(out);
    for (const zip of ['api.zip', 'destinationInbox.zip', 'outboxRelay.zip']) assert.ok(files.includes(zip), `${zip} in ${files.join(', ')}`);
    const template = JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8')) as Json;
    const resources = template['Resources'] as Json;

    // ------------------------------------------------------------------ tables
    const tables = Object.fromEntries(ofType(resources, 'AWS::DynamoDB::Table'));
    assert.deepEqual(Object.keys(tables).sort(), ['ChannelsTable', 'DestinationsTable', 'FlowOutputsTable', 'IdempotencyTable', 'PlatformsTable', 'PresetsTable', 'SystemTable', 'TokensTable']);
    const expectedKeys: Record<string, [string, string]> = {
      DestinationsTable: ['fanout-dev-destinations', 'destinationId'],
      PresetsTable: ['fanout-dev-presets', 'presetId'],
      PlatformsTable: ['fanout-dev-platforms', 'platformId'],
      TokensTable: ['fanout-dev-tokens', 'tokenHash'],
      SystemTable: ['fanout-dev-system', 'pk'],
      IdempotencyTable: ['fanout-dev-idempotency', 'id'],
      FlowOutputsTable: ['fanout-dev-flow-outputs', 'destinationId'],
      ChannelsTable: ['fanout-dev-channels', 'destinationId'],
    };
    for (const [id, table] of Object.entries(tables)) {
      assert.equal(table.DeletionPolicy, 'Retain', `${id} DeletionPolicy`);
      assert.equal(table.UpdateReplacePolicy, 'Retain', `${id} UpdateReplacePolicy`);
      assert.deepEqual(table.Properties.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: true }, `${id} PITR`);
      assert.equal(table.Properties.BillingMode, 'PAY_PER_REQUEST', `${id} billing`);
      assert.deepEqual(table.Properties.SSESpecification, { SSEEnabled: true }, `${id} SSE`);
      const [name, key] = expectedKeys[id]!;
      assert.equal(table.Properties.TableName, name);
      assert.deepEqual(table.Properties.KeySchema, [{ AttributeName: key, KeyType: 'HASH' }]);
      assert.deepEqual(table.Properties.AttributeDefinitions[0], { AttributeName: key, AttributeType: 'S' });
    }
    // Native MediaLive events name a channel, not a destination: channels are found by channel id.
    assert.equal(tables['ChannelsTable']!.Properties.GlobalSecondaryIndexes[0].IndexName, 'channelId-index');
    assert.deepEqual(tables['IdempotencyTable']!.Properties.TimeToLiveSpecification, { AttributeName: 'expiration', Enabled: true });

    // ------------------------------------------------------------------ queues, rule, policy
    const queue = resources['DestinationInboxQueue'];
    assert.equal(queue.Type, 'AWS::SQS::Queue');
    assert.equal(queue.Properties.VisibilityTimeout, 180);
    assert.equal(queue.Properties.MessageRetentionPeriod, 1209600);
    assert.equal(queue.Properties.SqsManagedSseEnabled, true);
    assert.deepEqual(queue.Properties.RedrivePolicy, { deadLetterTargetArn: { 'Fn::GetAtt': ['DestinationInboxDLQ', 'Arn'] }, maxReceiveCount: 5 });
    assert.equal(resources['DestinationInboxDLQ'].Type, 'AWS::SQS::Queue');
    assert.equal(resources['DestinationInboxDLQ'].Properties.MessageRetentionPeriod, 1209600);

    const rule = resources['DestinationInboxRule'];
    assert.equal(rule.Type, 'AWS::Events::Rule');
    assert.deepEqual(rule.Properties.EventBusName, { Ref: 'FanoutBus' });
    assert.deepEqual(rule.Properties.EventPattern, { source: ['fanout.channel-provisioner', 'fanout.flow-output'] });
    assert.deepEqual(rule.Properties.Targets, [{ Id: 'destination-inbox', Arn: { 'Fn::GetAtt': ['DestinationInboxQueue', 'Arn'] } }]);
    assert.equal(resources['FanoutBus'].Type, 'AWS::Events::EventBus');
    assert.equal(resources['FanoutBus'].Properties.Name, 'fanout-dev');

    const queuePolicy = resources['DestinationInboxQueuePolicy'];
    assert.equal(queuePolicy.Type, 'AWS::SQS::QueuePolicy');
    const [send] = queuePolicy.Properties.PolicyDocument.Statement as Json[];
    assert.deepEqual(send!.Principal, { Service: 'events.amazonaws.com' });
    assert.equal(send!.Action, 'sqs:SendMessage');
    assert.deepEqual(send!.Condition, { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['DestinationInboxRule', 'Arn'] } } });

    const mappings = ofType(resources, 'AWS::Lambda::EventSourceMapping');
    assert.deepEqual(
      mappings.map(([, m]) => [JSON.stringify(m.Properties.EventSourceArn), JSON.stringify(m.Properties.FunctionName)]).sort(),
      [
        ['ChannelProvisionerQueue', 'ChannelProvisionerInboxLambdaFunction'],
        ['DestinationInboxQueue', 'DestinationInboxLambdaFunction'],
        ['FlowOutputQueue', 'FlowOutputInboxLambdaFunction'],
      ].map(([q, f]) => [JSON.stringify({ 'Fn::GetAtt': [q, 'Arn'] }), JSON.stringify({ 'Fn::GetAtt': [f, 'Arn'] })]),
    );
    for (const [, m] of mappings) assert.deepEqual(m.Properties.FunctionResponseTypes, ['ReportBatchItemFailures']);
    for (const q of ['FlowOutputQueue', 'ChannelProvisionerQueue']) {
      assert.deepEqual(resources[q].Properties.RedrivePolicy.maxReceiveCount, 5, `${q} redrive`);
      const dlqAlarm = resources[q.replace('Queue', 'DLQAlarm')];
      assert.deepEqual(dlqAlarm.Properties.AlarmActions, [{ Ref: 'AlertsTopic' }], `${q} DLQ alarm → SNS`);
    }
    assert.equal(resources['ChannelProvisionerNativeRule'].Properties.EventBusName, undefined, 'native MediaLive events arrive on the default bus');
    assert.deepEqual(resources['ChannelProvisionerNativeRule'].Properties.EventPattern.source, ['aws.medialive']);
    const mapping = mappings.find(([, m]) => JSON.stringify(m.Properties.EventSourceArn).includes('DestinationInboxQueue'));
    assert.ok(mapping);
    assert.deepEqual(mapping[1].Properties.EventSourceArn, { 'Fn::GetAtt': ['DestinationInboxQueue', 'Arn'] });
    assert.equal(mapping[1].Properties.BatchSize, 10);
    assert.equal(mapping[1].Properties.MaximumBatchingWindowInSeconds, 0);
    assert.deepEqual(mapping[1].Properties.FunctionResponseTypes, ['ReportBatchItemFailures']);
    assert.deepEqual(mapping[1].Properties.FunctionName, { 'Fn::GetAtt': ['DestinationInboxLambdaFunction', 'Arn'] });

    const schedules = ofType(resources, 'AWS::Events::Rule').filter(([, r]) => r.Properties.ScheduleExpression);
    assert.deepEqual(schedules.map(([, r]) => r.Properties.ScheduleExpression), ['rate(1 minute)', 'rate(1 minute)', 'rate(1 minute)']);

    // ------------------------------------------------------------------ alarm → topic, key
    const alarm = resources['DestinationInboxDLQAlarm'];
    assert.equal(alarm.Type, 'AWS::CloudWatch::Alarm');
    assert.equal(alarm.Properties.MetricName, 'ApproximateNumberOfMessagesVisible');
    assert.equal(alarm.Properties.Namespace, 'AWS/SQS');
    assert.equal(alarm.Properties.Threshold, 0);
    assert.equal(alarm.Properties.ComparisonOperator, 'GreaterThanThreshold');
    assert.deepEqual(alarm.Properties.Dimensions, [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['DestinationInboxDLQ', 'QueueName'] } }]);
    assert.deepEqual(alarm.Properties.AlarmActions, [{ Ref: 'AlertsTopic' }]);
    assert.equal(resources['AlertsTopic'].Type, 'AWS::SNS::Topic');

    const key = resources['StreamKeyKey'];
    assert.equal(key.Type, 'AWS::KMS::Key');
    assert.equal(key.Properties.EnableKeyRotation, true);
    assert.equal(resources['StreamKeyKeyAlias'].Properties.AliasName, 'alias/fanout-dev-stream-keys');
    assert.deepEqual(resources['StreamKeyKeyAlias'].Properties.TargetKeyId, { Ref: 'StreamKeyKey' });

    // ------------------------------------------------------------------ IAM
    const all = statements(template);
    assert.ok(all.length >= 5, 'found the policy statements');
    for (const s of all) {
      const actions = list(s['Action']);
      const targets = list(s['Resource']);
      assert.ok(!(s['Effect'] === 'Allow' && actions.includes('*') && targets.includes('*')), `"*" on "*": ${JSON.stringify(s)}`);
    }
    const role = resources['IamRoleLambdaExecution'];
    const roleStatements = statements(role.Properties.Policies);
    for (const s of roleStatements) {
      for (const action of list(s['Action'])) assert.ok(typeof action === 'string' && !action.endsWith('*'), `wildcard action in the Lambda role: ${action}`);
      assert.ok(!list(s['Resource']).includes('*'), `"*" resource in the Lambda role: ${JSON.stringify(s)}`);
    }
    const byAction = (action: string) => roleStatements.find((s) => list(s['Action']).includes(action));
    const dynamo = byAction('dynamodb:GetItem');
    assert.ok(dynamo);
    assert.deepEqual(
      list(dynamo['Action']).sort(),
      ['dynamodb:ConditionCheckItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:UpdateItem'],
    );
    for (const id of Object.keys(tables)) {
      assert.ok(list(dynamo['Resource']).some((r) => JSON.stringify(r) === JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] })), `${id} ARN`);
      assert.ok(list(dynamo['Resource']).some((r) => JSON.stringify(r) === JSON.stringify({ 'Fn::Sub': `\${${id}.Arn}/index/*` })), `${id} indexes`);
    }
    assert.deepEqual(list(byAction('events:PutEvents')?.['Resource']), [{ 'Fn::GetAtt': ['FanoutBus', 'Arn'] }]);
    assert.deepEqual(list(byAction('kms:Decrypt')?.['Resource']), [{ 'Fn::GetAtt': ['StreamKeyKey', 'Arn'] }]);

    // ------------------------------------------------------------------ functions, HTTP API
    const functions = Object.fromEntries(ofType(resources, 'AWS::Lambda::Function'));
    assert.deepEqual(Object.keys(functions).sort(), [
      'ApiLambdaFunction',
      'ChannelProvisionerInboxLambdaFunction',
      'ChannelReconcileLambdaFunction',
      'DestinationInboxLambdaFunction',
      'FlowOutputInboxLambdaFunction',
      'FlowOutputReconcileLambdaFunction',
      'OutboxRelayLambdaFunction',
    ]);
    const expectedFns: Record<string, [string, number]> = {
      ChannelProvisionerInboxLambdaFunction: ['services/channel-provisioner/src/handlers/inbox.handler', 60],
      ChannelReconcileLambdaFunction: ['services/channel-provisioner/src/handlers/reconcile.handler', 300],
      FlowOutputInboxLambdaFunction: ['services/flow-output/src/handlers/inbox.handler', 60],
      FlowOutputReconcileLambdaFunction: ['services/flow-output/src/handlers/reconcile.handler', 120],
      ApiLambdaFunction: ['services/destination/src/handlers/api.handler', 29],
      DestinationInboxLambdaFunction: ['services/destination/src/handlers/inbox.handler', 30],
      OutboxRelayLambdaFunction: ['services/destination/src/handlers/outbox-relay.handler', 60],
    };
    for (const [id, f] of Object.entries(functions)) {
      assert.equal(f.Properties.Runtime, 'nodejs22.x', `${id} runtime`);
      assert.deepEqual(f.Properties.Architectures, ['arm64'], `${id} architecture`);
      assert.equal(f.Properties.MemorySize, 512);
      assert.deepEqual([f.Properties.Handler, f.Properties.Timeout], expectedFns[id]);
      const env = f.Properties.Environment.Variables;
      assert.equal(env.FANOUT_RUNTIME, 'aws');
      assert.equal(env.FANOUT_EVENT_BUS, 'fanout-dev');
      assert.deepEqual(env.FANOUT_TABLE_DESTINATIONS, { Ref: 'DestinationsTable' });
      assert.deepEqual(env.FANOUT_TABLE_IDEMPOTENCY, { Ref: 'IdempotencyTable' });
      assert.deepEqual(env.FANOUT_KMS_KEY_ID, { Ref: 'StreamKeyKey' });
      assert.equal(env.NODE_OPTIONS, '--enable-source-maps');
    }
    assert.equal(ofType(resources, 'AWS::Lambda::Version').length, 7, 'versionFunctions: true');
    for (const [id, group] of ofType(resources, 'AWS::Logs::LogGroup')) assert.equal(group.Properties.RetentionInDays, 30, id);

    const apis = ofType(resources, 'AWS::ApiGatewayV2::Api');
    assert.equal(apis.length, 1);
    assert.equal(apis[0]![1].Properties.ProtocolType, 'HTTP');
    assert.equal(apis[0]![1].Properties.CorsConfiguration, undefined, 'cors: false');
    assert.deepEqual(ofType(resources, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey), ['$default']);

    assert.deepEqual(template['Outputs']['EventBusName'].Value, { Ref: 'FanoutBus' });
    assert.ok(template['Outputs']['HttpApiUrl'], 'the API URL output');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
