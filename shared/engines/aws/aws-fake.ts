/**
 * Test support: an in-memory MediaLive + MediaConnect behind aws-sdk-client-mock, with AWS's state
 * machines (AWS-FACTS §4.2) and AWS's native EventBridge events, so the AWS engine and the
 * consumers of its events can be driven without AWS.
 *
 *   input    CREATING ─(inputCreateMs)→ DETACHED ⇄ ATTACHED (CreateChannel / channel DELETED)
 *            DETACHED ─DeleteInput→ DELETING ─(inputDeleteMs)→ DELETED     (else 409 Conflict)
 *            a MEDIACONNECT input adds one managed output to its flow (≤ 50 per flow) and the
 *            output goes when the input is DELETED
 *   channel  the port's MediaLive channel machine (port/channel-machine.ts: which call MediaLive
 *            accepts in which state, where it moves the channel, where that settles), with this
 *            fake's timings: CREATING ─(channelCreateMs)→ IDLE (or CREATE_FAILED when told to
 *            fail), STARTING ─(channelStartMs, minutes by default)→ RUNNING, STOPPING
 *            ─(channelStopMs)→ IDLE, DELETING ─(channelDeleteMs)→ DELETED; a call the machine
 *            does not accept → 409 ConflictException
 *   flow     STANDBY|ERROR ─StartFlow→ STARTING ─(flowStartMs)→ ACTIVE ─StopFlow→ STOPPING ─→ STANDBY
 *   sources  the stack's two SRT listener sources, `srt-in` (main) and `srt-backup` (backup), with
 *            source failover (FAILOVER mode) as MediaConnect documents it: the flow uses the
 *            primary source (SourcePriority.PrimarySource) whenever it delivers, else the other;
 *            with no primary (equal priority) it stays on the source in use while that delivers.
 *            Tests connect and cut encoders (`connectSource`, `loseSource`); UpdateFlow changes the
 *            SourceFailoverConfig; the flow's tags (TagResource, ListTagsForResource) are kept.
 *            MediaConnect puts no event on EventBridge for a source switch, so neither does this.
 *
 * CloudWatch (`fakeCloudWatch`): GetMetricData answered from a table of datapoints per metric and
 * dimensions, newest first, within the request's time range (the metrics MediaLive and
 * MediaConnect publish; metrics-reader.ts reads them).
 *
 * Every channel transition emits "MediaLive Channel State Change" and every flow transition
 * "MediaConnect Flow Status Change" to the sink, in the shapes of events/native/*.json (no Fanout
 * extensions: this stands for AWS). Timers are plain `setTimeout`, so tests drive the minutes-long
 * start with `mock.timers`.
 *
 * Server-side checks the model cannot express and the engine relies on are made here and answered
 * with 422 UnprocessableEntityException + ValidationErrors, as MediaLive does: inputs must exist and
 * be detached, a one-flow MEDIACONNECT input feeds only a SINGLE_PIPELINE channel, destination /
 * description / audio selector references must resolve, CBR needs a bitrate, RTMP URLs are
 * rtmp(s). Where the real service's answer is not documented (the exact error for a full flow or an
 * exhausted channel quota, a start/stop of a flow in the wrong state) the fake answers with a
 * BadRequestException and says so in the message; those answers are marked [inferred].
 */
import { accepts, CHANNEL_OPERATIONS, SETTLES_TO, type ChannelOperation } from '../port/channel-machine.ts';
import { CHANNEL_STATE_MESSAGES } from '../port/channel-state-messages.ts';
import { randomBytes } from 'node:crypto';
import {
  BadRequestException as MlBadRequest,
  ConflictException as MlConflict,
  CreateChannelCommand,
  CreateInputCommand,
  CreateTagsCommand,
  DeleteChannelCommand,
  DeleteInputCommand,
  DescribeChannelCommand,
  DescribeInputCommand,
  InternalServerErrorException as MlInternal,
  ListChannelsCommand,
  ListInputsCommand,
  MediaLiveClient,
  NotFoundException as MlNotFound,
  StartChannelCommand,
  StopChannelCommand,
  TooManyRequestsException as MlThrottle,
  UnprocessableEntityException as MlUnprocessable,
  UpdateChannelCommand,
  type CreateChannelCommandInput,
  type CreateInputCommandInput,
  type UpdateChannelCommandInput,
} from '@aws-sdk/client-medialive';
import {
  BadRequestException as McBadRequest,
  DescribeFlowCommand,
  DescribeFlowSourceMetadataCommand,
  ListTagsForResourceCommand,
  MediaConnectClient,
  NotFoundException as McNotFound,
  StartFlowCommand,
  StopFlowCommand,
  TagResourceCommand,
  TooManyRequestsException as McThrottle,
  UpdateFlowCommand,
} from '@aws-sdk/client-mediaconnect';
import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { mockClient, type AwsClientStub, type AwsStub } from 'aws-sdk-client-mock';
import type { ChannelState } from '../../../events/channel-provisioner/common.ts';
import type { EngineEventSink, FlowState, NativeEngineEvent } from '../port/ports.ts';
import { capturedFromMock, type CapturedRequest } from './request-capture.ts';

export interface FakeTimings {
  inputCreateMs: number;
  inputDeleteMs: number;
  channelCreateMs: number;
  channelStartMs: number;
  channelStopMs: number;
  channelDeleteMs: number;
  flowStartMs: number;
  flowStopMs: number;
}

/** Roughly what AWS takes (AWS-FACTS §4.3): a channel starts in ~3 minutes (up to 10 is normal). */
export const AWS_TIMINGS: Readonly<FakeTimings> = Object.freeze({
  inputCreateMs: 1_000,
  inputDeleteMs: 5_000,
  channelCreateMs: 10_000,
  channelStartMs: 3 * 60_000,
  channelStopMs: 30_000,
  channelDeleteMs: 20_000,
  flowStartMs: 15_000,
  flowStopMs: 10_000,
});

/** For tests on real timers (the engine contract): every transition in a few milliseconds. */
export const FAST_TIMINGS: Readonly<FakeTimings> = Object.freeze({
  inputCreateMs: 2,
  inputDeleteMs: 2,
  channelCreateMs: 5,
  channelStartMs: 10,
  channelStopMs: 5,
  channelDeleteMs: 5,
  flowStartMs: 5,
  flowStopMs: 5,
});

export interface AwsFakeOptions {
  sink?: EngineEventSink;
  region?: string;
  account?: string;
  timings?: Partial<FakeTimings>;
  /** MediaConnect's outputs-per-flow limit (50, not increasable). */
  maxOutputsPerFlow?: number;
  /** MediaLive channels per Region (default quota 5). */
  channelQuota?: number;
  /** The primary channel's managed output already on the flow (not Fanout's to touch). Default true. */
  primaryOutput?: boolean;
  /**
   * The stack's primary channel (IDLE, attached to the primary input, tagged like serverless.yml
   * tags it) for this deployment name; its id is `primaryChannelId`. Default: none.
   */
  primaryChannelFor?: string;
  initialFlowState?: FlowState;
  /** The flow has the backup source `srt-backup` and source failover (as serverless.yml declares it). Default true. */
  backupSource?: boolean;
}

export type FakeSourceName = 'main' | 'backup';

/** What an encoder on a source sends, as DescribeFlowSourceMetadata reports it while that source is in use. */
export interface FakeSourceFeed {
  video?: { codec: string; width: number; height: number; frameRate: string };
  audio?: { codec: string; sampleRate: number; channels: number };
  /**
   * The encoder's address, as DescribeFlow's Source.PeerIpAddress (in the MediaConnect model
   * since 2025). The fake answers past the SDK's deserializer; the pinned
   * @aws-sdk/client-mediaconnect 3.654.0 drops this field from a real answer.
   */
  peerIpAddress?: string;
}

const DEFAULT_FEED: Required<Omit<FakeSourceFeed, 'peerIpAddress'>> = { video: { codec: 'h264', width: 1280, height: 720, frameRate: '30' }, audio: { codec: 'aac', sampleRate: 48_000, channels: 2 } };

/** The source names serverless.yml gives the flow. */
export const FAKE_SOURCE_NAMES: Readonly<Record<FakeSourceName, string>> = Object.freeze({ main: 'srt-in', backup: 'srt-backup' });

interface FakeFailoverConfig {
  State?: string;
  FailoverMode?: string;
  RecoveryWindow?: number;
  SourcePriority?: { PrimarySource?: string };
}

interface FakeInput {
  Id: string;
  Arn: string;
  Name: string;
  Type: string;
  State: 'CREATING' | 'DETACHED' | 'ATTACHED' | 'DELETING' | 'DELETED';
  AttachedChannels: string[];
  MediaConnectFlows: { FlowArn: string }[];
  RoleArn?: string;
  Tags: Record<string, string>;
  managedOutputArn?: string;
}

interface FakeChannel {
  Id: string;
  Arn: string;
  State: ChannelState;
  settings: Omit<CreateChannelCommandInput, 'RequestId' | 'Tags'>;
  Tags: Record<string, string>;
}

interface FakeOutput {
  Name: string;
  OutputArn: string;
  MediaLiveInputArn?: string;
  Transport: { Protocol: string };
}

type ServiceErrorName = 'ConflictException' | 'NotFoundException' | 'BadRequestException' | 'UnprocessableEntityException' | 'TooManyRequestsException' | 'InternalServerErrorException';

const ML_ERRORS = {
  ConflictException: [MlConflict, 409],
  NotFoundException: [MlNotFound, 404],
  BadRequestException: [MlBadRequest, 400],
  UnprocessableEntityException: [MlUnprocessable, 422],
  TooManyRequestsException: [MlThrottle, 429],
  InternalServerErrorException: [MlInternal, 500],
} as const;

/** A MediaLive service exception as the SDK would raise it. */
export function medialiveError(name: ServiceErrorName, message: string, validationErrors?: { ElementPath: string; ErrorMessage: string }[]): Error {
  const [Cls, status] = ML_ERRORS[name];
  const e = new (Cls as unknown as new (o: object) => Error)({ message, $metadata: { httpStatusCode: status, requestId: randomBytes(8).toString('hex') } });
  if (validationErrors) Object.assign(e, { ValidationErrors: validationErrors });
  return e;
}

/** A MediaConnect service exception as the SDK would raise it. */
export function mediaconnectError(name: 'BadRequestException' | 'NotFoundException' | 'TooManyRequestsException', message: string): Error {
  const Cls = { BadRequestException: McBadRequest, NotFoundException: McNotFound, TooManyRequestsException: McThrottle }[name];
  const status = { BadRequestException: 400, NotFoundException: 404, TooManyRequestsException: 429 }[name];
  return new (Cls as unknown as new (o: object) => Error)({ message, $metadata: { httpStatusCode: status } });
}

/** A MediaConnect command class, typed loosely for the same @smithy/types mismatch. */
type AnyCommandClass = new (input: any) => any;

type Injected = { kind: 'error'; error: () => Error } | { kind: 'lose-response' };

export class AwsFake {
  readonly medialive: MediaLiveClient;
  readonly mediaconnect: MediaConnectClient;
  readonly medialiveMock: AwsClientStub<MediaLiveClient>;
  /**
   * Typed loosely: client-mediaconnect 3.654 (the newest the registry here serves) is built on an
   * older @smithy/types than aws-sdk-client-mock's, so its client does not type-check as a `Client`.
   */
  readonly mediaconnectMock: AwsStub<any, any, any>;
  readonly region: string;
  readonly account: string;
  readonly flowArn: string;
  /** Every native event emitted, in order. */
  readonly events: NativeEngineEvent[] = [];

  private readonly timings: FakeTimings;
  private readonly inputs = new Map<string, FakeInput>();
  private readonly channels = new Map<string, FakeChannel>();
  private readonly outputs: FakeOutput[] = [];
  private readonly requestIds = new Map<string, string>(); // `kind:RequestId` → resource id
  private readonly injected = new Map<string, Injected[]>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private flowState: FlowState;
  private nextId = 1_000_000 + (randomBytes(2).readUInt16BE(0) % 1000) * 1000;
  private failCreates = 0;
  private hiddenFromLists = new Set<string>();
  /** What each source's encoder sends; null = nothing connected. */
  private readonly feeds: Record<FakeSourceName, FakeSourceFeed | null> = { main: null, backup: null };
  /** The source the flow uses (MediaConnect's failover rule, `reselect`). */
  private inUse: FakeSourceName | null = null;
  private failover: FakeFailoverConfig | undefined;
  private readonly flowTags: Record<string, string> = {};
  private readonly sourceProblems: Record<FakeSourceName, { Code: string; Message: string } | undefined> = { main: undefined, backup: undefined };
  /** The stack's primary channel, when `primaryChannelFor` was given. */
  readonly primaryChannelId: string | undefined;

  constructor(private readonly o: AwsFakeOptions = {}) {
    this.region = o.region ?? 'eu-west-1';
    this.account = o.account ?? '111122223333';
    this.timings = { ...AWS_TIMINGS, ...o.timings };
    this.flowArn = `arn:aws:mediaconnect:${this.region}:${this.account}:flow:1-FakeFlowAbCdEfGh-0123456789ab:fanout-ingest`;
    this.flowState = o.initialFlowState ?? 'STANDBY';
    if (o.backupSource ?? true) this.failover = { State: 'ENABLED', FailoverMode: 'FAILOVER', SourcePriority: { PrimarySource: FAKE_SOURCE_NAMES.main } };
    if (o.primaryOutput ?? true) {
      this.outputs.push({
        Name: 'primary-medialive',
        OutputArn: `arn:aws:mediaconnect:${this.region}:${this.account}:output:2-PrimaryOutput0000-0123456789ab:primary-medialive`,
        MediaLiveInputArn: `arn:aws:medialive:${this.region}:${this.account}:input:999999`,
        Transport: { Protocol: 'rtp' },
      });
    }
    if (o.primaryChannelFor) {
      const id = '999998';
      const inputId = '999999';
      const inputArn = `arn:aws:medialive:${this.region}:${this.account}:input:${inputId}`;
      const tags = { 'fanout:deployment': o.primaryChannelFor };
      this.inputs.set(inputId, {
        Id: inputId,
        Arn: inputArn,
        Name: `${o.primaryChannelFor}-primary-in`,
        Type: 'MEDIACONNECT',
        State: 'ATTACHED',
        AttachedChannels: [id],
        MediaConnectFlows: [{ FlowArn: this.flowArn }],
        Tags: { ...tags, 'fanout:resource': 'primary-input' },
      });
      this.channels.set(id, {
        Id: id,
        Arn: `arn:aws:medialive:${this.region}:${this.account}:channel:${id}`,
        State: 'IDLE',
        settings: { Name: `${o.primaryChannelFor}-primary`, ChannelClass: 'SINGLE_PIPELINE', InputAttachments: [{ InputId: inputId, InputAttachmentName: 'contribution' }] },
        Tags: { ...tags, 'fanout:resource': 'primary-channel' },
      });
      this.primaryChannelId = id;
    }
    const credentials = { accessKeyId: 'AKIDFAKEFAKEFAKE', secretAccessKey: 'fake' };
    this.medialive = new MediaLiveClient({ region: this.region, credentials });
    this.mediaconnect = new MediaConnectClient({ region: this.region, credentials });
    this.medialiveMock = mockClient(this.medialive);
    this.mediaconnectMock = mockClient(this.mediaconnect as unknown as Parameters<typeof mockClient>[0]) as AwsStub<any, any, any>;
    this.wire();
  }

  // ---- test controls -----------------------------------------------------------------------------

  /** Whether the main source's encoder is connected (DescribeFlowSourceMetadata shows a program while it is in use). */
  get sourceConnected(): boolean {
    return this.feeds.main !== null;
  }
  set sourceConnected(v: boolean) {
    if (v) this.connectSource('main');
    else this.loseSource('main');
  }

  /** An encoder connects to a source and delivers media. */
  connectSource(name: FakeSourceName, feed: FakeSourceFeed = {}): void {
    if (name === 'backup' && !this.failover) throw new Error('AwsFake: this flow has no backup source');
    this.feeds[name] = { ...DEFAULT_FEED, ...feed };
    this.sourceProblems[name] = undefined;
    this.reselect();
  }

  /** The encoder on a source stops. */
  loseSource(name: FakeSourceName): void {
    this.feeds[name] = null;
    this.sourceProblems[name] = undefined;
    this.reselect();
  }

  /** An encoder reaches a source but MediaConnect refuses its media (e.g. a wrong SRT passphrase): the source's message says why. */
  failSource(name: FakeSourceName, problem: { Code: string; Message: string }): void {
    this.feeds[name] = null;
    this.sourceProblems[name] = problem;
    this.reselect();
  }

  /** The source the flow uses now (null: none delivers). */
  get sourceInUse(): FakeSourceName | null {
    return this.inUse;
  }

  get sourceFailoverConfig(): Readonly<FakeFailoverConfig> | undefined {
    return this.failover && structuredClone(this.failover);
  }

  get tagsOfFlow(): Readonly<Record<string, string>> {
    return { ...this.flowTags };
  }

  /** The next `times` calls of `operation` (e.g. 'StartChannel') fail with `error` before touching any state. */
  failNext(operation: string, error: Error | (() => Error), times = 1): void {
    const list = this.injected.get(operation) ?? [];
    for (let i = 0; i < times; i++) list.push({ kind: 'error', error: typeof error === 'function' ? error : () => error });
    this.injected.set(operation, list);
  }

  /** The next call of `operation` succeeds on the "server" but its response is lost (a 504 reaches the client). */
  loseNextResponse(operation: string): void {
    const list = this.injected.get(operation) ?? [];
    list.push({ kind: 'lose-response' });
    this.injected.set(operation, list);
  }

  /** The next `count` channels created end in CREATE_FAILED instead of IDLE. */
  failNextCreates(count = 1): void {
    this.failCreates += count;
  }

  /** Resources created from now on stay out of List* answers until `revealAll()` (eventual consistency). */
  private hideNew = false;
  hideNewResourcesFromLists(): void {
    this.hideNew = true;
  }
  revealAll(): void {
    this.hideNew = false;
    this.hiddenFromLists.clear();
  }

  /** Every command the clients received, in order. */
  captured(): CapturedRequest[] {
    return [...capturedFromMock(this.medialiveMock, 'medialive'), ...capturedFromMock(this.mediaconnectMock, 'mediaconnect')].sort((a, b) => a.seq - b.seq);
  }

  /** Operation names in call order (`CreateInput`, `CreateChannel`, ...). */
  operations(): string[] {
    return this.captured().map((c) => c.operation);
  }

  channel(id: string): Readonly<FakeChannel> | undefined {
    return this.channels.get(id);
  }

  input(id: string): Readonly<FakeInput> | undefined {
    return this.inputs.get(id);
  }

  /** Channels and inputs that still exist (not DELETED), the stack's primary included. */
  live(): { channels: FakeChannel[]; inputs: FakeInput[] } {
    return { channels: [...this.channels.values()].filter((c) => c.State !== 'DELETED'), inputs: [...this.inputs.values()].filter((i) => i.State !== 'DELETED') };
  }

  /** Channels and inputs made for destinations (tagged with a destination id) that still exist. */
  liveDestinationResources(): { channels: FakeChannel[]; inputs: FakeInput[] } {
    const live = this.live();
    return { channels: live.channels.filter((c) => c.Tags['fanout:destinationId']), inputs: live.inputs.filter((i) => i.Tags['fanout:destinationId']) };
  }

  flowOutputs(): readonly FakeOutput[] {
    return this.outputs;
  }

  get flowStatus(): FlowState {
    return this.flowState;
  }

  /** Puts a channel in a state directly (e.g. RECOVERING), emitting the event. */
  forceChannelState(id: string, state: ChannelState): void {
    const c = this.channels.get(id);
    if (!c) throw new Error(`no channel ${id}`);
    this.setChannel(c, state);
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.medialiveMock.restore();
    this.mediaconnectMock.restore();
  }

  // ---- plumbing ---------------------------------------------------------------------------------

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private emit(event: NativeEngineEvent): void {
    this.events.push(event);
    this.o.sink?.(event);
  }

  private setChannel(c: FakeChannel, state: ChannelState): void {
    c.State = state;
    this.emit({
      source: 'aws.medialive',
      detailType: 'MediaLive Channel State Change',
      resources: [c.Arn],
      detail: { channel_arn: c.Arn, state, message: CHANNEL_STATE_MESSAGES[state], pipelines_running_count: state === 'RUNNING' ? 1 : 0 },
    });
  }

  private setFlow(state: FlowState): void {
    const previous = this.flowState;
    this.flowState = state;
    this.emit({ source: 'aws.mediaconnect', detailType: 'MediaConnect Flow Status Change', resources: [this.flowArn], detail: { currentStatus: state, previousStatus: previous } });
  }

  private id(): string {
    return String(this.nextId++);
  }

  /** Runs `fn` for `operation` unless a failure was injected for it. */
  private handle<I, O>(operation: string, fn: (input: I) => O): (input: I) => Promise<O> {
    return async (input: I) => {
      const next = this.injected.get(operation)?.shift();
      if (next?.kind === 'error') throw next.error();
      const out = fn(input);
      if (next?.kind === 'lose-response')
        throw Object.assign(medialiveError('InternalServerErrorException', `${operation}: the response was lost (fake)`), { name: 'GatewayTimeoutException', $fault: 'server', $metadata: { httpStatusCode: 504 } });
      return structuredClone(out);
    };
  }

  private wire(): void {
    const ml = this.medialiveMock;
    const mc = this.mediaconnectMock;
    ml.onAnyCommand().callsFake(() => {
      throw new Error('AwsFake: this MediaLive command is not implemented by the fake');
    });
    mc.onAnyCommand().callsFake(() => {
      throw new Error('AwsFake: this MediaConnect command is not implemented by the fake');
    });
    ml.on(CreateInputCommand).callsFake(this.handle('CreateInput', (i: CreateInputCommandInput) => ({ Input: this.createInput(i) })));
    ml.on(DescribeInputCommand).callsFake(this.handle('DescribeInput', (i: { InputId: string }) => this.publicInput(this.requireInput(i.InputId))));
    ml.on(ListInputsCommand).callsFake(
      this.handle('ListInputs', (i: { MaxResults?: number; NextToken?: string }) =>
        this.page(
          [...this.inputs.values()].filter((x) => !this.hiddenFromLists.has(x.Id)).map((x) => this.publicInput(x)),
          i,
          'Inputs',
        ),
      ),
    );
    ml.on(DeleteInputCommand).callsFake(this.handle('DeleteInput', (i: { InputId: string }) => this.deleteInput(i.InputId)));
    ml.on(CreateChannelCommand).callsFake(this.handle('CreateChannel', (i: CreateChannelCommandInput) => ({ Channel: this.createChannel(i) })));
    ml.on(DescribeChannelCommand).callsFake(this.handle('DescribeChannel', (i: { ChannelId: string }) => this.publicChannel(this.requireChannel(i.ChannelId), true)));
    ml.on(ListChannelsCommand).callsFake(
      this.handle('ListChannels', (i: { MaxResults?: number; NextToken?: string }) =>
        this.page(
          [...this.channels.values()].filter((c) => !this.hiddenFromLists.has(c.Id)).map((c) => this.publicChannel(c, false)),
          i,
          'Channels',
        ),
      ),
    );
    ml.on(StartChannelCommand).callsFake(this.handle('StartChannel', (i: { ChannelId: string }) => this.startChannel(i.ChannelId)));
    ml.on(StopChannelCommand).callsFake(this.handle('StopChannel', (i: { ChannelId: string }) => this.stopChannel(i.ChannelId)));
    ml.on(UpdateChannelCommand).callsFake(this.handle('UpdateChannel', (i: UpdateChannelCommandInput) => ({ Channel: this.updateChannel(i) })));
    ml.on(DeleteChannelCommand).callsFake(this.handle('DeleteChannel', (i: { ChannelId: string }) => this.deleteChannel(i.ChannelId)));
    ml.on(CreateTagsCommand).callsFake(this.handle('CreateTags', (i: { ResourceArn: string; Tags?: Record<string, string> }) => this.createTags(i)));
    mc.on(DescribeFlowCommand as AnyCommandClass).callsFake(this.handle('DescribeFlow', (i: { FlowArn: string }) => ({ Flow: this.describeFlow(i.FlowArn), Messages: {} })));
    mc.on(StartFlowCommand as AnyCommandClass).callsFake(this.handle('StartFlow', (i: { FlowArn: string }) => this.startFlow(i.FlowArn)));
    mc.on(StopFlowCommand as AnyCommandClass).callsFake(this.handle('StopFlow', (i: { FlowArn: string }) => this.stopFlow(i.FlowArn)));
    mc.on(UpdateFlowCommand as AnyCommandClass).callsFake(this.handle('UpdateFlow', (i: { FlowArn: string; SourceFailoverConfig?: FakeFailoverConfig }) => this.updateFlow(i)));
    mc.on(TagResourceCommand as AnyCommandClass).callsFake(this.handle('TagResource', (i: { ResourceArn: string; Tags: Record<string, string> }) => this.tagFlow(i)));
    mc.on(ListTagsForResourceCommand as AnyCommandClass).callsFake(
      this.handle('ListTagsForResource', (i: { ResourceArn: string }) => {
        this.requireFlow(i.ResourceArn);
        return { Tags: { ...this.flowTags } };
      }),
    );
    mc.on(DescribeFlowSourceMetadataCommand as AnyCommandClass).callsFake(this.handle('DescribeFlowSourceMetadata', (i: { FlowArn: string }) => this.sourceMetadata(i.FlowArn)));
  }

  private page<T, K extends string>(all: T[], req: { MaxResults?: number; NextToken?: string }, key: K): Record<K, T[]> & { NextToken?: string } {
    const size = req.MaxResults ?? 25;
    const start = req.NextToken ? Number(req.NextToken) : 0;
    const items = all.slice(start, start + size);
    const next = start + size < all.length ? String(start + size) : undefined;
    return { [key]: items, ...(next ? { NextToken: next } : {}) } as Record<K, T[]> & { NextToken?: string };
  }

  // ---- MediaLive inputs --------------------------------------------------------------------------

  private publicInput(i: FakeInput) {
    const { managedOutputArn: _m, ...rest } = i;
    return { ...rest, InputClass: 'SINGLE_PIPELINE', InputSourceType: 'STATIC', Destinations: [], Sources: [], SecurityGroups: [] };
  }

  private requireInput(id: string): FakeInput {
    const i = this.inputs.get(id);
    if (!i) throw medialiveError('NotFoundException', `Input ${id} not found`);
    return i;
  }

  private createInput(req: CreateInputCommandInput): ReturnType<AwsFake['publicInput']> {
    const replay = req.RequestId && this.requestIds.get(`input:${req.RequestId}`);
    if (replay) return this.publicInput(this.inputs.get(replay)!);
    if (req.Type !== 'MEDIACONNECT') throw medialiveError('BadRequestException', `the fake supports MEDIACONNECT inputs only, not ${req.Type}`);
    const flows = req.MediaConnectFlows ?? [];
    if (flows.length < 1 || flows.length > 2) throw medialiveError('BadRequestException', 'MediaConnectFlows must name one or two flows');
    if (!req.RoleArn) throw medialiveError('BadRequestException', 'a role is required for MediaLive to create outputs on the flow');
    for (const f of flows) {
      if (!/^arn:aws[a-z-]*:mediaconnect:[a-z0-9-]+:\d{12}:flow:/.test(f.FlowArn ?? '')) throw medialiveError('BadRequestException', `${f.FlowArn} is not a MediaConnect flow ARN`);
      if (f.FlowArn !== this.flowArn) throw medialiveError('BadRequestException', `flow ${f.FlowArn} not found`);
    }
    if (this.outputs.length >= (this.o.maxOutputsPerFlow ?? 50))
      throw medialiveError('BadRequestException', `[inferred] cannot add an output to flow ${this.flowArn}: exceeds the maximum number of outputs per flow (${this.o.maxOutputsPerFlow ?? 50})`);
    const id = this.id();
    const input: FakeInput = {
      Id: id,
      Arn: `arn:aws:medialive:${this.region}:${this.account}:input:${id}`,
      Name: req.Name ?? id,
      Type: 'MEDIACONNECT',
      State: 'CREATING',
      AttachedChannels: [],
      MediaConnectFlows: flows.map((f) => ({ FlowArn: f.FlowArn! })),
      RoleArn: req.RoleArn,
      Tags: { ...(req.Tags ?? {}) },
    };
    input.managedOutputArn = `arn:aws:mediaconnect:${this.region}:${this.account}:output:2-Managed${id}-0123456789ab:${id}-medialive`;
    this.outputs.push({ Name: `${id}-medialive`, OutputArn: input.managedOutputArn, MediaLiveInputArn: input.Arn, Transport: { Protocol: 'rtp' } });
    this.inputs.set(id, input);
    if (req.RequestId) this.requestIds.set(`input:${req.RequestId}`, id);
    if (this.hideNew) this.hiddenFromLists.add(id);
    this.later(this.timings.inputCreateMs, () => {
      if (input.State === 'CREATING') input.State = input.AttachedChannels.length ? 'ATTACHED' : 'DETACHED';
    });
    return this.publicInput(input);
  }

  private deleteInput(id: string): Record<string, never> {
    const input = this.requireInput(id);
    if (input.State === 'DELETED') throw medialiveError('NotFoundException', `Input ${id} not found`);
    if (input.State !== 'DETACHED') throw medialiveError('ConflictException', `Input ${id} is ${input.State}; only a detached input can be deleted`);
    input.State = 'DELETING';
    this.later(this.timings.inputDeleteMs, () => {
      input.State = 'DELETED';
      const at = this.outputs.findIndex((o) => o.OutputArn === input.managedOutputArn);
      if (at >= 0) this.outputs.splice(at, 1);
    });
    return {};
  }

  // ---- MediaLive channels ------------------------------------------------------------------------

  private publicChannel(c: FakeChannel, full: boolean) {
    const { EncoderSettings, ...summary } = c.settings;
    return {
      ...summary,
      ...(full ? { EncoderSettings } : {}),
      Id: c.Id,
      Arn: c.Arn,
      State: c.State,
      Tags: { ...c.Tags },
      PipelinesRunningCount: c.State === 'RUNNING' ? 1 : 0,
      EgressEndpoints: [{ SourceIp: '203.0.113.10' }],
    };
  }

  private requireChannel(id: string): FakeChannel {
    const c = this.channels.get(id);
    if (!c) throw medialiveError('NotFoundException', `Channel ${id} not found`);
    return c;
  }

  /** What MediaLive checks server-side (422 with element paths), for the parts the engine builds. */
  private check(req: Omit<CreateChannelCommandInput, 'RequestId' | 'Tags'>, channelId: string | null): { ElementPath: string; ErrorMessage: string }[] {
    const errors: { ElementPath: string; ErrorMessage: string }[] = [];
    const err = (ElementPath: string, ErrorMessage: string) => errors.push({ ElementPath, ErrorMessage });
    const single = req.ChannelClass === undefined || req.ChannelClass === 'SINGLE_PIPELINE';
    if (!req.RoleArn) err('/roleArn', 'A role is required.');
    const attachments = req.InputAttachments ?? [];
    if (attachments.length === 0) err('/inputAttachments', 'At least one input attachment is required.');
    const selectors = new Set<string>();
    attachments.forEach((a, i) => {
      const input = a.InputId ? this.inputs.get(a.InputId) : undefined;
      if (!input || input.State === 'DELETED' || input.State === 'DELETING') {
        err(`/inputAttachments/${i}/inputId`, `Input ${a.InputId} does not exist.`);
        return;
      }
      if (input.AttachedChannels.length > 0 && !input.AttachedChannels.includes(channelId ?? '')) err(`/inputAttachments/${i}/inputId`, `Input ${a.InputId} is already attached to channel ${input.AttachedChannels[0]}.`);
      else if (input.State === 'CREATING') err(`/inputAttachments/${i}/inputId`, `Input ${a.InputId} is still being created.`);
      if (input.Type === 'MEDIACONNECT' && input.MediaConnectFlows.length === 1 && !single) err('/channelClass', 'A MediaConnect input with one flow can only feed a SINGLE_PIPELINE channel.');
      for (const s of a.InputSettings?.AudioSelectors ?? []) if (s.Name) selectors.add(s.Name);
    });
    const destinations = new Set<string>();
    (req.Destinations ?? []).forEach((d, i) => {
      if (d.Id) destinations.add(d.Id);
      if (d.Settings) {
        if (d.Settings.length !== (single ? 1 : 2)) err(`/destinations/${i}/settings`, `A ${single ? 'single-pipeline' : 'standard'} channel needs ${single ? 'one' : 'two'} destination settings.`);
        d.Settings.forEach((s, j) => {
          if (s.Url && !/^rtmps?:\/\/[^/\s]+\/\S+/.test(s.Url) && !/^(https?|s3|mediastoressl|srt|udp|rtp):\/\//.test(s.Url)) err(`/destinations/${i}/settings/${j}/url`, 'Unsupported destination URL.');
        });
      }
    });
    const enc = req.EncoderSettings;
    if (!enc) {
      err('/encoderSettings', 'Encoder settings are required.');
      return errors;
    }
    if (!enc.TimecodeConfig) err('/encoderSettings/timecodeConfig', 'Timecode config is required.');
    const videoNames = new Set((enc.VideoDescriptions ?? []).map((v) => v.Name));
    const audioNames = new Set((enc.AudioDescriptions ?? []).map((a) => a.Name));
    (enc.AudioDescriptions ?? []).forEach((a, i) => {
      if (!a.AudioSelectorName || !selectors.has(a.AudioSelectorName)) err(`/encoderSettings/audioDescriptions/${i}/audioSelectorName`, `Audio selector "${a.AudioSelectorName}" is not defined in any input attachment.`);
    });
    (enc.VideoDescriptions ?? []).forEach((v, i) => {
      const h = v.CodecSettings?.H264Settings;
      if (h && (h.RateControlMode ?? 'CBR') === 'CBR' && !h.Bitrate) err(`/encoderSettings/videoDescriptions/${i}/codecSettings/h264Settings/bitrate`, 'Bitrate is required for CBR.');
      if ((v.Width !== undefined && v.Width % 2 !== 0) || (v.Height !== undefined && v.Height % 2 !== 0)) err(`/encoderSettings/videoDescriptions/${i}`, 'Width and height must be even.');
    });
    (enc.OutputGroups ?? []).forEach((g, gi) => {
      (g.Outputs ?? []).forEach((o, oi) => {
        const ref = o.OutputSettings?.RtmpOutputSettings?.Destination?.DestinationRefId;
        if (o.OutputSettings?.RtmpOutputSettings && (!ref || !destinations.has(ref)))
          err(`/encoderSettings/outputGroups/${gi}/outputs/${oi}/outputSettings/rtmpOutputSettings/destination/destinationRefId`, `Destination "${ref}" is not defined.`);
        if (o.VideoDescriptionName && !videoNames.has(o.VideoDescriptionName)) err(`/encoderSettings/outputGroups/${gi}/outputs/${oi}/videoDescriptionName`, `Video description "${o.VideoDescriptionName}" is not defined.`);
        for (const n of o.AudioDescriptionNames ?? []) if (!audioNames.has(n)) err(`/encoderSettings/outputGroups/${gi}/outputs/${oi}/audioDescriptionNames`, `Audio description "${n}" is not defined.`);
      });
    });
    return errors;
  }

  private createChannel(req: CreateChannelCommandInput) {
    const replay = req.RequestId && this.requestIds.get(`channel:${req.RequestId}`);
    if (replay) return this.publicChannel(this.channels.get(replay)!, false);
    const { RequestId: _r, Tags, ...settings } = req;
    const errors = this.check(settings, null);
    if (errors.length) throw medialiveError('UnprocessableEntityException', 'Unprocessable Entity', errors);
    const live = [...this.channels.values()].filter((c) => c.State !== 'DELETED').length;
    if (live >= (this.o.channelQuota ?? 5)) throw medialiveError('BadRequestException', `[inferred] You have reached the limit of ${this.o.channelQuota ?? 5} channels in this Region`);
    const id = this.id();
    const c: FakeChannel = { Id: id, Arn: `arn:aws:medialive:${this.region}:${this.account}:channel:${id}`, State: 'CREATING', settings: structuredClone(settings), Tags: { ...(Tags ?? {}) } };
    this.channels.set(id, c);
    if (req.RequestId) this.requestIds.set(`channel:${req.RequestId}`, id);
    if (this.hideNew) this.hiddenFromLists.add(id);
    this.attach(c);
    this.setChannel(c, 'CREATING');
    const fail = this.failCreates > 0;
    if (fail) this.failCreates--;
    this.later(this.timings.channelCreateMs, () => {
      if (c.State === 'CREATING') this.setChannel(c, fail ? 'CREATE_FAILED' : SETTLES_TO.CREATING!);
    });
    return this.publicChannel(c, false);
  }

  private attach(c: FakeChannel): void {
    const wanted = new Set((c.settings.InputAttachments ?? []).map((a) => a.InputId!));
    for (const input of this.inputs.values()) {
      const has = input.AttachedChannels.includes(c.Id);
      if (wanted.has(input.Id) && !has) {
        input.AttachedChannels = [c.Id];
        if (input.State === 'DETACHED') input.State = 'ATTACHED';
      } else if (!wanted.has(input.Id) && has) this.detach(input);
    }
  }

  private detach(input: FakeInput): void {
    input.AttachedChannels = [];
    if (input.State === 'ATTACHED') input.State = 'DETACHED';
  }

  private conflict(c: FakeChannel, op: string): Error {
    return medialiveError('ConflictException', `Channel ${c.Id} is ${c.State}; cannot ${op}`);
  }

  /** `op` by the machine: 409 unless accepted, then the state it enters, settling after `ms` (`onSettle` first). */
  private operate(c: FakeChannel, op: ChannelOperation, ms: number, onSettle?: () => void): void {
    if (!accepts(op, c.State)) throw this.conflict(c, op);
    const entered = CHANNEL_OPERATIONS[op].enters;
    if (c.State !== entered) this.setChannel(c, entered);
    const then = SETTLES_TO[entered];
    if (then)
      this.later(ms, () => {
        if (c.State !== entered) return;
        onSettle?.();
        this.setChannel(c, then);
      });
  }

  private startChannel(id: string) {
    const c = this.requireChannel(id);
    this.operate(c, 'start', this.timings.channelStartMs);
    return this.publicChannel(c, true);
  }

  private stopChannel(id: string) {
    const c = this.requireChannel(id);
    this.operate(c, 'stop', this.timings.channelStopMs);
    return this.publicChannel(c, true);
  }

  private updateChannel(req: UpdateChannelCommandInput) {
    const c = this.requireChannel(req.ChannelId!);
    if (!accepts('update', c.State)) throw this.conflict(c, 'update');
    const { ChannelId: _id, ...patch } = req;
    const next = { ...c.settings, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) } as FakeChannel['settings'];
    const errors = this.check(next, c.Id);
    if (errors.length) throw medialiveError('UnprocessableEntityException', 'Unprocessable Entity', errors);
    c.settings = structuredClone(next);
    this.attach(c);
    this.operate(c, 'update', 0);
    return this.publicChannel(c, true);
  }

  private deleteChannel(id: string) {
    const c = this.requireChannel(id);
    if (c.State === 'DELETED') throw medialiveError('NotFoundException', `Channel ${id} not found`);
    this.operate(c, 'delete', this.timings.channelDeleteMs, () => {
      for (const input of this.inputs.values()) if (input.AttachedChannels.includes(c.Id)) this.detach(input);
    });
    return this.publicChannel(c, true);
  }

  private createTags(req: { ResourceArn: string; Tags?: Record<string, string> }): Record<string, never> {
    const target = [...this.channels.values(), ...this.inputs.values()].find((r) => r.Arn === req.ResourceArn);
    if (!target) throw medialiveError('NotFoundException', `${req.ResourceArn} not found`);
    Object.assign(target.Tags, req.Tags ?? {});
    return {};
  }

  // ---- MediaConnect ---------------------------------------------------------------------------------

  private requireFlow(arn: string): void {
    if (arn !== this.flowArn) throw mediaconnectError('NotFoundException', `Flow ${arn} not found`);
  }

  /** A source's ARN, as DescribeFlow reports it (CloudWatch's SourceARN dimension). */
  sourceArn(name: FakeSourceName): string {
    return this.flowArn.replace(':flow:', ':source:').replace(/:fanout-ingest$/, `:${FAKE_SOURCE_NAMES[name]}`);
  }

  private sourceOf(name: FakeSourceName, port: number) {
    return {
      Name: FAKE_SOURCE_NAMES[name],
      SourceArn: this.sourceArn(name),
      IngestIp: '198.51.100.7',
      IngestPort: port,
      WhitelistCidr: '203.0.113.0/24',
      Transport: { Protocol: 'srt-listener', MinLatency: 2000, MaxBitrate: 20_000_000 },
      ...(this.feeds[name]?.peerIpAddress ? { PeerIpAddress: this.feeds[name].peerIpAddress } : {}),
    };
  }

  private sourceNames(): FakeSourceName[] {
    return this.failover ? ['main', 'backup'] : ['main'];
  }

  /** MediaConnect's FAILOVER rule: the primary while it delivers, else the other; with equal priority, the source in use while it delivers. */
  private reselect(): void {
    const delivering = (n: FakeSourceName) => this.feeds[n] !== null && this.sourceNames().includes(n);
    const primaryName = this.failover?.State === 'ENABLED' ? this.failover.SourcePriority?.PrimarySource : FAKE_SOURCE_NAMES.main;
    const primary = (Object.keys(FAKE_SOURCE_NAMES) as FakeSourceName[]).find((n) => FAKE_SOURCE_NAMES[n] === primaryName) ?? null;
    const preferred: FakeSourceName = primary ?? this.inUse ?? 'main';
    const other: FakeSourceName = preferred === 'main' ? 'backup' : 'main';
    this.inUse = delivering(preferred) ? preferred : delivering(other) ? other : null;
  }

  private updateFlow(req: { FlowArn: string; SourceFailoverConfig?: FakeFailoverConfig }) {
    this.requireFlow(req.FlowArn);
    const next = req.SourceFailoverConfig;
    if (next) {
      if (!this.failover) throw mediaconnectError('BadRequestException', '[inferred] the flow has one source: add a second source before configuring source failover');
      const merged: FakeFailoverConfig = { ...this.failover, ...Object.fromEntries(Object.entries(next).filter(([, v]) => v !== undefined)) };
      const primary = merged.SourcePriority?.PrimarySource;
      if (primary && !Object.values(FAKE_SOURCE_NAMES).includes(primary)) throw mediaconnectError('BadRequestException', `[inferred] PrimarySource ${primary} is not a source of this flow`);
      if (merged.State === 'DISABLED') throw mediaconnectError('BadRequestException', '[inferred] source failover cannot be disabled while the flow has two sources (a flow without failover has one source)');
      if (merged.FailoverMode === 'MERGE') throw mediaconnectError('BadRequestException', '[inferred] MERGE (SMPTE 2022-7) needs RTP-based sources; these are SRT listeners');
      this.failover = merged;
      this.reselect();
    }
    return { Flow: this.describeFlow(req.FlowArn) };
  }

  private tagFlow(req: { ResourceArn: string; Tags: Record<string, string> }): Record<string, never> {
    this.requireFlow(req.ResourceArn);
    for (const [k, v] of Object.entries(req.Tags)) {
      if (k.length > 128 || v.length > 256) throw mediaconnectError('BadRequestException', `tag ${k}: keys are at most 128 characters and values at most 256`);
      this.flowTags[k] = v;
    }
    return {};
  }

  private describeFlow(arn: string) {
    this.requireFlow(arn);
    const sources = this.sourceNames().map((n) => this.sourceOf(n, n === 'main' ? 9998 : 9999));
    return {
      ...(this.failover ? { Sources: sources, SourceFailoverConfig: structuredClone(this.failover) } : {}),
      AvailabilityZone: `${this.region}a`,
      Entitlements: [],
      FlowArn: this.flowArn,
      Name: 'fanout-ingest',
      Outputs: this.outputs.map((o) => ({ ...o })),
      Source: sources[0],
      Status: this.flowState,
      EgressIp: '198.51.100.8',
    };
  }

  private startFlow(arn: string) {
    this.requireFlow(arn);
    if (this.flowState !== 'STANDBY' && this.flowState !== 'ERROR') throw mediaconnectError('BadRequestException', `[inferred] Flow is ${this.flowState}; it can only be started from STANDBY or ERROR`);
    this.setFlow('STARTING');
    this.later(this.timings.flowStartMs, () => this.flowState === 'STARTING' && this.setFlow('ACTIVE'));
    return { FlowArn: arn, Status: 'STARTING' };
  }

  private stopFlow(arn: string) {
    this.requireFlow(arn);
    if (this.flowState !== 'ACTIVE' && this.flowState !== 'ERROR') throw mediaconnectError('BadRequestException', `[inferred] Flow is ${this.flowState}; it can only be stopped when ACTIVE or in ERROR`);
    this.setFlow('STOPPING');
    this.later(this.timings.flowStopMs, () => this.flowState === 'STOPPING' && this.setFlow('STANDBY'));
    return { FlowArn: arn, Status: 'STOPPING' };
  }

  /**
   * The metadata of the source in use, and one message per configured source that delivers
   * nothing, naming it in ResourceName [inferred: MessageDetail has a ResourceName member; which
   * resource MediaConnect names there is not documented].
   */
  private sourceMetadata(arn: string) {
    this.requireFlow(arn);
    const active = this.flowState === 'ACTIVE';
    const feed = active && this.inUse ? this.feeds[this.inUse] : null;
    const streams = feed
      ? [
          { Pid: 256, StreamType: '27', Codec: feed.video!.codec, FrameRate: feed.video!.frameRate, FrameResolution: { FrameWidth: feed.video!.width, FrameHeight: feed.video!.height } },
          { Pid: 257, StreamType: '15', Codec: feed.audio!.codec, SampleRate: feed.audio!.sampleRate, Channels: feed.audio!.channels },
        ]
      : [];
    return {
      FlowArn: arn,
      Timestamp: new Date(),
      Messages: active
        ? this.sourceNames()
            .filter((n) => !this.feeds[n])
            .map((n) => ({ ...(this.sourceProblems[n] ?? { Code: 'SOURCE_DISCONNECTED', Message: 'No data is being received from the source.' }), ResourceName: FAKE_SOURCE_NAMES[n] }))
        : [],
      TransportMediaInfo: { Programs: feed ? [{ PcrPid: 256, ProgramName: 'program', ProgramNumber: 1, ProgramPid: 4096, Streams: streams }] : [] },
    };
  }
}

/** Datapoints, newest first, keyed by `metricKey(namespace, metric, dimensions)`. */
export type FakeDatapoints = Record<string, [Date, number][]>;

/** `namespace metric dim=value,...` with the dimensions sorted by name: a metric's identity in CloudWatch. */
export function metricKey(namespace: string, name: string, dims: Record<string, string>): string {
  return `${namespace} ${name} ${Object.keys(dims)
    .sort()
    .map((k) => `${k}=${dims[k]}`)
    .join(',')}`;
}

/**
 * A CloudWatch client whose GetMetricData answers from `points` (mutable: tests add datapoints as
 * they go); a query whose metric and exact dimension set have no datapoints in the range gets an
 * empty series, as CloudWatch answers it.
 */
export function fakeCloudWatch(points: FakeDatapoints = {}): { client: CloudWatchClient; mock: AwsClientStub<CloudWatchClient>; points: FakeDatapoints } {
  const client = new CloudWatchClient({ region: 'eu-west-1' });
  const mock = mockClient(client);
  mock.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
    MetricDataResults: input.MetricDataQueries!.map((q): MetricDataResult => {
      const m = q.MetricStat!.Metric!;
      const dims = Object.fromEntries((m.Dimensions ?? []).map((d) => [d.Name!, d.Value!]));
      const found = (points[metricKey(m.Namespace!, m.MetricName!, dims)] ?? []).filter(([at]) => at >= input.StartTime! && at <= input.EndTime!);
      return { Id: q.Id!, Label: m.MetricName!, StatusCode: 'Complete', Timestamps: found.map(([at]) => at), Values: found.map(([, v]) => v) };
    }),
  }));
  return { client, mock, points };
}
