/**
 * Command lines of the SRT ingest (`fanout-srt`, ADR 0020), as pure functions (argv arrays, no
 * shell). Neither carries the passphrase: `fanout-srt` reads it as the first line of its stdin
 * (see srt-ingest.ts and test-source.ts), so `ps` and /proc/<pid>/cmdline never show it.
 *
 *   fanout-srt listen  ingestArgs      SRT listener (AES) → MPEG-TS on stdout → flow hub; events on fd 3
 *   fanout-srt call    testSourceArgs  runs FFmpeg (test pattern + tone → MPEG-TS on its stdout) and
 *                                      sends it as an SRT caller (`npm run test-source`)
 */

/** The fd on which `fanout-srt listen` writes its events (JSON lines): its stdout carries the media. */
export const INGEST_EVENTS_FD = 3;

/**
 * What an SRT passphrase may be here: SRT's 10 to 79 characters, printable ASCII without the
 * characters that delimit a URI query (`&`, `#`, `?`, `%`) or need quoting (space, quotes). The
 * ingest no longer takes it in a URI, but encoders do (an `srt://…?passphrase=` URL): the rule
 * keeps a passphrase that every encoder can be given.
 */
export const SRT_PASSPHRASE_PATTERN = /^[A-Za-z0-9!$()*+,\-./:;=@[\]^_{|}~]{10,79}$/;

export interface IngestArgsOptions {
  port: number;
  /** Address the listener binds; 127.0.0.1 keeps it on loopback, 0.0.0.0 opens it to the LAN. */
  bindAddress: string;
  keyLength: 16 | 24 | 32;
  /** SRT latency, ms. */
  latencyMs?: number;
  /** A stats event every this many ms while a caller is connected. */
  statsEveryMs?: number;
}

/**
 * `fanout-srt listen`: one caller at a time, the next accepted after it leaves (an encoder that
 * drops and comes back is picked up without a restart, even before SRT noticed it had gone: a
 * caller silent for 1.5 s is replaced by the next); a second caller while one is connected and
 * sending is refused at once (a `busy` event). Media on stdout, events on fd 3, libsrt's warnings on stderr.
 */
export function ingestArgs(o: IngestArgsOptions): string[] {
  return ['listen', '--bind', o.bindAddress, '--port', String(o.port), '--pbkeylen', String(o.keyLength), '--latency', String(o.latencyMs ?? 120), '--stats-ms', String(o.statsEveryMs ?? 1000), '--events-fd', String(INGEST_EVENTS_FD)];
}

export interface TestSourceOptions {
  host: string;
  port: number;
  keyLength: 16 | 24 | 32;
  width: number;
  height: number;
  fps: number;
  /** Video bits per second. */
  bitrate: number;
  /** Stop after this many seconds; omitted = until killed. */
  durationSeconds?: number;
  /** The FFmpeg to run; default `ffmpeg` on PATH. */
  ffmpegPath?: string;
}

/**
 * FFmpeg argv of the test source: a test pattern with a 1 kHz tone, as a contribution encoder
 * would send it (H.264 with a 2 s GOP, AAC, MPEG-TS), written to stdout a frame at a time
 * (`-flush_packets 1`: no 32 KiB bursts into SRT).
 */
export function testSourceFfmpegArgs(o: TestSourceOptions): string[] {
  const gop = String(Math.max(1, Math.round(o.fps * 2)));
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'warning',
    '-re',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${o.width}x${o.height}:rate=${o.fps}`,
    '-re',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=1000:sample_rate=48000',
    ...(o.durationSeconds !== undefined ? ['-t', String(o.durationSeconds)] : []),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    '-g',
    gop,
    '-keyint_min',
    gop,
    '-b:v',
    String(o.bitrate),
    '-maxrate',
    String(o.bitrate),
    '-bufsize',
    String(2 * o.bitrate),
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-b:a',
    '128k',
    '-f',
    'mpegts',
    '-flush_packets',
    '1',
    'pipe:1',
  ];
}

/**
 * `fanout-srt call … -- ffmpeg …`: the SRT caller of the test source. It reads the passphrase from
 * stdin, connects, then runs FFmpeg in its process group and sends what FFmpeg writes.
 */
export function testSourceArgs(o: TestSourceOptions): string[] {
  return ['call', '--host', o.host, '--port', String(o.port), '--pbkeylen', String(o.keyLength), '--', o.ffmpegPath ?? 'ffmpeg', ...testSourceFfmpegArgs(o)];
}
