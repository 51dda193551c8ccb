/**
 * The slate's timeout on AWS (issue 15, ADR 0024 "AWS"): the local runtime drives the AWS engine
 * over the in-memory AWS (aws-fake.ts). Neither source delivers for `slateTimeoutMs`: the engine's
 * observation reports one InputSwitched slate-timeout, the destination service stops every
 * destination that wants to run (desired `stopped`, lastError INPUT_STALLED "the slate timed
 * out"), the channel-provisioner stops its MediaLive channel on DestinationStopRequested. An input
 * back later restarts nothing (desired says stopped), a reconcile neither; a start does, and
 * clears the error. Every request checked against the official models.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectAllValid, modelsOrSkip } from '../shared/engines/aws/request-capture.ts';
import { eventually, startTestRuntime, type TestRuntime } from './support/local.ts';

interface Destination {
  status: string;
  desired: string;
  mediaLiveChannelId: string | null;
  lastError: { code: string; message: string; hint: string } | null;
}

const get = async (rt: TestRuntime, id: string) => (await rt.api('GET', `/api/destinations/${id}`)).json as Destination;

test('past the slate’s time the destinations stop, saying why; an input back restarts nothing; a start does', { timeout: 60_000 }, async (t) => {
  // Function timeouts 1.5-3 s (timeScale 0.05): a loaded machine keeps them.
  const rt = await startTestRuntime({}, { engine: 'aws-fake', timeScale: 0.05, schedules: false });
  t.after(() => rt.close());
  const fake = rt.awsFake!;
  const health = async () => {
    const res = await rt.api('GET', '/api/mediaconnect/inputs/health');
    assert.equal(res.status, 200, res.text);
    return res.json as { active: string | null; lastSwitch: { reason: string } | null; slate: { stopsAt: string } | null };
  };
  const created = await rt.api('POST', '/api/destinations', { body: { name: 'YouTube', platform: 'youtube', streamKey: 'yt-aws-fake-0123456789' } });
  assert.equal(created.status, 201, created.text);
  const id = created.json.destinationId as string;
  await eventually(async () => (await get(rt, id)).status === 'idle', { timeoutMs: 30_000, what: 'idle' });
  assert.equal((await rt.api('POST', `/api/destinations/${id}/start`)).status, 202);
  await eventually(async () => (await get(rt, id)).status === 'running', { timeoutMs: 30_000, what: 'running' });
  const channelId = (await get(rt, id)).mediaLiveChannelId!;

  const put = await rt.api('PUT', '/api/mediaconnect/inputs/failover', { body: { mode: 'automatic', inputLossThresholdMs: 1000, errorClearTimeMs: 10_000, slateTimeoutMs: 1500 } });
  assert.equal(put.status, 200, put.text);
  fake.connectSource('main');
  assert.equal((await health()).active, 'main');
  fake.loseSource('main');
  assert.equal((await health()).active, 'slate', 'the channels show their input-loss slate');
  assert.equal((await get(rt, id)).status, 'running', 'the slate keeps the destination live');

  // The engine observes the slate's end on a read (flow-output's reconcile every minute on AWS; here the API's reads).
  const stopped = await eventually(
    async () => {
      await health();
      const d = await get(rt, id);
      return d.status === 'idle' && d;
    },
    { timeoutMs: 30_000, intervalMs: 200, what: 'stopped by the slate timeout' },
  );
  assert.equal(stopped.desired, 'stopped');
  assert.equal(stopped.lastError?.code, 'INPUT_STALLED');
  assert.match(stopped.lastError?.message ?? '', /slate timed out/);
  assert.equal(fake.channel(channelId)!.State, 'IDLE', 'the MediaLive channel stopped');
  const switched = () => rt.published.filter((e) => e.DetailType === 'InputSwitched').map((e) => (JSON.parse(e.Detail) as { data: { reason: string } }).data.reason);
  assert.equal(switched().filter((r) => r === 'slate-timeout').length, 1, 'one slate-timeout');

  fake.connectSource('main');
  assert.equal((await health()).lastSwitch?.reason, 'recovered');
  await rt.bus.runScheduled('channelReconcile');
  await rt.bus.runScheduled('flowOutputReconcile');
  await rt.bus.drain(10_000);
  const after = await get(rt, id);
  assert.deepEqual([after.status, after.desired, after.lastError?.code], ['idle', 'stopped', 'INPUT_STALLED'], 'nothing restarts it by itself; it still says why');
  assert.equal(fake.channel(channelId)!.State, 'IDLE');
  assert.equal(switched().filter((r) => r === 'slate-timeout').length, 1, 'still one');

  assert.equal((await rt.api('POST', `/api/destinations/${id}/start`)).status, 202);
  const restarted = await eventually(
    async () => {
      const d = await get(rt, id);
      return d.status === 'running' && d;
    },
    { timeoutMs: 30_000, what: 'running again' },
  );
  assert.equal(restarted.lastError, null, 'a start clears the reason');
  const models = modelsOrSkip(t);
  if (models) expectAllValid(fake.captured(), models);
});
