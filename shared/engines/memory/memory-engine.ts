/**
 * An in-memory engine over the port's MediaLive channel machine (port/channel-machine.ts, the one
 * the in-memory AWS answers with: which call is accepted in which state, where it moves the
 * channel, where that settles) and MediaConnect's flow states (a flow starts from STANDBY), that
 * reports every change as the native event AWS would emit, after a configurable delay. It moves no media: it is the engine for
 * tests of the control plane (sagas, retries, reconcile) and the reference the engine contract
 * tests run against beside the real engines.
 *
 * By default it lives and dies with the process, like the local engine. With `stateFile` it keeps
 * its channels, outputs and flow state in that file (rewritten atomically on every change) and
 * takes them back at construction, finishing any transition that was under way: the engine then
 * outlives a crash of the control plane, as MediaLive and MediaConnect outlive a Lambda (the crash
 * tests, test/crash-*.test.ts). Stream keys are never written: a restored channel has an empty key.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { ChannelState } from '../../../events/channel-provisioner/common.ts';
import { portError } from '../port/errors.ts';
import { Secret } from '../../secrets/secret.ts';
import { accepts, CHANNEL_OPERATIONS, isNoop, SETTLES_TO, type ChannelOperation } from '../port/channel-machine.ts';
import { CHANNEL_STATE_MESSAGES } from '../port/channel-state-messages.ts';
import type {
  ChannelDescription,
  ChannelEngine,
  BackupTestResult,
  ChannelSpec,
  EngineEventSink,
  FailoverSettings,
  FlowDescription,
  FlowEngine,
  FlowState,
  InputHealth,
  InputName,
  InputRedundancy,
  InputsHealth,
  InputSwitch,
  OwnedResources,
} from '../port/ports.ts';
import { MemoryInputs, type MemoryFeed } from './memory-inputs.ts';

export interface MemoryEngineOptions {
  sink: EngineEventSink;
  /** Delay before an asynchronous state change completes (CREATING → IDLE, STARTING → RUNNING, ...). */
  transitionMs?: number;
  region?: string;
  account?: string;
  /** The always-on primary channel (like the stack's on AWS), IDLE until started. Default true. */
  primary?: boolean;
  /** Keep the engine's state in this file so that it survives the process (see the header). */
  stateFile?: string;
  /** A backup input beside the main one (InputRedundancy). Default true. */
  backupInput?: boolean;
}

interface SavedState {
  channels: { channelId: string; arn: string; state: ChannelState; spec: Omit<ChannelSpec, 'target'> & { target: { url: string } } }[];
  outputs: [string, string][];
  flowState: FlowState;
  primaryState: ChannelState | null;
}

/** What the state transitions need: the primary channel is only this. */
interface StateMachine {
  channelId: string;
  arn: string;
  state: ChannelState;
  timer?: NodeJS.Timeout;
}

interface Channel extends StateMachine {
  spec: ChannelSpec;
}

export class MemoryEngine implements FlowEngine, ChannelEngine, InputRedundancy {
  private readonly channels = new Map<string, Channel>();
  private readonly outputs = new Map<string, string>(); // outputArn → destinationId
  private flowState: FlowState = 'STANDBY';
  /** The primary channel: outside `channels`, so it is never listed, stopped or deleted as a destination's. */
  private readonly primary: StateMachine | undefined;
  private readonly flowArn: string;
  /** Main and backup inputs, failover and slate (memory-inputs.ts); tests drive them with `connectInput` / `loseInput`. */
  private readonly inputs: MemoryInputs;
  /** Every call, for tests. */
  readonly calls: { op: string; args: unknown[] }[] = [];

  constructor(private readonly o: MemoryEngineOptions) {
    const region = o.region ?? 'local';
    const account = o.account ?? '000000000000';
    this.flowArn = `arn:aws:mediaconnect:${region}:${account}:flow:1-memory-primary:fanout-ingest`;
    this.inputs = new MemoryInputs({ sink: o.sink, flowArn: this.flowArn, backupConfigured: o.backupInput ?? true });
    if (o.primary ?? true) {
      this.primary = { channelId: '9999999', arn: this.arn('channel', '9999999'), state: 'IDLE' };
    }
    if (o.stateFile && existsSync(o.stateFile)) this.restore(JSON.parse(readFileSync(o.stateFile, 'utf8')) as SavedState);
  }

  private restore(saved: SavedState): void {
    for (const c of saved.channels) this.channels.set(c.channelId, { ...c, spec: { ...c.spec, target: { url: c.spec.target.url, streamKey: new Secret('') } } });
    for (const [arn, destinationId] of saved.outputs) this.outputs.set(arn, destinationId);
    this.flowState = saved.flowState;
    if (this.primary && saved.primaryState) this.primary.state = saved.primaryState;
    // Transitions under way when the process died complete now, reported as they would have been.
    for (const c of [...this.channels.values(), ...(this.primary ? [this.primary] : [])]) {
      const then = SETTLES_TO[c.state];
      if (then) this.settle(c, c.state, then);
    }
    if (this.flowState === 'STARTING') this.settleFlow('STARTING', 'ACTIVE');
    if (this.flowState === 'STOPPING') this.settleFlow('STOPPING', 'STANDBY');
  }

  /** Writes the state file whole, then renames it over the old one: a kill never leaves half a file. */
  private save(): void {
    if (!this.o.stateFile) return;
    const state: SavedState = {
      channels: [...this.channels.values()].map((c) => ({ channelId: c.channelId, arn: c.arn, state: c.state, spec: JSON.parse(JSON.stringify({ ...c.spec, target: { url: c.spec.target.url } })) })),
      outputs: [...this.outputs],
      flowState: this.flowState,
      primaryState: this.primary?.state ?? null,
    };
    writeFileSync(`${this.o.stateFile}.tmp`, JSON.stringify(state), { mode: 0o600 });
    renameSync(`${this.o.stateFile}.tmp`, this.o.stateFile);
  }

  private arn(kind: 'channel' | 'output', id: string): string {
    const region = this.o.region ?? 'local';
    const account = this.o.account ?? '000000000000';
    return kind === 'channel' ? `arn:aws:medialive:${region}:${account}:channel:${id}` : `arn:aws:mediaconnect:${region}:${account}:output:1-memory-${id}:dest-${id}`;
  }

  private emitChannel(c: StateMachine, message: string): void {
    this.o.sink({
      source: 'aws.medialive',
      detailType: 'MediaLive Channel State Change',
      resources: [c.arn],
      detail: { channel_arn: c.arn, state: c.state, message, pipelines_running_count: c.state === 'RUNNING' ? 1 : 0, fanout_observed_at: new Date().toISOString() },
    });
  }

  private set(c: StateMachine, state: ChannelState, then?: ChannelState): void {
    c.state = state;
    this.save();
    this.emitChannel(c, CHANNEL_STATE_MESSAGES[state]);
    if (then) this.settle(c, state, then);
  }

  /** `state` becomes `then` after the transition delay, unless something moved it meanwhile. */
  private settle(c: StateMachine, state: ChannelState, then: ChannelState): void {
    clearTimeout(c.timer);
    c.timer = setTimeout(() => {
      if (c.state !== state) return;
      if (then === 'DELETED') this.channels.delete(c.channelId);
      this.set(c, then);
    }, this.o.transitionMs ?? 5);
  }

  private require(channelId: string): Channel {
    const c = this.channels.get(channelId);
    if (!c) throw portError('CHANNEL_NOT_FOUND', `channel ${channelId} does not exist`, { details: { awsCode: 'NotFoundException', httpStatus: 404 } });
    return c;
  }

  /** `op` by the machine: nothing in a no-op state, CHANNEL_NOT_IDLE where MediaLive would answer 409, else the state it enters (settling later). */
  private operate(op: ChannelOperation, c: StateMachine): void {
    if (isNoop(op, c.state)) return;
    if (!accepts(op, c.state)) throw portError('CHANNEL_NOT_IDLE', `cannot ${op} channel ${c.channelId} while it is ${c.state}`, { details: { awsCode: 'ConflictException', httpStatus: 409 } });
    const entered = CHANNEL_OPERATIONS[op].enters;
    if (c.state !== entered) this.set(c, entered, SETTLES_TO[entered]);
  }

  async createChannel(spec: ChannelSpec): Promise<{ channelId: string; arn: string }> {
    this.calls.push({ op: 'createChannel', args: [spec.destinationId] });
    for (const c of this.channels.values()) if (c.spec.destinationId === spec.destinationId) return { channelId: c.channelId, arn: c.arn };
    const channelId = String(1_000_000 + (randomBytes(3).readUIntBE(0, 3) % 9_000_000));
    const c: Channel = { channelId, arn: this.arn('channel', channelId), spec, state: 'CREATING' };
    this.channels.set(channelId, c);
    this.set(c, 'CREATING', SETTLES_TO.CREATING);
    return { channelId, arn: c.arn };
  }

  async startChannel(channelId: string): Promise<void> {
    this.calls.push({ op: 'startChannel', args: [channelId] });
    this.operate('start', this.require(channelId));
  }

  async stopChannel(channelId: string): Promise<void> {
    this.calls.push({ op: 'stopChannel', args: [channelId] });
    this.operate('stop', this.require(channelId));
  }

  async updateChannel(channelId: string, spec: ChannelSpec): Promise<void> {
    this.calls.push({ op: 'updateChannel', args: [channelId] });
    const c = this.require(channelId);
    this.operate('update', c);
    c.spec = spec;
    this.save();
  }

  async deleteChannel(channelId: string): Promise<void> {
    this.calls.push({ op: 'deleteChannel', args: [channelId] });
    const c = this.channels.get(channelId);
    if (c) this.operate('delete', c);
  }

  async describeChannel(channelId: string): Promise<ChannelDescription | null> {
    const c = this.channels.get(channelId);
    return c ? { channelId, arn: c.arn, destinationId: c.spec.destinationId, state: c.state, error: null } : null;
  }

  async listChannels(): Promise<ChannelDescription[]> {
    return [...this.channels.values()].map((c) => ({ channelId: c.channelId, arn: c.arn, destinationId: c.spec.destinationId, state: c.state, error: null }));
  }

  async listOwnedResources(): Promise<OwnedResources> {
    const channels = await this.listChannels();
    return {
      channels,
      outputs: [...this.outputs].map(([outputArn, destinationId]) => ({
        outputArn,
        destinationId,
        state: null,
        attachedChannelIds: channels.filter((c) => this.channels.get(c.channelId)?.spec.outputArn === outputArn).map((c) => c.channelId),
        flowOutputArn: outputArn,
      })),
    };
  }

  /**
   * Test control: the channel disappears without any event, as if deleted outside Fanout (or lost
   * by an engine that restarted): the store and the engine now disagree.
   */
  forgetChannel(channelId: string): void {
    const c = this.channels.get(channelId);
    if (c) clearTimeout(c.timer);
    this.channels.delete(channelId);
    this.save();
  }

  /** The spec a channel was last created or updated with (tests check updates). */
  specOf(channelId: string): ChannelSpec | undefined {
    return this.channels.get(channelId)?.spec;
  }

  private setFlow(state: FlowState): void {
    const previous = this.flowState;
    this.flowState = state;
    this.save();
    this.o.sink({ source: 'aws.mediaconnect', detailType: 'MediaConnect Flow Status Change', resources: [this.flowArn], detail: { currentStatus: state, previousStatus: previous } });
  }

  async describeFlow(): Promise<FlowDescription> {
    return {
      flowArn: this.flowArn,
      state: this.flowState,
      outputs: [...this.outputs].map(([outputArn, destinationId]) => ({ outputArn, destinationId })),
      source: this.health(),
    };
  }

  private health(): InputHealth {
    return this.inputs.activeHealth();
  }

  inputsHealth(): Promise<InputsHealth> {
    return this.inputs.inputsHealth();
  }

  switchInput(to: InputName): Promise<InputSwitch> {
    this.calls.push({ op: 'switchInput', args: [to] });
    return this.inputs.switchInput(to);
  }

  testBackupInput(): Promise<BackupTestResult> {
    this.calls.push({ op: 'testBackupInput', args: [] });
    return this.inputs.testBackupInput();
  }

  setFailover(settings: FailoverSettings): Promise<FailoverSettings> {
    this.calls.push({ op: 'setFailover', args: [settings] });
    return this.inputs.setFailover(settings);
  }

  /** Test control: an encoder connects to `name` and delivers media. */
  connectInput(name: InputName, feed?: MemoryFeed): void {
    this.inputs.connect(name, feed);
  }

  /** Test control: the encoder on `name` stops delivering. */
  loseInput(name: InputName): void {
    this.inputs.lose(name);
  }

  async startFlow(): Promise<void> {
    this.calls.push({ op: 'startFlow', args: [] });
    if (this.flowState === 'ACTIVE' || this.flowState === 'STARTING') return;
    this.setFlow('STARTING');
    this.settleFlow('STARTING', 'ACTIVE');
  }

  private settleFlow(from: FlowState, to: FlowState): void {
    setTimeout(() => this.flowState === from && this.setFlow(to), this.o.transitionMs ?? 5);
  }

  async stopFlow(): Promise<void> {
    this.calls.push({ op: 'stopFlow', args: [] });
    if (this.flowState === 'STANDBY' || this.flowState === 'STOPPING') return;
    this.setFlow('STOPPING');
    this.settleFlow('STOPPING', 'STANDBY');
  }

  async addOutput(destinationId: string): Promise<{ outputArn: string }> {
    this.calls.push({ op: 'addOutput', args: [destinationId] });
    const outputArn = this.arn('output', destinationId);
    this.outputs.set(outputArn, destinationId);
    this.save();
    return { outputArn };
  }

  async removeOutput(outputArn: string): Promise<void> {
    this.calls.push({ op: 'removeOutput', args: [outputArn] });
    this.outputs.delete(outputArn);
    this.save();
  }

  async describePrimary(): Promise<{ channelId: string; state: ChannelState }> {
    if (!this.primary) throw portError('ENGINE_UNAVAILABLE', 'this memory engine has no primary channel');
    return { channelId: this.primary.channelId, state: this.primary.state };
  }

  async startPrimary(): Promise<void> {
    this.calls.push({ op: 'startPrimary', args: [] });
    // Only from IDLE (a no-op otherwise): the primary is never stopped by Fanout.
    if (this.primary && accepts('start', this.primary.state)) this.operate('start', this.primary);
  }

  async inputHealth(): Promise<InputHealth> {
    return this.health();
  }

  async close(): Promise<void> {
    for (const c of this.channels.values()) clearTimeout(c.timer);
    clearTimeout(this.primary?.timer);
    this.inputs.close();
  }
}
