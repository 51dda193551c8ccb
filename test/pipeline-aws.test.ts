/**
 * The whole saga through the services on the production AWS engine: the local runtime (dynalite,
 * the in-process EventBridge + SQS wired from serverless.yml, every handler) drives AwsMediaEngine,
 * whose MediaLive and MediaConnect clients are answered by the in-memory AWS (aws-fake.ts: AWS's
 * state machines, its timings scaled down 2000x, its native events delivered on the default bus
 * as AWS delivers them). Covered: add → start → RUNNING → stop → delete with every resource gone;
 * duplicate and out-of-order native events; a Lambda cut short right after a resource was created,
 * resumed by the queue's redelivery without duplicates; every request the engine sent checked
 * against the official service models (skipped with a message where ../shared/aws-models is absent).
 *
 * Scheduled functions (the reconciles) are off: what resumes a saga here is the redelivery alone.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { AwsFake } from '../shared/engines/aws/aws-fake.ts';
import { expectAllValid, modelsOrSkip } from '../shared/engines/aws/request-capture.ts';
import { eventually, startTestRuntime, type TestRuntime } from './support/local.ts';

interface Destination {
  status: string;
  desired: string;
  mediaLiveChannelId: string | null;
  mediaConnectOutputArn: string | null;
}

const get = async (rt: TestRuntime, id: string) => (await rt.api('GET', `/api/destinations/${id}`)).json as Destination;
const until = (rt: TestRuntime, id: string, want: string) => eventually(async () => (await get(rt, id)).status === want, { timeoutMs: 30_000, what: `status ${want}` });

async function start(t: TestContext, timeScale = 0.01): Promise<{ rt: TestRuntime; fake: AwsFake }> {
  // timeScale shortens the queues' visibility timeouts (at 0.01: function timeouts 0.3-0.6 s, redelivery after a failure in 1.8-3.6 s).
  const rt = await startTestRuntime({}, { engine: 'aws-fake', timeScale, schedules: false });
  t.after(() => rt.close());
  assert.ok(rt.awsFake, 'the runtime exposes the fake');
  // Start-up reconciles ran once: the flow is starting and the stack's primary is still IDLE.
  return { rt, fake: rt.awsFake };
}

async function create(rt: TestRuntime, name: string): Promise<string> {
  const res = await rt.api('POST', '/api/destinations', { body: { name, platform: 'youtube', streamKey: 'yt-aws-fake-0123456789' } });
  assert.equal(res.status, 201, res.text);
  return res.json.destinationId as string;
}

/** The destination's own resources in the fake (the primary's are not). */
function resourcesOf(fake: AwsFake, destinationId: string) {
  const live = fake.liveDestinationResources();
  return { channels: live.channels.filter((c) => c.Tags['fanout:destinationId'] === destinationId), inputs: live.inputs.filter((i) => i.Tags['fanout:destinationId'] === destinationId) };
}

const noDeadLetters = async (rt: TestRuntime) => {
  await rt.bus.drain(10_000);
  for (const [q, st] of Object.entries(rt.bus.queueStats())) assert.equal(st.dlq ?? 0, 0, `${q} has no dead letters`);
};

test('add → start → RUNNING (native MediaLive events) → stop → delete: every resource gone, every request valid', async (t) => {
  const models = modelsOrSkip(t);
  const { rt, fake } = await start(t, 0.05); // no redelivery wanted: function timeouts a loaded machine keeps (1.5-3 s)
  const id = await create(rt, 'YouTube main');
  await until(rt, id, 'idle');
  const idle = await get(rt, id);
  const mine = resourcesOf(fake, id);
  assert.equal(mine.inputs.length, 1, 'one MEDIACONNECT input');
  assert.equal(mine.channels.length, 1, 'one channel');
  assert.equal(idle.mediaConnectOutputArn, mine.inputs[0]!.Arn, 'the "output" is the input ARN (ADR 0007)');
  assert.equal(idle.mediaLiveChannelId, mine.channels[0]!.Id);
  assert.ok(
    fake.flowOutputs().some((o) => o.MediaLiveInputArn === mine.inputs[0]!.Arn),
    'MediaLive added its managed output to the flow',
  );

  assert.equal((await rt.api('POST', `/api/destinations/${id}/start`)).status, 202);
  await until(rt, id, 'running');
  assert.equal(fake.channel(idle.mediaLiveChannelId!)!.State, 'RUNNING');
  // The RUNNING status came from the native event on the default bus, through channel-provisioner.
  const native = rt.bus.publishedEvents().filter((e) => e.busName === 'default' && e.event.source === 'aws.medialive');
  assert.ok(native.some((e) => (e.event.detail as { state?: string }).state === 'RUNNING' && e.matchedRules.includes('ChannelProvisionerNativeRule')));

  // The always-on primary: flow ACTIVE, the stack's primary channel started by flow-output.
  await rt.bus.runScheduled('flowOutputReconcile');
  const flow = await eventually(
    async () => {
      await rt.bus.runScheduled('flowOutputReconcile');
      const f = (await rt.api('GET', '/api/mediaconnect/flow/status')).json;
      return f.primary?.state === 'RUNNING' && f;
    },
    { timeoutMs: 10_000, what: 'primary RUNNING' },
  );
  assert.equal(flow.state, 'ACTIVE');
  assert.equal(flow.primary.channelId, fake.primaryChannelId);

  assert.equal((await rt.api('POST', `/api/destinations/${id}/stop`)).status, 202);
  await until(rt, id, 'idle');
  assert.equal((await rt.api('DELETE', `/api/destinations/${id}`)).status, 202);
  await eventually(async () => (await rt.api('GET', `/api/destinations/${id}`)).status === 404, { timeoutMs: 20_000, what: 'destination gone' });
  // Every resource made for it is gone (the input's DeleteInput completes after a short delay).
  await eventually(() => resourcesOf(fake, id).inputs.length + resourcesOf(fake, id).channels.length === 0, { what: 'resources deleted in the fake' });
  const primaryInputArn = fake.flowOutputs().find((o) => o.Name === 'primary-medialive')!.MediaLiveInputArn;
  await eventually(() => JSON.stringify(fake.flowOutputs().map((o) => o.MediaLiveInputArn)) === JSON.stringify([primaryInputArn]), { what: "only the primary's flow output left" });
  assert.deepEqual(fake.liveDestinationResources(), { channels: [], inputs: [] });
  assert.equal(fake.channel(fake.primaryChannelId!)!.State, 'RUNNING', "the primary is untouched by a destination's teardown");
  const ops = fake.operations();
  for (const op of ['CreateInput', 'CreateChannel', 'StartChannel', 'StopChannel', 'DeleteChannel', 'DeleteInput', 'StartFlow']) assert.ok(ops.includes(op), `${op} sent`);
  assert.equal(ops.filter((o) => o === 'CreateInput').length, 1);
  assert.equal(ops.filter((o) => o === 'CreateChannel').length, 1);
  await noDeadLetters(rt);
  if (models) expectAllValid(fake.captured(), models);
});

test('duplicate and out-of-order native MediaLive events change nothing', async (t) => {
  const { rt, fake } = await start(t, 0.05); // no redelivery wanted: function timeouts a loaded machine keeps (1.5-3 s)
  const id = await create(rt, 'Twitch');
  await until(rt, id, 'idle');
  await rt.api('POST', `/api/destinations/${id}/start`);
  await until(rt, id, 'running');
  const channelId = (await get(rt, id)).mediaLiveChannelId!;
  const arn = fake.channel(channelId)!.Arn;
  await rt.bus.drain(10_000);
  const before = { dest: await get(rt, id), published: rt.published.length, ops: fake.operations().length };

  const history = rt.bus.publishedEvents().filter((e) => e.event.source === 'aws.medialive' && e.event.resources[0] === arn);
  const running = history.find((e) => (e.event.detail as { state: string }).state === 'RUNNING')!;
  const starting = history.find((e) => (e.event.detail as { state: string }).state === 'STARTING')!;
  // 1. EventBridge delivers the very same event again (same id: at-least-once delivery).
  rt.bus.sendMessage('ChannelProvisionerQueue', JSON.stringify(running.event));
  // 2. MediaLive reports RUNNING twice (a new event, same state and time).
  rt.bus.deliverServiceEvent({ Source: 'aws.medialive', DetailType: 'MediaLive Channel State Change', Detail: JSON.stringify(running.event.detail), Resources: [arn], Time: new Date(running.event.time) });
  // 3. A delayed STARTING from a minute earlier arrives after RUNNING (out of order).
  rt.bus.deliverServiceEvent({ Source: 'aws.medialive', DetailType: 'MediaLive Channel State Change', Detail: JSON.stringify(starting.event.detail), Resources: [arn], Time: new Date(Date.parse(starting.event.time) - 60_000) });
  // 4. A stale IDLE (the state before the start) from two minutes earlier.
  rt.bus.deliverServiceEvent({
    Source: 'aws.medialive',
    DetailType: 'MediaLive Channel State Change',
    Detail: JSON.stringify({ ...(starting.event.detail as object), state: 'IDLE', pipelines_running_count: 0 }),
    Resources: [arn],
    Time: new Date(Date.parse(starting.event.time) - 120_000),
  });
  await rt.bus.drain(10_000);

  assert.deepEqual(await get(rt, id), before.dest, 'the destination is unchanged');
  const statusChanges = rt.published.slice(before.published).filter((e) => e.DetailType === 'DestinationStatusChanged');
  assert.deepEqual(statusChanges, [], 'no status change published');
  const newOps = fake
    .operations()
    .slice(before.ops)
    .filter((o) => !o.startsWith('Describe') && !o.startsWith('List'));
  assert.deepEqual(newOps, [], 'no start, stop or create sent to AWS');
  assert.equal(fake.channel(channelId)!.State, 'RUNNING');
  await noDeadLetters(rt);
});

test('a Lambda cut short right after CreateInput / CreateChannel resumes on redelivery without duplicates', async (t) => {
  const models = modelsOrSkip(t);
  const { rt, fake } = await start(t);
  // AWS creates the input and the channel, but the function never sees the answers (it times out
  // or is killed right after the call): the SQS message is not deleted and comes back.
  fake.loseNextResponse('CreateInput');
  fake.loseNextResponse('CreateChannel');
  const id = await create(rt, 'Resumed');
  await rt.api('POST', `/api/destinations/${id}/start`);
  await until(rt, id, 'running');
  const mine = resourcesOf(fake, id);
  assert.equal(mine.inputs.length, 1, 'one input, not two');
  assert.equal(mine.channels.length, 1, 'one channel, not two');
  const ops = fake.operations();
  assert.equal(ops.filter((o) => o === 'CreateInput').length, 1, 'the redelivery found the input by its tags instead of creating another');
  assert.equal(ops.filter((o) => o === 'CreateChannel').length, 1, 'the redelivery found the channel by its tags');
  const d = await get(rt, id);
  assert.equal(d.mediaConnectOutputArn, mine.inputs[0]!.Arn);
  assert.equal(d.mediaLiveChannelId, mine.channels[0]!.Id);
  // And it still tears down completely.
  await rt.api('DELETE', `/api/destinations/${id}`);
  await eventually(async () => (await rt.api('GET', `/api/destinations/${id}`)).status === 404, { timeoutMs: 20_000, what: 'destination gone' });
  await eventually(() => fake.liveDestinationResources().inputs.length === 0 && fake.liveDestinationResources().channels.length === 0, { what: 'resources deleted' });
  await noDeadLetters(rt);
  if (models) expectAllValid(fake.captured(), models);
});

test("an exhausted MediaLive channel quota reaches the destination's lastError as the engine said it: QUOTA_EXCEEDED and the quota to raise", async (t) => {
  // Five destinations at once: function timeouts of 1.5-3 s, so a loaded machine does not time them out.
  const { rt, fake } = await start(t, 0.05);
  // The fake holds AWS's default quota of 5 channels per Region; the stack's primary is one of them.
  const filling = [];
  for (let i = 0; i < 4; i++) filling.push(await create(rt, `Filler ${i}`));
  for (const id of filling) await until(rt, id, 'idle');
  const id = await create(rt, 'One too many');
  const failed = await eventually(
    async () => {
      const d = (await rt.api('GET', `/api/destinations/${id}`)).json as Destination & { lastError: { code: string; message: string; hint: string } | null };
      return d.status === 'error' && d.lastError ? d : null;
    },
    { timeoutMs: 30_000, what: 'status error with lastError' },
  );
  assert.equal(failed.lastError!.code, 'QUOTA_EXCEEDED', "the engine's code, not CHANNEL_CREATE_FAILED");
  assert.match(failed.lastError!.message, /MediaLive CreateChannel .*limit of 5 channels/);
  assert.match(failed.lastError!.hint, /^Raise the quota in Service Quotas: MediaLive "Channels" per Region/);
  assert.equal(resourcesOf(fake, id).channels.length, 0, 'no channel was made');
  // A quota needs a person: the step is reported, not redelivered into the dead-letter queue.
  await noDeadLetters(rt);
});
