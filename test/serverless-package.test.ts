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
 *
 * Deployment parameters travel as `--param="name=value"` (Serverless v3 resolves CLI params offline,
 * without the dashboard, and rejects unknown `--options`); the test passes an SRT CIDR and an alert
 * e-mail and checks they reach the template.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { contentSecurityPolicy } from '../services/dashboard/site.ts';
import { SOURCE_NAMES } from '../shared/engines/aws/aws-inputs.ts';
import { formatProblem } from '../shared/engines/aws/model-validator.ts';
import { loadModels } from '../shared/engines/aws/request-capture.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));
const SRT_CIDR = '203.0.113.0/24';
const ALERT_EMAIL = 'fanout-alerts@example.com';

/**
 * The only statements allowed to name `Resource: '*'`, each with the reason and the exact actions
 * it may carry (so nothing else slips into it).
 */
const STAR_RESOURCE_ALLOWED: Record<string, { actions: string[]; reason: string }> = {
  EnableAccountIamPolicies: {
    actions: ['kms:*'],
    reason: "KMS key policy: in a key policy `Resource: '*'` means this key; the statement hands the key to the account's IAM policies",
  },
  FlowOutputMediaLiveList: {
    actions: ['medialive:ListInputs'],
    reason: 'MediaLive List actions have no resource type in the IAM service authorization reference',
  },
  ChannelMediaLiveList: {
    actions: ['medialive:ListChannels'],
    reason: 'MediaLive List actions have no resource type in the IAM service authorization reference',
  },
  MediaMetricsRead: {
    actions: ['cloudwatch:GetMetricData'],
    reason: 'CloudWatch GetMetricData has no resource type in the IAM service authorization reference',
  },
  ReadPriceList: {
    actions: ['pricing:GetProducts'],
    reason: 'The AWS Price List API has no resource types in the IAM service authorization reference (cost-tracker rate refresh)',
  },
  MediaConnectManagedOutputs: {
    actions: ['mediaconnect:ManagedAddOutput', 'mediaconnect:ManagedDescribeFlow', 'mediaconnect:ManagedRemoveOutput'],
    reason: 'MediaLive-only role; no resource type documented for the Managed* actions, every AWS-published policy uses "*"',
  },
};

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
      ['--no', 'serverless', 'package', '--stage', 'dev', '--package', outDir, `--param=srtCidr=${SRT_CIDR}`, `--param=alertEmail=${ALERT_EMAIL}`],
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

/** A template value with every intrinsic function (`Ref`, `Fn::*`) replaced by a string, for the model validator. */
function resolveIntrinsics(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(resolveIntrinsics);
  if (node && typeof node === 'object') {
    const keys = Object.keys(node);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'))) return 'resolved-at-deploy';
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolveIntrinsics(v)]));
  }
  return node;
}

test('serverless package --stage dev produces the expected CloudFormation', { timeout: 300_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'fanout-sls-'));
  try {
    const started = Date.now();
    await packageService(out);
    const seconds = (Date.now() - started) / 1000;
    assert.ok(seconds < 240, `packaging took ${seconds} s`);

    const files = readdirSync(out);
    for (const zip of ['api.zip', 'destinationInbox.zip', 'outboxRelay.zip', 'adminBootstrap.zip']) assert.ok(files.includes(zip), `${zip} in ${files.join(', ')}`);
    const template = JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8')) as Json;
    const resources = template['Resources'] as Json;

    // ------------------------------------------------------------------ tables
    const tables = Object.fromEntries(ofType(resources, 'AWS::DynamoDB::Table'));
    assert.deepEqual(Object.keys(tables).sort(), ['ChannelsTable', 'CostsTable', 'DestinationsTable', 'FlowOutputsTable', 'IdempotencyTable', 'NotifierTable', 'PlatformsTable', 'PresetsTable', 'SystemTable', 'TokensTable']);
    const expectedKeys: Record<string, [string, string]> = {
      DestinationsTable: ['fanout-dev-destinations', 'destinationId'],
      PresetsTable: ['fanout-dev-presets', 'presetId'],
      PlatformsTable: ['fanout-dev-platforms', 'platformId'],
      TokensTable: ['fanout-dev-tokens', 'tokenHash'],
      SystemTable: ['fanout-dev-system', 'pk'],
      CostsTable: ['fanout-dev-costs', 'pk'],
      IdempotencyTable: ['fanout-dev-idempotency', 'id'],
      FlowOutputsTable: ['fanout-dev-flow-outputs', 'destinationId'],
      ChannelsTable: ['fanout-dev-channels', 'destinationId'],
      NotifierTable: ['fanout-dev-notifier', 'pk'],
    };
    for (const [id, table] of Object.entries(tables)) {
      assert.equal(table.DeletionPolicy, 'Retain', `${id} DeletionPolicy`);
      assert.equal(table.UpdateReplacePolicy, 'Retain', `${id} UpdateReplacePolicy`);
      assert.deepEqual(table.Properties.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: true }, `${id} PITR`);
      assert.equal(table.Properties.BillingMode, 'PAY_PER_REQUEST', `${id} billing`);
      assert.deepEqual(table.Properties.SSESpecification, { SSEEnabled: true }, `${id} SSE`);
      const [name, key] = expectedKeys[id]!;
      assert.equal(table.Properties.TableName, name);
      assert.deepEqual(
        table.Properties.KeySchema,
        id === 'NotifierTable'
          ? [
              { AttributeName: key, KeyType: 'HASH' },
              { AttributeName: 'sk', KeyType: 'RANGE' },
            ]
          : [{ AttributeName: key, KeyType: 'HASH' }],
      );
      assert.deepEqual(table.Properties.AttributeDefinitions[0], { AttributeName: key, AttributeType: 'S' });
    }
    // Native MediaLive events name a channel, not a destination: channels are found by channel id.
    assert.equal(tables['ChannelsTable']!.Properties.GlobalSecondaryIndexes[0].IndexName, 'channelId-index');
    assert.deepEqual(tables['IdempotencyTable']!.Properties.TimeToLiveSpecification, { AttributeName: 'expiration', Enabled: true });
    assert.deepEqual(tables['NotifierTable']!.Properties.TimeToLiveSpecification, { AttributeName: 'expiresAt', Enabled: true }, 'delivery records expire');

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

    // The operations dashboard: its body is JSON once Fn::Sub has put the stack's values in, and
    // it shows the flow's source, the destinations' channels, every queue and DLQ, and the API.
    const dashboard = resources['OperationsDashboard'];
    assert.equal(dashboard.Type, 'AWS::CloudWatch::Dashboard');
    const [bodyTemplate, bodyValues] = dashboard.Properties.DashboardBody['Fn::Sub'] as [string, Record<string, unknown>];
    const placeholders = [...bodyTemplate.matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1]!);
    for (const p of placeholders) assert.ok(p in bodyValues || p.startsWith('AWS::') || p in resources, `dashboard placeholder ${p} names a value or a resource`);
    const body = JSON.parse(bodyTemplate.replace(/\$\{([^}]+)\}/g, 'x')) as { widgets: { properties: { metrics: unknown[] } }[] };
    const shown = JSON.stringify(body.widgets.map((w) => w.properties.metrics));
    for (const metric of ['SourceBitRate', 'SourceRoundTripTime', 'SourcePacketLossPercent', 'NetworkOut', 'ActiveOutputs', 'ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage', 'Latency'])
      assert.ok(shown.includes(metric), `the dashboard shows ${metric}`);
    for (const q of ['DestinationInboxDLQName', 'FlowOutputDLQName', 'ChannelProvisionerDLQName']) assert.ok(placeholders.includes(q), `the dashboard shows ${q}`);
    // The api function may read the flow's health and the media metrics, and nothing more of them.
    const apiStatements = resources['ApiRole'].Properties.Policies[0].PolicyDocument.Statement as { Sid: string; Action: string[] }[];
    assert.deepEqual(apiStatements.find((st) => st.Sid === 'FlowHealthRead')?.Action, ['mediaconnect:DescribeFlow', 'mediaconnect:DescribeFlowSourceMetadata']);
    assert.deepEqual(apiStatements.find((st) => st.Sid === 'MediaMetricsRead')?.Action, ['cloudwatch:GetMetricData']);
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
        ['CostTrackerQueue', 'CostTrackerInboxLambdaFunction'],
        ['DestinationInboxQueue', 'DestinationInboxLambdaFunction'],
        ['FlowOutputQueue', 'FlowOutputInboxLambdaFunction'],
        ['NotifierQueue', 'NotifierInboxLambdaFunction'],
        ['NotifierWakeQueue', 'NotifierWakeLambdaFunction'],
      ].map(([q, f]) => [JSON.stringify({ 'Fn::GetAtt': [q, 'Arn'] }), JSON.stringify({ 'Fn::GetAtt': [f, 'Arn'] })]),
    );
    for (const [, m] of mappings) assert.deepEqual(m.Properties.FunctionResponseTypes, ['ReportBatchItemFailures']);
    for (const q of ['FlowOutputQueue', 'ChannelProvisionerQueue', 'CostTrackerQueue', 'NotifierQueue', 'NotifierWakeQueue']) {
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
    assert.deepEqual(schedules.map(([, r]) => r.Properties.ScheduleExpression).sort(), ['rate(1 day)', 'rate(1 hour)', 'rate(1 minute)', 'rate(1 minute)', 'rate(1 minute)', 'rate(1 minute)', 'rate(1 minute)']);
    // The notifier hears of every dead-letter queue by its alarm's name (CloudWatch Alarm State Change).
    for (const dlq of ['DestinationInboxDLQ', 'FlowOutputDLQ', 'ChannelProvisionerDLQ', 'CostTrackerDLQ', 'NotifierDLQ', 'NotifierWakeDLQ']) assert.equal(resources[`${dlq}Alarm`].Properties.AlarmName, `fanout-dev-dlq-${dlq}`);
    assert.equal(resources['NotificationsTopic'].Type, 'AWS::SNS::Topic');

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

    // ------------------------------------------------------------------ contribution: SRT listener
    const secret = resources['SrtPassphraseSecret'];
    assert.equal(secret.Type, 'AWS::SecretsManager::Secret');
    assert.equal(secret.DeletionPolicy, 'Retain', 'the passphrase outlives the stack (encoders are configured with it)');
    assert.equal(secret.UpdateReplacePolicy, 'Retain');
    assert.equal(secret.Properties.Name, 'fanout/dev/srt-passphrase');
    assert.deepEqual(secret.Properties.GenerateSecretString, { PasswordLength: 32, ExcludePunctuation: true, IncludeSpace: false, RequireEachIncludedType: true });

    const flow = resources['ContributionFlow'];
    assert.equal(flow.Type, 'AWS::MediaConnect::Flow');
    assert.equal(flow.Properties.Name, 'fanout-dev-contribution');
    const source = flow.Properties.Source;
    assert.equal(source.Protocol, 'srt-listener');
    assert.equal(source.IngestPort, 9998);
    assert.equal(source.WhitelistCidr, SRT_CIDR, 'the allowed CIDR comes from --param srtCidr');
    assert.equal(source.MinLatency, 2000);
    assert.deepEqual(
      source.Decryption,
      { KeyType: 'srt-password', RoleArn: { 'Fn::GetAtt': ['MediaConnectSecretRole', 'Arn'] }, SecretArn: { Ref: 'SrtPassphraseSecret' } },
      'SRT password decryption (no Algorithm: it must be blank for srt-password)',
    );
    assert.deepEqual(flow.Properties.AvailabilityZone['Fn::If'][0], 'HasAvailabilityZone');

    const mcRole = resources['MediaConnectSecretRole'];
    const [mcTrust] = mcRole.Properties.AssumeRolePolicyDocument.Statement as Json[];
    assert.deepEqual(mcTrust!.Principal, { Service: 'mediaconnect.amazonaws.com' });
    assert.deepEqual(mcTrust!.Condition.StringEquals, { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
    assert.match(JSON.stringify(mcTrust!.Condition.ArnLike), /:flow:\*:fanout-dev-contribution/);
    const mcStatements = statements(mcRole.Properties.Policies);
    assert.equal(mcStatements.length, 1);
    assert.ok(list(mcStatements[0]!['Action']).every((a) => String(a).startsWith('secretsmanager:') && !String(a).includes('*')));
    assert.ok(list(mcStatements[0]!['Action']).includes('secretsmanager:GetSecretValue'));
    assert.deepEqual(list(mcStatements[0]!['Resource']), [{ Ref: 'SrtPassphraseSecret' }, { Ref: 'SrtBackupPassphraseSecret' }], 'the two passphrases only');

    // ------------------------------------------------------------------ the backup source and source failover (issue 15)
    const backupSecret = resources['SrtBackupPassphraseSecret'];
    assert.equal(backupSecret.Type, 'AWS::SecretsManager::Secret');
    assert.deepEqual([backupSecret.DeletionPolicy, backupSecret.UpdateReplacePolicy, backupSecret.Properties.Name], ['Retain', 'Retain', 'fanout/dev/srt-backup-passphrase']);
    assert.deepEqual(backupSecret.Properties.GenerateSecretString, secret.Properties.GenerateSecretString, 'the same passphrase rules as the main one');
    const backup = resources['ContributionBackupSource'];
    assert.equal(backup.Type, 'AWS::MediaConnect::FlowSource');
    const bp = backup.Properties;
    assert.deepEqual(bp.FlowArn, { 'Fn::GetAtt': ['ContributionFlow', 'FlowArn'] });
    assert.deepEqual([bp.Name, bp.Protocol, bp.IngestPort, bp.WhitelistCidr, bp.MinLatency, bp.MaxBitrate], ['srt-backup', 'srt-listener', 9999, SRT_CIDR, source.MinLatency, source.MaxBitrate]);
    assert.notEqual(bp.IngestPort, source.IngestPort, 'two listeners on one ingest address need two ports');
    assert.deepEqual(bp.Decryption, { KeyType: 'srt-password', RoleArn: { 'Fn::GetAtt': ['MediaConnectSecretRole', 'Arn'] }, SecretArn: { Ref: 'SrtBackupPassphraseSecret' } }, 'its own passphrase');
    const failover = flow.Properties.SourceFailoverConfig;
    assert.deepEqual([failover.State, failover.FailoverMode, failover.SourcePriority], ['ENABLED', 'FAILOVER', { PrimarySource: source.Name }], 'the main is the primary source');
    assert.ok(Number.isInteger(failover.RecoveryWindow));
    // The source names are the ones the engine reads (shared/engines/aws/aws-inputs.ts SOURCE_NAMES).
    assert.deepEqual([source.Name, bp.Name], [SOURCE_NAMES.main, SOURCE_NAMES.backup]);
    assert.equal(template['Outputs']['SrtBackupIngestPort'].Value, '9999');
    // CloudFormation's property names are the MediaConnect API's: checked against the official model
    // (intrinsic functions stand in as strings of the right shape).
    const models = loadModels();
    if (models) {
      const flowArn = 'arn:aws:mediaconnect:eu-west-1:111122223333:flow:1-AbCdEfGhIjKlMnOp-0123456789ab:fanout-dev-contribution';
      const { FlowArn: _f, ...sourceProps } = resolveIntrinsics(bp) as Json;
      assert.deepEqual(models.mediaconnect.validate('AddFlowSources', { FlowArn: flowArn, Sources: [resolveIntrinsics(source), sourceProps] }).map(formatProblem), [], 'FlowSource properties');
      assert.deepEqual(models.mediaconnect.validate('UpdateFlow', { FlowArn: flowArn, SourceFailoverConfig: failover }).map(formatProblem), [], 'SourceFailoverConfig');
      assert.deepEqual(models.mediaconnect.validate('CreateFlow', { Name: flow.Properties.Name, Source: resolveIntrinsics(source), SourceFailoverConfig: failover }).map(formatProblem), [], 'Flow properties');
    }

    // ------------------------------------------------------------------ MediaLive role, primary channel
    const mlRole = resources['MediaLiveAccessRole'];
    assert.deepEqual(mlRole.Properties.AssumeRolePolicyDocument.Statement, [{ Effect: 'Allow', Principal: { Service: 'medialive.amazonaws.com' }, Action: 'sts:AssumeRole' }]);
    const mlStatements = statements(mlRole.Properties.Policies);
    const managed = mlStatements.find((s) => s['Sid'] === 'MediaConnectManagedOutputs');
    assert.deepEqual(list(managed?.['Action']).sort(), ['mediaconnect:ManagedAddOutput', 'mediaconnect:ManagedDescribeFlow', 'mediaconnect:ManagedRemoveOutput']);
    const toPackage = mlStatements.find((s) => list(s['Action']).includes('mediapackagev2:PutObject'));
    assert.deepEqual(list(toPackage?.['Resource']), [{ 'Fn::GetAtt': ['PrimaryPackageChannel', 'Arn'] }], 'PutObject on the primary MediaPackage channel only');
    const logs = mlStatements.find((s) => list(s['Action']).includes('logs:PutLogEvents'));
    const logResources = list(logs?.['Resource']);
    assert.ok(logResources.length > 0, 'MediaLive may write logs (a statement with logs:PutLogEvents and its resources)');
    assert.ok(
      logResources.every((r) => JSON.stringify(r).includes('log-group:ElementalMediaLive')),
      'MediaLive logs to its own log group only',
    );

    const input = resources['PrimaryInput'];
    assert.equal(input.Type, 'AWS::MediaLive::Input');
    assert.equal(input.Properties.Type, 'MEDIACONNECT');
    assert.deepEqual(input.Properties.MediaConnectFlows, [{ FlowArn: { 'Fn::GetAtt': ['ContributionFlow', 'FlowArn'] } }], 'the *flow* ARN, never an output ARN');
    assert.deepEqual(input.Properties.RoleArn, { 'Fn::GetAtt': ['MediaLiveAccessRole', 'Arn'] });

    const channel = resources['PrimaryChannel'];
    assert.equal(channel.Type, 'AWS::MediaLive::Channel');
    const ch = channel.Properties;
    assert.equal(ch.ChannelClass, 'SINGLE_PIPELINE');
    assert.deepEqual(ch.RoleArn, { 'Fn::GetAtt': ['MediaLiveAccessRole', 'Arn'] });
    assert.deepEqual(
      ch.InputAttachments.map((a: Json) => a.InputId),
      [{ Ref: 'PrimaryInput' }],
    );
    assert.equal(ch.EncoderSettings.TimecodeConfig.Source, 'SYSTEMCLOCK', 'TimecodeConfig is required');
    assert.deepEqual(ch.Destinations[0].Settings[0].Url, { 'Fn::Select': [0, { 'Fn::GetAtt': ['PrimaryPackageChannel', 'IngestEndpointUrls'] }] });
    const hls = ch.EncoderSettings.OutputGroups[0].OutputGroupSettings.HlsGroupSettings;
    assert.equal(hls.Destination.DestinationRefId, ch.Destinations[0].Id);
    assert.ok(hls.HlsCdnSettings.HlsBasicPutSettings, 'MediaPackage v2 ingests HLS by basic PUT');
    // Every name the outputs use is defined: video/audio descriptions, the audio selector.
    const videoNames = ch.EncoderSettings.VideoDescriptions.map((v: Json) => v.Name);
    const audioNames = ch.EncoderSettings.AudioDescriptions.map((a: Json) => a.Name);
    for (const out of ch.EncoderSettings.OutputGroups[0].Outputs as Json[]) {
      assert.ok(videoNames.includes(out.VideoDescriptionName), out.OutputName);
      for (const a of out.AudioDescriptionNames) assert.ok(audioNames.includes(a), a);
    }
    const selectors = ch.InputAttachments[0].InputSettings.AudioSelectors.map((a: Json) => a.Name);
    for (const a of ch.EncoderSettings.AudioDescriptions as Json[]) assert.ok(selectors.includes(a.AudioSelectorName), a.AudioSelectorName);
    // Input loss (issue 15): the last frame, then a card, and the HLS output keeps emitting.
    assert.deepEqual(ch.EncoderSettings.GlobalConfiguration.InputLossBehavior, { RepeatFrameMsec: 1000, BlackFrameMsec: 0, InputLossImageType: 'COLOR', InputLossImageColor: '1A1A1A' });
    assert.equal(hls.InputLossAction, 'EMIT_OUTPUT');
    const mlModels = loadModels();
    if (mlModels) {
      const { Tags: _t, ...channelProps } = resolveIntrinsics(ch) as Json;
      assert.deepEqual(mlModels.medialive.validate('CreateChannel', channelProps).map(formatProblem), [], 'the primary channel against the MediaLive model');
    }
    assert.equal(ch.Tags['fanout:deployment'], 'fanout-dev');
    assert.equal(ch.Tags['fanout:destinationId'], undefined, 'the engine never treats the primary as a destination');

    assert.equal(resources['PrimaryPackageChannelGroup'].Properties.ChannelGroupName, 'fanout-dev');
    assert.equal(resources['PrimaryPackageChannel'].Properties.InputType, 'HLS');
    const endpoint = resources['PrimaryHlsEndpoint'];
    assert.equal(endpoint.Type, 'AWS::MediaPackageV2::OriginEndpoint');
    assert.equal(endpoint.Properties.ContainerType, 'TS');
    assert.equal(endpoint.Properties.HlsManifests[0].ManifestName, 'index');

    // ------------------------------------------------------------------ alarms → SNS
    const alarms = Object.fromEntries(ofType(resources, 'AWS::CloudWatch::Alarm'));
    for (const [id, a] of Object.entries(alarms)) {
      assert.deepEqual(a.Properties.AlarmActions, [{ Ref: 'AlertsTopic' }], `${id} → SNS`);
      assert.deepEqual(a.Properties.OKActions, [{ Ref: 'AlertsTopic' }], `${id} recovery → SNS`);
    }
    // Every dead-letter queue has an alarm on its depth.
    const dlqs = ofType(resources, 'AWS::SQS::Queue')
      .map(([, q]) => q.Properties.RedrivePolicy?.deadLetterTargetArn?.['Fn::GetAtt']?.[0])
      .filter((id): id is string => typeof id === 'string');
    assert.equal(dlqs.length, 6);
    for (const dlq of dlqs) {
      assert.ok(
        Object.values(alarms).some((a) => a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible' && JSON.stringify(a.Properties.Dimensions) === JSON.stringify([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }])),
        `${dlq} depth alarm`,
      );
    }
    const sourceAlarm = alarms['ContributionSourceAlarm']!.Properties;
    assert.deepEqual([sourceAlarm.Namespace, sourceAlarm.MetricName, sourceAlarm.ComparisonOperator, sourceAlarm.Threshold], ['AWS/MediaConnect', 'SourceConnected', 'LessThanThreshold', 1]);
    assert.deepEqual(sourceAlarm.Dimensions, [{ Name: 'FlowARN', Value: { 'Fn::GetAtt': ['ContributionFlow', 'FlowArn'] } }]);
    assert.equal(sourceAlarm.TreatMissingData, 'notBreaching', 'a flow in standby publishes nothing');
    const primaryAlarm = alarms['PrimaryChannelAlarm']!.Properties;
    assert.deepEqual([primaryAlarm.Namespace, primaryAlarm.MetricName], ['AWS/MediaLive', 'ActiveAlerts']);
    assert.deepEqual(primaryAlarm.Dimensions, [
      { Name: 'ChannelId', Value: { Ref: 'PrimaryChannel' } },
      { Name: 'Pipeline', Value: '0' },
    ]);
    // Function errors: one metric-math alarm over every function.
    const errorMetrics = (alarms['FunctionErrorsAlarm']!.Properties.Metrics as Json[]).filter((m) => m.MetricStat);
    const lambdaIds = ofType(resources, 'AWS::Lambda::Function')
      .map(([id]) => id)
      .sort();
    assert.deepEqual(errorMetrics.map((m) => m.MetricStat.Metric.Dimensions[0].Value.Ref).sort(), lambdaIds);
    assert.ok(errorMetrics.every((m) => m.MetricStat.Metric.Namespace === 'AWS/Lambda' && m.MetricStat.Metric.MetricName === 'Errors' && m.ReturnData === false));
    const expression = (alarms['FunctionErrorsAlarm']!.Properties.Metrics as Json[]).find((m) => m.Expression);
    for (const m of errorMetrics) assert.match(expression!.Expression, new RegExp(`\\b${m.Id}\\b`), `${m.Id} is summed`);
    // The e-mail subscription exists only when an address was given.
    const subscription = resources['AlertsEmailSubscription'];
    assert.equal(subscription.Condition, 'HasAlertEmail');
    assert.deepEqual(subscription.Properties, { TopicArn: { Ref: 'AlertsTopic' }, Protocol: 'email', Endpoint: ALERT_EMAIL });
    assert.deepEqual(template['Conditions']['HasAlertEmail'], { 'Fn::Not': [{ 'Fn::Equals': [ALERT_EMAIL, ''] }] });

    // ------------------------------------------------------------------ IAM
    const all = statements(template);
    assert.ok(all.length >= 5, 'found the policy statements');
    for (const s of all) {
      const actions = list(s['Action']);
      const targets = list(s['Resource']);
      assert.ok(!(s['Effect'] === 'Allow' && actions.includes('*') && targets.includes('*')), `"*" on "*": ${JSON.stringify(s)}`);
    }
    // `Resource: '*'` only where AWS requires it, each statement allow-listed above with its reason.
    for (const s of all) {
      if (!list(s['Resource']).includes('*')) continue;
      const allowed = STAR_RESOURCE_ALLOWED[s['Sid'] as string];
      assert.ok(allowed, `statement with "*" resource that is not allow-listed: ${JSON.stringify(s)}`);
      assert.deepEqual(list(s['Action']).sort(), allowed.actions, `${s['Sid']} may only carry ${allowed.actions.join(', ')} (${allowed.reason})`);
    }
    for (const sid of Object.keys(STAR_RESOURCE_ALLOWED))
      assert.ok(
        all.some((s) => s['Sid'] === sid),
        `allow-list entry ${sid} is still used`,
      );

    // One role per function, made for it, trusted by Lambda only; no shared default role.
    assert.equal(resources['IamRoleLambdaExecution'], undefined, 'no shared Lambda role');
    const lambdas = Object.fromEntries(ofType(resources, 'AWS::Lambda::Function'));
    const roleOf = (fn: string) => {
      const ref = lambdas[fn]!.Properties.Role;
      assert.ok(ref?.['Fn::GetAtt']?.[1] === 'Arn', `${fn} names a role of this stack: ${JSON.stringify(ref)}`);
      const role = resources[ref['Fn::GetAtt'][0]];
      assert.equal(role?.Type, 'AWS::IAM::Role', `${fn}'s role`);
      return { id: ref['Fn::GetAtt'][0] as string, role, statements: statements(role.Properties.Policies) };
    };
    const roleIds = Object.keys(lambdas).map((fn) => roleOf(fn).id);
    assert.equal(new Set(roleIds).size, roleIds.length, `each function has its own role: ${roleIds.join(', ')}`);
    for (const fn of Object.keys(lambdas)) {
      const { id, role, statements: st } = roleOf(fn);
      assert.deepEqual(role.Properties.AssumeRolePolicyDocument.Statement, [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }], `${id} trust`);
      assert.ok(st.length > 0, `${id} has statements`);
      for (const s of st) {
        for (const action of list(s['Action'])) assert.ok(typeof action === 'string' && !action.includes('*'), `wildcard action in ${id}: ${action}`);
        assert.ok(s['Effect'] === 'Allow' || s['Effect'] === 'Deny');
      }
      // Its own log group, nothing else of CloudWatch Logs.
      const logs = st.filter((s) => list(s['Action']).some((a) => String(a).startsWith('logs:')));
      assert.equal(logs.length, 1, `${id}: one logs statement`);
      assert.deepEqual(list(logs[0]!['Action']).sort(), ['logs:CreateLogStream', 'logs:PutLogEvents']);
      const groupName = resources[fn.replace(/LambdaFunction$/, 'LogGroup')].Properties.LogGroupName as string;
      assert.deepEqual(list(logs[0]!['Resource']), [{ 'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:${groupName}:*` }], `${id}: its own log group`);
    }
    const granted = (fn: string, prefix: string) => roleOf(fn).statements.filter((s) => s['Effect'] === 'Allow' && list(s['Action']).some((a) => String(a).startsWith(prefix)));
    const resourcesOf = (ss: Json[]) => ss.flatMap((s) => list(s['Resource']).map((r) => JSON.stringify(r))).sort();
    const arnOf = (id: string) => JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] });

    // Queues: each consumer its own queue; nobody else any.
    const consumers: Record<string, string> = {
      DestinationInboxLambdaFunction: 'DestinationInboxQueue',
      FlowOutputInboxLambdaFunction: 'FlowOutputQueue',
      ChannelProvisionerInboxLambdaFunction: 'ChannelProvisionerQueue',
      CostTrackerInboxLambdaFunction: 'CostTrackerQueue',
      NotifierInboxLambdaFunction: 'NotifierQueue',
      NotifierWakeLambdaFunction: 'NotifierWakeQueue',
    };
    // The notifier's functions schedule its wake-ups (ADR 0027): SendMessage to the wake queue, nothing else.
    const wakeSenders = ['NotifierInboxLambdaFunction', 'NotifierTickLambdaFunction', 'NotifierWakeLambdaFunction'];
    for (const fn of Object.keys(lambdas)) {
      const all = granted(fn, 'sqs:');
      const sends = all.filter((x) => list(x['Action']).includes('sqs:SendMessage'));
      const sqs = all.filter((x) => !sends.includes(x));
      if (wakeSenders.includes(fn)) assert.deepEqual([sends.flatMap((x) => list(x['Action'])), resourcesOf(sends)], [['sqs:SendMessage'], [arnOf('NotifierWakeQueue')]], `${fn} sends wake-ups only`);
      else assert.deepEqual(sends, [], `${fn} sends to no queue`);
      if (!consumers[fn]) {
        assert.deepEqual(sqs, [], `${fn} reads no queue`);
        continue;
      }
      assert.deepEqual(list(sqs[0]!['Action']).sort(), ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage']);
      assert.deepEqual(resourcesOf(sqs), [arnOf(consumers[fn]!)], `${fn}: its own queue only`);
    }
    // The AWS Price List (cost-tracker's rate refresh): GetProducts only, by the refresh function and the API.
    for (const fn of Object.keys(lambdas)) {
      const pricing = granted(fn, 'pricing:');
      if (['CostTrackerPriceListLambdaFunction', 'CostTrackerApiLambdaFunction'].includes(fn)) assert.deepEqual([pricing.flatMap((x) => list(x['Action'])), resourcesOf(pricing)], [['pricing:GetProducts'], ['"*"']], `${fn} Price List`);
      else assert.deepEqual(pricing, [], `${fn} reads no price list`);
    }

    // Tables: exactly the ones each function touches.
    const index = (table: string, name: string) => JSON.stringify({ 'Fn::Sub': `\${${table}.Arn}/index/${name}` });
    const tablesOf: Record<string, string[]> = {
      ApiLambdaFunction: [...['DestinationsTable', 'PlatformsTable', 'PresetsTable', 'SystemTable', 'TokensTable'].map(arnOf), index('DestinationsTable', 'byCreation')],
      DestinationInboxLambdaFunction: ['DestinationsTable', 'IdempotencyTable', 'SystemTable'].map(arnOf),
      OutboxRelayLambdaFunction: [arnOf('DestinationsTable')],
      FlowOutputInboxLambdaFunction: ['DestinationsTable', 'FlowOutputsTable', 'IdempotencyTable'].map(arnOf),
      FlowOutputReconcileLambdaFunction: ['DestinationsTable', 'FlowOutputsTable'].map(arnOf),
      ChannelProvisionerInboxLambdaFunction: [...['ChannelsTable', 'DestinationsTable', 'IdempotencyTable', 'PresetsTable'].map(arnOf), index('ChannelsTable', 'channelId-index')],
      ChannelReconcileLambdaFunction: [...['ChannelsTable', 'DestinationsTable', 'PresetsTable'].map(arnOf), index('ChannelsTable', 'channelId-index')],
      AdminBootstrapLambdaFunction: [arnOf('TokensTable')],
      ChannelProvisionerApiLambdaFunction: [...['ChannelsTable', 'DestinationsTable', 'PresetsTable', 'TokensTable'].map(arnOf), index('ChannelsTable', 'channelId-index')],
      CostTrackerApiLambdaFunction: ['CostsTable', 'TokensTable'].map(arnOf),
      CostTrackerInboxLambdaFunction: ['CostsTable', 'DestinationsTable', 'IdempotencyTable', 'PresetsTable'].map(arnOf),
      CostTrackerTickLambdaFunction: ['CostsTable', 'DestinationsTable', 'PresetsTable'].map(arnOf),
      CostTrackerSummaryLambdaFunction: [arnOf('CostsTable')],
      CostTrackerPriceListLambdaFunction: [arnOf('CostsTable')],
      NotifierInboxLambdaFunction: ['DestinationsTable', 'IdempotencyTable', 'NotifierTable'].map(arnOf),
      NotifierTickLambdaFunction: ['DestinationsTable', 'NotifierTable'].map(arnOf),
      NotifierWakeLambdaFunction: ['DestinationsTable', 'NotifierTable'].map(arnOf),
      NotifierApiLambdaFunction: ['DestinationsTable', 'NotifierTable', 'TokensTable'].map(arnOf),
    };
    assert.deepEqual(Object.keys(tablesOf).sort(), Object.keys(lambdas).sort(), 'every function is covered');
    for (const [fn, tables] of Object.entries(tablesOf)) assert.deepEqual(resourcesOf(granted(fn, 'dynamodb:')), [...tables].sort(), `${fn} tables`);
    // Read-only where a function only reads; the bootstrap may only list tokens and add one.
    for (const fn of [
      'FlowOutputInboxLambdaFunction',
      'ChannelProvisionerInboxLambdaFunction',
      'CostTrackerInboxLambdaFunction',
      'CostTrackerTickLambdaFunction',
      'NotifierInboxLambdaFunction',
      'NotifierTickLambdaFunction',
      'NotifierWakeLambdaFunction',
      'NotifierApiLambdaFunction',
    ]) {
      for (const s of granted(fn, 'dynamodb:').filter((x) => resourcesOf([x]).includes(arnOf('DestinationsTable')))) {
        assert.deepEqual(list(s['Action']).sort(), ['dynamodb:GetItem', 'dynamodb:Scan'], `${fn} only reads destinations`);
      }
    }
    assert.deepEqual(list(granted('AdminBootstrapLambdaFunction', 'dynamodb:')[0]!['Action']).sort(), ['dynamodb:PutItem', 'dynamodb:Scan']);

    // Domain events: every function but the bootstrap and the Price List refresh publishes, to the Fanout bus only.
    for (const fn of Object.keys(lambdas)) {
      const events = granted(fn, 'events:');
      if (fn === 'AdminBootstrapLambdaFunction' || fn === 'CostTrackerPriceListLambdaFunction') assert.deepEqual(events, []);
      else assert.deepEqual([list(events[0]!['Action']), resourcesOf(events)], [['events:PutEvents'], [arnOf('FanoutBus')]], `${fn} PutEvents`);
    }

    // KMS: the API encrypts (and decrypts to compare on update), channel-provisioner decrypts, nobody else.
    const kms: Record<string, string[]> = {
      ApiLambdaFunction: ['kms:Decrypt', 'kms:Encrypt'],
      ChannelProvisionerInboxLambdaFunction: ['kms:Decrypt'],
      ChannelReconcileLambdaFunction: ['kms:Decrypt'],
      // Webhook URLs and signing secrets: the notifier's API encrypts them, its senders decrypt.
      NotifierApiLambdaFunction: ['kms:Decrypt', 'kms:Encrypt'],
      NotifierInboxLambdaFunction: ['kms:Decrypt'],
      NotifierTickLambdaFunction: ['kms:Decrypt'],
      NotifierWakeLambdaFunction: ['kms:Decrypt'],
    };
    // SNS: only the notifier publishes, to its own topic.
    for (const fn of Object.keys(lambdas)) {
      const sns = granted(fn, 'sns:');
      if (!fn.startsWith('Notifier')) assert.deepEqual(sns, [], `${fn} publishes to no topic`);
      else assert.deepEqual([sns.flatMap((x) => list(x['Action'])), resourcesOf(sns)], [['sns:Publish'], [JSON.stringify({ Ref: 'NotificationsTopic' })]], `${fn} SNS`);
    }
    for (const fn of Object.keys(lambdas)) {
      const k = granted(fn, 'kms:');
      assert.deepEqual(k.flatMap((s) => list(s['Action'])).sort(), kms[fn] ?? [], `${fn} KMS actions`);
      if (k.length) assert.deepEqual(resourcesOf(k), [arnOf('StreamKeyKey')]);
    }

    // Secrets Manager: no function reads a secret (MediaConnect reads the SRT passphrase itself).
    for (const fn of Object.keys(lambdas)) assert.deepEqual(granted(fn, 'secretsmanager:'), [], `${fn} reads no secret`);

    // Media services: only flow-output and channel-provisioner, each only its part; the api
    // function reads the flow's health (issue 12 item 8) and switches its inputs (issue 15:
    // UpdateFlow's SourceFailoverConfig, the flow's tags), on the flow alone.
    const media = ['FlowOutputInboxLambdaFunction', 'FlowOutputReconcileLambdaFunction', 'ChannelProvisionerInboxLambdaFunction', 'ChannelReconcileLambdaFunction', 'ChannelProvisionerApiLambdaFunction'];
    assert.deepEqual(
      granted('ApiLambdaFunction', 'mediaconnect:')
        .flatMap((s) => list(s['Action']))
        .sort(),
      ['mediaconnect:DescribeFlow', 'mediaconnect:DescribeFlowSourceMetadata', 'mediaconnect:ListTagsForResource', 'mediaconnect:TagResource', 'mediaconnect:UpdateFlow'],
    );
    assert.deepEqual([...new Set(resourcesOf(granted('ApiLambdaFunction', 'mediaconnect:')))], [JSON.stringify({ 'Fn::GetAtt': ['ContributionFlow', 'FlowArn'] })], 'api: the contribution flow only');
    for (const fn of Object.keys(lambdas).filter((f) => !media.includes(f))) {
      if (fn === 'ApiLambdaFunction') {
        for (const prefix of ['medialive:', 'mediapackagev2:', 'iam:']) assert.deepEqual(granted(fn, prefix), [], `${fn} has no ${prefix} actions`);
        continue;
      }
      for (const prefix of ['medialive:', 'mediaconnect:', 'mediapackagev2:', 'iam:']) assert.deepEqual(granted(fn, prefix), [], `${fn} has no ${prefix} actions`);
    }
    const channelArns = JSON.stringify({ 'Fn::Sub': 'arn:${AWS::Partition}:medialive:${AWS::Region}:${AWS::AccountId}:channel:*' });
    const inputArns = JSON.stringify({ 'Fn::Sub': 'arn:${AWS::Partition}:medialive:${AWS::Region}:${AWS::AccountId}:input:*' });
    const allowedOn = (fn: string, action: string) => resourcesOf(roleOf(fn).statements.filter((s) => s['Effect'] === 'Allow' && list(s['Action']).includes(action)));
    for (const fn of ['FlowOutputInboxLambdaFunction', 'FlowOutputReconcileLambdaFunction']) {
      assert.deepEqual(
        granted(fn, 'mediaconnect:')
          .flatMap((s) => list(s['Action']))
          .sort(),
        ['mediaconnect:DescribeFlow', 'mediaconnect:DescribeFlowSourceMetadata', 'mediaconnect:ListTagsForResource', 'mediaconnect:StartFlow', 'mediaconnect:StopFlow', 'mediaconnect:TagResource'],
      );
      assert.deepEqual(resourcesOf(granted(fn, 'mediaconnect:')), [JSON.stringify({ 'Fn::GetAtt': ['ContributionFlow', 'FlowArn'] })], `${fn}: the contribution flow only`);
      assert.deepEqual(
        granted(fn, 'medialive:')
          .flatMap((s) => list(s['Action']))
          .sort(),
        ['medialive:CreateInput', 'medialive:CreateTags', 'medialive:DeleteInput', 'medialive:DescribeChannel', 'medialive:DescribeInput', 'medialive:ListInputs', 'medialive:StartChannel'],
      );
      for (const a of ['medialive:CreateInput', 'medialive:DeleteInput', 'medialive:CreateTags']) assert.deepEqual(allowedOn(fn, a), [inputArns], `${fn} ${a}: inputs only`);
      assert.deepEqual(allowedOn(fn, 'medialive:DescribeChannel'), [channelArns]);
      assert.deepEqual(allowedOn(fn, 'medialive:StartChannel'), [arnOf('PrimaryChannel')], `${fn} may start the primary channel and no other`);
    }
    for (const fn of ['ChannelProvisionerInboxLambdaFunction', 'ChannelReconcileLambdaFunction']) {
      assert.deepEqual(granted(fn, 'mediaconnect:'), [], `${fn} never touches the flow`);
      assert.deepEqual(
        [...new Set(granted(fn, 'medialive:').flatMap((s) => list(s['Action'])))].sort(),
        ['CreateChannel', 'CreateTags', 'DeleteChannel', 'DescribeChannel', 'DescribeInput', 'ListChannels', 'StartChannel', 'StopChannel', 'UpdateChannel'].map((a) => `medialive:${a}`),
      );
      assert.deepEqual(allowedOn(fn, 'medialive:DeleteChannel'), [channelArns, inputArns].sort(), `${fn}: channels (and the inputs CreateChannel attaches) of this account and Region`);
      const deny = roleOf(fn).statements.find((s) => s['Effect'] === 'Deny');
      assert.deepEqual(resourcesOf([deny!]), [arnOf('PrimaryChannel')], `${fn} may never change the primary channel`);
      for (const a of ['medialive:StartChannel', 'medialive:StopChannel', 'medialive:UpdateChannel', 'medialive:DeleteChannel']) assert.ok(list(deny!['Action']).includes(a), `${a} denied on the primary`);
    }
    // Orphan cleanup (channelProvisionerApi): list, describe, stop and delete; it creates nothing and passes no role.
    {
      const fn = 'ChannelProvisionerApiLambdaFunction';
      assert.deepEqual(
        [
          ...new Set(
            granted(fn, 'medialive:')
              .filter((s) => s['Effect'] === 'Allow')
              .flatMap((s) => list(s['Action'])),
          ),
        ].sort(),
        ['DeleteChannel', 'DeleteInput', 'DescribeChannel', 'DescribeInput', 'ListChannels', 'ListInputs', 'StopChannel'].map((a) => `medialive:${a}`),
      );
      assert.deepEqual(
        granted(fn, 'mediaconnect:').flatMap((s) => list(s['Action'])),
        ['mediaconnect:DescribeFlow'],
      );
      assert.deepEqual(granted(fn, 'iam:'), [], 'no PassRole: it creates nothing');
      const deny = roleOf(fn).statements.find((s) => s['Effect'] === 'Deny');
      assert.deepEqual(resourcesOf([deny!]), [arnOf('PrimaryChannel')], 'cleanup may never touch the primary channel');
    }
    for (const fn of media) assert.ok(!roleOf(fn).statements.some((s) => list(s['Action']).some((a) => String(a).startsWith('mediaconnect:Managed'))), `${fn} never acts as MediaLive`);
    // iam:PassRole: only MediaLive's role, only to MediaLive, only in the roles that create inputs/channels.
    const passRole = all.filter((s) => list(s['Action']).some((a) => a === 'iam:PassRole' || a === 'iam:*' || a === '*'));
    assert.ok(passRole.length > 0);
    for (const s of passRole) {
      assert.deepEqual(list(s['Resource']), [{ 'Fn::GetAtt': ['MediaLiveAccessRole', 'Arn'] }]);
      assert.deepEqual(s['Condition'], { StringEquals: { 'iam:PassedToService': 'medialive.amazonaws.com' } });
      assert.deepEqual(list(s['Action']), ['iam:PassRole']);
    }
    const creators = media.filter((fn) => fn !== 'ChannelProvisionerApiLambdaFunction');
    for (const fn of Object.keys(lambdas)) assert.equal(granted(fn, 'iam:').length, creators.includes(fn) ? 1 : 0, `${fn} PassRole`);

    // ------------------------------------------------------------------ functions, HTTP API
    const functions = Object.fromEntries(ofType(resources, 'AWS::Lambda::Function'));
    assert.deepEqual(Object.keys(functions).sort(), [
      'AdminBootstrapLambdaFunction',
      'ApiLambdaFunction',
      'ChannelProvisionerApiLambdaFunction',
      'ChannelProvisionerInboxLambdaFunction',
      'ChannelReconcileLambdaFunction',
      'CostTrackerApiLambdaFunction',
      'CostTrackerInboxLambdaFunction',
      'CostTrackerPriceListLambdaFunction',
      'CostTrackerSummaryLambdaFunction',
      'CostTrackerTickLambdaFunction',
      'DestinationInboxLambdaFunction',
      'FlowOutputInboxLambdaFunction',
      'FlowOutputReconcileLambdaFunction',
      'NotifierApiLambdaFunction',
      'NotifierInboxLambdaFunction',
      'NotifierTickLambdaFunction',
      'NotifierWakeLambdaFunction',
      'OutboxRelayLambdaFunction',
    ]);
    const expectedFns: Record<string, [string, number]> = {
      ChannelProvisionerApiLambdaFunction: ['shared/runtimes/aws/channel-provisioner.api', 29],
      ChannelProvisionerInboxLambdaFunction: ['shared/runtimes/aws/channel-provisioner.inbox', 60],
      ChannelReconcileLambdaFunction: ['shared/runtimes/aws/channel-provisioner.reconcile', 300],
      FlowOutputInboxLambdaFunction: ['shared/runtimes/aws/flow-output.inbox', 60],
      FlowOutputReconcileLambdaFunction: ['shared/runtimes/aws/flow-output.reconcile', 120],
      ApiLambdaFunction: ['shared/runtimes/aws/destination.api', 29],
      DestinationInboxLambdaFunction: ['shared/runtimes/aws/destination.inbox', 30],
      OutboxRelayLambdaFunction: ['shared/runtimes/aws/destination.outboxRelay', 60],
      AdminBootstrapLambdaFunction: ['shared/runtimes/aws/destination.adminBootstrap', 10],
      CostTrackerApiLambdaFunction: ['shared/runtimes/aws/cost-tracker.api', 29],
      CostTrackerInboxLambdaFunction: ['shared/runtimes/aws/cost-tracker.inbox', 60],
      CostTrackerTickLambdaFunction: ['shared/runtimes/aws/cost-tracker.tick', 60],
      CostTrackerSummaryLambdaFunction: ['shared/runtimes/aws/cost-tracker.summary', 60],
      CostTrackerPriceListLambdaFunction: ['shared/runtimes/aws/cost-tracker.priceList', 120],
      NotifierInboxLambdaFunction: ['shared/runtimes/aws/notifier.inbox', 60],
      NotifierTickLambdaFunction: ['shared/runtimes/aws/notifier.tick', 120],
      NotifierWakeLambdaFunction: ['shared/runtimes/aws/notifier.wake', 120],
      NotifierApiLambdaFunction: ['shared/runtimes/aws/notifier.api', 29],
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
      assert.equal(env.FANOUT_DEPLOYMENT, 'fanout-dev');
      assert.deepEqual(env.FANOUT_MEDIACONNECT_FLOW_ARN, { 'Fn::GetAtt': ['ContributionFlow', 'FlowArn'] });
      assert.deepEqual(env.FANOUT_MEDIALIVE_ROLE_ARN, { 'Fn::GetAtt': ['MediaLiveAccessRole', 'Arn'] });
      assert.deepEqual(env.FANOUT_PRIMARY_CHANNEL_ID, { Ref: 'PrimaryChannel' });
      assert.equal(env.NODE_OPTIONS, '--enable-source-maps');
      assert.deepEqual(env.FANOUT_NOTIFY_WAKE_QUEUE_URL, { Ref: 'NotifierWakeQueue' });
    }
    assert.equal(ofType(resources, 'AWS::Lambda::Version').length, Object.keys(functions).length, 'versionFunctions: true');
    // The bootstrap function runs only when invoked: no event source, no schedule, no route.
    assert.ok(
      !JSON.stringify([...ofType(resources, 'AWS::Lambda::EventSourceMapping'), ...ofType(resources, 'AWS::Events::Rule'), ...ofType(resources, 'AWS::Lambda::Permission')]).includes('AdminBootstrap'),
      'nothing triggers adminBootstrap',
    );
    for (const [id, group] of ofType(resources, 'AWS::Logs::LogGroup')) assert.equal(group.Properties.RetentionInDays, 30, id);

    const apis = ofType(resources, 'AWS::ApiGatewayV2::Api');
    assert.equal(apis.length, 1);
    assert.equal(apis[0]![1].Properties.ProtocolType, 'HTTP');
    assert.equal(apis[0]![1].Properties.CorsConfiguration, undefined, 'cors: false');
    // The destination API takes everything; channel-provisioner's two routes are more specific.
    assert.deepEqual(
      ofType(resources, 'AWS::ApiGatewayV2::Route')
        .map(([, r]) => r.Properties.RouteKey)
        .sort(),
      [
        '$default',
        'ANY /api/admin/cost/budget',
        'ANY /api/admin/cost/rates',
        'ANY /api/admin/cost/rates/refresh',
        'ANY /api/admin/notifications/{proxy+}',
        'GET /api/channels/validate',
        'GET /api/cost',
        'GET /api/cost/sessions',
        'POST /api/channels/cleanup',
        'POST /api/cost/estimate',
      ],
    );

    assert.deepEqual(template['Outputs']['EventBusName'].Value, { Ref: 'FanoutBus' });
    assert.ok(template['Outputs']['HttpApiUrl'], 'the API URL output');
    // What docs/deploy-aws.md tells the operator to read after a deploy.
    for (const output of ['ContributionFlowArn', 'SrtIngestAddress', 'SrtIngestPort', 'SrtAllowedCidr', 'SrtPassphraseSecretArn', 'MediaLiveRoleArn', 'PrimaryChannelId', 'PrimaryHlsUrl', 'AlertsTopicArn']) {
      assert.ok(template['Outputs'][output], `${output} output`);
    }
    assert.equal(template['Outputs']['SrtAllowedCidr'].Value, SRT_CIDR);

    // ------------------------------------------------------------------ dashboards (S3 + CloudFront)
    const bucket = resources['DashboardBucket'];
    assert.equal(bucket.Type, 'AWS::S3::Bucket');
    assert.deepEqual(bucket.Properties.PublicAccessBlockConfiguration, { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true }, 'the site bucket is private');
    const sitePolicy = resources['DashboardBucketPolicy'].Properties.PolicyDocument.Statement as Json[];
    assert.deepEqual(
      sitePolicy,
      [
        {
          Sid: 'DashboardDistributionReads',
          Effect: 'Allow',
          Principal: { Service: 'cloudfront.amazonaws.com' },
          Action: 's3:GetObject',
          Resource: { 'Fn::Sub': '${DashboardBucket.Arn}/*' },
          Condition: { StringEquals: { 'AWS:SourceArn': { 'Fn::Sub': 'arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${DashboardDistribution}' } } },
        },
      ],
      'only this distribution reads the site, nobody writes through a policy',
    );
    const dist = resources['DashboardDistribution'].Properties.DistributionConfig;
    const origins = Object.fromEntries((dist.Origins as Json[]).map((o) => [o.Id, o]));
    assert.deepEqual(origins['dashboard-site'].DomainName, { 'Fn::GetAtt': ['DashboardBucket', 'RegionalDomainName'] });
    assert.deepEqual(origins['dashboard-site'].OriginAccessControlId, { 'Fn::GetAtt': ['DashboardOriginAccessControl', 'Id'] });
    assert.deepEqual(origins['fanout-api'].DomainName, { 'Fn::Sub': '${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}' }, 'the API behind the same origin');
    assert.equal(origins['fanout-api'].CustomOriginConfig.OriginProtocolPolicy, 'https-only');
    assert.equal(dist.DefaultCacheBehavior.TargetOriginId, 'dashboard-site');
    assert.equal(dist.DefaultCacheBehavior.ViewerProtocolPolicy, 'redirect-to-https');
    assert.deepEqual(dist.DefaultCacheBehavior.ResponseHeadersPolicyId, { Ref: 'DashboardResponseHeaders' });
    const api = (dist.CacheBehaviors as Json[]).find((b) => b.PathPattern === '/api/*')!;
    assert.equal(api.TargetOriginId, 'fanout-api');
    assert.equal(api.CachePolicyId, '4135ea2d-6df8-44a3-9df3-4b5a84be39ad', 'Managed-CachingDisabled: no API answer is cached');
    assert.equal(api.OriginRequestPolicyId, 'b689b0a8-53d0-40ab-baf2-68738e2966ac', 'Managed-AllViewerExceptHostHeader: Authorization reaches the API');
    assert.deepEqual([...api.AllowedMethods].sort(), ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT']);
    // One Content-Security-Policy: the local runtime's (site.ts) plus the primary HLS origin.
    const security = resources['DashboardResponseHeaders'].Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    const [csp, cspVars] = security.ContentSecurityPolicy.ContentSecurityPolicy['Fn::Sub'] as [string, Json];
    assert.equal(csp, contentSecurityPolicy(['https://${HlsHost}']), 'CloudFront sends the CSP of services/dashboard/site.ts');
    assert.deepEqual(cspVars.HlsHost['Fn::Select'][1]['Fn::Split'][1]['Fn::Select'][1], { 'Fn::GetAtt': ['PrimaryHlsEndpoint', 'HlsManifestUrls'] });
    assert.equal(security.FrameOptions.FrameOption, 'DENY');
    assert.equal(security.ReferrerPolicy.ReferrerPolicy, 'no-referrer');
    // The router, run: config.json from the stack's values; the app's routes to index.html; assets as they are.
    const router = resources['DashboardRouter'].Properties;
    assert.equal(router.FunctionConfig.Runtime, 'cloudfront-js-2.0');
    assert.deepEqual(dist.DefaultCacheBehavior.FunctionAssociations, [{ EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': ['DashboardRouter', 'FunctionMetadata.FunctionARN'] } }]);
    const [code, codeVars] = router.FunctionCode['Fn::Sub'] as [string, Json];
    assert.deepEqual(codeVars.SrtHost, { 'Fn::GetAtt': ['ContributionFlow', 'Source.IngestIp'] });
    const hlsUrl = 'https://abc123.egress.mediapackagev2.eu-west-1.amazonaws.com/out/v1/fanout-dev/primary/index.m3u8';
    const sandbox: Json = {};
    runInNewContext(`${code.replaceAll('${HlsUrl}', hlsUrl).replaceAll('${SrtHost}', '203.0.113.7')}\nthis.handler = handler;`, sandbox);
    const run = (uri: string): Json => sandbox.handler({ request: { uri, headers: {} } });
    const config = run('/config.json');
    assert.equal(config.statusCode, 200);
    assert.deepEqual(JSON.parse(config.body.data), { apiBase: '', hlsUrl, srt: { host: '203.0.113.7', port: 9998, keyLength: null }, runtime: 'aws' });
    for (const uri of ['/', '/admin', '/admin/', '/admin/tokens']) assert.equal(run(uri).uri, '/index.html', uri);
    for (const uri of ['/assets/index-AbC123.js', '/favicon.svg', '/admin/../secret']) assert.equal(run(uri).uri, uri, uri);
    assert.deepEqual(template['Outputs']['DashboardUrl'].Value, { 'Fn::Sub': 'https://${DashboardDistribution.DomainName}/' });
    assert.deepEqual(template['Outputs']['DashboardBucketName'].Value, { Ref: 'DashboardBucket' });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
