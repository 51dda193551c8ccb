/**
 * The slate (issue 15): what every output carries while no input delivers. One supervised FFmpeg
 * (`slateArgs`: a generated card, colour 0x3020A0 with "We’ll be right back" where drawtext and a
 * font are available, or the configured image, with AAC silence) writing MPEG-TS in real time
 * into a hub of its own, so it goes on air exactly as an input does: `inputs.ts` repoints every
 * reader (the primary HLS, the passthrough mux, the encoders) at this hub.
 *
 *   ffmpeg -re lavfi color + anullsrc → x264/AAC → MPEG-TS stdout ──► slate hub ──► (on air: every reader)
 *
 * - It runs only while wanted (the slate on air, or about to be): a still card costs an x264
 *   encode (ultrafast, 500 kbit/s) while it runs, nothing otherwise.
 * - Same size and frame rate as the main's last known video (`setVideo`, from the probe), so a
 *   passthrough destination sees no resolution change; 1280×720 at 30 fps before any probe.
 */
import { existsSync } from 'node:fs';
import { ProcessSupervisor } from '../process/supervisor.ts';
import { slateArgs } from './argv.ts';
import type { EngineContext } from './engine-context.ts';
import { DEFAULTS } from './options.ts';
import { TsHub } from './ts-hub.ts';

/** Debian's DejaVu (fonts-dejavu-core, which ffmpeg's drawtext users install); without it the card is plain colour. */
const FONT_CANDIDATES = ['/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf', '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'];

export interface SlateVideo {
  width: number;
  height: number;
  frameRate: number;
}

export const DEFAULT_SLATE_VIDEO: SlateVideo = { width: 1280, height: 720, frameRate: 30 };

export class Slate {
  readonly hub: TsHub;
  readonly #ctx: EngineContext;
  #video: SlateVideo = DEFAULT_SLATE_VIDEO;
  #sup: ProcessSupervisor | null = null;
  #offs: (() => void)[] = [];

  constructor(ctx: EngineContext, onActivity: (active: boolean) => void) {
    this.#ctx = ctx;
    this.hub = new TsHub({ name: 'slate', idleAfterMs: ctx.o.mediaIdleMs ?? DEFAULTS.mediaIdleMs, onActivity, gopCache: true, logger: ctx.log });
  }

  /** The size and rate of the next run (the main's, as probed). Ignored while one runs. */
  setVideo(v: SlateVideo): void {
    const even = (n: number): number => Math.max(2, Math.round(n / 2) * 2);
    this.#video = { width: even(v.width), height: even(v.height), frameRate: v.frameRate > 0 && v.frameRate <= 120 ? v.frameRate : DEFAULT_SLATE_VIDEO.frameRate };
  }

  get video(): SlateVideo {
    return this.#video;
  }

  /** The slate's FFmpeg, while one exists (for the views). */
  get supervisor(): ProcessSupervisor | null {
    return this.#sup;
  }

  get running(): boolean {
    return this.#sup !== null;
  }

  /** Starts the slate's FFmpeg if none runs. Idempotent. */
  start(): void {
    if (this.#sup || this.#ctx.closed) return;
    const o = this.#ctx.o;
    const image = o.slateImage ?? null;
    const fontFile = FONT_CANDIDATES.find((f) => existsSync(f)) ?? null;
    const sup = new ProcessSupervisor({
      name: 'slate',
      binary: o.ffmpegPath ?? DEFAULTS.ffmpegPath,
      argv: slateArgs({ video: this.#video, image, fontFile }),
      stdout: 'stream',
      progressFd: 3,
      retry: o.retryPolicy ?? {},
      stallTimeoutMs: o.stallTimeoutMs ?? DEFAULTS.stallTimeoutMs,
      startTimeoutMs: o.startTimeoutMs ?? DEFAULTS.startTimeoutMs,
      stopGraceMs: o.stopGraceMs ?? DEFAULTS.stopGraceMs,
      pidDir: this.#ctx.pidDir,
    });
    this.#offs = [
      sup.on('stdout', ({ stream }) => this.hub.input(stream)),
      sup.on('state', (c) => {
        if (c.to === 'backoff' || c.to === 'failed') this.#ctx.log.warn('the slate failed', { error: c.status.lastError, state: c.to });
      }),
    ];
    this.#sup = sup;
    sup.start();
    this.#ctx.log.info('slate started', { ...this.#video, image: image !== null });
  }

  /** Stops the slate's FFmpeg. Idempotent. */
  async stop(): Promise<void> {
    const sup = this.#sup;
    if (!sup) return;
    this.#sup = null;
    await sup.stop();
    for (const off of this.#offs) off();
    this.#offs = [];
    this.#ctx.log.info('slate stopped');
  }

  close(): void {
    this.hub.close();
  }
}
