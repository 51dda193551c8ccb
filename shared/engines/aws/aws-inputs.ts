/**
 * Input redundancy on AWS (port: InputRedundancy, issue 15, ADR 0024 "AWS"): MediaConnect source
 * failover on Fanout's contribution flow, which the stack gives two SRT listener sources (the main
 * `srt-in`, the backup `srt-backup`) and a SourceFailoverConfig in FAILOVER mode (serverless.yml).
 * MediaConnect client only, so the destination Lambda can run it without MediaLive (ADR 0024 §2).
 *
 *   inputsHealth   = DescribeFlow (Sources, SourceFailoverConfig, Status) + DescribeFlowSourceMetadata
 *                    (a message naming a source in `ResourceName` = that source delivers nothing;
 *                    TransportMediaInfo = the streams of the source the flow is using) + the flow's
 *                    `fanout:*` tags (the settings as given, the last switch) + with a `metrics`
 *                    reader (metrics-reader.ts `sourceFigures`), each source's CloudWatch figures
 *                    by its SourceArn (bitrate, loss, lost packets, retransmits, RTT, connected
 *                    since: one GetMetricData for both, cached) + the source's `PeerIpAddress` (the
 *                    connected encoder) as sourceAddress, where the SDK delivers it
 *   switchInput    = UpdateFlow SourceFailoverConfig { State ENABLED, FailoverMode FAILOVER,
 *                    SourcePriority { PrimarySource: <that source's name> } }: MediaConnect uses the
 *                    primary source whenever it delivers, so naming the target primary is the switch
 *   setFailover    = UpdateFlow SourceFailoverConfig (revertive: the main is PrimarySource;
 *                    non-revertive: no primary, two equally prioritized sources) + TagResource
 *   testBackupInput = the backup's state in DescribeFlowSourceMetadata, without switching
 *
 * What MediaConnect cannot do, and what this class does about it (ADR 0024 "AWS"):
 *   - no loss threshold, no clear time: MediaConnect decides when a source is lost and returns to
 *     the primary as soon as it delivers again. `inputLossThresholdMs` and a numeric
 *     `errorClearTimeMs` are stored and reported, not enforced (null vs. a number is: it chooses
 *     between a primary source and equal priority);
 *   - no manual mode: a FAILOVER flow always fails over when its active source dies. `manual`
 *     pins the primary to the input last chosen, so MediaConnect returns to it whenever it can;
 *   - no API names the source in use: the active input is derived (the primary when it delivers,
 *     else the other; with equal priority the last one observed), and a switch MediaConnect made
 *     by itself is seen, recorded and reported (the native "MediaConnect Source Failover Switch",
 *     through `sink`) by the first inputsHealth after it;
 *   - the metadata describes the source in use only: the backup test reports whether the backup
 *     delivers a transport stream MediaConnect has no complaint about (`decodable` at the TS
 *     level); its codec and resolution only while it is the active one;
 *   - the slate is the MediaLive channels' (InputLossBehavior, channel-settings.ts); its end after
 *     `slateTimeoutMs` is observed here (by the instance with a sink: flow-output's reconcile, every
 *     minute) and reported once as a slate-timeout switch; the destination service stops the
 *     destinations on the InputSwitched it becomes (ADR 0024 "AWS").
 *
 * State kept in the flow's tags (MediaConnect TagResource; tag values allow `/ : = . _ + - @`):
 *   fanout:failover      mode=automatic/loss=1000/clear=10000/slate=300000   (clear=none: non-revertive)
 *   fanout:active-input  main | backup | slate        (the active input as last *reported* through a sink)
 *   fanout:last-switch   from=main/to=backup/reason=manual/at=<ISO time>     (the last switch, reported or not)
 *
 * Who reports: only an instance with a `sink` moves `fanout:active-input` and emits. The
 * destination Lambda (no sink: it cannot put an `aws.*` event on EventBridge, and InputSwitched is
 * flow-output's) records its manual switches in `fanout:last-switch`; flow-output's reconcile on
 * AWS (every minute, with a sink into its own InputSwitched path) observes the flow and reports
 * the recorded switch, or the one MediaConnect made, once. A switch undone before that
 * observation is not reported.
 */
import {
  DescribeFlowCommand,
  DescribeFlowSourceMetadataCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UpdateFlowCommand,
  type DescribeFlowSourceMetadataCommandOutput,
  type MediaConnectClient,
  type Source,
  type UpdateFailoverConfig,
} from '@aws-sdk/client-mediaconnect';
import { idleInputHealth } from '../port/input-health.ts';
import { portError } from '../port/errors.ts';
import type { BackupTestResult, EngineEventSink, FailoverSettings, InputHealth, InputName, InputRedundancy, InputsHealth, InputSwitch } from '../port/ports.ts';
import { AWS_ENGINE_ERRORS, toDomainError, type ErrorContext } from './errors.ts';
import type { SourceFigures, SourceFiguresReader } from './metrics-reader.ts';

export const DEFAULT_AWS_FAILOVER: FailoverSettings = Object.freeze({ mode: 'automatic', inputLossThresholdMs: 1000, errorClearTimeMs: 10_000, slateTimeoutMs: 300_000 });

/** The flow's source names (serverless.yml ContributionFlow.Source and BackupSource). */
export const SOURCE_NAMES: Readonly<Record<InputName, string>> = Object.freeze({ main: 'srt-in', backup: 'srt-backup' });

export const INPUT_TAGS = { failover: 'fanout:failover', active: 'fanout:active-input', lastSwitch: 'fanout:last-switch' } as const;

export interface AwsInputsConfig {
  flowArn: string;
  /** Source names on the flow; default SOURCE_NAMES. */
  sourceNames?: Partial<Record<InputName, string>>;
}

export interface AwsInputsDeps {
  mediaconnect: Pick<MediaConnectClient, 'send'>;
  /**
   * Each source's CloudWatch figures for inputsHealth (AwsMetricsReader; optional: without it, or
   * when CloudWatch fails, the figures stay null and the health is still answered).
   */
  metrics?: SourceFiguresReader;
  /** Where switches are reported as the native "MediaConnect Source Failover Switch" (optional). */
  sink?: EngineEventSink;
  now?: () => Date;
  log?: { warn(message: string, attributes?: Record<string, unknown>): void };
}

type Active = InputName | 'slate' | null;
const REASONS = new Set<InputSwitch['reason']>(['input-loss', 'recovered', 'manual', 'slate-timeout']);
const ENDS = new Set(['main', 'backup', 'slate']);

/** `fanout:failover` ⇄ FailoverSettings. */
export function encodeFailover(s: FailoverSettings): string {
  return `mode=${s.mode}/loss=${s.inputLossThresholdMs}/clear=${s.errorClearTimeMs ?? 'none'}/slate=${s.slateTimeoutMs}`;
}
export function decodeFailover(v: string | undefined): FailoverSettings | null {
  const m = /^mode=(automatic|manual)\/loss=(\d+)\/clear=(\d+|none)\/slate=(\d+)$/.exec(v ?? '');
  if (!m) return null;
  return { mode: m[1] as FailoverSettings['mode'], inputLossThresholdMs: Number(m[2]), errorClearTimeMs: m[3] === 'none' ? null : Number(m[3]), slateTimeoutMs: Number(m[4]) };
}
export function encodeSwitch(s: InputSwitch): string {
  return `from=${s.from ?? 'none'}/to=${s.to}/reason=${s.reason}/at=${s.at}`;
}
export function decodeSwitch(v: string | undefined): InputSwitch | null {
  const m = /^from=(main|backup|slate|none)\/to=(main|backup|slate)\/reason=([a-z-]+)\/at=([0-9T:.Z-]+)$/.exec(v ?? '');
  if (!m || !REASONS.has(m[3] as InputSwitch['reason']) || Number.isNaN(Date.parse(m[4]!))) return null;
  return { from: m[1] === 'none' ? null : (m[1] as InputSwitch['from']), to: m[2] as InputSwitch['to'], reason: m[3] as InputSwitch['reason'], at: m[4]! };
}

/** MediaConnect's FrameRate string ("30", "29.97", "30000/1001") as a number, or null. */
function frameRate(v: string | undefined): number | null {
  const m = /^(\d+(?:\.\d+)?)(?:\/(\d+))?$/.exec(v ?? '');
  if (!m) return null;
  const r = Number(m[1]) / (m[2] ? Number(m[2]) : 1);
  return Number.isFinite(r) && r > 0 ? Math.round(r * 1000) / 1000 : null;
}

/** What one read of the flow says about both inputs. */
interface Observation {
  flowActive: boolean;
  sources: Partial<Record<InputName, Source>>;
  primary: InputName | null;
  failoverEnabled: boolean;
  delivering: Record<InputName, boolean>;
  problems: Record<InputName, { code: string; message: string } | null>;
  meta: DescribeFlowSourceMetadataCommandOutput | null;
  tags: Record<string, string>;
  at: string;
}

export class AwsInputRedundancy implements InputRedundancy {
  private readonly names: Record<InputName, string>;
  private readonly now: () => Date;

  constructor(
    private readonly cfg: AwsInputsConfig,
    private readonly d: AwsInputsDeps,
  ) {
    this.names = { ...SOURCE_NAMES, ...cfg.sourceNames };
    this.now = d.now ?? (() => new Date());
  }

  private async call<T>(ctx: ErrorContext, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toDomainError(err, ctx);
    }
  }

  private inputOf(sourceName: string | undefined): InputName | null {
    return sourceName === this.names.main ? 'main' : sourceName === this.names.backup ? 'backup' : null;
  }

  private async observe(): Promise<Observation> {
    const subject = `flow ${this.cfg.flowArn}`;
    const [described, tagged] = await Promise.all([
      this.call({ operation: 'MediaConnect DescribeFlow', subject }, () => this.d.mediaconnect.send(new DescribeFlowCommand({ FlowArn: this.cfg.flowArn }))),
      this.call({ operation: 'MediaConnect ListTagsForResource', subject }, () => this.d.mediaconnect.send(new ListTagsForResourceCommand({ ResourceArn: this.cfg.flowArn }))),
    ]);
    const flow = described.Flow;
    const sources: Partial<Record<InputName, Source>> = {};
    for (const s of flow?.Sources ?? (flow?.Source ? [flow.Source] : [])) {
      const input = this.inputOf(s.Name);
      if (input) sources[input] = s;
    }
    const failover = flow?.SourceFailoverConfig;
    const flowActive = flow?.Status === 'ACTIVE';
    const delivering = { main: false, backup: false };
    const problems: Observation['problems'] = { main: null, backup: null };
    let meta: DescribeFlowSourceMetadataCommandOutput | null = null;
    if (flowActive) {
      try {
        meta = await this.d.mediaconnect.send(new DescribeFlowSourceMetadataCommand({ FlowArn: this.cfg.flowArn }));
      } catch (err) {
        this.d.log?.warn('flow source metadata unavailable', { error: err instanceof Error ? err.name : String(err) });
      }
      if (meta) {
        // A message names its source in ResourceName; one without a name is about the flow's (only) source.
        for (const m of meta.Messages ?? []) {
          const input = this.inputOf(m.ResourceName) ?? (m.ResourceName ? null : 'main');
          if (input && !problems[input]) problems[input] = { code: m.Code ?? 'SOURCE_PROBLEM', message: m.Message ?? '' };
        }
        const programs = (meta.TransportMediaInfo?.Programs?.length ?? 0) > 0;
        for (const input of ['main', 'backup'] as const) delivering[input] = !!sources[input] && !problems[input] && programs;
      }
    }
    return {
      flowActive,
      sources,
      primary: this.inputOf(failover?.SourcePriority?.PrimarySource),
      failoverEnabled: failover?.State === 'ENABLED',
      delivering,
      problems,
      meta,
      tags: tagged.Tags ?? {},
      at: this.now().toISOString(),
    };
  }

  /** The input MediaConnect is using, by its documented rule: the primary while it delivers, else the other; with equal priority, the one in use while it delivers. */
  private activeOf(o: Observation, lastObserved: Active): Active {
    const { delivering } = o;
    if (!delivering.main && !delivering.backup) return lastObserved === null ? null : 'slate';
    if (!o.failoverEnabled || !o.sources.backup) return delivering.main ? 'main' : lastObserved === null ? null : 'slate';
    const preferred: InputName = o.primary ?? (lastObserved === 'main' || lastObserved === 'backup' ? lastObserved : 'main');
    const other: InputName = preferred === 'main' ? 'backup' : 'main';
    return delivering[preferred] ? preferred : other;
  }

  private settingsOf(o: Observation): FailoverSettings {
    return decodeFailover(o.tags[INPUT_TAGS.failover]) ?? { ...DEFAULT_AWS_FAILOVER, errorClearTimeMs: o.primary === null && o.failoverEnabled ? null : DEFAULT_AWS_FAILOVER.errorClearTimeMs };
  }

  private lastObserved(o: Observation): Active {
    const v = o.tags[INPUT_TAGS.active];
    return v && ENDS.has(v) ? (v as Active) : null;
  }

  /** Each source's figures while the flow runs (a flow in standby publishes none); null figures without a reader or when CloudWatch fails. */
  private async figures(o: Observation): Promise<Partial<Record<InputName, SourceFigures>>> {
    if (!this.d.metrics || !o.flowActive) return {};
    const arns = { ...(o.sources.main?.SourceArn ? { main: o.sources.main.SourceArn } : {}), ...(o.sources.backup?.SourceArn ? { backup: o.sources.backup.SourceArn } : {}) };
    try {
      return await this.d.metrics.sourceFigures(arns);
    } catch (err) {
      this.d.log?.warn('source metrics unavailable', { error: err instanceof Error ? err.name : String(err) });
      return {};
    }
  }

  private health(o: Observation, input: InputName, figures: SourceFigures | undefined): InputHealth {
    const source = o.sources[input];
    const problem = o.problems[input];
    const connected = o.delivering[input];
    // The connected encoder's address: Source.PeerIpAddress (in the model since 2025; an SDK older than that drops it when
    // it reads DescribeFlow, and then it stays null). Only while the source delivers: the field may keep the last sender.
    const peer = (source as (Source & { PeerIpAddress?: string }) | undefined)?.PeerIpAddress;
    return {
      ...idleInputHealth(),
      ...figures,
      // connectedSince only for a source that delivers now (SourceUptime's newest period may predate the loss).
      connectedSince: connected ? (figures?.connectedSince ?? null) : null,
      sourceAddress: connected && peer ? peer : null,
      connected,
      // One stable code; MediaConnect's own (SOURCE_DISCONNECTED, ...) leads the message.
      lastError: source && problem ? { code: 'SOURCE_PROBLEM', message: `${problem.code}: ${problem.message}`.slice(0, 500), hint: AWS_ENGINE_ERRORS.SOURCE_PROBLEM.hint } : null,
      updatedAt: o.meta?.Timestamp ? new Date(o.meta.Timestamp).toISOString() : o.at,
    };
  }

  private async tag(tags: Record<string, string>): Promise<void> {
    await this.call({ operation: 'MediaConnect TagResource', subject: `flow ${this.cfg.flowArn}` }, () => this.d.mediaconnect.send(new TagResourceCommand({ ResourceArn: this.cfg.flowArn, Tags: tags })));
  }

  private emit(sw: InputSwitch, settings: FailoverSettings): void {
    this.d.sink?.({
      source: 'aws.mediaconnect',
      detailType: 'MediaConnect Source Failover Switch',
      resources: [this.cfg.flowArn],
      detail: {
        previous_source: sw.from,
        current_source: sw.to,
        reason: sw.reason,
        switched_at: sw.at,
        failover_mode: settings.mode,
        slate_stops_at: sw.to === 'slate' && sw.reason !== 'slate-timeout' ? new Date(Date.parse(sw.at) + settings.slateTimeoutMs).toISOString() : null,
      },
    });
  }

  /**
   * Reads both inputs; a change of the active input since the last observation is a switch
   * MediaConnect made (or the slate), recorded in the tags and reported.
   */
  async inputsHealth(): Promise<InputsHealth> {
    const o = await this.observe();
    const figures = await this.figures(o);
    const settings = this.settingsOf(o);
    const before = this.lastObserved(o);
    // A flow in standby feeds nothing, by choice: no input is active and nothing has switched.
    const active = o.flowActive ? this.activeOf(o, before) : null;
    let lastSwitch = decodeSwitch(o.tags[INPUT_TAGS.lastSwitch]);
    if (active !== before && active !== null) {
      if (before !== null) {
        // Recorded but not reported yet (a manual switch made without a sink, by the destination API), or one MediaConnect made by
        // itself: to the primary once it returned (recovered), otherwise away from a lost input.
        const pending = lastSwitch && lastSwitch.from === before && lastSwitch.to === active ? lastSwitch : null;
        const reason: InputSwitch['reason'] = active !== 'slate' && before === 'slate' ? 'recovered' : active !== 'slate' && o.primary === active && o.delivering[before as InputName] ? 'recovered' : 'input-loss';
        const sw: InputSwitch = pending ?? { from: before, to: active, reason, at: o.at };
        lastSwitch = sw;
        if (this.d.sink) {
          await this.tag({ [INPUT_TAGS.active]: active, [INPUT_TAGS.lastSwitch]: encodeSwitch(sw) });
          this.emit(sw, settings);
        } else if (!pending) {
          await this.tag({ [INPUT_TAGS.lastSwitch]: encodeSwitch(sw) }); // recorded for whoever reports (flow-output's reconcile)
        }
      } else {
        await this.tag({ [INPUT_TAGS.active]: active }); // the first input ever seen: not a switch
      }
    }
    const slateSince = active === 'slate' ? this.slateSince(lastSwitch, settings, o.at) : null;
    // The slate's time ran out: reported once (slate-timeout, recorded in fanout:last-switch) by
    // the observer with a sink, at the time it ran out; the destination service stops the
    // destinations on the InputSwitched it becomes. Nothing here touches MediaLive.
    if (slateSince && active === 'slate' && before === 'slate' && this.d.sink && lastSwitch?.reason !== 'slate-timeout') {
      const stopsAt = Date.parse(slateSince) + settings.slateTimeoutMs;
      if (Date.parse(o.at) >= stopsAt) {
        const sw: InputSwitch = { from: 'slate', to: 'slate', reason: 'slate-timeout', at: new Date(stopsAt).toISOString() };
        await this.tag({ [INPUT_TAGS.lastSwitch]: encodeSwitch(sw) });
        lastSwitch = sw;
        this.emit(sw, settings);
      }
    }
    return {
      active,
      settings,
      lastSwitch,
      inputs: { main: { ...this.health(o, 'main', figures.main), configured: true }, backup: { ...this.health(o, 'backup', figures.backup), configured: !!o.sources.backup } },
      slate: slateSince ? { since: slateSince, stopsAt: new Date(Date.parse(slateSince) + settings.slateTimeoutMs).toISOString() } : null,
    };
  }

  /** Since when the slate is on air: the switch to it, or (once timed out, stamped when it ran out) that time less the slate's time; else now. */
  private slateSince(last: InputSwitch | null, settings: FailoverSettings, at: string): string {
    if (last?.to !== 'slate') return at;
    return last.reason === 'slate-timeout' ? new Date(Date.parse(last.at) - settings.slateTimeoutMs).toISOString() : last.at;
  }

  private failoverConfig(primary: InputName | null): UpdateFailoverConfig {
    // Equal priority is a SourcePriority without a primary source [inferred: the model makes PrimarySource optional; not verified live].
    return { State: 'ENABLED', FailoverMode: 'FAILOVER', SourcePriority: primary ? { PrimarySource: this.names[primary] } : {} };
  }

  private async updateFailover(config: UpdateFailoverConfig): Promise<void> {
    await this.call({ operation: 'MediaConnect UpdateFlow', subject: `flow ${this.cfg.flowArn}`, conflict: 'CONFLICT' }, () => this.d.mediaconnect.send(new UpdateFlowCommand({ FlowArn: this.cfg.flowArn, SourceFailoverConfig: config })));
  }

  async switchInput(to: InputName): Promise<InputSwitch> {
    const o = await this.observe();
    if (!o.sources[to]) throw portError('INPUT_NOT_CONNECTED', `the flow has no ${to} source (${this.names[to]})`);
    if (!o.delivering[to]) throw portError('INPUT_NOT_CONNECTED', o.flowActive ? `the ${to} input delivers no media` : `the flow is not active, so the ${to} input delivers no media`);
    const settings = this.settingsOf(o);
    const before = this.activeOf(o, this.lastObserved(o));
    const last = decodeSwitch(o.tags[INPUT_TAGS.lastSwitch]);
    if (before === to && o.primary === to && last) return last;
    await this.updateFailover(this.failoverConfig(to));
    const sw: InputSwitch = { from: before, to, reason: 'manual', at: this.now().toISOString() };
    if (before !== to) {
      // Without a sink the switch is recorded only; the next observer with one reports it (inputsHealth).
      await this.tag({ ...(this.d.sink ? { [INPUT_TAGS.active]: to } : {}), [INPUT_TAGS.lastSwitch]: encodeSwitch(sw) });
      this.emit(sw, settings);
      return sw;
    }
    return last ?? sw;
  }

  async testBackupInput(): Promise<BackupTestResult> {
    const o = await this.observe();
    if (!o.sources.backup) return { connected: false, decodable: false, video: null, audio: null, problems: [`the flow has no backup source (${this.names.backup})`] };
    if (!o.flowActive) return { connected: false, decodable: false, video: null, audio: null, problems: ['the flow is not active: MediaConnect reports its sources only while it runs'] };
    const problem = o.problems.backup;
    if (!o.delivering.backup) return { connected: false, decodable: false, video: null, audio: null, problems: [problem ? `${problem.code}: ${problem.message}` : 'nothing is connected to the backup input'] };
    const active = this.activeOf(o, this.lastObserved(o));
    if (active !== 'backup')
      return {
        connected: true,
        decodable: true,
        video: null,
        audio: null,
        problems: ['MediaConnect describes the streams of the source in use only: the backup delivers a transport stream it reports no problem with; its codec and resolution show once it is active'],
      };
    const streams = o.meta?.TransportMediaInfo?.Programs?.flatMap((p) => p.Streams ?? []) ?? [];
    const v = streams.find((s) => s.FrameResolution);
    const a = streams.find((s) => s.SampleRate !== undefined || s.Channels !== undefined);
    const rate = frameRate(v?.FrameRate);
    return {
      connected: true,
      decodable: true,
      video: v ? { codec: v.Codec ?? 'unknown', width: v.FrameResolution!.FrameWidth ?? 0, height: v.FrameResolution!.FrameHeight ?? 0, frameRate: Number.isFinite(rate) ? rate : null } : null,
      audio: a ? { codec: a.Codec ?? 'unknown', sampleRate: a.SampleRate ?? null, channels: a.Channels ?? null } : null,
      problems: [],
    };
  }

  async setFailover(settings: FailoverSettings): Promise<FailoverSettings> {
    const o = await this.observe();
    // Without a backup source there is nothing for MediaConnect to fail over to: the settings are only stored.
    if (!o.sources.backup) {
      await this.tag({ [INPUT_TAGS.failover]: encodeFailover(settings) });
      return { ...settings };
    }
    const active = this.activeOf(o, this.lastObserved(o));
    // manual: pin the input in use (MediaConnect still leaves it when it dies); automatic revertive: the main; non-revertive: equal priority.
    const primary: InputName | null = settings.mode === 'manual' ? (active === 'backup' ? 'backup' : 'main') : settings.errorClearTimeMs === null ? null : 'main';
    await this.updateFailover(this.failoverConfig(primary));
    await this.tag({ [INPUT_TAGS.failover]: encodeFailover(settings) });
    return { ...settings };
  }
}
