/**
 * The flow (MediaConnect's part of the local engine): its state machine, its outputs, its input
 * (`flow-input.ts`: the SRT ingest and its hub) and the primary HLS, a tap on the input's hub.
 *
 *   input hub (flow-input.ts) ──► primary HLS  ffmpeg -c copy → <dataDir>/hls/primary/
 *                                 (tap; runs while the flow is ACTIVE and media arrives)
 *
 * States follow MediaConnect: STANDBY → STARTING → ACTIVE → STOPPING → STANDBY, ERROR if the ingest
 * cannot run (its supervisor gave up); ACTIVE again once it runs. When media starts arriving the
 * primary HLS starts (or restarts at once if it was waiting in backoff for input) and
 * `onMediaReturn` lets the rest of the engine do the same; when it stops, the HLS stops.
 *
 * An output is a destination's right to a passthrough channel, as on MediaConnect; every
 * passthrough channel reads the one passthrough mux (`source-pool.ts`).
 */
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FlowDescription, FlowState, InputHealth } from '../../port/ports.ts';
import type { ProcessSupervisor, SupervisorState, SupervisorStatus } from '../process/supervisor.ts';
import { hlsArgs } from './argv.ts';
import { MediaEngineError } from './channel-lifecycle.ts';
import type { EngineContext } from './engine-context.ts';
import { FlowInput } from './flow-input.ts';
import { FLOW_ARN, flowStatusChange, outputArn as outputArnFor } from './native-events.ts';
import { Serial } from './serial.ts';
import type { TsHub, TsHubStats } from './ts-hub.ts';

export interface FlowOutput {
  destinationId: string;
  outputArn: string;
}

/** What exists only once the flow is open (the input, the HLS supervisor). */
interface FlowRuntime {
  input: FlowInput;
  hls: ProcessSupervisor;
}

export class Flow {
  readonly #ctx: EngineContext;
  readonly #onMediaReturn: () => void;
  readonly hlsDir: string;
  readonly #outputs = new Map<string, FlowOutput>();
  readonly #serial = new Serial();
  #rt: FlowRuntime | null = null;
  #state: FlowState = 'STANDBY';

  /** `onMediaReturn`: media arrives again (what waited in backoff for input may restart now). */
  constructor(ctx: EngineContext, onMediaReturn: () => void) {
    this.#ctx = ctx;
    this.#onMediaReturn = onMediaReturn;
    this.hlsDir = join(ctx.o.dataDir, 'hls', 'primary');
  }

  /** Creates the HLS directory and removes what an earlier run left in it. */
  prepare(): void {
    mkdirSync(this.hlsDir, { recursive: true });
    // A playlist left by an earlier run names segments that are gone or stale.
    this.#pruneHls(0);
    rmSync(join(this.hlsDir, 'index.m3u8'), { force: true });
  }

  /** Creates the input and the primary HLS supervisor; nothing runs until `start()`. */
  open(): void {
    const ctx = this.#ctx;
    const input = new FlowInput(ctx, { name: 'flow', port: ctx.o.srtPort, onActivity: (active) => this.#onMediaActivity(active) });
    input.supervisor.on('state', (c) => this.#onIngestState(c.to, c.status));
    const hls = ctx.ffmpeg('hls-primary', hlsArgs({ dir: this.hlsDir }));
    hls.on('state', (c) => {
      if (c.to === 'backoff' || c.to === 'failed') ctx.log.warn('primary HLS failed', { error: c.status.lastError, state: c.to });
    });
    ctx.feedOnLaunch(hls, input.hub, 'tap:hls');
    this.#rt = { input, hls };
  }

  #runtime(): FlowRuntime {
    if (!this.#rt) throw new MediaEngineError('ENGINE_CLOSED', 'the local media engine has not started');
    return this.#rt;
  }

  /** Whether `open()` ran. */
  get opened(): boolean {
    return this.#rt !== null;
  }

  /** The input's hub, which every FFmpeg of the engine reads. */
  get hub(): TsHub {
    return this.#runtime().input.hub;
  }

  /** The ingest's and the primary HLS's supervisors (null before `open()`), for the views. */
  supervisors(): { ingest: ProcessSupervisor; hls: ProcessSupervisor } | null {
    return this.#rt ? { ingest: this.#rt.input.supervisor, hls: this.#rt.hls } : null;
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

  /** Counters of the input's hub, drops per consumer included; null before `open()`. */
  hubStats(): TsHubStats | null {
    return this.#rt?.input.hubStats() ?? null;
  }

  /** The input's health; null before `open()`. */
  health(): InputHealth | null {
    return this.#rt?.input.health() ?? null;
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

  #onMediaActivity(active: boolean): void {
    if (this.#ctx.closed) return;
    this.#ctx.log.info(active ? 'media arriving' : 'media stopped arriving');
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
      const { input } = this.#runtime();
      const settled = new Promise<void>((resolve) => {
        const off = input.supervisor.on('state', (c) => {
          if (c.to === 'running' || c.to === 'failed') {
            off();
            resolve();
          }
        });
      });
      input.start();
      await settled;
      if (input.active) this.#startHls();
    });
  }

  /** → STOPPING → STANDBY: the listener, and the primary HLS with it, stop. Idempotent. */
  stop(): Promise<void> {
    return this.#serial.run(async () => {
      if (this.#state === 'STANDBY') return;
      this.#setState('STOPPING');
      const { input, hls } = this.#runtime();
      await Promise.all([hls.stop(), input.stop()]);
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

  /** Stops the ingest and the HLS (for `close()`; no state change, no event). */
  stopProcesses(): Promise<void>[] {
    const rt = this.#runtime();
    return [rt.input.stop(), rt.hls.stop()];
  }

  /** Closes the input's hub, after every process reading it stopped. */
  closeInput(): void {
    this.#runtime().input.close();
  }
}
