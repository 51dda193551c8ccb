/**
 * The flow (MediaConnect's part of the local engine): its state machine, its outputs, its inputs
 * (`flow-input.ts`: the main and, when configured, the backup SRT ingest, each with its hub), the
 * slate (`slate.ts`), which of them is on air (`inputs.ts`) and the primary HLS, a tap on the hub
 * on air.
 *
 *   hub on air (inputs.ts) ──► primary HLS  ffmpeg -c copy → <dataDir>/hls/primary/
 *                              (tap; runs while the flow is ACTIVE and media arrives on air)
 *
 * An input switch restarts the HLS FFmpeg on the new hub with `append_list` (argv.ts): it
 * continues the playlist the previous one finished, with an EXT-X-DISCONTINUITY before the new
 * segments, so a player follows it; the passthrough mux and the encoders follow through
 * `onRepoint` (source-pool.ts, make-before-break).
 *
 * States follow MediaConnect: STANDBY → STARTING → ACTIVE → STOPPING → STANDBY, ERROR if the ingest
 * cannot run (its supervisor gave up); ACTIVE again once it runs. When media starts arriving the
 * primary HLS starts (or restarts at once if it was waiting in backoff for input) and
 * `onMediaReturn` lets the rest of the engine do the same; when it stops, the HLS stops.
 *
 * An output is a destination's right to a passthrough channel, as on MediaConnect; every
 * passthrough channel reads the one passthrough mux (`source-pool.ts`).
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FlowDescription, FlowState, InputHealth } from '../../port/ports.ts';
import type { ProcessSupervisor, SupervisorState, SupervisorStatus } from '../process/supervisor.ts';
import { hlsArgs } from './argv.ts';
import { MediaEngineError } from './channel-lifecycle.ts';
import type { EngineContext } from './engine-context.ts';
import { FlowInput } from './flow-input.ts';
import { LocalInputs } from './inputs.ts';
import { FLOW_ARN, flowStatusChange, outputArn as outputArnFor } from './native-events.ts';
import { Serial } from './serial.ts';
import { Slate } from './slate.ts';
import type { TsHub, TsHubStats } from './ts-hub.ts';

export interface FlowOutput {
  destinationId: string;
  outputArn: string;
}

/** What exists only once the flow is open (the inputs, the HLS supervisor). */
interface FlowRuntime {
  input: FlowInput;
  inputs: LocalInputs;
  hls: ProcessSupervisor;
  /** The hub the HLS supervisor reads. */
  hlsHub: TsHub;
  offHls: () => void;
}

export class Flow {
  readonly #ctx: EngineContext;
  readonly #onMediaReturn: () => void;
  readonly #onRepoint: () => void;
  readonly hlsDir: string;
  /** HLS restarts after switches, one after the other. */
  #hlsChain: Promise<void> = Promise.resolve();
  readonly #outputs = new Map<string, FlowOutput>();
  readonly #serial = new Serial();
  #rt: FlowRuntime | null = null;
  #state: FlowState = 'STANDBY';

  /**
   * `onMediaReturn`: media arrives again (what waited in backoff for input may restart now).
   * `onRepoint`: another hub is on air (an input switch): the sources must follow `hub`.
   */
  constructor(ctx: EngineContext, onMediaReturn: () => void, onRepoint: () => void) {
    this.#ctx = ctx;
    this.#onMediaReturn = onMediaReturn;
    this.#onRepoint = onRepoint;
    this.hlsDir = join(ctx.o.dataDir, 'hls', 'primary');
  }

  /** Creates the HLS directory and removes what an earlier run left in it. */
  prepare(): void {
    mkdirSync(this.hlsDir, { recursive: true });
    // A playlist left by an earlier run names segments that are gone or stale.
    this.#pruneHls(0);
    rmSync(join(this.hlsDir, 'index.m3u8'), { force: true });
  }

  /** Creates the inputs, the slate and the primary HLS supervisor; nothing runs until `start()`. */
  open(): void {
    const ctx = this.#ctx;
    const input = new FlowInput(ctx, { name: 'flow', port: ctx.o.srtPort, onActivity: (active) => this.#onHubActivity(() => input.hub, active) });
    input.supervisor.on('state', (c) => this.#onIngestState(c.to, c.status));
    const backupPort = ctx.o.srtBackupPort ?? 0;
    const backup =
      backupPort > 0
        ? new FlowInput(ctx, {
            name: 'backup',
            port: backupPort,
            processName: 'srt-ingest-backup',
            sourceHealthEvents: false,
            ...(ctx.backupPassphrase ? { passphrase: ctx.backupPassphrase } : {}),
            onActivity: (active) => this.#onHubActivity(() => backup!.hub, active),
          })
        : null;
    backup?.supervisor.on('state', (c) => {
      if (c.to === 'backoff' || c.to === 'failed') ctx.log.warn('the backup SRT ingest failed', { error: c.status.lastError, state: c.to });
    });
    const slate: Slate = new Slate(ctx, (active) => this.#onHubActivity(() => slate.hub, active));
    const inputs = new LocalInputs(ctx, { main: input, backup, slate, repoint: (hub) => this.#repoint(hub) });
    const hls = this.#makeHls(input.hub, false);
    this.#rt = { input, inputs, hls: hls.sup, hlsHub: input.hub, offHls: hls.off };
  }

  #makeHls(hub: TsHub, append: boolean): { sup: ProcessSupervisor; off: () => void } {
    const ctx = this.#ctx;
    const sup = ctx.ffmpeg('hls-primary', hlsArgs({ dir: this.hlsDir, append }));
    const offState = sup.on('state', (c) => {
      if (c.to === 'backoff' || c.to === 'failed') ctx.log.warn('primary HLS failed', { error: c.status.lastError, state: c.to });
    });
    const offFeed = ctx.feedOnLaunch(sup, hub, 'tap:hls');
    return {
      sup,
      off: () => {
        offState();
        offFeed();
      },
    };
  }

  /**
   * Another hub is on air: the sources follow (make-before-break, source-pool.ts) and the HLS
   * FFmpeg restarts on it, continuing the playlist (`append_list`).
   */
  #repoint(hub: TsHub): void {
    this.#onRepoint();
    if (hub.active) this.#onMediaReturn();
    this.#hlsChain = this.#hlsChain
      .then(async () => {
        const rt = this.#rt;
        // The hub on air when this restart runs (several switches in a row: only the last counts).
        const target = rt?.inputs.onAirHub;
        if (!rt || !target || this.#ctx.closed || rt.hlsHub === target) return;
        // The old FFmpeg finishes its segment and playlist first: the new one appends to them.
        await rt.hls.stop();
        rt.offHls();
        rt.hlsHub.remove('tap:hls');
        if (this.#ctx.closed || this.#rt !== rt) return;
        const next = this.#makeHls(target, existsSync(join(this.hlsDir, 'index.m3u8')));
        rt.hls = next.sup;
        rt.offHls = next.off;
        rt.hlsHub = target;
        if (this.#state === 'ACTIVE' && target.active) this.#startHls();
      })
      .catch((err: unknown) => this.#ctx.log.error('primary HLS: the switch failed', { error: this.#ctx.redact(String(err)) }));
  }

  #runtime(): FlowRuntime {
    if (!this.#rt) throw new MediaEngineError('ENGINE_CLOSED', 'the local media engine has not started');
    return this.#rt;
  }

  /** Whether `open()` ran. */
  get opened(): boolean {
    return this.#rt !== null;
  }

  /** The hub on air (the main's, the backup's or the slate's), which every FFmpeg of the engine reads. */
  get hub(): TsHub {
    return this.#runtime().inputs.onAirHub;
  }

  /** The inputs and their failover (null before `open()`). */
  get inputs(): LocalInputs | null {
    return this.#rt?.inputs ?? null;
  }

  /** The ingests', the slate's and the primary HLS's supervisors (null before `open()`), for the views. */
  supervisors(): { ingest: ProcessSupervisor; backupIngest: ProcessSupervisor | null; slate: ProcessSupervisor | null; hls: ProcessSupervisor } | null {
    const rt = this.#rt;
    return rt ? { ingest: rt.input.supervisor, backupIngest: rt.inputs.backup?.supervisor ?? null, slate: rt.inputs.slate.supervisor, hls: rt.hls } : null;
  }

  get state(): FlowState {
    return this.#state;
  }

  outputs(): FlowOutput[] {
    return [...this.#outputs.values()];
  }

  outputByArn(outputArn: string): FlowOutput | undefined {
    return [...this.#outputs.values()].find((o) => o.outputArn === outputArn);
  }

  /** Counters of the hub on air, drops per consumer included; null before `open()`. */
  hubStats(): TsHubStats | null {
    return this.#rt?.inputs.onAirHub.stats() ?? null;
  }

  /** The health of the input on air (the main's but while the backup is); null before `open()`. */
  health(): InputHealth | null {
    return this.#rt?.inputs.activeHealth() ?? null;
  }

  #setState(to: FlowState): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.#ctx.log.info('flow state', { from, to });
    this.#ctx.emit(flowStatusChange(to, from));
  }

  #onIngestState(to: SupervisorState, status: SupervisorStatus): void {
    if (to === 'running' && (this.#state === 'STARTING' || this.#state === 'ERROR')) this.#setState('ACTIVE');
    if ((to === 'failed' || to === 'backoff') && this.#state !== 'STOPPING' && this.#state !== 'STANDBY') {
      this.#ctx.log.warn('the SRT ingest failed', { error: status.lastError, state: to });
      if (to === 'failed') this.#setState('ERROR');
    }
  }

  /** Media starts or stops arriving in a hub: only the hub on air drives the HLS and the recovery. */
  #onHubActivity(hub: () => TsHub, active: boolean): void {
    if (this.#ctx.closed || !this.#rt) return;
    const h = hub();
    this.#ctx.log.info(active ? 'media arriving' : 'media stopped arriving', { hub: h.name });
    this.#rt.inputs.evaluate();
    if (h !== this.#rt.inputs.onAirHub || h !== this.#rt.hlsHub) return;
    this.#onMediaActivity(active);
  }

  #onMediaActivity(active: boolean): void {
    if (this.#ctx.closed) return;
    if (active) {
      if (this.#state === 'ACTIVE') this.#startHls();
      // Whatever gave up waiting for input retries now rather than at its next backoff step.
      this.#onMediaReturn();
    } else {
      void this.#runtime().hls.stop();
    }
  }

  #startHls(): void {
    this.#pruneHls();
    const hls = this.#runtime().hls;
    const st = hls.status().state;
    if (st === 'backoff') this.#ctx.kickIfWaitingForInput(hls);
    else hls.start();
  }

  /** Removes segments a previous run left behind (FFmpeg only prunes what it wrote itself). */
  #pruneHls(olderThanMs = 60_000): void {
    const cutoff = Date.now() - olderThanMs;
    try {
      for (const f of readdirSync(this.hlsDir)) {
        if (!f.startsWith('seg_') || !f.endsWith('.ts')) continue;
        const p = join(this.hlsDir, f);
        if (statSync(p).mtimeMs < cutoff) rmSync(p, { force: true });
      }
    } catch {
      /* the directory may not exist yet */
    }
  }

  describe(source: InputHealth): FlowDescription {
    return {
      flowArn: FLOW_ARN,
      state: this.#state,
      outputs: this.outputs().map((o) => ({ outputArn: o.outputArn, destinationId: o.destinationId })),
      source,
    };
  }

  /** STANDBY → STARTING → ACTIVE once the SRT ingest is listening. Idempotent. */
  start(): Promise<void> {
    return this.#serial.run(async () => {
      if (this.#state === 'ACTIVE' || this.#state === 'STARTING') return;
      this.#setState('STARTING');
      const { input, inputs } = this.#runtime();
      const settled = new Promise<void>((resolve) => {
        const off = input.supervisor.on('state', (c) => {
          if (c.to === 'running' || c.to === 'failed') {
            off();
            resolve();
          }
        });
      });
      input.start();
      inputs.backup?.start();
      inputs.start();
      await settled;
      inputs.evaluate();
      if (inputs.onAirHub.active) this.#startHls();
    });
  }

  /** → STOPPING → STANDBY: the listener, and the primary HLS with it, stop. Idempotent. */
  stop(): Promise<void> {
    return this.#serial.run(async () => {
      if (this.#state === 'STANDBY') return;
      this.#setState('STOPPING');
      const rt = this.#runtime();
      await rt.inputs.stop();
      await this.#hlsChain;
      await Promise.all([rt.hls.stop(), rt.input.stop(), rt.inputs.backup?.stop()]);
      this.#setState('STANDBY');
    });
  }

  addOutput(destinationId: string): Promise<{ outputArn: string }> {
    if (!destinationId) throw new MediaEngineError('INVALID_CHANNEL_SPEC', 'destinationId is required');
    return this.#serial.run(async () => {
      const existing = this.#outputs.get(destinationId);
      if (existing) return { outputArn: existing.outputArn };
      const out: FlowOutput = { destinationId, outputArn: outputArnFor(destinationId) };
      this.#outputs.set(destinationId, out);
      this.#ctx.log.info('flow output added', { destinationId });
      return { outputArn: out.outputArn };
    });
  }

  removeOutput(outputArn: string): Promise<void> {
    return this.#serial.run(async () => {
      const out = this.outputByArn(outputArn);
      if (!out) return;
      this.#outputs.delete(out.destinationId);
      this.#ctx.log.info('flow output removed', { destinationId: out.destinationId });
    });
  }

  /** Stops the ingests, the slate and the HLS (for `close()`; no state change, no event). */
  stopProcesses(): Promise<void>[] {
    const rt = this.#runtime();
    rt.inputs.close();
    const hls = this.#hlsChain.then(() => rt.hls.stop());
    return [rt.input.stop(), hls, rt.inputs.slate.stop(), ...(rt.inputs.backup ? [rt.inputs.backup.stop()] : [])];
  }

  /** Closes the hubs, after every process reading them stopped. */
  closeInput(): void {
    const rt = this.#runtime();
    rt.input.close();
    rt.inputs.backup?.close();
    rt.inputs.slate.close();
  }
}
