/**
 * The media engine contract: what flow-output and channel-provisioner ask of an engine, whichever
 * it is. Engines that implement it, each in its own folder beside this one:
 *   - local (shared/engines/local): an SRT ingest over libsrt (fanout-srt) + FFmpeg on this machine;
 *   - aws (shared/engines/aws): MediaConnect (flow, outputs) + MediaLive (inputs, channels);
 *   - memory (shared/engines/memory): in-process, for tests of the services.
 * The shapes follow AWS's (ARNs, MediaLive ChannelState, MediaConnect flow status) so that one
 * consumer path serves both. Engines report state changes as *native-shaped* events
 * ("MediaLive Channel State Change", "MediaConnect Flow Status Change"): the local engine emits
 * exactly what AWS would, through an `EngineEventSink`.
 *
 * Timing differs (a MediaLive channel starts in minutes, a local one in under a second), so
 * callers never wait for a state: they issue the operation and react to the events.
 */
import type { ChannelState } from '../../../events/channel-provisioner/common.ts';
import type { LastError } from '../../../events/envelope.ts';
import type { Secret } from '../../secrets/secret.ts';

/** Encoder settings of a channel, from its preset; null = passthrough (no re-encode). */
export interface EncodeSpec {
  video: {
    width: number;
    height: number;
    frameRate: number;
    /** bits per second, CBR */
    bitrate: number;
    profile: 'baseline' | 'main' | 'high';
    level: string;
    /** seconds */
    keyframeInterval: number;
  };
  audio: { bitrate: number; sampleRate: number; channels: number };
}

export interface ChannelSpec {
  destinationId: string;
  /** Human name, for the engine's console and tags. */
  name: string;
  /** The flow output that feeds this channel (FlowOutputAdded.outputArn). */
  outputArn: string;
  /** Channels with the same presetId and encode may share one encode (local engine). */
  presetId: string;
  encode: EncodeSpec | null;
  target: { url: string; streamKey: Secret };
}

export interface ChannelDescription {
  channelId: string;
  arn: string;
  destinationId: string;
  state: ChannelState;
  /** Set while the channel is pushing but the platform is not accepting it. */
  error: LastError | null;
}

export interface ChannelMetrics {
  bitrateKbps: number | null;
  fps: number | null;
  frames: number | null;
  droppedFrames: number | null;
  duplicatedFrames: number | null;
  speed: number | null;
  uptimeSeconds: number | null;
  restarts: number | null;
  bytesSent: number | null;
  attempt: number | null;
  nextRetryAt: string | null;
  updatedAt: string;
}

export interface ChannelEngine {
  /** Creates the destination's channel (idempotent per destinationId); it reports CREATING then IDLE. */
  createChannel(spec: ChannelSpec): Promise<{ channelId: string; arn: string }>;
  /** IDLE → STARTING → RUNNING (RUNNING once media is really being pushed). */
  startChannel(channelId: string): Promise<void>;
  /** → STOPPING → IDLE. Idempotent. */
  stopChannel(channelId: string): Promise<void>;
  /** Replaces the channel's settings; only while IDLE (callers stop first). */
  updateChannel(channelId: string, spec: ChannelSpec): Promise<void>;
  /**
   * Deletes the channel; only while IDLE. Idempotent (a missing channel is fine). The input that
   * fed it belongs to its flow output and goes with `FlowEngine.removeOutput`.
   */
  deleteChannel(channelId: string): Promise<void>;
  describeChannel(channelId: string): Promise<ChannelDescription | null>;
  listChannels(): Promise<ChannelDescription[]>;
  /**
   * Everything this engine holds for this deployment (on AWS: resources tagged with its
   * `fanout:deployment`), whoever recorded it: the orphan check compares it with the store.
   */
  listOwnedResources(): Promise<OwnedResources>;
  /** Live metrics, where the engine has them in process (local engine). */
  channelMetrics?(channelId: string): ChannelMetrics | null;
}

/** A destination's feed as the engine holds it: a flow output locally, a MEDIACONNECT input on AWS (ADR 0007). */
export interface OwnedOutput {
  /** What `FlowEngine.removeOutput` takes (the input ARN on AWS). */
  outputArn: string;
  /** From the resource's tag / name; null when the engine cannot tell. */
  destinationId: string | null;
  /** The engine's state of it where it has one (MediaLive InputState on AWS), else null. */
  state: string | null;
  /** Channels attached to it (AWS: AttachedChannels), where the engine knows. */
  attachedChannelIds: string[];
  /** On AWS, the managed flow output MediaLive made for the input (DescribeFlow), when found. */
  flowOutputArn: string | null;
}

export interface OwnedResources {
  channels: ChannelDescription[];
  outputs: OwnedOutput[];
}

export type FlowState = 'STANDBY' | 'STARTING' | 'ACTIVE' | 'UPDATING' | 'STOPPING' | 'DELETING' | 'ERROR';

export interface InputHealth {
  connected: boolean;
  sourceAddress: string | null;
  connectedSince: string | null;
  bitrateInKbps: number | null;
  packetLossPercent: number | null;
  packetsLost: number | null;
  retransmits: number | null;
  rttMs: number | null;
  lastError: LastError | null;
  updatedAt: string;
}

export interface FlowDescription {
  flowArn: string;
  state: FlowState;
  outputs: { outputArn: string; destinationId: string | null }[];
  source: InputHealth;
}

/**
 * The always-on primary output where the engine runs it as a resource of its own (on AWS: the
 * primary MediaLive channel the stack creates, feeding MediaPackage v2).
 */
export interface PrimaryOutputStatus {
  channelId: string;
  state: ChannelState;
}

export interface FlowEngine {
  describeFlow(): Promise<FlowDescription>;
  /**
   * The primary output's channel, for engines where it is one (AWS, memory). Absent where the
   * primary simply follows the flow (local engine: the HLS muxer runs whenever the flow hub does).
   */
  describePrimary?(): Promise<PrimaryOutputStatus>;
  /**
   * Starts the primary channel when it is IDLE; a no-op in any other state (idempotent). Like every
   * start it returns at once: the channel reports STARTING, then RUNNING minutes later on AWS.
   */
  startPrimary?(): Promise<void>;
  /** STANDBY → ACTIVE when something needs the feed. Idempotent. */
  startFlow(): Promise<void>;
  /** → STANDBY when nothing does (on AWS a standby flow costs nothing). Idempotent. */
  stopFlow(): Promise<void>;
  /**
   * A dedicated output for one destination (idempotent per destinationId). The returned id is what
   * a channel reads from: a flow output ARN locally; on AWS the MEDIACONNECT MediaLive input's ARN,
   * whose managed flow output MediaLive creates (ADR 0007).
   */
  addOutput(destinationId: string): Promise<{ outputArn: string }>;
  /** Idempotent: removing a missing output is fine. */
  removeOutput(outputArn: string): Promise<void>;
}

/**
 * Input redundancy (issue 15): a main and a backup SRT input, both monitored all the time, one of
 * them active; when no input delivers, a slate keeps every output alive for a while. Modelled on
 * MediaConnect source failover (FAILOVER mode, source priority) and MediaLive automatic input
 * failover (`inputLossThresholdMsec`, `errorClearTimeMsec`).
 */
export type InputName = 'main' | 'backup';

export interface FailoverSettings {
  /** automatic: the engine switches on input loss; manual: only `switchInput` does. */
  mode: 'automatic' | 'manual';
  /** How long the active input may deliver no media before it is taken for lost. Default 1000. */
  inputLossThresholdMs: number;
  /**
   * Automatic mode: switch back to the main once it has been clean this long (default 10000);
   * null = non-revertive (stay on the backup while it is healthy).
   */
  errorClearTimeMs: number | null;
  /** With no input delivering, how long outputs carry the slate before they stop. Default 300000; 0: no slate. */
  slateTimeoutMs: number;
}

export interface InputSwitch {
  from: InputName | 'slate' | null;
  to: InputName | 'slate';
  at: string;
  /** input-loss (automatic), recovered (revertive switch back), manual, slate-timeout. */
  reason: 'input-loss' | 'recovered' | 'manual' | 'slate-timeout';
}

export interface InputsHealth {
  /** What feeds the outputs now; null before any input ever connected. */
  active: InputName | 'slate' | null;
  settings: FailoverSettings;
  lastSwitch: InputSwitch | null;
  inputs: { main: InputHealth & { configured: true }; backup: InputHealth & { configured: boolean } };
  /** Set while the slate is on air: since when, and when the outputs stop unless an input returns. */
  slate: { since: string; stopsAt: string } | null;
}

export interface BackupTestResult {
  connected: boolean;
  /** Media was read and decoded from the backup within the test's window. */
  decodable: boolean;
  video: { codec: string; width: number; height: number; frameRate: number | null } | null;
  audio: { codec: string; sampleRate: number | null; channels: number | null } | null;
  /** What stands in the way of a clean switch (codec or resolution unlike the main's), in words. */
  problems: string[];
}

/** Engines with a backup input implement this beside FlowEngine (local and AWS). */
export interface InputRedundancy {
  inputsHealth(): Promise<InputsHealth>;
  /** Makes `to` the active input now (a manual switch, also in automatic mode). */
  switchInput(to: InputName): Promise<InputSwitch>;
  /** Checks the backup without switching to it. */
  testBackupInput(): Promise<BackupTestResult>;
  /** Replaces the failover settings; returns them as stored. */
  setFailover(settings: FailoverSettings): Promise<FailoverSettings>;
}

/** An event as an AWS service puts it on the default bus (source `aws.medialive`, `aws.mediaconnect`). */
export interface NativeEngineEvent {
  source: 'aws.medialive' | 'aws.mediaconnect';
  detailType: string;
  resources: string[];
  detail: Record<string, unknown>;
}

export type EngineEventSink = (event: NativeEngineEvent) => void;
