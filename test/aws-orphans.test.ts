/**
 * The AWS engine's inventory (listOwnedResources: ListChannels + ListInputs by tag, DescribeFlow's
 * managed outputs) and channel-provisioner's orphan cleanup driving it, on the in-memory AWS with
 * AWS's timings: a running orphan is stopped, then deleted, then its input; another deployment's
 * and the stack's resources are never listed or touched; every request is valid against the
 * official models.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { OrphanCleanup } from '../services/channel-provisioner/src/app/orphan-cleanup.ts';
import type { BusEntry } from '../shared/events/publisher.ts';
import { Secret } from '../shared/secrets/secret.ts';
import type { DestinationReadModel } from '../shared/store/destination-reader.ts';
import type { ChannelSpec } from '../shared/engines/port/ports.ts';
import { AwsMediaEngine, TAGS } from '../shared/engines/aws/aws-engine.ts';
import { AWS_TIMINGS, AwsFake } from '../shared/engines/aws/aws-fake.ts';
import { expectAllValid, modelsOrSkip } from '../shared/engines/aws/request-capture.ts';

const A = '0f8fad5b-d9cb-469f-a165-70867728950e'; // in the store
const GHOST = '7c9e6679-7425-40de-944b-e07fc1f90ae7'; // channel + input, no destination
const LONELY = '16fd2706-8baf-433b-82eb-8c7fada847da'; // input only, no destination
const OTHER = '6ba7b810-9dad-11d1-80b4-00c04fd430c8'; // another deployment's

function setup(t: TestContext) {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse('2026-11-21T10:00:00Z') });
  const fake = new AwsFake({ channelQuota: 10 });
  t.after(() => fake.close());
  const cfg = (deployment: string) => ({ flowArn: fake.flowArn, mediaLiveRoleArn: 'arn:aws:iam::111122223333:role/MediaLiveAccessRole', region: fake.region, tags: {}, deployment });
  const engine = new AwsMediaEngine(cfg('fanout-dev'), { medialive: fake.medialive, mediaconnect: fake.mediaconnect });
  const other = new AwsMediaEngine(cfg('fanout-prod'), { medialive: fake.medialive, mediaconnect: fake.mediaconnect });
  return { fake, engine, other, tick: (ms: number) => t.mock.timers.tick(ms) };
}

const spec = (destinationId: string, outputArn: string): ChannelSpec => ({
  destinationId,
  name: destinationId.slice(0, 8),
  outputArn,
  presetId: 'passthrough',
  encode: null,
  target: { url: 'rtmp://a.rtmp.youtube.com/live2', streamKey: new Secret('orphan-key-abcd-efgh-ijkl') },
});

const dest = (destinationId: string, channelId: string): DestinationReadModel => ({
  destinationId,
  name: 'A',
  platform: 'youtube',
  rtmpUrl: 'rtmp://a.rtmp.youtube.com/live2',
  streamKeyCiphertext: 'x',
  preset: 'passthrough',
  status: 'idle',
  desired: 'stopped',
  mediaConnectOutputArn: null,
  mediaLiveChannelId: channelId,
});

describe('AWS engine: owned resources and orphan cleanup', () => {
  test("lists only this deployment's destination resources, with their managed flow outputs; cleanup stops, deletes, then removes inputs, never touching others", async (t) => {
    const h = setup(t);
    const make = async (engine: AwsMediaEngine, destinationId: string, channel: boolean) => {
      const { outputArn } = await engine.addOutput(destinationId);
      h.tick(AWS_TIMINGS.inputCreateMs);
      if (!channel) return { outputArn, channelId: '' };
      const { channelId } = await engine.createChannel(spec(destinationId, outputArn));
      h.tick(AWS_TIMINGS.channelCreateMs);
      return { outputArn, channelId };
    };
    const a = await make(h.engine, A, true);
    const ghost = await make(h.engine, GHOST, true);
    const lonely = await make(h.engine, LONELY, false);
    const other = await make(h.other, OTHER, true);
    await h.engine.startChannel(ghost.channelId);
    h.tick(AWS_TIMINGS.channelStartMs);

    const owned = await h.engine.listOwnedResources();
    assert.deepEqual(
      owned.channels.map((c) => [c.channelId, c.destinationId, c.state]).sort(),
      [
        [a.channelId, A, 'IDLE'],
        [ghost.channelId, GHOST, 'RUNNING'],
      ].sort(),
    );
    assert.deepEqual(owned.outputs.map((o) => o.outputArn).sort(), [a.outputArn, ghost.outputArn, lonely.outputArn].sort(), "not the other deployment's, not the primary's");
    const managed = new Map(
      h.fake
        .flowOutputs()
        .filter((o) => o.MediaLiveInputArn)
        .map((o) => [o.MediaLiveInputArn!, o.OutputArn]),
    );
    for (const o of owned.outputs) {
      assert.equal(o.flowOutputArn, managed.get(o.outputArn), 'the managed flow output MediaLive made for the input');
      assert.ok(o.flowOutputArn?.includes(':output:'));
    }
    assert.deepEqual(owned.outputs.find((o) => o.outputArn === ghost.outputArn)!.attachedChannelIds, [ghost.channelId]);
    assert.equal(owned.outputs.find((o) => o.outputArn === lonely.outputArn)!.state, 'DETACHED');

    const published: BusEntry[] = [];
    const logs: string[] = [];
    const log = (level: string) => (m: string, a?: object) => logs.push(`${level} ${m} ${JSON.stringify(a ?? {})}`);
    const cleanup = new OrphanCleanup({
      channelEngine: () => h.engine,
      flowEngine: () => h.engine,
      channels: { list: async () => [{ destinationId: A, channelId: a.channelId }] } as never,
      destinations: { list: async () => [dest(A, a.channelId)] } as never,
      publisher: { publish: async (entries: BusEntry[]) => void published.push(...entries) },
      logger: { debug: log('DEBUG'), info: log('INFO'), warn: log('WARN'), error: log('ERROR') } as never,
    });
    const run = async () => Object.fromEntries((await cleanup.cleanup({ requestedBy: 'admin', correlationId: 'c' })).resources.map((r) => [r.id, r.error ? `${r.outcome}:${r.error.code}` : r.outcome]));

    const v = await cleanup.validate();
    assert.deepEqual(v.orphans.map((o) => o.id).sort(), [ghost.channelId, ghost.outputArn, lonely.outputArn].sort());
    assert.deepEqual(v.mismatches, []);

    // 1: the running orphan is stopped; its input is still attached (typed failure); the lonely input goes.
    assert.deepEqual(await run(), { [ghost.channelId]: 'removing', [ghost.outputArn]: 'failed:INPUT_ATTACHED', [lonely.outputArn]: 'removed' });
    h.tick(AWS_TIMINGS.channelStopMs);
    // 2: now idle: deleted; the input waits for the channel to be DELETED (retryable).
    assert.deepEqual(await run(), { [ghost.channelId]: 'removed', [ghost.outputArn]: 'failed:ENGINE_UNAVAILABLE' });
    h.tick(AWS_TIMINGS.channelDeleteMs);
    // 3: the input goes; 4: nothing left.
    assert.deepEqual(await run(), { [ghost.outputArn]: 'removed' });
    h.tick(AWS_TIMINGS.inputDeleteMs);
    assert.deepEqual(await run(), {});
    assert.equal(published.length, 3, 'one event per cleanup that found something');
    assert.ok(logs.some((l) => l.startsWith('INFO orphaned channel deleted')) && logs.some((l) => l.startsWith('WARN orphan could not be removed')));
    assert.ok(!JSON.stringify({ logs, published }).includes('orphan-key'), 'no stream key anywhere');

    // What belongs to the store, the other deployment and the stack is untouched.
    const live = h.fake.live();
    assert.deepEqual(live.channels.map((c) => c.Id).sort(), [a.channelId, other.channelId].sort());
    assert.deepEqual(live.inputs.map((i) => i.Arn).sort(), [a.outputArn, other.outputArn].sort());
    assert.ok(
      h.fake.flowOutputs().some((o) => o.Name === 'primary-medialive'),
      "the primary channel's output is untouched",
    );
    assert.equal(h.fake.channel(other.channelId)!.Tags[TAGS.deployment], 'fanout-prod');
    const ops = h.fake.operations();
    assert.ok(ops.includes('ListChannels') && ops.includes('ListInputs') && ops.includes('DescribeFlow'));
    assert.ok(!ops.includes('RemoveFlowOutput'), 'managed outputs go with their inputs, never directly');

    await t.test('every request sent is valid against the official models', (st) => {
      const models = modelsOrSkip(st);
      if (models) expectAllValid(h.fake.captured(), models);
    });
  });

  test('ListChannels and ListInputs are followed page by page', async (t) => {
    const h = setup(t);
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      const id = `0f8fad5b-d9cb-469f-a165-7086772895${String(i).padStart(2, '0')}`;
      made.push((await h.engine.addOutput(id)).outputArn);
    }
    // Pages of one: the engine must follow NextToken until it is absent.
    const { ListInputsCommand, ListChannelsCommand } = await import('@aws-sdk/client-medialive');
    const all = await h.engine.listOwnedResources();
    assert.equal(all.outputs.length, 3);
    let calls = 0;
    h.fake.medialiveMock.on(ListInputsCommand).callsFake(async (input: { NextToken?: string }) => {
      calls++;
      const at = input.NextToken ? Number(input.NextToken) : 0;
      const inputs = made.slice(at, at + 1).map((arn) => ({ Arn: arn, Id: arn.split(':input:')[1], Type: 'MEDIACONNECT', State: 'DETACHED', Tags: { [TAGS.deployment]: 'fanout-dev', [TAGS.destinationId]: A } }));
      return { Inputs: inputs, ...(at + 1 < made.length ? { NextToken: String(at + 1) } : {}) };
    });
    h.fake.medialiveMock.on(ListChannelsCommand).resolves({ Channels: [] });
    const paged = await h.engine.listOwnedResources();
    assert.equal(calls, 3);
    assert.deepEqual(paged.outputs.map((o) => o.outputArn).sort(), [...made].sort());
  });
});
