/**
 * The engine contract: what flow-output and channel-provisioner rely on from *any* engine
 * (ports.ts), as one suite every engine runs: `engineContract(name, makeEngine)`.
 *
 * It lives beside ports.ts, the port it checks. Real timers, short transitions: engines are given
 * fast timings and every wait polls with a deadline.
 *
 * What it checks:
 *  1. outputs: addOutput is idempotent per destination; describeFlow lists the output with its
 *     destination; removeOutput removes it and is idempotent.
 *  2. channels: createChannel reports CREATING then IDLE as native "MediaLive Channel State Change"
 *     events naming the channel's ARN, and is idempotent per destination; list/describe agree.
 *  3. lifecycle: start from IDLE reaches RUNNING; start again is a no-op; update and delete are
 *     refused while running with code CHANNEL_NOT_IDLE; stop returns to IDLE and is idempotent;
 *     update works while IDLE; delete ends DELETED, after which describe is null, list omits it,
 *     delete again is fine and the output can be removed.
 *  4. flow: startFlow → ACTIVE, stopFlow → STANDBY, both idempotent, with native flow events.
 *  5. every native event parses with the schemas the consumers use (events/native/schemas.ts).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { MediaConnectFlowStatusChange, MediaLiveChannelStateChange } from '../../../events/native/schemas.ts';
import { Secret } from '../../secrets/secret.ts';
import { waitFor } from '../local/process/fixtures/wait-for.ts';
import type { ChannelEngine, ChannelSpec, FlowEngine, NativeEngineEvent } from './ports.ts';

export interface ContractSubject {
  engine: FlowEngine & ChannelEngine;
  /** Every native event the engine (or the service behind it) emitted, in order. */
  events: NativeEngineEvent[];
  close(): void | Promise<void>;
}

const ENVELOPE = { version: '0', id: 'contract', account: '000000000000', time: '2026-11-21T10:00:00Z', region: 'local' };

function channelSpec(destinationId: string, outputArn: string, over: Partial<ChannelSpec> = {}): ChannelSpec {
  return {
    destinationId,
    name: `contract ${destinationId.slice(0, 8)}`,
    outputArn,
    presetId: 'youtube-720p30',
    encode: { video: { width: 1280, height: 720, frameRate: 30, bitrate: 3_000_000, profile: 'high', level: '3.1', keyframeInterval: 2 }, audio: { bitrate: 128_000, sampleRate: 48_000, channels: 2 } },
    target: { url: 'rtmp://live.example.test/app', streamKey: new Secret(`contract-key-${destinationId}`) },
    ...over,
  };
}

const codeOf = (e: unknown): unknown => (e as { code?: unknown } | null)?.code;

/** Registers the contract suite for one engine. `makeEngine` is called once per test (fresh state). */
export function engineContract(name: string, makeEngine: () => ContractSubject | Promise<ContractSubject>, options: { timeoutMs?: number } = {}): void {
  const timeoutMs = options.timeoutMs ?? 5_000;
  describe(`engine contract: ${name}`, () => {
    let s: ContractSubject;
    beforeEach(async () => {
      s = await makeEngine();
    });
    afterEach(async () => {
      await s.close();
    });

    const stateOf = async (channelId: string) => (await s.engine.describeChannel(channelId))?.state ?? null;
    const until = (channelId: string, state: string) => waitFor(`channel ${channelId} ${state}`, async () => (await stateOf(channelId)) === state, { timeoutMs });
    const statesOf = (arn: string) => s.events.filter((e) => e.detailType === 'MediaLive Channel State Change' && e.resources.includes(arn)).map((e) => e.detail.state as string);
    const eventually = (what: string, check: () => boolean) => waitFor(what, check, { timeoutMs });

    /** addOutput + createChannel, waited to IDLE. */
    async function idleChannel(destinationId = randomUUID()) {
      const { outputArn } = await s.engine.addOutput(destinationId);
      // An engine may need a moment before the output can feed a channel (AWS: input CREATING).
      const created = await waitFor('createChannel accepted', async () => {
        try {
          return await s.engine.createChannel(channelSpec(destinationId, outputArn));
        } catch (err) {
          if (codeOf(err) === 'ENGINE_UNAVAILABLE') return null;
          throw err;
        }
      }, { timeoutMs });
      await until(created.channelId, 'IDLE');
      return { destinationId, outputArn, ...created };
    }

    test('addOutput is idempotent per destination; describeFlow lists it; removeOutput is idempotent', async () => {
      const a = randomUUID();
      const b = randomUUID();
      const first = await s.engine.addOutput(a);
      assert.deepEqual(await s.engine.addOutput(a), first, 'same output for the same destination');
      const other = await s.engine.addOutput(b);
      assert.notEqual(other.outputArn, first.outputArn);
      const outputs = (await s.engine.describeFlow()).outputs;
      assert.deepEqual(outputs.find((o) => o.outputArn === first.outputArn)?.destinationId, a);
      assert.deepEqual(outputs.find((o) => o.outputArn === other.outputArn)?.destinationId, b);
      await waitFor('output removable', async () => {
        try {
          await s.engine.removeOutput(first.outputArn);
          return true;
        } catch (err) {
          if (codeOf(err) === 'ENGINE_UNAVAILABLE') return false; // AWS: input still CREATING
          throw err;
        }
      }, { timeoutMs });
      await s.engine.removeOutput(first.outputArn);
      const after = (await s.engine.describeFlow()).outputs.map((o) => o.outputArn);
      assert.ok(!after.includes(first.outputArn), 'removed');
      assert.ok(after.includes(other.outputArn), 'the other destination keeps its output');
    });

    test('createChannel reports CREATING then IDLE as native events, once per destination', async () => {
      const { destinationId, outputArn, channelId, arn } = await idleChannel();
      await eventually('CREATING and IDLE events', () => statesOf(arn).includes('IDLE'));
      const states = statesOf(arn);
      assert.equal(states[0], 'CREATING');
      assert.equal(states.at(-1), 'IDLE');
      assert.deepEqual(await s.engine.createChannel(channelSpec(destinationId, outputArn)), { channelId, arn }, 'idempotent per destination');
      const listed = (await s.engine.listChannels()).filter((c) => c.destinationId === destinationId);
      assert.deepEqual(listed.map((c) => [c.channelId, c.arn, c.state]), [[channelId, arn, 'IDLE']]);
      assert.deepEqual(await s.engine.describeChannel(channelId), listed[0]);
    });

    test('start → RUNNING; update/delete refused while running (CHANNEL_NOT_IDLE); stop → IDLE; update while IDLE; delete → DELETED', async () => {
      const { outputArn, channelId, arn, destinationId } = await idleChannel();
      await s.engine.startChannel(channelId);
      await until(channelId, 'RUNNING');
      await s.engine.startChannel(channelId); // no-op while running
      assert.equal(await stateOf(channelId), 'RUNNING');
      await assert.rejects(s.engine.updateChannel(channelId, channelSpec(destinationId, outputArn)), (e) => codeOf(e) === 'CHANNEL_NOT_IDLE');
      await assert.rejects(s.engine.deleteChannel(channelId), (e) => codeOf(e) === 'CHANNEL_NOT_IDLE');

      await s.engine.stopChannel(channelId);
      await s.engine.stopChannel(channelId);
      await until(channelId, 'IDLE');
      await s.engine.stopChannel(channelId); // no-op while idle
      await s.engine.updateChannel(channelId, channelSpec(destinationId, outputArn, { name: 'renamed', encode: null }));

      await s.engine.deleteChannel(channelId);
      await eventually('DELETED event', () => statesOf(arn).includes('DELETED'));
      assert.equal(await s.engine.describeChannel(channelId), null);
      assert.ok(!(await s.engine.listChannels()).some((c) => c.channelId === channelId));
      await s.engine.deleteChannel(channelId); // idempotent
      await waitFor('output removable after the channel is deleted', async () => {
        try {
          await s.engine.removeOutput(outputArn);
          return true;
        } catch (err) {
          if (codeOf(err) === 'ENGINE_UNAVAILABLE') return false;
          throw err;
        }
      }, { timeoutMs });
      assert.ok(!(await s.engine.describeFlow()).outputs.some((o) => o.outputArn === outputArn));

      const order = statesOf(arn).filter((st, i, all) => st !== all[i - 1]);
      const expected = ['CREATING', 'IDLE', 'STARTING', 'RUNNING', 'STOPPING', 'IDLE', 'DELETING', 'DELETED'];
      assert.deepEqual(order.filter((st) => expected.includes(st)), expected);
    });

    test('the flow goes ACTIVE and back to STANDBY, idempotently, with native flow events', async () => {
      assert.equal((await s.engine.describeFlow()).state, 'STANDBY');
      await s.engine.startFlow();
      await s.engine.startFlow();
      await waitFor('flow ACTIVE', async () => (await s.engine.describeFlow()).state === 'ACTIVE', { timeoutMs });
      await s.engine.startFlow();
      await s.engine.stopFlow();
      await waitFor('flow STANDBY', async () => (await s.engine.describeFlow()).state === 'STANDBY', { timeoutMs });
      await s.engine.stopFlow();
      const statuses = s.events.filter((e) => e.detailType === 'MediaConnect Flow Status Change').map((e) => e.detail.currentStatus);
      assert.deepEqual(statuses, ['STARTING', 'ACTIVE', 'STOPPING', 'STANDBY']);
    });

    test('every native event parses with the schemas the consumers use', async () => {
      const { channelId } = await idleChannel();
      await s.engine.startChannel(channelId);
      await until(channelId, 'RUNNING');
      await s.engine.startFlow();
      await waitFor('flow ACTIVE', async () => (await s.engine.describeFlow()).state === 'ACTIVE', { timeoutMs });
      assert.ok(s.events.length >= 5);
      for (const e of s.events) {
        const wire = { ...ENVELOPE, 'detail-type': e.detailType, source: e.source, resources: e.resources, detail: e.detail };
        if (e.detailType === 'MediaLive Channel State Change') MediaLiveChannelStateChange.parse(wire);
        else if (e.detailType === 'MediaConnect Flow Status Change') MediaConnectFlowStatusChange.parse(wire);
        else assert.fail(`unexpected native event ${e.source} ${e.detailType}`);
        assert.ok(e.resources.length > 0, 'names the resource');
      }
    });
  });
}
