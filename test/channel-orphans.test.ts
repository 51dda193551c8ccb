/**
 * Orphans through the HTTP API on the in-memory engine: GET /api/channels/validate (the dry run)
 * and POST /api/channels/cleanup (admins), with channel-provisioner's API mounted by the local
 * runtime beside the destination API.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { findEvent } from '../events/catalogue.ts';
import type { MemoryEngine } from '../shared/engines/memory/memory-engine.ts';
import { Secret } from '../shared/secrets/secret.ts';
import { eventually, startTestRuntime, type TestRuntime } from './support/local.ts';

const status = async (rt: TestRuntime, id: string) => (await rt.api('GET', `/api/destinations/${id}`)).json as { status: string; mediaLiveChannelId: string | null };
const until = (rt: TestRuntime, id: string, want: string) => eventually(async () => (await status(rt, id)).status === want, { timeoutMs: 15_000, what: `status ${want}` });

async function operatorToken(rt: TestRuntime): Promise<string> {
  const res = await rt.api('POST', '/api/admin/tokens', { body: { name: 'op', role: 'operator' } });
  assert.equal(res.status, 201, res.text);
  return res.json.token as string;
}

/** Resources made behind Fanout's back: a channel and an output for destinations the store never had. */
async function makeOrphans(rt: TestRuntime) {
  const engine = rt.engine as MemoryEngine;
  const ghost = randomUUID();
  const { outputArn } = await engine.addOutput(ghost);
  const { channelId } = await engine.createChannel({ destinationId: ghost, name: 'ghost', outputArn, presetId: 'passthrough', encode: null, target: { url: 'rtmp://example.invalid/live', streamKey: new Secret('ghost-stream-key-0123') } });
  await eventually(async () => (await engine.describeChannel(channelId))?.state === 'IDLE', { what: 'orphan channel idle' });
  const lonelyOutput = (await engine.addOutput(randomUUID())).outputArn;
  return { ghost, channelId, outputArn, lonelyOutput };
}

test('validate lists orphan channels and outputs and state mismatches; cleanup (admins) removes orphans, says what it did, publishes it, and a second cleanup does nothing', async () => {
  const rt = await startTestRuntime({}, { engine: 'memory' });
  try {
    // A healthy destination: never reported.
    const ok = (await rt.api('POST', '/api/destinations', { body: { name: 'OK', platform: 'youtube', streamKey: 'yt-ok-0123456789abcdef' } })).json.destinationId as string;
    await until(rt, ok, 'idle');
    // One whose channel vanished from the engine without an event: store says idle, engine has nothing.
    const lost = (await rt.api('POST', '/api/destinations', { body: { name: 'Lost', platform: 'youtube', streamKey: 'yt-lost-0123456789abcd' } })).json.destinationId as string;
    await until(rt, lost, 'idle');
    const lostChannel = (await status(rt, lost)).mediaLiveChannelId!;
    (rt.engine as MemoryEngine).forgetChannel(lostChannel);
    const o = await makeOrphans(rt);

    const v = await rt.api('GET', '/api/channels/validate');
    assert.equal(v.status, 200, v.text);
    const byId = new Map((v.json.orphans as { id: string; kind: string; reason: string; destinationId: string }[]).map((x) => [x.id, x]));
    assert.deepEqual([...byId.keys()].sort(), [o.channelId, o.outputArn, o.lonelyOutput].sort(), 'the orphan channel, its output and the lonely output; nothing of the healthy destination');
    assert.equal(byId.get(o.channelId)!.kind, 'channel');
    assert.equal(byId.get(o.channelId)!.reason, 'DESTINATION_MISSING');
    assert.equal(byId.get(o.channelId)!.destinationId, o.ghost);
    assert.equal(byId.get(o.lonelyOutput)!.kind, 'output');
    assert.deepEqual(
      v.json.mismatches.map((m: { destinationId: string; reason: string; storeStatus: string; engineState: string | null; expectedState: string }) => [m.destinationId, m.reason, m.storeStatus, m.engineState, m.expectedState]),
      [[lost, 'CHANNEL_MISSING', 'idle', null, 'IDLE']],
    );
    assert.ok(!v.text.includes('ghost-stream-key'), 'no stream key in the report');
    assert.equal(rt.published.filter((e) => e.DetailType === 'OrphanResourcesCleanedUp').length, 0, 'validate changes nothing and publishes nothing');
    assert.ok(await rt.engine!.describeChannel(o.channelId), 'validate changed nothing');

    // Operators may look, not clean up.
    const op = await operatorToken(rt);
    assert.equal((await rt.api('GET', '/api/channels/validate', { token: op })).status, 200);
    const forbidden = await rt.api('POST', '/api/channels/cleanup', { token: op });
    assert.equal(forbidden.status, 403);
    assert.match(forbidden.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(forbidden.json.code, 'FORBIDDEN');
    assert.equal((await rt.api('POST', '/api/channels/cleanup', { token: null })).json.code, 'UNAUTHENTICATED');

    // Bad input: a problem document, nothing changed.
    const bad = await rt.api('POST', '/api/channels/cleanup', { body: { only: 'everything' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, 'VALIDATION_FAILED');
    const notOrphan = await rt.api('POST', '/api/channels/cleanup', { body: { only: [o.channelId, lostChannel] } });
    assert.equal(notOrphan.status, 409);
    assert.equal(notOrphan.json.code, 'NOT_AN_ORPHAN');
    assert.deepEqual(notOrphan.json.notOrphans, [lostChannel]);
    assert.ok(await rt.engine!.describeChannel(o.channelId), 'a rejected cleanup removed nothing');

    const c = await rt.api('POST', '/api/channels/cleanup');
    assert.equal(c.status, 200, c.text);
    const outcomes = Object.fromEntries((c.json.resources as { id: string; outcome: string; kind: string }[]).map((r) => [r.id, `${r.kind}:${r.outcome}`]));
    assert.deepEqual(outcomes, { [o.channelId]: 'channel:removed', [o.outputArn]: 'output:removed', [o.lonelyOutput]: 'output:removed' });
    assert.equal(c.json.removed, 3);
    assert.equal(c.json.failed, 0);
    assert.equal(c.json.resources[0].kind, 'channel', 'channels go before outputs');
    assert.equal(c.json.mismatches.length, 1, 'mismatches are reported, left to the reconcile');
    const events = rt.published.filter((e) => e.DetailType === 'OrphanResourcesCleanedUp');
    assert.equal(events.length, 1);
    const detail = JSON.parse(events[0]!.Detail);
    findEvent(events[0]!.Source, 'OrphanResourcesCleanedUp', 1)!.detail.parse(detail);
    assert.equal(events[0]!.Source, 'fanout.channel-provisioner');
    assert.equal(detail.data.requestedBy, 'admin-env');
    assert.equal(detail.data.resources.length, 3);

    await eventually(async () => (await rt.engine!.describeChannel(o.channelId)) === null, { what: 'orphan channel deleted' });
    const flow = await rt.engine!.describeFlow();
    assert.ok(!flow.outputs.some((x) => x.outputArn === o.outputArn || x.outputArn === o.lonelyOutput), 'orphan outputs removed');
    assert.ok(await rt.engine!.describeChannel((await status(rt, ok)).mediaLiveChannelId!), 'the healthy destination is untouched');

    const again = await rt.api('POST', '/api/channels/cleanup');
    assert.equal(again.status, 200);
    assert.deepEqual(again.json.resources, [], 'idempotent: nothing left to do');
    assert.equal(rt.published.filter((e) => e.DetailType === 'OrphanResourcesCleanedUp').length, 1, 'and nothing published');
    assert.deepEqual((await rt.api('GET', '/api/channels/validate')).json.orphans, []);
    for (const text of rt.responses) assert.ok(!/ghost-stream-key|yt-ok-0123|yt-lost-0123/.test(text), 'no stream key in any response');
  } finally {
    await rt.close();
  }
});

test('a running orphan channel is stopped first, then deleted by the next cleanup; a running destination disagreeing with its engine is reported', async () => {
  const rt = await startTestRuntime({}, { engine: 'memory' });
  try {
    const engine = rt.engine as MemoryEngine;
    const o = await makeOrphans(rt);
    await engine.startChannel(o.channelId);
    await eventually(async () => (await engine.describeChannel(o.channelId))?.state === 'RUNNING', { what: 'orphan running' });
    const first = await rt.api('POST', '/api/channels/cleanup', { body: { only: [o.channelId] } });
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(
      first.json.resources.map((r: { id: string; outcome: string }) => [r.id, r.outcome]),
      [[o.channelId, 'removing']],
    );
    await eventually(async () => (await engine.describeChannel(o.channelId))?.state === 'IDLE', { what: 'orphan stopped' });
    const second = await rt.api('POST', '/api/channels/cleanup');
    assert.deepEqual(Object.fromEntries(second.json.resources.map((r: { id: string; outcome: string }) => [r.id, r.outcome])), { [o.channelId]: 'removed', [o.outputArn]: 'removed', [o.lonelyOutput]: 'removed' });

    // The store says running; the engine's channel was stopped behind Fanout's back with no event.
    const id = (await rt.api('POST', '/api/destinations', { body: { name: 'Run', platform: 'youtube', streamKey: 'yt-run-0123456789abcd' } })).json.destinationId as string;
    await rt.api('POST', `/api/destinations/${id}/start`);
    await until(rt, id, 'running');
    const channelId = (await status(rt, id)).mediaLiveChannelId!;
    engine.forgetChannel(channelId);
    const v = await rt.api('GET', '/api/channels/validate');
    assert.deepEqual(
      v.json.mismatches.map((m: { destinationId: string; reason: string; storeStatus: string }) => [m.destinationId, m.reason, m.storeStatus]),
      [[id, 'CHANNEL_MISSING', 'running']],
    );
    // The reconcile repairs it (re-creates and starts the channel).
    await rt.bus.runScheduled('channelReconcile');
    await eventually(async () => (await rt.api('GET', '/api/channels/validate')).json.mismatches.length === 0, { timeoutMs: 15_000, what: 'mismatch repaired' });
  } finally {
    await rt.close();
  }
});
