/**
 * The whole control plane on the in-memory engine (AWS-like state machines, no media): the saga
 * across destination, flow-output and channel-provisioner, driven only by events, including
 * update-while-running, delete-while-running and recovery after a restart.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually, startTestRuntime, type TestRuntime } from './support/local.ts';

const status = async (rt: TestRuntime, id: string) => (await rt.api('GET', `/api/destinations/${id}`)).json as { status: string; desired: string; mediaLiveChannelId: string | null; mediaConnectOutputArn: string | null };
const until = (rt: TestRuntime, id: string, want: string) => eventually(async () => (await status(rt, id)).status === want, { timeoutMs: 15_000, what: `status ${want}` });

test('create → idle → start → running → stop → idle → delete → gone, with every resource cleaned up', async () => {
  const rt = await startTestRuntime({}, { engine: 'memory' });
  try {
    const res = await rt.api('POST', '/api/destinations', { body: { name: 'A', platform: 'twitch', streamKey: 'live_0123456789abcdef' } });
    const id = res.json.destinationId as string;
    await until(rt, id, 'idle');
    const idle = await status(rt, id);
    assert.ok(idle.mediaLiveChannelId, 'channel recorded');
    assert.ok(idle.mediaConnectOutputArn, 'output recorded');
    assert.equal((await rt.api('POST', `/api/destinations/${id}/start`)).status, 202);
    await until(rt, id, 'running');
    assert.equal((await rt.api('POST', `/api/destinations/${id}/stop`)).status, 202);
    await until(rt, id, 'idle');
    assert.equal((await rt.api('DELETE', `/api/destinations/${id}`)).status, 202);
    await eventually(async () => (await rt.api('GET', `/api/destinations/${id}`)).status === 404, { timeoutMs: 15_000, what: 'deletion' });
    const flow = await rt.api('GET', '/api/mediaconnect/flow/status');
    assert.equal(flow.json.state, 'ACTIVE', 'the primary output keeps the flow active');
    const types = rt.published.map((e) => e.DetailType);
    for (const t of ['FlowOutputAdded', 'ChannelStateChanged', 'ChannelDeleted', 'FlowOutputRemoved', 'DestinationDeleted']) assert.ok(types.includes(t), `${t} published`);
    await rt.bus.drain(10_000);
    for (const [q, st] of Object.entries(rt.bus.queueStats())) assert.equal(st.dlq ?? 0, 0, `${q} has no dead letters`);
  } finally {
    await rt.close();
  }
});

test('start requested while still creating starts as soon as the channel is idle', async () => {
  const rt = await startTestRuntime({}, { engine: 'memory' });
  try {
    const id = (await rt.api('POST', '/api/destinations', { body: { name: 'B', platform: 'youtube', streamKey: 'yt-0123456789abcdef' } })).json.destinationId as string;
    await rt.api('POST', `/api/destinations/${id}/start`);
    await until(rt, id, 'running');
  } finally {
    await rt.close();
  }
});

test('updating a running destination stops, updates and restarts its channel', async () => {
  const rt = await startTestRuntime({}, { engine: 'memory' });
  try {
    const id = (await rt.api('POST', '/api/destinations', { body: { name: 'C', platform: 'youtube', streamKey: 'yt-0123456789abcdef', preset: 'youtube-1080p30' } })).json.destinationId as string;
    await rt.api('POST', `/api/destinations/${id}/start`);
    await until(rt, id, 'running');
    const put = await rt.api('PUT', `/api/destinations/${id}`, { body: { preset: 'youtube-720p30-mobile' } });
    assert.equal(put.status, 200);
    await eventually(
      () => {
        const statuses = rt.published.filter((e) => e.DetailType === 'DestinationStatusChanged').map((e) => (JSON.parse(e.Detail) as { data: { to: string } }).data.to);
        return statuses.slice(-3).join(',') === 'idle,starting,running' || statuses.slice(-4).join(',') === 'stopping,idle,starting,running';
      },
      { timeoutMs: 15_000, what: 'stop, update, restart' },
    );
    assert.equal((await status(rt, id)).status, 'running');
  } finally {
    await rt.close();
  }
});

test('deleting a running destination stops it first and removes everything', async () => {
  const rt = await startTestRuntime({}, { engine: 'memory' });
  try {
    const id = (await rt.api('POST', '/api/destinations', { body: { name: 'D', platform: 'youtube', streamKey: 'yt-0123456789abcdef' } })).json.destinationId as string;
    await rt.api('POST', `/api/destinations/${id}/start`);
    await until(rt, id, 'running');
    await rt.api('DELETE', `/api/destinations/${id}`);
    await eventually(async () => (await rt.api('GET', `/api/destinations/${id}`)).status === 404, { timeoutMs: 15_000, what: 'deletion' });
  } finally {
    await rt.close();
  }
});

test('after a restart, destinations wanted running are running again (reconcile)', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'fanout-reconcile-'));
  try {
    const first = await startTestRuntime({}, { engine: 'memory', dataDir, inMemory: false });
    const run = (await first.api('POST', '/api/destinations', { body: { name: 'Run', platform: 'youtube', streamKey: 'yt-0123456789abcdef' } })).json.destinationId as string;
    const idle = (await first.api('POST', '/api/destinations', { body: { name: 'Idle', platform: 'youtube', streamKey: 'yt-abcdef0123456789' } })).json.destinationId as string;
    await first.api('POST', `/api/destinations/${run}/start`);
    await until(first, run, 'running');
    await until(first, idle, 'idle');
    await first.close();
    // The in-memory engine forgot everything, like a local engine whose process died.
    const second = await startTestRuntime({}, { engine: 'memory', dataDir, inMemory: false });
    try {
      await until(second, run, 'running');
      await until(second, idle, 'idle');
      assert.equal((await status(second, idle)).desired, 'stopped');
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('the always-on primary: flow-output starts the primary channel once the flow is ACTIVE and reports it in the flow status', async () => {
  const rt = await startTestRuntime({}, { engine: 'memory' });
  try {
    const flow = await eventually(
      async () => {
        await rt.bus.runScheduled('flowOutputReconcile');
        const f = (await rt.api('GET', '/api/mediaconnect/flow/status')).json;
        return f.state === 'ACTIVE' && f.primary?.state === 'RUNNING' && f;
      },
      { timeoutMs: 15_000, what: 'primary RUNNING in the flow status' },
    );
    assert.deepEqual(flow.primary, { channelId: '9999999', state: 'RUNNING', error: null });
    const engine = rt.engine as unknown as { calls: { op: string }[] };
    assert.equal(engine.calls.filter((c) => c.op === 'startPrimary').length, 1, 'started once, however many reconciles ran');
    // The primary is no destination's: nothing lists it and the destination saga never sees it.
    assert.deepEqual(await rt.engine!.listChannels(), []);
    await rt.bus.drain(10_000);
    for (const [q, st] of Object.entries(rt.bus.queueStats())) assert.equal(st.dlq ?? 0, 0, `${q} has no dead letters`);
  } finally {
    await rt.close();
  }
});

test('with the primary output off, the primary channel is left alone', async () => {
  const rt = await startTestRuntime({ FANOUT_PRIMARY_HLS: 'off' }, { engine: 'memory' });
  try {
    await rt.bus.runScheduled('flowOutputReconcile');
    const f = (await rt.api('GET', '/api/mediaconnect/flow/status')).json;
    assert.equal(f.primary?.state, 'IDLE');
    assert.ok(!(rt.engine as unknown as { calls: { op: string }[] }).calls.some((c) => c.op === 'startPrimary'));
  } finally {
    await rt.close();
  }
});
