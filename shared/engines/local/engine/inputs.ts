/**
 * Input redundancy of the local engine (issue 15, port `InputRedundancy`, ADR 0023): the main and
 * the backup `FlowInput`, the slate, which of their hubs is on air, and the failover rules
 * (`FailoverController`, port/failover.ts, the memory engine's too) that decide it.
 *
 *   main   fanout-srt :srtPort       ──► main hub   ─┐
 *   backup fanout-srt :srtBackupPort ──► backup hub ─┼─ on air ──► primary HLS, passthrough mux, encoders
 *   slate  ffmpeg lavfi card         ──► slate hub  ─┘   (flow.ts and source-pool.ts follow `repoint`)
 *
 * - Detection: every 50 ms each input counts as delivering while its hub read data within
 *   `inputLossThresholdMs` (`TsHub.lastDataAt`; a hub is active only after more than a stale
 *   block, see ts-hub.ts). Packets, not decoded frames: an encoder that sends TS with no video is
 *   not caught (the backup test decodes). The ingest writes at least every 20 ms, so detection
 *   takes the threshold plus at most ~70 ms. The hub drops to inactive after `mediaIdleMs`
 *   (2 s), so a threshold above that acts as `mediaIdleMs`.
 * - Both inputs are watched all the time, the inactive one too: its health (connection, SRT
 *   figures, a rejected passphrase) is its own ingest's.
 * - A switch emits "MediaConnect Source Failover Switch" (flow-output publishes InputSwitched v1)
 *   and repoints every reader at the new hub; the slate runs while it is on air. At the slate's
 *   timeout the switch event says `slate-timeout` and the destination service stops the
 *   destinations (stopForSlateTimeout, INPUT_STALLED): the engine stops none itself, so nothing is
 *   stopped twice; the slate's FFmpeg stops (the HLS follows it, as after any input loss).
 * - The main's video is probed (ffprobe on its cached GOP, probe.ts) while it is on air, at most
 *   every 30 s, so that the slate has its size and frame rate and the backup test something to
 *   compare with.
 */
import { portError } from '../../port/errors.ts';
import { DEFAULT_FAILOVER, FailoverController, type FailoverStep, failoverSwitchDetail } from '../../port/failover.ts';
import { idleInputHealth } from '../../port/input-health.ts';
import type { BackupTestResult, FailoverSettings, InputHealth, InputName, InputsHealth, InputSwitch } from '../../port/ports.ts';
import type { EngineContext } from './engine-context.ts';
import type { FlowInput } from './flow-input.ts';
import { FLOW_ARN } from './native-events.ts';
import { DEFAULTS } from './options.ts';
import { type ProbeResult, probeHub, switchProblems } from './probe.ts';
import type { Slate } from './slate.ts';
import type { TsHub } from './ts-hub.ts';

export const FAILOVER_TICK_MS = 50;
/** The main's video is probed again after this long on air (its size may change with its encoder). */
const PROBE_EVERY_MS = 30_000;
/** The slate keeps running this long after it left the air: the readers' take-over needs its media until then. */
const SLATE_LINGER_MS = 5000;

export interface LocalInputsOptions {
  main: FlowInput;
  backup: FlowInput | null;
  slate: Slate;
  /** The hub on air changed: every reader follows it. */
  repoint: (hub: TsHub) => void;
}

export class LocalInputs {
  readonly main: FlowInput;
  readonly backup: FlowInput | null;
  readonly slate: Slate;
  readonly #ctx: EngineContext;
  readonly #repoint: (hub: TsHub) => void;
  readonly #rules: FailoverController;
  #onAir: TsHub;
  #timer: NodeJS.Timeout | null = null;
  #slateLinger: NodeJS.Timeout | null = null;
  #mainProbe: ProbeResult | null = null;
  #mainProbeAt = 0;
  #probing = false;

  constructor(ctx: EngineContext, o: LocalInputsOptions) {
    this.#ctx = ctx;
    this.main = o.main;
    this.backup = o.backup;
    this.slate = o.slate;
    this.#repoint = o.repoint;
    this.#rules = new FailoverController(ctx.o.failover ?? DEFAULT_FAILOVER);
    this.#onAir = o.main.hub;
  }

  /** The hub every reader reads now. */
  get onAirHub(): TsHub {
    return this.#onAir;
  }

  /** The input whose health the flow reports as its source: the backup while it is on air, else the main. */
  activeHealth(): InputHealth {
    return this.#rules.active === 'backup' && this.backup ? this.backup.health() : this.main.health();
  }

  /** Starts watching (the flow is starting). Idempotent. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.evaluate(), FAILOVER_TICK_MS);
    this.#timer.unref();
  }

  /** Stops watching and forgets the active input (the flow stopped); the main's hub is on air again. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    if (this.#slateLinger) clearTimeout(this.#slateLinger);
    this.#slateLinger = null;
    this.#rules.reset();
    await this.slate.stop();
    this.#setOnAir(this.main.hub);
  }

  #lastMedia(input: FlowInput | null): number | null {
    if (!input) return null;
    return input.hub.active ? input.hub.lastDataAt : null;
  }

  #deliveringNow(input: FlowInput | null): boolean {
    const t = this.#lastMedia(input);
    return t !== null && Date.now() - t <= this.#rules.settings.inputLossThresholdMs;
  }

  /** Applies the failover rules to the inputs as they are now (every tick, and on demand). */
  evaluate(): void {
    if (this.#ctx.closed || !this.#timer) return;
    const now = Date.now();
    const steps = this.#rules.observe(now, { main: this.#lastMedia(this.main), backup: this.#lastMedia(this.backup) });
    for (const step of steps) this.#emit(step);
    this.#apply();
    if (this.#rules.active === 'main' && !this.slate.running && now - this.#mainProbeAt > PROBE_EVERY_MS) void this.#probeMain();
  }

  /** Puts on air what the rules chose: the slate's FFmpeg while it is wanted, every reader on the active hub. */
  #apply(): void {
    const active = this.#rules.active;
    // slateTimeoutMs 0: no slate. The readers stay on the lost input's hub and go without media as
    // with no failover (the sources' grace, then INPUT_STALLED; the HLS stops); the switch event's
    // slate-timeout follows at the next tick.
    const noSlate = active === 'slate' && this.#rules.settings.slateTimeoutMs === 0;
    if (active === 'slate' && !this.#rules.slateTimedOut && !noSlate) {
      if (this.#slateLinger) clearTimeout(this.#slateLinger);
      this.#slateLinger = null;
      this.slate.start();
    } else if (this.slate.running && !this.#slateLinger) {
      // Off air (an input returned, or the slate's time is over): let the readers take over first.
      const delay = active === 'slate' ? 0 : SLATE_LINGER_MS;
      this.#slateLinger = setTimeout(() => {
        this.#slateLinger = null;
        if (this.#rules.active !== 'slate' || this.#rules.slateTimedOut) void this.slate.stop();
      }, delay);
      this.#slateLinger.unref();
    }
    if (noSlate) return;
    const hub = active === 'backup' && this.backup ? this.backup.hub : active === 'slate' ? this.slate.hub : this.main.hub;
    this.#setOnAir(hub);
  }

  #setOnAir(hub: TsHub): void {
    if (hub === this.#onAir) return;
    this.#onAir = hub;
    this.#ctx.log.info('input switch: on air', { hub: hub.name });
    this.#repoint(hub);
  }

  #emit(step: FailoverStep): void {
    const sw = step.switch;
    this.#ctx.log[sw.reason === 'input-loss' || sw.reason === 'slate-timeout' ? 'warn' : 'info']('input switch', { from: sw.from, to: sw.to, reason: sw.reason, slateStopsAt: step.slateStopsAt });
    this.#ctx.emit({
      source: 'aws.mediaconnect',
      detailType: 'MediaConnect Source Failover Switch',
      resources: [FLOW_ARN],
      detail: failoverSwitchDetail(step, this.#rules.settings.mode),
    });
  }

  async #probeMain(): Promise<ProbeResult | null> {
    if (this.#probing) return this.#mainProbe;
    this.#probing = true;
    this.#mainProbeAt = Date.now();
    try {
      const r = await probeHub(this.main.hub, { ffprobePath: this.#ctx.o.ffprobePath ?? DEFAULTS.ffprobePath });
      if (r.decodable && r.video) {
        this.#mainProbe = r;
        this.slate.setVideo({ width: r.video.width, height: r.video.height, frameRate: r.video.frameRate ?? 30 });
      }
      return this.#mainProbe;
    } finally {
      this.#probing = false;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // InputRedundancy

  inputsHealth(): InputsHealth {
    return {
      active: this.#rules.active,
      settings: this.#rules.settings,
      lastSwitch: this.#rules.lastSwitch,
      inputs: {
        main: { ...this.main.health(), configured: true },
        backup: this.backup ? { ...this.backup.health(), configured: true } : { ...idleInputHealth(), configured: false },
      },
      slate: this.#rules.slate,
    };
  }

  /** @throws EngineError INPUT_NOT_CONNECTED when `to` is not configured or delivers no media */
  switchInput(to: InputName): InputSwitch {
    const input = to === 'main' ? this.main : this.backup;
    if (!input) throw portError('INPUT_NOT_CONNECTED', 'no backup input is configured');
    if (!this.#deliveringNow(input)) throw portError('INPUT_NOT_CONNECTED', `the ${to} input delivers no media`);
    const now = Date.now();
    // The rules see the input as delivering before they are asked to switch to it.
    for (const step of this.#rules.observe(now, { main: this.#lastMedia(this.main), backup: this.#lastMedia(this.backup) })) this.#emit(step);
    const step = this.#rules.manual(to, now);
    if (step) this.#emit(step);
    this.#apply();
    return step?.switch ?? this.#rules.lastSwitch ?? { from: to, to, at: new Date(now).toISOString(), reason: 'manual' };
  }

  async testBackupInput(): Promise<BackupTestResult> {
    const backup = this.backup;
    if (!backup) return { connected: false, decodable: false, video: null, audio: null, problems: ['no backup input is configured'] };
    const h = backup.health();
    if (!this.#deliveringNow(backup)) {
      const problems = [h.connected ? 'an encoder is connected to the backup but delivers no media' : 'nothing is connected to the backup input'];
      if (h.lastError) problems.push(h.lastError.message);
      return { connected: h.connected, decodable: false, video: null, audio: null, problems };
    }
    const ffprobePath = this.#ctx.o.ffprobePath ?? DEFAULTS.ffprobePath;
    const [probe, main] = await Promise.all([probeHub(backup.hub, { ffprobePath }), this.#deliveringNow(this.main) ? this.#probeMain() : Promise.resolve(this.#mainProbe)]);
    return { connected: true, decodable: probe.decodable, video: probe.video, audio: probe.audio, problems: switchProblems(main, probe) };
  }

  setFailover(settings: FailoverSettings): FailoverSettings {
    this.#rules.setSettings(settings);
    this.evaluate();
    return this.#rules.settings;
  }

  /** The slate's FFmpeg and the backup's ingest are the flow's to stop (`close`). */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    if (this.#slateLinger) clearTimeout(this.#slateLinger);
    this.#slateLinger = null;
  }
}
