/**
 * Cost-aware idle reclaim (ADR 0008) end to end on the in-memory engine: a stopped destination's
 * channel and output are deleted by the scheduled reconcile once idle longer than
 * FANOUT_IDLE_CHANNEL_RECLAIM_MINUTES (here a fraction of a minute), the destination says so, and
 * a start still answers 202 and ends running on a re-created output and channel. The reconcile is
 * run on demand; state is polled with a deadline, never slept for.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EventPublisher } from '../shared/events/publisher.ts';
import type { MemoryEngine } from '../shared/engines/memory/memory-engine.ts';
import { eventually, startTestRuntime, type TestRuntime } from './support/local.ts';

type View = { status: string; desired: string; channelReclaimed: boolean; mediaLiveChannelId: string | null; mediaConnectOutputArn: string | null };
const get = async (rt: TestRuntime, id: string) => (await rt.api('GET', `/api/destinations/${id}`)).json as View;
const until = (rt: TestRuntime, id: string, what: string, ok: (v: View) => boolean, reconcile = false) =>
  eventually(
    async () => {
      if (reconcile) await rt.bus.runScheduled('channelReconcile');
      return ok(await get(rt, id));
    },
    { timeoutMs: 15_000, what },
  );
const statuses = (rt: TestRuntime, id: string) =>
  rt.published.filter((e) => e.DetailType === 'DestinationStatusChanged' && (JSON.parse(e.Detail) as { data: { destinationId: string } }).data.destinationId === id).map((e) => (JSON.parse(e.Detail) as { data: { to: string } }).data.to);

// 0.005 min = 300 ms of idle time.
const RECLAIM = { FANOUT_IDLE_CHANNEL_RECLAIM_MINUTES: '0.005' };

test('an idle stopped destination loses its channel and output, shows it, and a start re-creates them and ends running', async () => {
  const rt = await startTestRuntime(RECLAIM, { engine: 'memory' });
  try {
    const engine = rt.engine as MemoryEngine;
    const id = (await rt.api('POST', '/api/destinations', { body: { name: 'R', platform: 'youtube', streamKey: 'yt-reclaim-0123456789' } })).json.destinationId as string;
    await until(rt, id, 'idle', (v) => v.status === 'idle');
    const before = await get(rt, id);
    assert.equal(before.channelReclaimed, false);
    const oldChannel = before.mediaLiveChannelId!;

    await until(rt, id, 'reclaimed', (v) => v.channelReclaimed, true);
    const reclaimed = await get(rt, id);
    assert.equal(reclaimed.status, 'idle', 'still idle: nothing changes for the operator but the flag');
    assert.equal(reclaimed.desired, 'stopped');
    assert.equal(reclaimed.mediaLiveChannelId, null);
    await eventually(async () => (await engine.listChannels()).length === 0 && (await engine.describeFlow()).outputs.length === 0, { what: 'channel and output gone from the engine' });
    // At least once: a reconcile racing the DELETED event may announce it twice (consumers are idempotent).
    await rt.bus.drain(10_000);
    const reclaimEvents = rt.published.filter((e) => e.DetailType === 'ChannelReclaimed');
    assert.ok(reclaimEvents.length >= 1);
    for (const e of reclaimEvents) assert.equal((JSON.parse(e.Detail) as { data: { channelId: string } }).data.channelId, oldChannel);
    const v = (await rt.api('GET', '/api/channels/validate')).json;
    assert.deepEqual([v.orphans, v.mismatches], [[], []], 'a reclaimed destination is neither an orphan nor a mismatch');

    // More reconciles change nothing (idempotent): no second reclaim, nothing re-created.
    await rt.bus.runScheduled('channelReconcile');
    await rt.bus.runScheduled('flowOutputReconcile');
    await rt.bus.drain(10_000);
    assert.equal(rt.published.filter((e) => e.DetailType === 'ChannelReclaimed').length, reclaimEvents.length, 'no further reclaim');
    assert.equal((await engine.listChannels()).length, 0);
    assert.equal((await engine.describeFlow()).outputs.length, 0, 'flow-output reconcile does not add the output back');

    const start = await rt.api('POST', `/api/destinations/${id}/start`);
    assert.equal(start.status, 202);
    assert.equal(start.json.status, 'starting');
    await until(rt, id, 'running', (v) => v.status === 'running');
    const running = await get(rt, id);
    assert.equal(running.channelReclaimed, false);
    assert.ok(running.mediaLiveChannelId && running.mediaLiveChannelId !== oldChannel, 'a new channel');
    assert.ok(running.mediaConnectOutputArn, 'the output is back');
    assert.deepEqual(statuses(rt, id).slice(-2), ['starting', 'running'], 'starting → running, no fall back to idle while the channel is re-created');
    assert.ok(!statuses(rt, id).slice(statuses(rt, id).lastIndexOf('starting')).includes('idle'));
    // Running destinations are never reclaimed.
    await rt.bus.runScheduled('channelReconcile');
    assert.equal((await get(rt, id)).status, 'running');
    await rt.bus.drain(10_000);
    for (const [q, st] of Object.entries(rt.bus.queueStats())) assert.equal(st.dlq ?? 0, 0, `${q} has no dead letters`);
  } finally {
    await rt.close();
  }
});

test('a reclaimed destination is deleted cleanly, and one updated while reclaimed starts with the new settings', async () => {
  const rt = await startTestRuntime(RECLAIM, { engine: 'memory' });
  try {
    const engine = rt.engine as MemoryEngine;
    const a = (await rt.api('POST', '/api/destinations', { body: { name: 'A', platform: 'youtube', streamKey: 'yt-a-0123456789abcdef', preset: 'youtube-1080p30' } })).json.destinationId as string;
    const b = (await rt.api('POST', '/api/destinations', { body: { name: 'B', platform: 'youtube', streamKey: 'yt-b-0123456789abcdef' } })).json.destinationId as string;
    await until(rt, a, 'a idle', (v) => v.status === 'idle');
    await until(rt, b, 'b idle', (v) => v.status === 'idle');
    await until(rt, a, 'a reclaimed', (v) => v.channelReclaimed, true);
    await until(rt, b, 'b reclaimed', (v) => v.channelReclaimed, true);

    assert.equal((await rt.api('DELETE', `/api/destinations/${b}`)).status, 202);
    await eventually(async () => (await rt.api('GET', `/api/destinations/${b}`)).status === 404, { timeoutMs: 15_000, what: 'b deleted' });

    const put = await rt.api('PUT', `/api/destinations/${a}`, { body: { preset: 'youtube-720p30-mobile' } });
    assert.equal(put.status, 200, put.text);
    await rt.api('POST', `/api/destinations/${a}/start`);
    await until(rt, a, 'a running', (v) => v.status === 'running');
    const channelId = (await get(rt, a)).mediaLiveChannelId!;
    assert.equal(engine.specOf(channelId)?.presetId, 'youtube-720p30-mobile');
    assert.deepEqual(
      (await engine.listChannels()).map((c) => c.destinationId),
      [a],
      'nothing of b is left',
    );
  } finally {
    await rt.close();
  }
});

test('0 never reclaims', async () => {
  const rt = await startTestRuntime({ FANOUT_IDLE_CHANNEL_RECLAIM_MINUTES: '0' }, { engine: 'memory' });
  try {
    const id = (await rt.api('POST', '/api/destinations', { body: { name: 'N', platform: 'youtube', streamKey: 'yt-never-0123456789' } })).json.destinationId as string;
    await until(rt, id, 'idle', (v) => v.status === 'idle');
    for (let i = 0; i < 3; i++) await rt.bus.runScheduled('channelReconcile');
    await rt.bus.drain(10_000);
    assert.equal((await get(rt, id)).channelReclaimed, false);
    assert.equal((await rt.engine!.listChannels()).length, 1);
  } finally {
    await rt.close();
  }
});

test('a crash between deleting the channel and announcing the reclaim is finished by the reconcile; the destination still starts', async () => {
  let failReclaim = true;
  const rt = await startTestRuntime(RECLAIM, {
    engine: 'memory',
    // The DELETED event's handling dies before ChannelReclaimed is out (a Lambda timeout, a crash),
    // and its redelivery is far away: the reconcile must finish the step.
    wrapPublisher: (inner: EventPublisher) => ({
      publish: (entries) => (failReclaim && entries.some((e) => e.DetailType === 'ChannelReclaimed') ? Promise.reject(new Error('crashed before publishing')) : inner.publish(entries)),
    }),
  });
  try {
    const engine = rt.engine as MemoryEngine;
    const id = (await rt.api('POST', '/api/destinations', { body: { name: 'C', platform: 'youtube', streamKey: 'yt-crash-0123456789a' } })).json.destinationId as string;
    await until(rt, id, 'idle', (v) => v.status === 'idle');
    await eventually(
      async () => {
        await rt.bus.runScheduled('channelReconcile');
        return (await engine.listChannels()).length === 0;
      },
      { what: 'channel deleted by the reclaim' },
    );
    assert.equal((await get(rt, id)).channelReclaimed, false, 'not announced yet');
    assert.equal((await engine.describeFlow()).outputs.length, 1, 'the output is still there');
    failReclaim = false;
    await until(rt, id, 'reclaimed after the next reconcile', (v) => v.channelReclaimed, true);
    await eventually(async () => (await engine.describeFlow()).outputs.length === 0, { what: 'output removed' });
    assert.deepEqual((await rt.api('GET', '/api/channels/validate')).json.orphans, [], 'nothing orphaned');
    assert.equal((await rt.api('POST', `/api/destinations/${id}/start`)).status, 202);
    await until(rt, id, 'running', (v) => v.status === 'running');
  } finally {
    await rt.close();
  }
});
