/**
 * The memory engine's input redundancy (port: InputRedundancy): a main and a backup input whose
 * connection tests set (`connect`, `lose`), the failover rules of the port applied with real timers
 * (input loss after `inputLossThresholdMs`, revert after `errorClearTimeMs`, the slate's timeout),
 * and every switch reported as the native "MediaConnect Source Failover Switch" event. No media:
 * the backup test answers from what `connect` was told.
 */
import { portError } from '../port/errors.ts';
import type { BackupTestResult, EngineEventSink, FailoverSettings, InputHealth, InputName, InputsHealth, InputSwitch } from '../port/ports.ts';

export const DEFAULT_FAILOVER: FailoverSettings = { mode: 'automatic', inputLossThresholdMs: 1000, errorClearTimeMs: 10_000, slateTimeoutMs: 300_000 };

/** What a test says an encoder on an input sends. */
export interface MemoryFeed {
  sourceAddress?: string;
  video?: { codec: string; width: number; height: number; frameRate: number | null };
  audio?: { codec: string; sampleRate: number | null; channels: number | null };
}

interface InputState {
  feed: MemoryFeed | null;
  connectedSince: string | null;
}

const DEFAULT_FEED: Required<MemoryFeed> = {
  sourceAddress: '127.0.0.1:40000',
  video: { codec: 'h264', width: 1280, height: 720, frameRate: 30 },
  audio: { codec: 'aac', sampleRate: 48_000, channels: 2 },
};

export class MemoryInputs {
  private settings: FailoverSettings = { ...DEFAULT_FAILOVER };
  private active: InputName | 'slate' | null = null;
  private lastSwitch: InputSwitch | null = null;
  private slate: { since: string; stopsAt: string } | null = null;
  /** The input whose loss put the slate on air. */
  private lostInput: InputName | null = null;
  private readonly inputs: Record<InputName, InputState> = { main: { feed: null, connectedSince: null }, backup: { feed: null, connectedSince: null } };
  private lossTimer: NodeJS.Timeout | undefined;
  private revertTimer: NodeJS.Timeout | undefined;
  private slateTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: { sink: EngineEventSink; flowArn: string; backupConfigured: boolean }) {}

  async inputsHealth(): Promise<InputsHealth> {
    return {
      active: this.active,
      settings: { ...this.settings },
      lastSwitch: this.lastSwitch,
      inputs: { main: { ...this.health('main'), configured: true }, backup: { ...this.health('backup'), configured: this.o.backupConfigured } },
      slate: this.slate,
    };
  }

  /** The active input's health (what FlowDescription.source reports), the main's before any switch. */
  activeHealth(): InputHealth {
    return this.health(this.active === 'backup' ? 'backup' : 'main');
  }

  async switchInput(to: InputName): Promise<InputSwitch> {
    if (to === 'backup' && !this.o.backupConfigured) throw portError('INPUT_NOT_CONNECTED', 'no backup input is configured');
    if (!this.inputs[to].feed) throw portError('INPUT_NOT_CONNECTED', `the ${to} input delivers no media`);
    if (this.active === to && this.lastSwitch) return this.lastSwitch;
    return this.switchTo(to, 'manual');
  }

  async testBackupInput(): Promise<BackupTestResult> {
    const feed = this.o.backupConfigured ? this.inputs.backup.feed : null;
    if (!feed) return { connected: false, decodable: false, video: null, audio: null, problems: [this.o.backupConfigured ? 'nothing is connected to the backup input' : 'no backup input is configured'] };
    const video = feed.video ?? DEFAULT_FEED.video;
    const audio = feed.audio ?? DEFAULT_FEED.audio;
    const main = this.inputs.main.feed;
    const problems: string[] = [];
    if (main) {
      const mv = main.video ?? DEFAULT_FEED.video;
      if (mv.codec !== video.codec) problems.push(`video codec ${video.codec} differs from the main's ${mv.codec}`);
      if (mv.width !== video.width || mv.height !== video.height) problems.push(`resolution ${video.width}x${video.height} differs from the main's ${mv.width}x${mv.height}`);
    }
    return { connected: true, decodable: true, video, audio, problems };
  }

  async setFailover(settings: FailoverSettings): Promise<FailoverSettings> {
    this.settings = { ...settings };
    this.evaluate();
    return { ...this.settings };
  }

  /** Test control: an encoder connects to `name` (and starts delivering media). */
  connect(name: InputName, feed: MemoryFeed = {}): void {
    this.inputs[name] = { feed: { ...DEFAULT_FEED, ...feed }, connectedSince: new Date().toISOString() };
    this.evaluate();
  }

  /** Test control: the encoder on `name` stops delivering media. */
  lose(name: InputName): void {
    this.inputs[name] = { feed: null, connectedSince: null };
    this.evaluate();
  }

  close(): void {
    clearTimeout(this.lossTimer);
    clearTimeout(this.revertTimer);
    clearTimeout(this.slateTimer);
  }

  private health(name: InputName): InputHealth {
    const i = this.inputs[name];
    return {
      connected: i.feed !== null,
      sourceAddress: i.feed?.sourceAddress ?? null,
      connectedSince: i.connectedSince,
      bitrateInKbps: i.feed ? 4000 : null,
      packetLossPercent: i.feed ? 0 : null,
      packetsLost: i.feed ? 0 : null,
      retransmits: i.feed ? 0 : null,
      rttMs: i.feed ? 1 : null,
      lastError: null,
      updatedAt: new Date().toISOString(),
    };
  }

  private delivering(name: InputName): boolean {
    return this.inputs[name].feed !== null && (name === 'main' || this.o.backupConfigured);
  }

  /** Applies the failover rules to the inputs as they are now (timers for what waits). */
  private evaluate(): void {
    const active = this.active;
    // The first input that ever delivers becomes active (the main if both do): not a switch.
    if (active === null) {
      const first = this.delivering('main') ? 'main' : this.delivering('backup') ? 'backup' : null;
      if (first) this.active = first;
      return;
    }
    if (active === 'slate') {
      clearTimeout(this.lossTimer);
      this.lossTimer = undefined;
      // Automatic: whichever input delivers (the main first); manual: only the input that was lost returns by itself.
      const candidates: InputName[] = this.settings.mode === 'automatic' ? ['main', 'backup'] : this.lostInput ? [this.lostInput] : [];
      const back = candidates.find((name) => this.delivering(name));
      if (back) this.switchTo(back, 'recovered');
      return;
    }
    if (!this.delivering(active)) {
      if (!this.lossTimer) {
        this.lossTimer = setTimeout(() => {
          this.lossTimer = undefined;
          if (this.active !== active || this.delivering(active)) return;
          const other: InputName = active === 'main' ? 'backup' : 'main';
          if (this.settings.mode === 'automatic' && this.delivering(other)) this.switchTo(other, 'input-loss');
          else if (!this.delivering(other) || this.settings.mode === 'manual') this.switchTo('slate', 'input-loss');
        }, this.settings.inputLossThresholdMs);
      }
    } else {
      clearTimeout(this.lossTimer);
      this.lossTimer = undefined;
    }
    // Revertive: back to the main once it has been clean for errorClearTimeMs.
    const revert = this.settings.mode === 'automatic' && this.settings.errorClearTimeMs !== null && this.active === 'backup' && this.delivering('main');
    if (!revert) {
      clearTimeout(this.revertTimer);
      this.revertTimer = undefined;
    } else if (!this.revertTimer) {
      this.revertTimer = setTimeout(() => {
        this.revertTimer = undefined;
        if (this.active === 'backup' && this.delivering('main') && this.settings.mode === 'automatic' && this.settings.errorClearTimeMs !== null) this.switchTo('main', 'recovered');
      }, this.settings.errorClearTimeMs ?? 0);
    }
  }

  private switchTo(to: InputName | 'slate', reason: InputSwitch['reason']): InputSwitch {
    const from = this.active;
    const at = new Date().toISOString();
    const sw: InputSwitch = { from, to, at, reason };
    this.active = to;
    this.lastSwitch = sw;
    clearTimeout(this.slateTimer);
    if (to === 'slate') {
      if (from === 'main' || from === 'backup') this.lostInput = from;
      this.slate = { since: at, stopsAt: new Date(Date.now() + this.settings.slateTimeoutMs).toISOString() };
      this.slateTimer = setTimeout(() => {
        if (this.active !== 'slate') return;
        const timedOut: InputSwitch = { from: 'slate', to: 'slate', at: new Date().toISOString(), reason: 'slate-timeout' };
        this.lastSwitch = timedOut;
        this.emit(timedOut, null);
      }, this.settings.slateTimeoutMs);
    } else {
      this.slate = null;
    }
    this.emit(sw, this.slate?.stopsAt ?? null);
    this.evaluate();
    return sw;
  }

  private emit(sw: InputSwitch, slateStopsAt: string | null): void {
    this.o.sink({
      source: 'aws.mediaconnect',
      detailType: 'MediaConnect Source Failover Switch',
      resources: [this.o.flowArn],
      detail: { previous_source: sw.from, current_source: sw.to, reason: sw.reason, switched_at: sw.at, failover_mode: this.settings.mode, slate_stops_at: slateStopsAt },
    });
  }
}
