/**
 * flow-output's reconcile on AWS reports input switches (ADR 0024 "AWS"): MediaConnect has no
 * event for a source switch, so the reconcile observes the flow's inputs through the engine's sink
 * and publishes InputSwitched v1 for each switch, once: one MediaConnect made by itself, and one the
 * destination API recorded without a sink. Over the in-memory AWS; every request model-checked.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { loadConfig } from '../../config/index.ts';
import { AwsFake, FAST_TIMINGS } from '../../engines/aws/testing.ts';
import { AwsInputRedundancy } from '../../engines/aws/readers.ts';
import { expectAllValid, modelsOrSkip } from '../../engines/aws/request-capture.ts';
import type { BusEntry } from '../../events/publisher.ts';
import { flowOutputDepsFromConfig, reportInputSwitches } from './flow-output.ts';

/** An ACTIVE fake flow and flow-output's AWS deps on it, with what they publish collected. */
function reconcileRig(t: TestContext) {
  const fake = new AwsFake({ timings: FAST_TIMINGS, initialFlowState: 'ACTIVE' });
  t.after(() => fake.close());
  const cfg = loadConfig({
    FANOUT_RUNTIME: 'aws',
    AWS_REGION: fake.region,
    FANOUT_EVENT_BUS: 'fanout-dev',
    FANOUT_DEPLOYMENT: 'fanout-dev',
    FANOUT_MEDIACONNECT_FLOW_ARN: fake.flowArn,
    FANOUT_MEDIALIVE_ROLE_ARN: `arn:aws:iam::${fake.account}:role/MediaLiveAccessRole`,
  });
  const published: BusEntry[] = [];
  const deps = { ...flowOutputDepsFromConfig(cfg, { medialive: fake.medialive, mediaconnect: fake.mediaconnect }), publisher: { publish: async (e: BusEntry[]) => void published.push(...e) } };
  return { fake, deps, published };
}

test('the AWS reconcile observes the inputs and publishes InputSwitched once per switch, the API’s recorded ones included', async (t) => {
  const { fake, deps, published } = reconcileRig(t);
  const switched = () => published.filter((e) => e.DetailType === 'InputSwitched').map((e) => (JSON.parse(e.Detail) as { data: { from: string; to: string; reason: string } }).data);

  fake.connectSource('main');
  fake.connectSource('backup');
  assert.equal(await reportInputSwitches(deps), 0, 'the first input seen is not a switch');
  fake.loseSource('main');
  assert.equal(await reportInputSwitches(deps), 1);
  assert.equal(await reportInputSwitches(deps), 0, 'reported once');
  fake.connectSource('main');
  // The destination API switches (no sink): recorded on the flow, reported by the next reconcile.
  const api = new AwsInputRedundancy({ flowArn: fake.flowArn }, { mediaconnect: fake.mediaconnect });
  await reportInputSwitches(deps); // MediaConnect went back to the primary (recovered)
  await api.switchInput('backup');
  assert.equal(await reportInputSwitches(deps), 1);
  assert.deepEqual(
    switched().map((d) => [d.from, d.to, d.reason]),
    [
      ['main', 'backup', 'input-loss'],
      ['backup', 'main', 'recovered'],
      ['main', 'backup', 'manual'],
    ],
  );
  const models = modelsOrSkip(t);
  if (models) expectAllValid(fake.captured(), models);
});

test('the AWS reconcile reports the slate’s timeout once (reason slate-timeout), and sends MediaLive nothing for it', async (t) => {
  const { fake, deps, published } = reconcileRig(t);
  const switched = () => published.filter((e) => e.DetailType === 'InputSwitched').map((e) => (JSON.parse(e.Detail) as { data: { from: string; to: string; reason: string; slateStopsAt: string | null } }).data);
  await new AwsInputRedundancy({ flowArn: fake.flowArn }, { mediaconnect: fake.mediaconnect }).setFailover({ mode: 'automatic', inputLossThresholdMs: 1000, errorClearTimeMs: 10_000, slateTimeoutMs: 50 });
  fake.connectSource('main');
  await reportInputSwitches(deps);
  fake.loseSource('main');
  assert.equal(await reportInputSwitches(deps), 1, 'the slate on air');
  const medialiveBefore = fake.captured().filter((c) => c.service === 'medialive').length;
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(await reportInputSwitches(deps), 1, 'its time ran out');
  assert.equal(await reportInputSwitches(deps), 0, 'reported once');
  assert.equal(fake.captured().filter((c) => c.service === 'medialive').length, medialiveBefore, 'flow-output stops no channel itself');
  assert.deepEqual(
    switched().map((d) => [d.from, d.to, d.reason]),
    [
      ['main', 'slate', 'input-loss'],
      ['slate', 'slate', 'slate-timeout'],
    ],
  );
  assert.equal(switched()[1]!.slateStopsAt, null);
  const models = modelsOrSkip(t);
  if (models) expectAllValid(fake.captured(), models);
});
