/**
 * The AWS runtime's entries build each service's dependencies from configuration alone: these
 * tests build them (no AWS call is made: clients only talk to AWS when a handler sends a command)
 * and check that the media engine is the AWS one, wired with the stack's settings, that a service
 * gets only what it needs (the destination service no engine), and that a function deployed
 * without its settings refuses to start with a message naming every missing variable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MediaConnectClient } from '@aws-sdk/client-mediaconnect';
import { MediaLiveClient } from '@aws-sdk/client-medialive';
import { loadConfig } from '../../config/index.ts';
import { AwsEngineError, AwsMediaEngine } from '../../engines/aws/index.ts';
import { channelProvisionerDepsFromConfig } from './channel-provisioner.ts';
import { destinationDepsFromConfig } from './destination.ts';
import { flowOutputDepsFromConfig } from './flow-output.ts';

const FLOW_ARN = 'arn:aws:mediaconnect:eu-west-1:111122223333:flow:1-AbCdEfGhIjKlMnOp-0123456789ab:fanout-dev-contribution';
const ROLE_ARN = 'arn:aws:iam::111122223333:role/fanout-dev-MediaLiveAccessRole-AbCdEf';

/** The environment serverless.yml gives every function (resolved values). */
const awsEnv = (overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> => ({
  FANOUT_RUNTIME: 'aws',
  AWS_REGION: 'eu-west-1',
  FANOUT_EVENT_BUS: 'fanout-dev',
  FANOUT_TABLE_DESTINATIONS: 'fanout-dev-destinations',
  FANOUT_KMS_KEY_ID: 'arn:aws:kms:eu-west-1:111122223333:key/0a1b2c3d-0000-0000-0000-000000000000',
  FANOUT_DEPLOYMENT: 'fanout-dev',
  FANOUT_MEDIACONNECT_FLOW_ARN: FLOW_ARN,
  FANOUT_MEDIALIVE_ROLE_ARN: ROLE_ARN,
  FANOUT_PRIMARY_CHANNEL_ID: '1234567',
  ...overrides,
});

test('aws runtime: the media engine is the AWS engine, built from the stack settings', () => {
  const cfg = loadConfig(awsEnv());
  assert.equal(cfg.deployment, 'fanout-dev');
  assert.equal(cfg.mediaConnectFlowArn, FLOW_ARN);
  assert.equal(cfg.mediaLiveRoleArn, ROLE_ARN);
  assert.equal(cfg.primaryChannelId, '1234567');

  const channels = channelProvisionerDepsFromConfig(cfg);
  assert.ok(channels.channel instanceof AwsMediaEngine);
  assert.equal(channels.flow, channels.channel, 'one engine serves both ports');
  assert.equal((channels.channel as AwsMediaEngine).flowArn, FLOW_ARN);
  assert.ok(channels.publisher, 'publisher');
  assert.ok(channels.cipher, 'cipher');
  assert.ok(flowOutputDepsFromConfig(cfg).flow instanceof AwsMediaEngine);
});

test('aws runtime: the destination service gets a store, publisher, cipher and auth, and no engine', () => {
  const deps = destinationDepsFromConfig(loadConfig(awsEnv({ FANOUT_DEPLOYMENT: undefined, FANOUT_MEDIACONNECT_FLOW_ARN: undefined, FANOUT_MEDIALIVE_ROLE_ARN: undefined })));
  assert.ok(deps.doc && deps.publisher && deps.cipher && deps.auth);
  assert.ok(!Object.values(deps).some((v) => v instanceof AwsMediaEngine));
  assert.throws(() => destinationDepsFromConfig(loadConfig(awsEnv({ FANOUT_KMS_KEY_ID: undefined }))), /FANOUT_KMS_KEY_ID/);
});

test('aws runtime: injected clients are used (no default clients needed)', () => {
  const medialive = new MediaLiveClient({ region: 'eu-west-1' });
  const mediaconnect = new MediaConnectClient({ region: 'eu-west-1' });
  assert.ok(channelProvisionerDepsFromConfig(loadConfig(awsEnv()), { medialive, mediaconnect }).channel instanceof AwsMediaEngine);
});

test('aws runtime: every missing engine setting is named at once', () => {
  const cfg = loadConfig(awsEnv({ FANOUT_DEPLOYMENT: undefined, FANOUT_MEDIACONNECT_FLOW_ARN: '', FANOUT_MEDIALIVE_ROLE_ARN: undefined }));
  for (const build of [() => channelProvisionerDepsFromConfig(cfg), () => flowOutputDepsFromConfig(cfg)]) {
    assert.throws(build, (err: Error) => {
      for (const name of ['FANOUT_DEPLOYMENT', 'FANOUT_MEDIACONNECT_FLOW_ARN', 'FANOUT_MEDIALIVE_ROLE_ARN']) assert.match(err.message, new RegExp(name));
      assert.doesNotMatch(err.message, /FANOUT_KMS_KEY_ID/);
      assert.match(err.message, /serverless\.yml/);
      return true;
    });
  }
  assert.throws(() => channelProvisionerDepsFromConfig(loadConfig(awsEnv({ FANOUT_KMS_KEY_ID: undefined }))), /FANOUT_KMS_KEY_ID/);
});

test('aws runtime: wrong values are refused by the engine (output ARN for the flow, flow in another Region)', () => {
  const outputArn = 'arn:aws:mediaconnect:eu-west-1:111122223333:output:2-QrStUvWxYzAbCdEf-0123456789ab:to-ml';
  assert.throws(
    () => channelProvisionerDepsFromConfig(loadConfig(awsEnv({ FANOUT_MEDIACONNECT_FLOW_ARN: outputArn }))),
    (err: unknown) => err instanceof AwsEngineError && err.code === 'INVALID_CONFIG' && /output ARN/.test(err.message),
  );
  assert.throws(
    () => flowOutputDepsFromConfig(loadConfig(awsEnv({ AWS_REGION: 'us-east-1' }))),
    (err: unknown) => err instanceof AwsEngineError && /eu-west-1 but region is us-east-1/.test(err.message),
  );
});

test('config: the deployment name must be usable in AWS names and tags', () => {
  assert.throws(() => loadConfig({ FANOUT_DEPLOYMENT: 'Fanout_Prod' }), /FANOUT_DEPLOYMENT/);
  assert.equal(loadConfig({}).deployment, undefined, 'optional: the local runtime does not need it');
  assert.equal(loadConfig({}).mediaConnectFlowArn, undefined);
});
