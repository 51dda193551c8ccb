/**
 * The memory engine's input redundancy (port: InputRedundancy): a main and a backup input whose
 * connection tests set (`connect`, `lose`), the failover rules of the port (`FailoverController`,
 * port/failover.ts, the same as the local engine's) woken by one timer at the next moment they may
 * act (input loss after `inputLossThresholdMs`, revert after `errorClearTimeMs`, the slate's
 * timeout), and every switch reported as the native "MediaConnect Source Failover Switch" event.
 * No media: the backup test answers from what `connect` was told.
 */
import { portError } from '../port/errors.ts';
import { DEFAULT_FAILOVER, FailoverController, type FailoverStep, failoverSwitchDetail } from '../port/failover.ts';
import type { BackupTestResult, EngineEventSink, FailoverSettings, InputHealth, InputName, InputsHealth, InputSwitch } from '../port/ports.ts';

/** What a test says an encoder on an input sends. */
export interface MemoryFeed {
  sourceAddress?: string;
  video?: { codec: string; width: number; height: number; frameRate: number | null };
  audio?: { codec: string; sampleRate: number | null; channels: number | null };
}

interface InputState {
  feed: MemoryFeed | null;
  connectedSince: string | null;
  /** When `lose` was called (its media stops counting once inputLossThresholdMs has passed). */
  lostAt: number | null;
}

const DEFAULT_FEED: Required<MemoryFeed> = {
  sourceAddress: '127.0.0.1:40000',
  video: { codec: 'h264', width: 1280, height: 720, frameRate: 30 },
  audio: { codec: 'aac', sampleRate: 48_000, channels: 2 },
};

export class MemoryInputs {
  readonly #rules = new FailoverController(DEFAULT_FAILOVER);
  private readonly inputs: Record<InputName, InputState> = { main: { feed: null, connectedSince: null, lostAt: null }, backup: { feed: null, connectedSince: null, lostAt: null } };
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: { sink: EngineEventSink; flowArn: string; backupConfigured: boolean }) {}

  async inputsHealth(): Promise<InputsHealth> {
    return {
      active: this.#rules.active,
      settings: this.#rules.settings,
      lastSwitch: this.#rules.lastSwitch,
      inputs: { main: { ...this.health('main'), configured: true }, backup: { ...this.health('backup'), configured: this.o.backupConfigured } },
      slate: this.#rules.slate,
    };
  }

  /** The active input's health (what FlowDescription.source reports), the main's before any switch. */
  activeHealth(): InputHealth {
    return this.health(this.#rules.active === 'backup' ? 'backup' : 'main');
  }

  async switchInput(to: InputName): Promise<InputSwitch> {
    if (to === 'backup' && !this.o.backupConfigured) throw portError('INPUT_NOT_CONNECTED', 'no backup input is configured');
    if (!this.inputs[to].feed) throw portError('INPUT_NOT_CONNECTED', `the ${to} input delivers no media`);
    const last = this.#rules.lastSwitch;
    if (this.#rules.active === to && last) return last;
    const step = this.#rules.manual(to, Date.now());
    if (step) this.emit(step);
    this.evaluate();
    return step?.switch ?? (this.#rules.lastSwitch as InputSwitch);
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
    this.#rules.setSettings(settings);
    this.evaluate();
    return this.#rules.settings;
  }

  /** Test control: an encoder connects to `name` (and starts delivering media). */
  connect(name: InputName, feed: MemoryFeed = {}): void {
    this.inputs[name] = { feed: { ...DEFAULT_FEED, ...feed }, connectedSince: new Date().toISOString(), lostAt: null };
    this.evaluate();
  }

  /** Test control: the encoder on `name` stops delivering media. */
  lose(name: InputName): void {
    if (this.inputs[name].feed) this.inputs[name] = { feed: null, connectedSince: null, lostAt: Date.now() };
    this.evaluate();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
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

  /** When each input last delivered: now while connected, the loss time after `lose`. */
  private lastMedia(now: number): Record<InputName, number | null> {
    const at = (name: InputName): number | null => {
      if (name === 'backup' && !this.o.backupConfigured) return null;
      const i = this.inputs[name];
      return i.feed ? now : i.lostAt;
    };
    return { main: at('main'), backup: at('backup') };
  }

  /** Applies the failover rules now and wakes up again when they may next act. */
  private evaluate(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    // A switch may make another due at once (the backup lost right after it took over): apply until quiet.
    for (let i = 0; i < 4; i++) {
      const steps = this.#rules.observe(Date.now(), this.lastMedia(Date.now()));
      if (steps.length === 0) break;
      for (const step of steps) this.emit(step);
    }
    const due = this.#rules.nextDueAt();
    // Connected inputs deliver "now" at every look: only what waits on a lost input or a clock is due.
    if (due !== null) {
      this.timer = setTimeout(() => this.evaluate(), Math.max(0, due - Date.now()));
      this.timer.unref?.();
    }
  }

  private emit(step: FailoverStep): void {
    this.o.sink({
      source: 'aws.mediaconnect',
      detailType: 'MediaConnect Source Failover Switch',
      resources: [this.o.flowArn],
      detail: failoverSwitchDetail(step, this.#rules.settings.mode),
    });
  }
}
