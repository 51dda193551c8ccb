/**
 * Turns the last stderr lines of a failed FFmpeg / srt-live-transmit into a typed, actionable error
 * `{ code, message, hint, retryable }`, so nothing above the local engine ever sees raw stderr.
 *
 * Every pattern below was seen in real output: `fixtures/stderr/` holds the recordings (FFmpeg 5.1
 * with GnuTLS and libsrt 1.5.1, nginx-rtmp 1.2.2 as the RTMP server; `fixtures/record.sh` re-records
 * them). Rules are tried in table order, most specific first; the first rule that matches any line
 * wins. Messages carry the matching line as evidence, redacted (secrets and stream-key URL parts).
 *
 * Some things we learned recording them, which the table encodes:
 * - A platform that refuses a stream key usually just closes the TCP connection during the RTMP
 *   connect/publish exchange (nginx-rtmp `on_publish` → 403 does). FFmpeg then prints only
 *   `rtmp://…/key: Input/output error`, with no `Cannot open connection` line before it. That
 *   shape (the connection opened, then the publish failed) is the stream-key rejection.
 * - A server that drops us right after publish (nginx-rtmp `deny publish`) surfaces as
 *   `Broken pipe` (rtmp) or `Error in the push function` (rtmps, GnuTLS) on the first frames. The
 *   same lines after minutes of streaming mean a dropped connection, so the rule looks at how much
 *   media had been sent (`mediaSentMs`).
 * - `Server error: Already publishing` (NetStream.Publish.BadName) means the key is busy, often
 *   with our own previous session that the platform has not timed out yet: retryable.
 * - On the listening side, srt-live-transmit logs a caller's wrong passphrase and keeps running;
 *   on the calling side, libsrt logs `REJECT reported from HS processing: Incorrect passphrase`.
 */
import { redact } from '../../../secrets/redact.ts';

/** Every error code the local engine reports for a child process. Stable: never rename or reuse. */
export type ProcessErrorCode =
  | 'RTMP_CONNECTION_REFUSED'
  | 'RTMP_STREAM_KEY_REJECTED'
  | 'RTMP_STREAM_KEY_IN_USE'
  | 'RTMP_CONNECTION_CLOSED'
  | 'RTMP_TIMEOUT'
  | 'DNS_RESOLUTION_FAILED'
  | 'TLS_HANDSHAKE_FAILED'
  | 'INVALID_URL'
  | 'EGRESS_REFUSED'
  | 'INPUT_STALLED'
  | 'START_TIMEOUT'
  | 'SRT_PASSPHRASE_REJECTED'
  | 'SRT_CONNECTION_FAILED'
  | 'ENCODER_ERROR'
  | 'SPAWN_FAILED'
  | 'UNKNOWN';

/** A failure, ready for status, logs and the API. Contains no secret. */
export interface ClassifiedError {
  code: ProcessErrorCode;
  /** What happened, for a human, with the redacted stderr line that proves it. */
  message: string;
  /** What to do about it. */
  hint: string;
  /** Whether retrying can help (see `nonRetryableMaxAttempts` in the backoff policy). */
  retryable: boolean;
  /** The redacted stderr line the classification rests on, if any. */
  evidence: string | null;
}

export interface ProcessErrorSpec {
  summary: string;
  hint: string;
  retryable: boolean;
}

/** The one registry of these codes: summary, hint and whether a retry can help. */
export const PROCESS_ERROR_CATALOG: Readonly<Record<ProcessErrorCode, ProcessErrorSpec>> = Object.freeze({
  RTMP_CONNECTION_REFUSED: {
    summary: 'The RTMP server refused the connection',
    hint: 'Nothing listens at that host and port. Check the port (1935 for rtmp://, 443 for rtmps://) and that the ingest server is up.',
    retryable: true,
  },
  RTMP_STREAM_KEY_REJECTED: {
    summary: 'The RTMP server refused to let us publish',
    hint: "Check the stream key (copy it again from the platform's live dashboard), the application path of the URL, and that the live stream is enabled on the platform.",
    retryable: false,
  },
  RTMP_STREAM_KEY_IN_USE: {
    summary: 'Another session is already publishing to this stream key',
    hint: 'Stop the other encoder if there is one; if it was our own previous session, the platform drops it within a minute or two and the retry succeeds.',
    retryable: true,
  },
  RTMP_CONNECTION_CLOSED: {
    summary: 'The RTMP server closed the connection while we were streaming',
    hint: 'A network drop, an ingest restart, or the platform ended the stream. Retrying.',
    retryable: true,
  },
  RTMP_TIMEOUT: {
    summary: 'The RTMP server did not answer in time',
    hint: 'Check the host and port, and any firewall or proxy between this machine and the platform.',
    retryable: true,
  },
  DNS_RESOLUTION_FAILED: {
    summary: 'The host name of the URL does not resolve',
    hint: "Check the host name for typos; if it is right, check this machine's DNS.",
    retryable: false,
  },
  TLS_HANDSHAKE_FAILED: {
    summary: 'The TLS handshake failed',
    hint: "The port probably does not speak TLS: use rtmps:// only with the platform's RTMPS endpoint (usually port 443), rtmp:// otherwise.",
    retryable: false,
  },
  INVALID_URL: {
    // The component that refused says so in the message (FFmpeg's stderr rule, the RTMP publisher).
    summary: 'This URL cannot be used',
    hint: 'Check the scheme (rtmp://, rtmps://, srt://) and the shape of the URL.',
    retryable: false,
  },
  EGRESS_REFUSED: {
    summary: "The egress policy refused the local engine's RTMP publisher this connection",
    hint: 'Point the destination at a public ingest host, or allow the host with FANOUT_EGRESS_ALLOW_PRIVATE / FANOUT_EGRESS_ALLOW_HOSTS (never link-local or metadata addresses).',
    retryable: false,
  },
  INPUT_STALLED: {
    summary: 'No media has arrived for a while',
    hint: 'The contribution encoder stopped sending, or the network between it and us dropped. Check the encoder; the process is restarted meanwhile.',
    retryable: true,
  },
  START_TIMEOUT: {
    summary: 'The process did not start producing output in time',
    hint: 'Either the input is not arriving or the output is not connecting; see the last stderr lines.',
    retryable: true,
  },
  SRT_PASSPHRASE_REJECTED: {
    summary: 'The SRT handshake was rejected: the passphrases differ',
    hint: 'Set the same passphrase (10 to 79 characters) on both sides, or none on either.',
    retryable: false,
  },
  SRT_CONNECTION_FAILED: {
    summary: 'No SRT peer answered',
    hint: 'Check the host, the UDP port, the mode (caller or listener) and any firewall for UDP.',
    retryable: true,
  },
  ENCODER_ERROR: {
    summary: 'FFmpeg could not set up the encoder with these settings',
    hint: 'Fix the preset (codec, frame size, bitrate); retrying will not help.',
    retryable: false,
  },
  SPAWN_FAILED: {
    summary: 'The program could not be started',
    hint: 'Check that it is installed and on the PATH given to the engine.',
    retryable: false,
  },
  UNKNOWN: {
    summary: 'The process failed for a reason not recognised',
    hint: 'See the last stderr lines of the process. Retrying.',
    retryable: true,
  },
});

/** What the caller knows about the failed run, beyond its stderr. */
export interface ClassifyContext {
  /** Secrets to redact from the message (stream keys, passphrases). */
  secrets?: readonly string[];
  exitCode?: number | null;
  signal?: string | null;
  /**
   * How much media (output time, ms) the process had sent before failing, from its progress; leave
   * it out when unknown (no progress pipe). Decides "closed right after publish" (a rejection)
   * versus "closed mid-stream" (a drop).
   */
  mediaSentMs?: number;
}

/** A connection closed within this much sent media counts as closed "right after publish". */
export const PUBLISH_REJECT_WINDOW_MS = 5000;

/** One row of the table. */
export interface StderrRule {
  code: ProcessErrorCode;
  pattern: RegExp;
  /** Overrides the summary in the catalog. */
  message?: string;
  /** Overrides the catalog's `retryable`. */
  retryable?: boolean;
  /** Extra condition on the context. */
  when?: (ctx: ClassifyContext) => boolean;
}

const closedEarly = (ctx: ClassifyContext): boolean => ctx.mediaSentMs !== undefined && ctx.mediaSentMs < PUBLISH_REJECT_WINDOW_MS;

/** The table, most specific first. Exported for the docs and for tests. */
export const STDERR_RULES: readonly StderrRule[] = Object.freeze([
  // setpriv (our parent-death wrapper) could not exec the binary.
  { code: 'SPAWN_FAILED', pattern: /^setpriv: failed to execute /, message: 'The binary could not be executed' },
  // libsrt, calling side: our passphrase is wrong or missing.
  { code: 'SRT_PASSPHRASE_REJECTED', pattern: /REJECT reported from HS processing: (?:Incorrect passphrase|Password required or unexpected)/ },
  // libsrt, listening side: a caller knocked with the wrong passphrase; we are fine and keep listening.
  {
    code: 'SRT_PASSPHRASE_REJECTED',
    pattern: /rsp\(REJECT\): \d+ - (?:Incorrect passphrase|Password required or unexpected)|connection rejected due to: .*(?:BADSECRET|UNSECURE)/,
    message: 'A caller was rejected because its SRT passphrase differs from ours',
    retryable: true,
  },
  { code: 'SRT_CONNECTION_FAILED', pattern: /Connection to srt:\/\/\S+ failed|Connection setup failure|srt_connect/i },
  { code: 'RTMP_STREAM_KEY_IN_USE', pattern: /Server error: .*\b(?:already (?:publishing|in use|exists)|is busy)/i },
  { code: 'RTMP_STREAM_KEY_REJECTED', pattern: /Server error: |NetStream\.Publish\.(?:BadName|Rejected|Denied)|NetConnection\.Connect\.Rejected|code=403|\b403 Forbidden\b/ },
  // Joined a live MPEG-TS feed and probed it without meeting a keyframe: the video has no size yet,
  // so the output cannot be set up ("Error initializing output stream" follows). Not a
  // configuration error: the next attempt sees a keyframe.
  {
    code: 'INPUT_STALLED',
    pattern: /Could not find codec parameters for stream \d+ \(Video|\] dimensions not set$/,
    message: 'No keyframe arrived while FFmpeg probed its input',
  },
  {
    code: 'ENCODER_ERROR',
    pattern: /Unknown encoder|Encoder not found|Error while opening encoder|Error initializing output stream|Error setting option|not divisible by|Error initializing (?:complex )?filter/,
  },
  { code: 'INVALID_URL', pattern: /: Protocol not found$/, message: 'FFmpeg cannot use this URL' },
  { code: 'DNS_RESOLUTION_FAILED', pattern: /Temporary failure in name resolution/, message: 'DNS did not answer', retryable: true },
  { code: 'DNS_RESOLUTION_FAILED', pattern: /Failed to resolve hostname|Name or service not known|No address associated with hostname/ },
  { code: 'RTMP_CONNECTION_REFUSED', pattern: /Connection refused/ },
  { code: 'RTMP_TIMEOUT', pattern: /Connection timed out|Operation timed out|Cannot read RTMP handshake response/ },
  {
    code: 'TLS_HANDSHAKE_FAILED',
    pattern: /Cannot open connection tls:\/\/|unexpected TLS packet|TLS handshake|handshake failed|non-properly terminated|certificate verify failed|SSL routines/i,
  },
  {
    code: 'RTMP_STREAM_KEY_REJECTED',
    pattern: /Broken pipe|Connection reset by peer|Error in the push function/,
    message: 'The RTMP server closed the connection right after we started publishing',
    when: closedEarly,
  },
  { code: 'RTMP_CONNECTION_CLOSED', pattern: /Broken pipe|Connection reset by peer|Error in the push function/ },
  // The TCP (and TLS) connection opened, since no rule above matched, then the RTMP exchange failed.
  {
    code: 'RTMP_STREAM_KEY_REJECTED',
    pattern: /^rtmpt?e?s?:\/\/\S+: (?:Input\/output error|End of file|Operation not permitted)$/,
    message: 'The RTMP server closed the connection during connect/publish',
  },
  // An input that ended: FFmpeg treats it as end of file and may even exit 0.
  { code: 'INPUT_STALLED', pattern: /^(?:srt|udp|rtp|rist|tcp):\/\/\S+: (?:Input\/output error|End of file)$/, message: 'The input connection was lost' },
]);

/**
 * Strips what changes every run and says nothing: FFmpeg's `[tcp @ 0x55e…] ` context addresses
 * and libsrt's `07:15:20.359198/SRT:RcvQ:w1!W:SRT.cn: ` log prefix.
 */
function clean(line: string): string {
  return line
    .replace(/\[([^\]@]+?) @ 0x[0-9a-f]+\]/gi, '[$1]')
    .replace(/^\d{2}:\d{2}:\d{2}\.\d+\/SRT:\S*?: /, '[srt] ')
    .trim();
}

/** Lines that say nothing about the cause (used to pick evidence for UNKNOWN). */
const NOISE = /^(?:Exiting normally|Conversion failed!|video:\d|\[(?:libx264|aac)\]|Press \[q\]|ffmpeg stats and -progress period|frame=|size=|Stream #|Input #|Output #|Metadata:|Duration:|Stream mapping:|encoder\s*:|Side data:|cpb:)/;

/** Builds a classified error for a code, with an optional detail line (redacted here). */
export function errorFor(code: ProcessErrorCode, detail?: string | null, secrets: readonly string[] = [], override?: { message?: string; retryable?: boolean }): ClassifiedError {
  const spec = PROCESS_ERROR_CATALOG[code];
  const evidence = detail ? truncate(redact(clean(detail), secrets)) : null;
  const summary = override?.message ?? spec.summary;
  return {
    code,
    message: evidence ? `${summary}: ${evidence}` : summary,
    hint: spec.hint,
    retryable: override?.retryable ?? spec.retryable,
    evidence,
  };
}

function truncate(s: string, max = 300): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

function describeExit(ctx: ClassifyContext): string {
  if (ctx.signal) return `the process was killed by ${ctx.signal}`;
  if (ctx.exitCode !== undefined && ctx.exitCode !== null) return `the process exited with code ${ctx.exitCode}`;
  return 'the process failed';
}

/**
 * Classifies a failure from the last stderr lines of the process.
 * @param lines stderr lines, oldest first (already split on `\r`/`\n`)
 * @param ctx exit status, secrets to redact, media sent (see {@link ClassifyContext})
 * @returns the first matching rule's error, or `UNKNOWN` quoting the last meaningful line
 */
export function classifyStderr(lines: readonly string[], ctx: ClassifyContext = {}): ClassifiedError {
  const secrets = ctx.secrets ?? [];
  const cleaned = lines.map(clean).filter((l) => l !== '');
  for (const rule of STDERR_RULES) {
    if (rule.when && !rule.when(ctx)) continue;
    // The latest matching line is the most telling one.
    for (let i = cleaned.length - 1; i >= 0; i--) {
      const line = cleaned[i] as string;
      if (rule.pattern.test(line)) return errorFor(rule.code, line, secrets, { message: rule.message, retryable: rule.retryable });
    }
  }
  // Indented lines are FFmpeg's stream and metadata dumps, never a cause: judge indentation on
  // the raw line, since clean() trims it.
  const raw = [...lines].reverse().find((l) => l.trim() !== '' && !/^\s/.test(l) && !NOISE.test(clean(l)));
  const last = raw !== undefined ? clean(raw) : null;
  const unknown = errorFor('UNKNOWN', last, secrets);
  const exit = describeExit(ctx);
  return { ...unknown, message: last ? `${exit}: ${unknown.evidence}` : exit };
}

/** Convenience for a whole stderr capture: splits on `\r` and `\n`, then classifies. */
export function classifyStderrText(text: string, ctx: ClassifyContext = {}): ClassifiedError {
  return classifyStderr(text.split(/\r\n|\r|\n/), ctx);
}
