/**
 * An event lost *after* its publication (the local runtime's queues die with the process; on AWS a
 * message can be dead-lettered): the destination is left behind what the records and the engine
 * say. `GET /api/channels/validate` reports the disagreement while it lasts, and the next
 * reconcile says the event again, which moves the destination on (ADR 0016). In one process on
 * the memory engine, schedules off: the reconciles run when the test says.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BusEntry, EventPublisher } from '../shared/events/publisher.ts';
import { eventually, startTestRuntime, type TestRuntime } from './support/local.ts';

/** A bus that accepts `drop`'s events and delivers none of them, as a queue dying with them would. */
function losing(drop: (e: BusEntry) => boolean): { wrap: (inner: EventPublisher) => EventPublisher; on: { value: boolean } } {
  const on = { value: true };
  return {
    on,
    wrap: (inner) => ({
      publish: async (entries) => {
        const kept = on.value ? entries.filter((e) => !drop(e)) : entries;
        if (kept.length > 0) await inner.publish(kept);
      },
    }),
  };
}

const view = async (rt: TestRuntime, id: string) => (await rt.api('GET', `/api/destinations/${id}`)).json as { status: string; desired: string };
const mismatches = async (rt: TestRuntime) => (await rt.api('GET', '/api/channels/validate')).json.mismatches as { destinationId: string; reason: string; storeStatus: string; engineState: string | null }[];

test('FlowOutputAdded lost: the destination stays creating, validate says OUTPUT_NOT_RECORDED, the flow reconcile says it again and the destination ends idle', async () => {
  const lose = losing((e) => e.DetailType === 'FlowOutputAdded');
  const rt = await startTestRuntime({}, { engine: 'memory', schedules: false, wrapPublisher: lose.wrap });
  try {
    const id = (await rt.api('POST', '/api/destinations', { body: { name: 'L', platform: 'youtube', streamKey: 'yt-lost-0123456789abcd' } })).json.destinationId as string;
    await rt.bus.drain(10_000);
    assert.equal((await view(rt, id)).status, 'creating', 'nothing moves it without the event');
    assert.deepEqual(
      (await mismatches(rt)).map((m) => [m.destinationId, m.reason, m.storeStatus]),
      [[id, 'OUTPUT_NOT_RECORDED', 'creating']],
    );
    lose.on.value = false;
    await rt.bus.runScheduled('flowOutputReconcile');
    await eventually(async () => (await view(rt, id)).status === 'idle', { what: 'idle after the reconcile' });
    await rt.bus.drain(10_000);
    assert.deepEqual(await mismatches(rt), []);
  } finally {
    await rt.close();
  }
});

test('ChannelStateChanged RUNNING lost: the destination stays starting, validate says STATE_DIFFERS, the channel reconcile says it again and the destination ends running', async () => {
  const lose = losing((e) => e.DetailType === 'ChannelStateChanged' && (JSON.parse(e.Detail) as { data: { state: string } }).data.state === 'RUNNING');
  const rt = await startTestRuntime({}, { engine: 'memory', schedules: false, wrapPublisher: lose.wrap });
  try {
    const id = (await rt.api('POST', '/api/destinations', { body: { name: 'R', platform: 'youtube', streamKey: 'yt-lost-abcdef0123456789' } })).json.destinationId as string;
    await eventually(async () => (await view(rt, id)).status === 'idle', { what: 'idle' });
    await rt.api('POST', `/api/destinations/${id}/start`);
    await eventually(async () => (await rt.engine!.listChannels()).some((c) => c.state === 'RUNNING'), { what: 'the channel running' });
    await rt.bus.drain(10_000);
    assert.equal((await view(rt, id)).status, 'starting');
    assert.deepEqual(
      (await mismatches(rt)).map((m) => [m.reason, m.storeStatus, m.engineState]),
      [['STATE_DIFFERS', 'starting', 'RUNNING']],
    );
    lose.on.value = false;
    await rt.bus.runScheduled('channelReconcile');
    await eventually(async () => (await view(rt, id)).status === 'running', { what: 'running after the reconcile' });
    assert.deepEqual(await mismatches(rt), []);
  } finally {
    await rt.close();
  }
});
