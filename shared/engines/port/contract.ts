/**
 * The engine contract: what flow-output and channel-provisioner rely on from *any* engine
 * (ports.ts), as one suite every engine runs: `engineContract(name, makeEngine)`.
 *
 * It lives beside ports.ts, the port it checks, and runs on every engine: the memory engine
 * (shared/engines/memory), the AWS engine over the in-memory AWS (shared/engines/aws) and the local
 * engine with real media (shared/engines/local/engine/engine-contract.test.ts). Real timers, short
 * transitions: engines are given fast timings and every wait polls with a deadline.
 *
 * What it asks of an engine is what the port says, not what one engine happens to do: a channel is
 * RUNNING "once media is really being pushed" (ports.ts), so every channel start happens with the
 * flow ACTIVE and, where the engine needs real media for that (local), the subject's `feed`
 * connected and its `target` accepting; state sequences are compared on the port's states, so an
 * engine that reports a passing UPDATING (local) or none (MediaLive's IDLE update) both pass.
 *
 * What it checks:
 *  1. outputs: addOutput is idempotent per destination; describeFlow lists the output with its
 *     destination; removeOutput removes it and is idempotent.
 *  2. channels: createChannel reports CREATING then IDLE as native "MediaLive Channel State Change"
 *     events naming the channel's ARN, and is idempotent per destination; list/describe agree.
 *  3. lifecycle: (with the flow ACTIVE) start from IDLE reaches RUNNING; start again is a no-op; update and delete are
 *     refused while running with code CHANNEL_NOT_IDLE; stop returns to IDLE and is idempotent;
 *     update works while IDLE; delete ends DELETED, after which describe is null, list omits it,
 *     delete again is fine and the output can be removed.
 *  4. flow: startFlow → ACTIVE, stopFlow → STANDBY, both idempotent, with native flow events.
 *  5. every native event parses with the schemas the consumers use (events/native/schemas.ts):
 *     state changes, alerts, flow status and source health.
 *  6. errors: what an engine refuses comes as the port's EngineError (code, message, hint,
 *     retryable), never a bare Error: CHANNEL_NOT_IDLE for a running channel's update/delete.
 *  7. input redundancy (only for subjects that give `redundancy`, i.e. engines implementing
 *     InputRedundancy): settings are stored as given; a manual switch both ways reports an
 *     InputSwitch and a native "MediaConnect Source Failover Switch"; a switch to an input with no
 *     media is INPUT_NOT_CONNECTED; in automatic mode losing the active input switches to the
 *     other (input-loss); the backup test reports a connected backup without switching.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { MediaConnectFlowStatusChange, MediaConnectSourceFailoverSwitch, MediaConnectSourceHealth, MediaLiveChannelAlert, MediaLiveChannelStateChange } from '../../../events/native/schemas.ts';
import { Secret } from '../../secrets/secret.ts';
import { waitFor } from '../local/process/fixtures/wait-for.ts';
import { EngineError } from './errors.ts';
import type { ChannelEngine, ChannelSpec, EncodeSpec, FailoverSettings, FlowEngine, InputName, InputRedundancy, NativeEngineEvent } from './ports.ts';

export interface ContractSubject {
  engine: FlowEngine & ChannelEngine;
  /** Every native event the engine (or the service behind it) emitted, in order. */
  events: NativeEngineEvent[];
  close(): void | Promise<void>;
  /** Where channels push (default: a name nothing resolves; an engine that really pushes needs a server that accepts). */
  target?: { url: string };
  /** The encode of transcoded channels (default 720p30; a real encoder on a small machine wants less). */
  encode?: EncodeSpec;
  /**
   * Called once the flow is ACTIVE, before a channel starts: connects the contribution where the
   * engine needs real media to run a channel (local), and resolves once it arrives. Idempotent.
   */
  feed?(): Promise<void>;
  /**
   * Engines implementing InputRedundancy: the capability, and how the subject connects or cuts an
   * encoder on an input (resolving once the engine sees it). Absent: section 7 is skipped.
   */
  redundancy?: {
    engine: InputRedundancy;
    connect(input: InputName): Promise<void>;
    lose(input: InputName): Promise<void>;
  };
}

const ENVELOPE = { version: '0', id: 'contract', account: '000000000000', time: '2026-11-21T10:00:00Z', region: 'local' };

const ENCODE_720P30: EncodeSpec = { video: { width: 1280, height: 720, frameRate: 30, bitrate: 3_000_000, profile: 'high', level: '3.1', keyframeInterval: 2 }, audio: { bitrate: 128_000, sampleRate: 48_000, channels: 2 } };

function channelSpec(s: ContractSubject, destinationId: string, outputArn: string, over: Partial<ChannelSpec> = {}): ChannelSpec {
  return {
    destinationId,
    name: `contract ${destinationId.slice(0, 8)}`,
    outputArn,
    presetId: 'youtube-720p30',
    encode: s.encode ?? ENCODE_720P30,
    target: { url: s.target?.url ?? 'rtmp://live.example.test/app', streamKey: new Secret(`contract-key-${destinationId}`) },
    ...over,
  };
}

/** The port's error type, with the given code (and everything a lastError needs). */
const engineError =
  (code: string) =>
  (e: unknown): boolean =>
    e instanceof EngineError && e.code === code && e.message.length > 0 && e.hint.length > 0 && typeof e.retryable === 'boolean';

const NATIVE_SCHEMAS = {
  'MediaLive Channel State Change': MediaLiveChannelStateChange,
  'MediaLive Channel Alert': MediaLiveChannelAlert,
  'MediaConnect Flow Status Change': MediaConnectFlowStatusChange,
  'MediaConnect Source Health': MediaConnectSourceHealth,
  'MediaConnect Source Failover Switch': MediaConnectSourceFailoverSwitch,
} as const;

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
    /** The flow ACTIVE and, where the engine needs it, media arriving: what a channel needs to reach RUNNING. */
    async function flowWithMedia() {
      await s.engine.startFlow();
      await waitFor('flow ACTIVE', async () => (await s.engine.describeFlow()).state === 'ACTIVE', { timeoutMs });
      await s.feed?.();
    }

    /** addOutput + createChannel, waited to IDLE. */
    async function idleChannel(destinationId = randomUUID()) {
      const { outputArn } = await s.engine.addOutput(destinationId);
      // An engine may need a moment before the output can feed a channel (AWS: input CREATING).
      const created = await waitFor(
        'createChannel accepted',
        async () => {
          try {
            return await s.engine.createChannel(channelSpec(s, destinationId, outputArn));
          } catch (err) {
            if (codeOf(err) === 'ENGINE_UNAVAILABLE') return null;
            throw err;
          }
        },
        { timeoutMs },
      );
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
      await waitFor(
        'output removable',
        async () => {
          try {
            await s.engine.removeOutput(first.outputArn);
            return true;
          } catch (err) {
            if (codeOf(err) === 'ENGINE_UNAVAILABLE') return false; // AWS: input still CREATING
            throw err;
          }
        },
        { timeoutMs },
      );
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
      assert.deepEqual(await s.engine.createChannel(channelSpec(s, destinationId, outputArn)), { channelId, arn }, 'idempotent per destination');
      const listed = (await s.engine.listChannels()).filter((c) => c.destinationId === destinationId);
      assert.deepEqual(
        listed.map((c) => [c.channelId, c.arn, c.state]),
        [[channelId, arn, 'IDLE']],
      );
      assert.deepEqual(await s.engine.describeChannel(channelId), listed[0]);
    });

    test('start → RUNNING; update/delete refused while running (CHANNEL_NOT_IDLE); stop → IDLE; update while IDLE; delete → DELETED', async () => {
      const { outputArn, channelId, arn, destinationId } = await idleChannel();
      await flowWithMedia();
      await s.engine.startChannel(channelId);
      await until(channelId, 'RUNNING');
      await s.engine.startChannel(channelId); // no-op while running
      assert.equal(await stateOf(channelId), 'RUNNING');
      await assert.rejects(s.engine.updateChannel(channelId, channelSpec(s, destinationId, outputArn)), engineError('CHANNEL_NOT_IDLE'));
      await assert.rejects(s.engine.deleteChannel(channelId), engineError('CHANNEL_NOT_IDLE'));

      await s.engine.stopChannel(channelId);
      await s.engine.stopChannel(channelId);
      await until(channelId, 'IDLE');
      await s.engine.stopChannel(channelId); // no-op while idle
      await s.engine.updateChannel(channelId, channelSpec(s, destinationId, outputArn, { name: 'renamed', encode: null }));

      await s.engine.deleteChannel(channelId);
      await eventually('DELETED event', () => statesOf(arn).includes('DELETED'));
      assert.equal(await s.engine.describeChannel(channelId), null);
      assert.ok(!(await s.engine.listChannels()).some((c) => c.channelId === channelId));
      await s.engine.deleteChannel(channelId); // idempotent
      await waitFor(
        'output removable after the channel is deleted',
        async () => {
          try {
            await s.engine.removeOutput(outputArn);
            return true;
          } catch (err) {
            if (codeOf(err) === 'ENGINE_UNAVAILABLE') return false;
            throw err;
          }
        },
        { timeoutMs },
      );
      assert.ok(!(await s.engine.describeFlow()).outputs.some((o) => o.outputArn === outputArn));

      // The port's states in order, whatever passing states an engine reports besides them (UPDATING).
      const expected = ['CREATING', 'IDLE', 'STARTING', 'RUNNING', 'STOPPING', 'IDLE', 'DELETING', 'DELETED'];
      const order = statesOf(arn)
        .filter((st) => expected.includes(st))
        .filter((st, i, all) => st !== all[i - 1]);
      assert.deepEqual(order, expected);
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
      await flowWithMedia();
      await s.engine.startChannel(channelId);
      await until(channelId, 'RUNNING');
      assert.ok(s.events.length >= 5);
      for (const e of s.events) {
        const wire = { ...ENVELOPE, 'detail-type': e.detailType, source: e.source, resources: e.resources, detail: e.detail };
        const schema = NATIVE_SCHEMAS[e.detailType as keyof typeof NATIVE_SCHEMAS];
        if (!schema) assert.fail(`unexpected native event ${e.source} ${e.detailType}`);
        schema.parse(wire);
        assert.ok(e.resources.length > 0, 'names the resource');
      }
    });

    test("a refused operation is the port's EngineError; a missing channel is CHANNEL_NOT_FOUND or null, never a crash", async () => {
      const { channelId, destinationId, outputArn } = await idleChannel();
      await s.engine.deleteChannel(channelId);
      await waitFor('channel gone', async () => (await s.engine.describeChannel(channelId)) === null, { timeoutMs });
      await assert.rejects(s.engine.startChannel(channelId), engineError('CHANNEL_NOT_FOUND'));
      await assert.rejects(s.engine.updateChannel(channelId, channelSpec(s, destinationId, outputArn)), engineError('CHANNEL_NOT_FOUND'));
      await s.engine.deleteChannel(channelId); // idempotent
    });

    describe('input redundancy (engines implementing InputRedundancy)', () => {
      const fast: FailoverSettings = { mode: 'automatic', inputLossThresholdMs: 200, errorClearTimeMs: null, slateTimeoutMs: 60_000 };
      const r = () => s.redundancy!;
      const switches = () => s.events.filter((e) => e.detailType === 'MediaConnect Source Failover Switch');
      const activeIs = (input: string) => waitFor(`active input ${input}`, async () => (await r().engine.inputsHealth()).active === input, { timeoutMs });

      test('settings are stored as given; a manual switch both ways is reported; a dead input is INPUT_NOT_CONNECTED', async (t) => {
        if (!s.redundancy) return t.skip('the engine does not implement InputRedundancy');
        assert.deepEqual(await r().engine.setFailover(fast), fast);
        const health = await r().engine.inputsHealth();
        assert.deepEqual(health.settings, fast);
        assert.equal(health.inputs.main.configured, true);
        assert.equal(health.inputs.backup.configured, true);
        await assert.rejects(r().engine.switchInput('backup'), engineError('INPUT_NOT_CONNECTED'));
        await r().connect('main');
        await r().connect('backup');
        await activeIs('main');
        const toBackup = await r().engine.switchInput('backup');
        assert.deepEqual([toBackup.from, toBackup.to, toBackup.reason], ['main', 'backup', 'manual']);
        assert.ok(!Number.isNaN(Date.parse(toBackup.at)));
        await activeIs('backup');
        assert.deepEqual((await r().engine.inputsHealth()).lastSwitch, toBackup);
        const toMain = await r().engine.switchInput('main');
        assert.deepEqual([toMain.from, toMain.to, toMain.reason], ['backup', 'main', 'manual']);
        await eventually('two native switch events', () => switches().length >= 2);
        for (const e of switches()) MediaConnectSourceFailoverSwitch.parse({ ...ENVELOPE, 'detail-type': e.detailType, source: e.source, resources: e.resources, detail: e.detail });
        assert.deepEqual(
          switches()
            .slice(-2)
            .map((e) => [e.detail.previous_source, e.detail.current_source, e.detail.reason]),
          [
            ['main', 'backup', 'manual'],
            ['backup', 'main', 'manual'],
          ],
        );
      });

      test('automatic: losing the active input switches to the other (input-loss); the backup test does not switch', async (t) => {
        if (!s.redundancy) return t.skip('the engine does not implement InputRedundancy');
        await r().engine.setFailover(fast);
        await r().connect('main');
        await r().connect('backup');
        await activeIs('main');
        const test = await r().engine.testBackupInput();
        assert.equal(test.connected, true);
        assert.equal(test.decodable, true);
        assert.equal((await r().engine.inputsHealth()).active, 'main', 'the test does not switch');
        await r().lose('main');
        await activeIs('backup');
        const last = (await r().engine.inputsHealth()).lastSwitch;
        assert.deepEqual([last?.from, last?.to, last?.reason], ['main', 'backup', 'input-loss']);
        assert.equal((await r().engine.inputsHealth()).inputs.main.connected, false, 'the inactive input is monitored too');
      });
    });
  });
}
