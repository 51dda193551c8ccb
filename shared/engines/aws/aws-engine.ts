/**
 * The AWS media engine: the contribution flow on MediaConnect, one MediaLive channel per
 * destination (AWS SDK for JavaScript v3, clients injected).
 *
 * Pairing (docs/adr/0007-aws-input-pairing.md): a destination's "flow output" is a MediaLive input
 * of type MEDIACONNECT on Fanout's flow. Creating the input makes MediaLive add its own managed
 * output to the flow; deleting the input removes it. So, on this engine:
 *
 *   addOutput(destinationId)  = CreateInput { Type: MEDIACONNECT, MediaConnectFlows: [{ FlowArn }] }
 *                               → returns the *input* ARN as `outputArn` (what the channel attaches)
 *   removeOutput(outputArn)   = DeleteInput, once the input is DETACHED (its channel deleted)
 *   createChannel(spec)       = CreateChannel SINGLE_PIPELINE attached to that input
 *   describeFlow().outputs    = Fanout's inputs on the flow (never the primary channel's output,
 *                               so a reconcile cannot remove what it does not own)
 *
 * Lifecycle rules are AWS's (AWS-FACTS §4.2): start only from IDLE; update and delete only while
 * IDLE; an input can be deleted only once detached. Every method reads the current state first
 * and does only what is missing, so it is idempotent and resumable after a Lambda timeout; the
 * callers never wait for a state, they react to the native "MediaLive Channel State Change" events
 * AWS puts on EventBridge (this class emits nothing itself, but for input switches: below).
 *
 * Input redundancy (port InputRedundancy, ADR 0024 "AWS"): MediaConnect source failover on the
 * flow's two SRT sources, in aws-inputs.ts (MediaConnect client only, so the destination Lambda
 * runs the same code without this engine). MediaConnect has no event for a source switch, so the
 * switches are reported through `deps.sink` as the native-shaped "MediaConnect Source Failover Switch".
 *
 * Ownership: everything this engine creates is tagged `fanout:deployment` + `fanout:destinationId`;
 * it lists, describes, stops, updates and deletes only resources carrying its deployment's tags.
 *
 * Idempotency: before creating, it looks for the destination's resource by tag; the create call
 * carries a RequestId derived from the deployment, the destination, what the resource is built on
 * (the flow / the input id) and a fingerprint of the settings without the stream key. If AWS
 * answers a RequestId with a resource that is already being deleted (a replay of an old token after
 * the destination was deleted and re-added), the generation suffix is bumped and the call repeated.
 *
 * Errors: see errors.ts. Throttling is retried by the SDK (clients from `createAwsClients` use
 * adaptive retries); what still fails is ENGINE_UNAVAILABLE, which the callers let the queue retry.
 */
import { createHash } from 'node:crypto';
import {
  CreateChannelCommand,
  CreateInputCommand,
  CreateTagsCommand,
  DeleteChannelCommand,
  DeleteInputCommand,
  DescribeChannelCommand,
  DescribeInputCommand,
  ListChannelsCommand,
  ListInputsCommand,
  MediaLiveClient,
  StartChannelCommand,
  StopChannelCommand,
  UpdateChannelCommand,
  type ChannelState as MediaLiveChannelState,
  type CreateChannelCommandInput,
  type CreateInputCommandInput,
  type Input,
  type InputSpecification,
  type UpdateChannelCommandInput,
} from '@aws-sdk/client-medialive';
import { DescribeFlowCommand, DescribeFlowSourceMetadataCommand, MediaConnectClient, StartFlowCommand, StopFlowCommand } from '@aws-sdk/client-mediaconnect';
import type { ChannelState } from '../../../events/channel-provisioner/common.ts';
import { ACTIVE_STATES, CHANNEL_OPERATIONS, DELETABLE_STATES } from '../port/channel-machine.ts';
import { portError } from '../port/errors.ts';
import { idleInputHealth } from '../port/input-health.ts';
import type {
  BackupTestResult,
  ChannelDescription,
  ChannelEngine,
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
  OwnedOutput,
  OwnedResources,
} from '../port/ports.ts';
import { AwsInputRedundancy } from './aws-inputs.ts';
import { channelSettings, DEFAULT_INPUT_LOSS, DEFAULT_PASSTHROUGH, inputLossProblems, InvalidTargetError, type ChannelSettings, type InputLossSettings, type PassthroughEncode } from './channel-settings.ts';
import { silentLog, type Log } from '../../logging/logger.ts';
import { AWS_ENGINE_ERRORS, AwsEngineError, QUOTAS, toDomainError, type ErrorContext } from './errors.ts';

/** A flow ARN (AWS-FACTS §1.6): `arn:aws:mediaconnect:<region>:<account>:flow:<id>:<name>`. Output ARNs (`:output:`) do not match. */
export const FLOW_ARN = /^arn:aws[a-z-]*:mediaconnect:([a-z0-9-]+):(\d{12}):flow:[^:]+:[^:]+$/;
/** A MediaLive input ARN: `arn:aws:medialive:<region>:<account>:input:<numeric id>`. */
export const INPUT_ARN = /^arn:aws[a-z-]*:medialive:([a-z0-9-]+):(\d{12}):input:(\d+)$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const DEPLOYMENT = /^[a-z0-9][a-z0-9-]{0,31}$/;
const DESTINATION_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;
/** AWS tag rules (keys ≤128, values ≤256, this character set, no `aws:` prefix). */
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

export const TAGS = {
  deployment: 'fanout:deployment',
  destinationId: 'fanout:destinationId',
  resource: 'fanout:resource',
  name: 'fanout:name',
} as const;

export interface AwsEngineConfig {
  /** Fanout's contribution flow (created by the stack; `StartFlow`/`StopFlow` are the engine's). */
  flowArn: string;
  /** The role MediaLive assumes (mediaconnect:Managed* on the flow); the caller needs iam:PassRole on it. */
  mediaLiveRoleArn: string;
  region: string;
  /** Extra tags on every resource (cost allocation); `fanout:` and `aws:` keys are reserved. */
  tags: Record<string, string>;
  /** Stage/deployment name (`dev`, `prod`): scopes every tag, name and RequestId. */
  deployment: string;
  /** What the contribution feed is (drives input billing and sizing). Default AVC / HD / MAX_10_MBPS. */
  inputSpecification?: InputSpecification;
  /** The encode a passthrough preset becomes (MediaLive always encodes). */
  passthrough?: PassthroughEncode;
  /** What destination channels show while no input delivers (default DEFAULT_INPUT_LOSS: the last frame for 1 s, then a dark grey card). */
  inputLoss?: InputLossSettings;
  /**
   * The always-on primary MediaLive channel the stack creates (FANOUT_PRIMARY_CHANNEL_ID). The
   * engine only describes and starts it, and only while it carries this deployment's tag and
   * `fanout:resource: primary-channel`; it never stops, updates or deletes it.
   */
  primaryChannelId?: string;
  /** The flow's main and backup source names (default `srt-in`, `srt-backup`: serverless.yml). */
  sourceNames?: Partial<Record<InputName, string>>;
}

export interface AwsEngineDeps {
  medialive: MediaLiveClient;
  mediaconnect: MediaConnectClient;
  /** Where the engine's log lines go (it logs `info` and `warn`). */
  logger?: Pick<Log, 'info' | 'warn'>;
  /**
   * Where the engine reports the input switches it makes or observes, as the native-shaped
   * "MediaConnect Source Failover Switch" (aws-inputs.ts). The only event the engine emits itself:
   * MediaConnect puts none on EventBridge for a source switch.
   */
  sink?: EngineEventSink;
}

const DEFAULT_INPUT_SPEC: InputSpecification = Object.freeze({ Codec: 'AVC', Resolution: 'HD', MaximumBitrate: 'MAX_10_MBPS' });
const GONE_INPUT = new Set(['DELETING', 'DELETED']);
const GONE_CHANNEL = new Set<string>(['DELETED']);
// What MediaLive accepts in which state: the port's machine (port/channel-machine.ts).
const ACTIVE_CHANNEL = new Set<string>(ACTIVE_STATES);
const DELETABLE_CHANNEL = new Set<string>(DELETABLE_STATES);
const UPDATABLE_CHANNEL = new Set<string>(CHANNEL_OPERATIONS.update.accepts);
/** How often a create is repeated with a bumped generation when AWS replays a deleted resource. */
const MAX_GENERATIONS = 3;

/** Every problem with `cfg` (empty = valid). */
export function validateAwsEngineConfig(cfg: AwsEngineConfig): string[] {
  const out: string[] = [];
  const flow = FLOW_ARN.exec(cfg.flowArn ?? '');
  if (!flow) out.push(`flowArn must be a MediaConnect *flow* ARN (arn:aws:mediaconnect:<region>:<account>:flow:<id>:<name>), got ${JSON.stringify(cfg.flowArn)}${/:output:/.test(cfg.flowArn ?? '') ? ' (that is an output ARN)' : ''}`);
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(cfg.region ?? '')) out.push(`region must be an AWS Region like eu-west-1, got ${JSON.stringify(cfg.region)}`);
  else if (flow && flow[1] !== cfg.region) out.push(`the flow is in ${flow[1]} but region is ${cfg.region}: MediaLive inputs must be in the flow's Region`);
  if (!ROLE_ARN.test(cfg.mediaLiveRoleArn ?? '')) out.push(`mediaLiveRoleArn must be an IAM role ARN, got ${JSON.stringify(cfg.mediaLiveRoleArn)}`);
  if (cfg.primaryChannelId !== undefined && !/^\d{1,32}$/.test(cfg.primaryChannelId)) out.push(`primaryChannelId must be a MediaLive channel id (digits), got ${JSON.stringify(cfg.primaryChannelId)}`);
  if (cfg.inputLoss) out.push(...inputLossProblems(cfg.inputLoss));
  if (!DEPLOYMENT.test(cfg.deployment ?? '')) out.push(`deployment must be 1-32 lowercase letters, digits or dashes, got ${JSON.stringify(cfg.deployment)}`);
  for (const [k, v] of Object.entries(cfg.tags ?? {})) {
    if (/^(fanout|aws):/i.test(k)) out.push(`tag key ${k} is reserved (fanout:/aws:)`);
    else if (k.length < 1 || k.length > 128 || !TAG_CHARS.test(k)) out.push(`tag key ${JSON.stringify(k)} is not a valid AWS tag key`);
    if (typeof v !== 'string' || v.length > 256 || !TAG_CHARS.test(v)) out.push(`tag ${k}: value ${JSON.stringify(v)} is not a valid AWS tag value`);
  }
  return out;
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

/** A human name as an AWS tag value. */
function tagValue(s: string): string {
  return [...s]
    .map((c) => (TAG_CHARS.test(c) ? c : '_'))
    .join('')
    .slice(0, 256);
}

export class AwsMediaEngine implements FlowEngine, ChannelEngine, InputRedundancy {
  private readonly cfg: Readonly<AwsEngineConfig>;
  private readonly account: string;
  private readonly log: Pick<Log, 'info' | 'warn'>;
  /** Main and backup input: MediaConnect source failover on the flow (aws-inputs.ts). */
  private readonly inputs: AwsInputRedundancy;

  constructor(
    config: AwsEngineConfig,
    private readonly d: AwsEngineDeps,
  ) {
    const problems = validateAwsEngineConfig(config);
    if (problems.length > 0) throw new AwsEngineError('INVALID_CONFIG', `invalid AWS engine configuration: ${problems.join('; ')}`, 'Fix the engine configuration (stack outputs / environment) and redeploy.');
    this.cfg = Object.freeze({ ...config, tags: Object.freeze({ ...config.tags }) });
    this.account = FLOW_ARN.exec(config.flowArn)![2]!;
    this.log = d.logger ?? silentLog;
    this.inputs = new AwsInputRedundancy({ flowArn: config.flowArn, ...(config.sourceNames ? { sourceNames: config.sourceNames } : {}) }, { mediaconnect: d.mediaconnect, ...(d.sink ? { sink: d.sink } : {}), log: this.log });
  }

  get flowArn(): string {
    return this.cfg.flowArn;
  }

  // ---- naming, tags, ownership -----------------------------------------------------------------

  private name(destinationId: string, kind: 'channel' | 'input'): string {
    return `fanout-${this.cfg.deployment}-${destinationId}${kind === 'input' ? '-in' : ''}`;
  }

  private tags(destinationId: string, resource: 'destination-input' | 'destination-channel', humanName?: string): Record<string, string> {
    return {
      ...this.cfg.tags,
      [TAGS.deployment]: this.cfg.deployment,
      [TAGS.destinationId]: destinationId,
      [TAGS.resource]: resource,
      ...(humanName ? { [TAGS.name]: tagValue(humanName) } : {}),
    };
  }

  /** The destination a resource belongs to, when it is this deployment's; else null. */
  private ownerOf(tags: Record<string, string> | undefined): string | null {
    if (!tags || tags[TAGS.deployment] !== this.cfg.deployment) return null;
    return tags[TAGS.destinationId] ?? null;
  }

  private requestId(kind: 'input' | 'channel', destinationId: string, basis: string, generation: number): string {
    return `fanout-${this.cfg.deployment}-${kind}-${destinationId}-${sha(basis).slice(0, 12)}-g${generation}`;
  }

  private static checkDestinationId(destinationId: string): void {
    if (!DESTINATION_ID.test(destinationId)) throw new AwsEngineError('INVALID_REFERENCE', `destination id ${JSON.stringify(destinationId)} cannot name AWS resources`, 'Destination ids are UUIDs; this is a caller bug.');
  }

  /** The input id inside an `outputArn` this engine returned; rejects MediaConnect output ARNs (the original plan's mistake). */
  private inputIdOf(outputArn: string): string {
    const m = INPUT_ARN.exec(outputArn);
    if (!m) {
      const hint = /:mediaconnect:.*:output:/.test(outputArn)
        ? "That is a MediaConnect output ARN: on AWS a destination is fed by a MEDIACONNECT MediaLive input, and `outputArn` is that input's ARN (returned by addOutput)."
        : '`outputArn` must be the MediaLive input ARN addOutput returned.';
      throw new AwsEngineError('INVALID_REFERENCE', `not a MediaLive input ARN: ${outputArn}`, hint);
    }
    if (m[1] !== this.cfg.region || m[2] !== this.account)
      throw new AwsEngineError('INVALID_REFERENCE', `input ${outputArn} is not in ${this.cfg.region}/${this.account}, where the flow is`, 'Inputs and the flow must share account and Region.');
    return m[3]!;
  }

  private async call<T>(ctx: ErrorContext, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toDomainError(err, ctx);
    }
  }

  private static isCode(err: unknown, code: AwsEngineError['code']): boolean {
    return err instanceof AwsEngineError && err.code === code;
  }

  // ---- inputs = the destinations' flow outputs ---------------------------------------------------

  /** This deployment's MEDIACONNECT inputs on this flow that are not being deleted. */
  private async ownedInputs(): Promise<(Input & { destinationId: string })[]> {
    const out: (Input & { destinationId: string })[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.call({ operation: 'MediaLive ListInputs', subject: `deployment ${this.cfg.deployment}` }, () => this.d.medialive.send(new ListInputsCommand({ MaxResults: 100, NextToken })));
      for (const input of page.Inputs ?? []) {
        const destinationId = this.ownerOf(input.Tags);
        if (!destinationId || input.Type !== 'MEDIACONNECT' || GONE_INPUT.has(input.State ?? '')) continue;
        if (!(input.MediaConnectFlows ?? []).some((f) => f.FlowArn === this.cfg.flowArn)) continue;
        out.push({ ...input, destinationId });
      }
      NextToken = page.NextToken || undefined;
    } while (NextToken);
    return out.sort((a, b) => (a.Id ?? '').localeCompare(b.Id ?? ''));
  }

  async addOutput(destinationId: string): Promise<{ outputArn: string }> {
    AwsMediaEngine.checkDestinationId(destinationId);
    const existing = (await this.ownedInputs()).find((i) => i.destinationId === destinationId);
    if (existing?.Arn) return { outputArn: existing.Arn };
    const ctx: ErrorContext = { operation: 'MediaLive CreateInput', subject: `destination ${destinationId}`, quota: QUOTAS.inputs };
    for (let generation = 1; generation <= MAX_GENERATIONS; generation++) {
      const request = {
        Name: this.name(destinationId, 'input'),
        Type: 'MEDIACONNECT',
        MediaConnectFlows: [{ FlowArn: this.cfg.flowArn }],
        RoleArn: this.cfg.mediaLiveRoleArn,
        RequestId: this.requestId('input', destinationId, this.cfg.flowArn, generation),
        Tags: this.tags(destinationId, 'destination-input'),
      } satisfies CreateInputCommandInput;
      const res = await this.call(ctx, () => this.d.medialive.send(new CreateInputCommand(request)));
      const input = res.Input;
      if (!input?.Arn) throw portError('ENGINE_UNAVAILABLE', `MediaLive CreateInput (destination ${destinationId}) answered without an input`);
      if (GONE_INPUT.has(input.State ?? '')) {
        this.log.warn('CreateInput replayed a deleted input for this RequestId; retrying with the next generation', { destinationId, inputId: input.Id, generation });
        continue;
      }
      this.log.info('destination input created on the flow', { destinationId, inputId: input.Id });
      return { outputArn: input.Arn };
    }
    throw portError('ENGINE_UNAVAILABLE', `MediaLive CreateInput (destination ${destinationId}) kept answering with deleted inputs`);
  }

  async removeOutput(outputArn: string): Promise<void> {
    const inputId = this.inputIdOf(outputArn);
    const subject = `input ${inputId}`;
    let input: Input | undefined;
    try {
      input = await this.call({ operation: 'MediaLive DescribeInput', subject }, () => this.d.medialive.send(new DescribeInputCommand({ InputId: inputId })));
    } catch (err) {
      if (AwsMediaEngine.isCode(err, 'NOT_FOUND')) return;
      throw err;
    }
    if (!input || GONE_INPUT.has(input.State ?? '')) return;
    if (!this.isDestinationResource(input.Tags))
      throw new AwsEngineError('NOT_OWNED', `input ${inputId} is not a Fanout ${this.cfg.deployment} destination input; not deleting it`, 'Only inputs tagged fanout:deployment for this deployment are removed.');
    if (input.State === 'ATTACHED') {
      const attached = input.AttachedChannels ?? [];
      const states = await Promise.all(attached.map((id) => this.channelState(id)));
      if (states.every((s) => s === null || s === 'DELETING' || s === 'DELETED'))
        throw portError('ENGINE_UNAVAILABLE', `input ${inputId} is still attached to channel ${attached.join(', ')}, which is being deleted; retry shortly`, { details: { engineCode: 'INPUT_ATTACHED' } });
      throw new AwsEngineError('INPUT_ATTACHED', `input ${inputId} is attached to channel ${attached.join(', ')}`, "Delete the destination's channel first; its output is removed after the channel is DELETED.");
    }
    if (input.State === 'CREATING') throw portError('ENGINE_UNAVAILABLE', `input ${inputId} is still being created; retry shortly`, { details: { engineCode: 'INPUT_CREATING' } });
    try {
      await this.call({ operation: 'MediaLive DeleteInput', subject, conflict: 'INPUT_ATTACHED' }, () => this.d.medialive.send(new DeleteInputCommand({ InputId: inputId })));
      this.log.info('destination input deleted (its flow output goes with it)', { inputId });
    } catch (err) {
      if (AwsMediaEngine.isCode(err, 'NOT_FOUND')) return;
      if (AwsMediaEngine.isCode(err, 'INPUT_ATTACHED')) throw portError('ENGINE_UNAVAILABLE', `input ${inputId} could not be deleted yet (${(err as Error).message}); retry shortly`, { details: { engineCode: 'INPUT_ATTACHED' } });
      throw err;
    }
  }

  // ---- channels --------------------------------------------------------------------------------

  private settings(spec: ChannelSpec, inputId: string): ChannelSettings {
    try {
      return channelSettings(spec, {
        name: this.name(spec.destinationId, 'channel'),
        roleArn: this.cfg.mediaLiveRoleArn,
        inputId,
        inputSpecification: this.cfg.inputSpecification ?? DEFAULT_INPUT_SPEC,
        passthrough: this.cfg.passthrough ?? DEFAULT_PASSTHROUGH,
        inputLoss: this.cfg.inputLoss ?? DEFAULT_INPUT_LOSS,
      });
    } catch (err) {
      if (err instanceof InvalidTargetError) throw new AwsEngineError('INVALID_TARGET', `destination ${spec.destinationId}: ${err.message}`, "Fix the destination's RTMP URL or preset.");
      throw err;
    }
  }

  /** A fingerprint of the settings without the stream key (RequestIds must not depend on a secret). */
  private static fingerprint(settings: ChannelSettings, basis: string): string {
    const withoutKey = { ...settings, Destinations: settings.Destinations.map((d) => ({ ...d, Settings: d.Settings?.map((s) => ({ ...s, StreamName: undefined })) })) };
    return `${basis}|${JSON.stringify(withoutKey)}`;
  }

  private static describe(c: { Id?: string; Arn?: string; State?: string; Tags?: Record<string, string> }, destinationId: string): ChannelDescription {
    return { channelId: c.Id ?? '', arn: c.Arn ?? '', destinationId, state: (c.State ?? 'CREATING') as ChannelState, error: null };
  }

  private async ownedChannels(): Promise<ChannelDescription[]> {
    const out: ChannelDescription[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.call({ operation: 'MediaLive ListChannels', subject: `deployment ${this.cfg.deployment}` }, () => this.d.medialive.send(new ListChannelsCommand({ MaxResults: 100, NextToken })));
      for (const c of page.Channels ?? []) {
        const destinationId = this.ownerOf(c.Tags);
        if (destinationId && !GONE_CHANNEL.has(c.State ?? '')) out.push(AwsMediaEngine.describe(c, destinationId));
      }
      NextToken = page.NextToken || undefined;
    } while (NextToken);
    return out;
  }

  /** The channel as this deployment owns it, or null (missing, deleted, or someone else's). */
  private async owned(channelId: string): Promise<(ChannelDescription & { tags: Record<string, string> }) | null> {
    try {
      const c = await this.call({ operation: 'MediaLive DescribeChannel', subject: `channel ${channelId}` }, () => this.d.medialive.send(new DescribeChannelCommand({ ChannelId: channelId })));
      const destinationId = this.ownerOf(c.Tags);
      if (!destinationId || GONE_CHANNEL.has(c.State ?? '')) return null;
      return { ...AwsMediaEngine.describe(c, destinationId), tags: c.Tags ?? {} };
    } catch (err) {
      if (AwsMediaEngine.isCode(err, 'NOT_FOUND')) return null;
      throw err;
    }
  }

  private async channelState(channelId: string): Promise<MediaLiveChannelState | null> {
    try {
      const c = await this.call({ operation: 'MediaLive DescribeChannel', subject: `channel ${channelId}` }, () => this.d.medialive.send(new DescribeChannelCommand({ ChannelId: channelId })));
      return c.State ?? null;
    } catch (err) {
      if (AwsMediaEngine.isCode(err, 'NOT_FOUND')) return null;
      throw err;
    }
  }

  private notIdle(op: string, c: ChannelDescription): AwsEngineError {
    return new AwsEngineError(
      'CHANNEL_NOT_IDLE',
      `cannot ${op} channel ${c.channelId} while it is ${c.state}`,
      op === 'start' ? 'A channel starts from IDLE: wait for the state change.' : 'MediaLive changes and deletes channels only while IDLE: stop it first.',
      { awsCode: 'ConflictException', httpStatus: 409 },
    );
  }

  /** The destination's input exists, is its own and can be attached now (else a typed or retryable error). */
  private async requireUsableInput(inputId: string, destinationId: string): Promise<void> {
    let input: Input | undefined;
    try {
      input = await this.call({ operation: 'MediaLive DescribeInput', subject: `input ${inputId}` }, () => this.d.medialive.send(new DescribeInputCommand({ InputId: inputId })));
    } catch (err) {
      if (!AwsMediaEngine.isCode(err, 'NOT_FOUND')) throw err;
    }
    if (!input || GONE_INPUT.has(input.State ?? ''))
      throw new AwsEngineError('INVALID_REFERENCE', `input ${inputId} of destination ${destinationId} no longer exists`, "flow-output re-adds the destination's output on its next reconcile, and the channel is created from the new one.");
    if (this.ownerOf(input.Tags) !== destinationId)
      throw new AwsEngineError('NOT_OWNED', `input ${inputId} does not belong to destination ${destinationId} of deployment ${this.cfg.deployment}`, "Caller bug: the channel must attach its own destination's input.");
    if (input.State === 'CREATING') throw portError('ENGINE_UNAVAILABLE', `input ${inputId} is still being created; retry shortly`, { details: { engineCode: 'INPUT_CREATING' } });
  }

  async createChannel(spec: ChannelSpec): Promise<{ channelId: string; arn: string }> {
    AwsMediaEngine.checkDestinationId(spec.destinationId);
    const inputId = this.inputIdOf(spec.outputArn);
    const existing = (await this.ownedChannels()).find((c) => c.destinationId === spec.destinationId && c.state !== 'DELETING');
    if (existing) return { channelId: existing.channelId, arn: existing.arn };
    await this.requireUsableInput(inputId, spec.destinationId);
    const settings = this.settings(spec, inputId);
    const key = spec.target.streamKey.reveal();
    const ctx: ErrorContext = {
      operation: 'MediaLive CreateChannel',
      subject: `destination ${spec.destinationId}`,
      secrets: [key],
      quota: QUOTAS.channels,
      conflict: 'CONFLICT',
      conflictHint: 'The input may be attached to another channel; reconcile repairs it.',
    };
    const basis = AwsMediaEngine.fingerprint(settings, `input:${inputId}`);
    for (let generation = 1; generation <= MAX_GENERATIONS; generation++) {
      const request = {
        ...settings,
        ChannelClass: 'SINGLE_PIPELINE',
        RequestId: this.requestId('channel', spec.destinationId, basis, generation),
        Tags: this.tags(spec.destinationId, 'destination-channel', spec.name),
      } satisfies CreateChannelCommandInput;
      const res = await this.call(ctx, () => this.d.medialive.send(new CreateChannelCommand(request)));
      const c = res.Channel;
      if (!c?.Id || !c.Arn) throw portError('ENGINE_UNAVAILABLE', `MediaLive CreateChannel (destination ${spec.destinationId}) answered without a channel`);
      if (c.State === 'DELETING' || c.State === 'DELETED') {
        this.log.warn('CreateChannel replayed a deleted channel for this RequestId; retrying with the next generation', { destinationId: spec.destinationId, channelId: c.Id, generation });
        continue;
      }
      this.log.info('destination channel created', { destinationId: spec.destinationId, channelId: c.Id, inputId });
      return { channelId: c.Id, arn: c.Arn };
    }
    throw portError('ENGINE_UNAVAILABLE', `MediaLive CreateChannel (destination ${spec.destinationId}) kept answering with deleted channels`);
  }

  async startChannel(channelId: string): Promise<void> {
    const c = await this.owned(channelId);
    if (!c) throw new AwsEngineError('CHANNEL_NOT_FOUND', `channel ${channelId} does not exist`, 'Reconcile re-creates the channel of a destination that still wants one.');
    if (ACTIVE_CHANNEL.has(c.state)) return;
    if (c.state !== 'IDLE') throw this.notIdle('start', c);
    try {
      await this.call({ operation: 'MediaLive StartChannel', subject: `channel ${channelId}`, conflict: 'CHANNEL_NOT_IDLE' }, () => this.d.medialive.send(new StartChannelCommand({ ChannelId: channelId })));
    } catch (err) {
      if (!AwsMediaEngine.isCode(err, 'CHANNEL_NOT_IDLE')) throw err;
      const now = await this.owned(channelId); // lost a race: fine if someone else started it
      if (now && ACTIVE_CHANNEL.has(now.state)) return;
      throw now ? this.notIdle('start', now) : err;
    }
  }

  async stopChannel(channelId: string): Promise<void> {
    const c = await this.owned(channelId);
    if (!c || !ACTIVE_CHANNEL.has(c.state)) return; // nothing runs: stopped already (or never started)
    try {
      await this.call({ operation: 'MediaLive StopChannel', subject: `channel ${channelId}`, conflict: 'CONFLICT' }, () => this.d.medialive.send(new StopChannelCommand({ ChannelId: channelId })));
    } catch (err) {
      if (AwsMediaEngine.isCode(err, 'NOT_FOUND')) return;
      if (!AwsMediaEngine.isCode(err, 'CONFLICT')) throw err;
      const now = await this.owned(channelId);
      if (!now || !ACTIVE_CHANNEL.has(now.state)) return;
      throw err;
    }
  }

  async updateChannel(channelId: string, spec: ChannelSpec): Promise<void> {
    const inputId = this.inputIdOf(spec.outputArn);
    const c = await this.owned(channelId);
    if (!c) throw new AwsEngineError('CHANNEL_NOT_FOUND', `channel ${channelId} does not exist`, 'Reconcile re-creates it with the current settings.');
    if (c.destinationId !== spec.destinationId)
      throw new AwsEngineError('INVALID_REFERENCE', `channel ${channelId} belongs to destination ${c.destinationId}, not ${spec.destinationId}`, "Caller bug: the channel record points at another destination's channel.");
    if (!UPDATABLE_CHANNEL.has(c.state)) throw this.notIdle('update', c);
    const settings = this.settings(spec, inputId);
    const request = { ...settings, ChannelId: channelId } satisfies UpdateChannelCommandInput;
    await this.call(
      { operation: 'MediaLive UpdateChannel', subject: `channel ${channelId}`, secrets: [spec.target.streamKey.reveal()], conflict: 'CHANNEL_NOT_IDLE', conflictHint: 'MediaLive changes channels only while IDLE: stop it first.' },
      () => this.d.medialive.send(new UpdateChannelCommand(request)),
    );
    const name = tagValue(spec.name);
    if (c.tags[TAGS.name] !== name && c.arn) {
      await this.call({ operation: 'MediaLive CreateTags', subject: `channel ${channelId}` }, () => this.d.medialive.send(new CreateTagsCommand({ ResourceArn: c.arn, Tags: { [TAGS.name]: name } })));
    }
  }

  /**
   * DeleteChannel while IDLE (or after a failed create/update). The destination's input is *not*
   * deleted here: it stays ATTACHED until the channel is DELETED, and it is the flow output that
   * flow-output removes (removeOutput) on ChannelDeleted.
   */
  async deleteChannel(channelId: string): Promise<void> {
    const c = await this.owned(channelId);
    if (!c || c.state === 'DELETING') return;
    if (!DELETABLE_CHANNEL.has(c.state)) throw this.notIdle('delete', c);
    try {
      await this.call({ operation: 'MediaLive DeleteChannel', subject: `channel ${channelId}`, conflict: 'CHANNEL_NOT_IDLE' }, () => this.d.medialive.send(new DeleteChannelCommand({ ChannelId: channelId })));
      this.log.info('destination channel deleting', { channelId, destinationId: c.destinationId });
    } catch (err) {
      if (AwsMediaEngine.isCode(err, 'NOT_FOUND')) return;
      if (!AwsMediaEngine.isCode(err, 'CHANNEL_NOT_IDLE')) throw err;
      const now = await this.owned(channelId);
      if (!now || now.state === 'DELETING') return;
      throw this.notIdle('delete', now);
    }
  }

  async describeChannel(channelId: string): Promise<ChannelDescription | null> {
    const c = await this.owned(channelId);
    if (!c) return null;
    const { tags: _tags, ...description } = c;
    return description;
  }

  async listChannels(): Promise<ChannelDescription[]> {
    return this.ownedChannels();
  }

  /** This deployment's resources the stack did not make (the primary input/channel are `fanout:resource: primary-*`). */
  private isDestinationResource(tags: Record<string, string> | undefined): boolean {
    return !!tags && tags[TAGS.deployment] === this.cfg.deployment && !(tags[TAGS.resource] ?? '').startsWith('primary-');
  }

  /**
   * Every channel and input tagged for this deployment (paging ListChannels and ListInputs), on any
   * flow, including those whose `fanout:destinationId` tag is missing (destinationId null), plus the
   * managed flow output MediaLive made for each input (DescribeFlow). Stack-made resources
   * (`fanout:resource: primary-*`) are never listed. Read-only.
   */
  async listOwnedResources(): Promise<OwnedResources> {
    const channels: ChannelDescription[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.call({ operation: 'MediaLive ListChannels', subject: `deployment ${this.cfg.deployment}` }, () => this.d.medialive.send(new ListChannelsCommand({ MaxResults: 100, NextToken })));
      for (const c of page.Channels ?? []) {
        if (!this.isDestinationResource(c.Tags) || GONE_CHANNEL.has(c.State ?? '')) continue;
        channels.push(AwsMediaEngine.describe(c, c.Tags?.[TAGS.destinationId] ?? ''));
      }
      NextToken = page.NextToken || undefined;
    } while (NextToken);
    const inputs: Input[] = [];
    NextToken = undefined;
    do {
      const page = await this.call({ operation: 'MediaLive ListInputs', subject: `deployment ${this.cfg.deployment}` }, () => this.d.medialive.send(new ListInputsCommand({ MaxResults: 100, NextToken })));
      for (const input of page.Inputs ?? []) if (this.isDestinationResource(input.Tags) && input.State !== 'DELETED') inputs.push(input);
      NextToken = page.NextToken || undefined;
    } while (NextToken);
    const flow = await this.call({ operation: 'MediaConnect DescribeFlow', subject: `flow ${this.cfg.flowArn}` }, () => this.d.mediaconnect.send(new DescribeFlowCommand({ FlowArn: this.cfg.flowArn })));
    const managed = new Map((flow.Flow?.Outputs ?? []).filter((o) => o.MediaLiveInputArn && o.OutputArn).map((o) => [o.MediaLiveInputArn!, o.OutputArn!]));
    const outputs: OwnedOutput[] = inputs
      .filter((i) => i.Arn)
      .map((i) => ({
        outputArn: i.Arn!,
        destinationId: i.Tags?.[TAGS.destinationId] ?? null,
        state: i.State ?? null,
        attachedChannelIds: [...(i.AttachedChannels ?? [])],
        flowOutputArn: managed.get(i.Arn!) ?? null,
      }))
      .sort((a, b) => a.outputArn.localeCompare(b.outputArn));
    return { channels, outputs };
  }

  // ---- the always-on primary ------------------------------------------------------------------

  /** The primary channel, checked to be this deployment's primary (never a destination's channel). */
  private async primaryChannel(): Promise<{ channelId: string; state: ChannelState }> {
    const channelId = this.cfg.primaryChannelId;
    if (!channelId) throw new AwsEngineError('INVALID_CONFIG', 'no primary channel is configured', "Set FANOUT_PRIMARY_CHANNEL_ID (serverless.yml sets it from the stack's PrimaryChannel).");
    let c: { Id?: string; State?: string; Tags?: Record<string, string> };
    try {
      c = await this.call({ operation: 'MediaLive DescribeChannel', subject: `primary channel ${channelId}` }, () => this.d.medialive.send(new DescribeChannelCommand({ ChannelId: channelId })));
    } catch (err) {
      if (AwsMediaEngine.isCode(err, 'NOT_FOUND')) throw new AwsEngineError('CHANNEL_NOT_FOUND', `the primary channel ${channelId} does not exist`, 'The stack creates it (PrimaryChannel): redeploy.');
      throw err;
    }
    if (c.Tags?.[TAGS.deployment] !== this.cfg.deployment || c.Tags?.[TAGS.resource] !== 'primary-channel' || c.Tags?.[TAGS.destinationId] !== undefined)
      throw new AwsEngineError('NOT_OWNED', `channel ${channelId} is not the primary channel of ${this.cfg.deployment}`, "FANOUT_PRIMARY_CHANNEL_ID must name the stack's PrimaryChannel (tagged fanout:resource=primary-channel).");
    return { channelId, state: (c.State ?? 'CREATING') as ChannelState };
  }

  async describePrimary(): Promise<{ channelId: string; state: ChannelState }> {
    return this.primaryChannel();
  }

  /** StartChannel on the primary when it is IDLE; any other state is left alone (it is starting, running, or busy with something the next reconcile sees through). */
  async startPrimary(): Promise<void> {
    const p = await this.primaryChannel();
    if (p.state !== 'IDLE') return;
    try {
      await this.call({ operation: 'MediaLive StartChannel', subject: `primary channel ${p.channelId}`, conflict: 'CHANNEL_NOT_IDLE' }, () => this.d.medialive.send(new StartChannelCommand({ ChannelId: p.channelId })));
      this.log.info('primary channel starting', { channelId: p.channelId });
    } catch (err) {
      if (!AwsMediaEngine.isCode(err, 'CHANNEL_NOT_IDLE')) throw err;
      const now = await this.primaryChannel(); // lost a race with another start: fine
      if (!ACTIVE_CHANNEL.has(now.state)) throw err;
    }
  }

  // ---- flow ------------------------------------------------------------------------------------

  private async flowStatus(): Promise<{ state: FlowState }> {
    const res = await this.call({ operation: 'MediaConnect DescribeFlow', subject: `flow ${this.cfg.flowArn}` }, () => this.d.mediaconnect.send(new DescribeFlowCommand({ FlowArn: this.cfg.flowArn })));
    return { state: (res.Flow?.Status ?? 'ERROR') as FlowState };
  }

  private async sourceHealth(state: FlowState): Promise<InputHealth> {
    const health: InputHealth = idleInputHealth();
    if (state !== 'ACTIVE') return health;
    try {
      const meta = await this.d.mediaconnect.send(new DescribeFlowSourceMetadataCommand({ FlowArn: this.cfg.flowArn }));
      health.connected = (meta.TransportMediaInfo?.Programs?.length ?? 0) > 0;
      // While media arrives, a message naming one source (the idle backup, a lost main the flow failed over from) is that input's, in inputsHealth.
      const problem = (meta.Messages ?? []).find((m) => !health.connected || !m.ResourceName);
      // One stable code; MediaConnect's own (SOURCE_DISCONNECTED, ...) is open-ended, so it goes in the message.
      if (problem) health.lastError = { code: 'SOURCE_PROBLEM', message: `${problem.Code ?? 'source'}: ${problem.Message ?? ''}`.slice(0, 500), hint: AWS_ENGINE_ERRORS.SOURCE_PROBLEM.hint };
      if (meta.Timestamp) health.updatedAt = new Date(meta.Timestamp).toISOString();
    } catch (err) {
      // Health is informative: an unreadable source never fails describeFlow.
      this.log.warn('flow source metadata unavailable', { error: err instanceof Error ? err.name : String(err) });
    }
    return health;
  }

  async describeFlow(): Promise<FlowDescription> {
    const [{ state }, inputs] = await Promise.all([this.flowStatus(), this.ownedInputs()]);
    return {
      flowArn: this.cfg.flowArn,
      state,
      outputs: inputs.filter((i) => i.Arn).map((i) => ({ outputArn: i.Arn!, destinationId: i.destinationId })),
      source: await this.sourceHealth(state),
    };
  }

  async startFlow(): Promise<void> {
    const { state } = await this.flowStatus();
    if (state === 'ACTIVE' || state === 'STARTING' || state === 'UPDATING') return;
    if (state === 'STOPPING') throw portError('ENGINE_UNAVAILABLE', 'the flow is stopping; start it once it is in standby', { details: { engineCode: 'FLOW_STOPPING' } });
    if (state === 'DELETING') throw new AwsEngineError('CONFLICT', 'the flow is being deleted', 'The stack owns the flow: redeploy it.');
    await this.call({ operation: 'MediaConnect StartFlow', subject: `flow ${this.cfg.flowArn}` }, () => this.d.mediaconnect.send(new StartFlowCommand({ FlowArn: this.cfg.flowArn })));
    this.log.info('flow starting', { flowArn: this.cfg.flowArn });
  }

  // ---- input redundancy (aws-inputs.ts) ---------------------------------------------------------

  inputsHealth(): Promise<InputsHealth> {
    return this.inputs.inputsHealth();
  }

  switchInput(to: InputName): Promise<InputSwitch> {
    return this.inputs.switchInput(to);
  }

  testBackupInput(): Promise<BackupTestResult> {
    return this.inputs.testBackupInput();
  }

  setFailover(settings: FailoverSettings): Promise<FailoverSettings> {
    return this.inputs.setFailover(settings);
  }

  async stopFlow(): Promise<void> {
    const { state } = await this.flowStatus();
    if (state === 'STANDBY' || state === 'STOPPING' || state === 'DELETING') return;
    if (state === 'STARTING' || state === 'UPDATING') throw portError('ENGINE_UNAVAILABLE', `the flow is ${state.toLowerCase()}; stop it once it is active`, { details: { engineCode: 'FLOW_BUSY' } });
    await this.call({ operation: 'MediaConnect StopFlow', subject: `flow ${this.cfg.flowArn}` }, () => this.d.mediaconnect.send(new StopFlowCommand({ FlowArn: this.cfg.flowArn })));
    this.log.info('flow stopping to standby', { flowArn: this.cfg.flowArn });
  }
}

/**
 * Production clients: adaptive retries (client-side rate limiting on top of retrying throttling
 * and 5xx), because MediaLive allows 5 requests/s per account and Region (30 burst).
 */
export function createAwsClients(region: string, maxAttempts = 6): { medialive: MediaLiveClient; mediaconnect: MediaConnectClient } {
  return {
    medialive: new MediaLiveClient({ region, maxAttempts, retryMode: 'adaptive' }),
    mediaconnect: new MediaConnectClient({ region, maxAttempts, retryMode: 'adaptive' }),
  };
}
