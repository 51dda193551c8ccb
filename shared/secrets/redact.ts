/**
 * The one redaction of Fanout: everything shown to a human or stored passes here — every log line
 * (shared/logging/logger.ts), the local engine's FFmpeg argv, stderr lines, classified errors and
 * pidfiles, the AWS engine's error messages, the notifier's messages. Layers, because any one alone
 * can miss:
 *
 * 1. `redact(text, secrets)` replaces every known secret by `***`, in its raw and its URL-encoded
 *    form: the ones given, and every value registered process-wide (`registerSecret`; each
 *    `Secret` of shared/secrets/secret.ts registers itself when it is made);
 * 2. it then sanitises every URL it finds in the text (`redactUrl`): userinfo is dropped, the
 *    stream-key path segment and the query of rtmp(s) URLs become `***` (also for a misspelt
 *    scheme, and for http(s), whose webhook URLs carry their token in the path), and the
 *    `passphrase` of srt URLs becomes `***`. This catches a key nobody told us about (an RTMP URL
 *    pasted whole into a "custom" destination);
 * 3. credentials by their shape: `Authorization:` header values, `Bearer`/`Basic` credentials,
 *    Fanout API tokens (`fo_…`), and `access_token=` / `passphrase=` / `password=` / `secret=` /
 *    `token=` parameters outside a URL;
 * 4. for structured records (the logger's JSON replacer), `isSecretField` names the fields whose
 *    value is hidden whatever it is (`authorization`, `passphrase`, `streamKey`, …).
 */

/** The replacement for a secret. */
export const REDACTED = '***';

/**
 * Secrets shorter than this are not scrubbed: replacing every "ab" in a log line would make it
 * unreadable without protecting anything (same rule as `shared/secrets`).
 */
export const MIN_SECRET_LENGTH = 4;

/**
 * Schemes whose URLs carry no stream key in their path (FFmpeg's inner tcp/tls/udp hops): only
 * userinfo is dropped. srt/rist hide their secret in `passphrase=`. Every other scheme, rtmp(s) and
 * anything misspelt (`rtmpx://…/key: Protocol not found`) gets the stream-key treatment.
 */
const PLAIN_SCHEMES = new Set(['tcp', 'tls', 'udp', 'udplite', 'unix', 'file', 'pipe']);
const SRT_SCHEMES = new Set(['srt', 'rist']);

/** URLs inside free text: any scheme up to whitespace or a quote. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s'"<>]+/gi;
/** Punctuation that FFmpeg puts right after a URL (`rtmp://h/app/key: Input/output error`). */
const TRAILING_PUNCTUATION = /[.,;:)\]]+$/;
/** scheme://[userinfo@]authority[path][?query][#fragment] */
const URL_PARTS = /^([a-z][a-z0-9+.-]*):\/\/(?:([^@/?#]*)@)?([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/i;

/** The forms a secret can take in a command line or log line. */
function variants(secret: string): string[] {
  const out = new Set([secret]);
  const encoded = encodeURIComponent(secret);
  if (encoded !== secret) out.add(encoded);
  return [...out];
}

const registered = new Set<string>();
/** The registered values' forms, longest first; rebuilt when a value is registered. */
let registeredForms: string[] = [];

/** Every form of `secrets`, longest first, so a secret that contains another is replaced whole. */
function forms(secrets: Iterable<string>): string[] {
  return [...new Set([...secrets].filter((s) => s.length >= MIN_SECRET_LENGTH).flatMap(variants))].sort((a, b) => b.length - a.length);
}

/**
 * Registers a value that `redact` scrubs from every text from now on, in this process (values
 * shorter than {@link MIN_SECRET_LENGTH} are too ambiguous to scrub and are ignored).
 */
export function registerSecret(value: string): void {
  if (value.length < MIN_SECRET_LENGTH || registered.has(value)) return;
  registered.add(value);
  registeredForms = forms(registered);
}

/**
 * Credentials recognised by their shape, outside a URL (URLs get {@link redactUrl}):
 * an `Authorization:` (or `x-api-key`, `cookie`) header value, with its scheme kept; a `Bearer` or
 * `Basic` credential on its own; a Fanout API token (`fo_` + base64url, shared/auth/tokens.ts); a
 * secret-named parameter (`access_token=…`, `passphrase=…`, `password=…`, `secret=…`, `token=…`).
 */
const CREDENTIALS: [RegExp, (...groups: string[]) => string][] = [
  // `Authorization: Bearer abc`, `"authorization":"Basic abc"`, `x-api-key=abc` (a placeholder like `<token>` stays).
  [
    /\b((?:proxy-)?authorization|x-api-key|cookie|set-cookie)(["']?\s*[:=]\s*["']?)(?!(?:(?:bearer|basic|digest|token)\s+)?<)(?:(bearer|basic|digest|token)\s+)?[^\s"',;&]+/gi,
    (_m, name, sep, scheme) => `${name}${sep}${scheme ? `${scheme} ` : ''}${REDACTED}`,
  ],
  // A credential after its scheme; it must look like one (a digit or a symbol), so prose ("basic setup") stays.
  [/\b(bearer|basic)(\s+)(?=[A-Za-z]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{8,}/gi, (_m, scheme, space) => `${scheme}${space}${REDACTED}`],
  [/\bfo_[A-Za-z0-9_-]{8,}/g, () => `fo_${REDACTED}`],
  [/(^|[\s?&;,"'(])(access_token|passphrase|password|secret|token)=(?!\*\*\*)[^\s&;,"')]+/gi, (_m, before, name) => `${before}${name}=${REDACTED}`],
];

/**
 * Replaces each secret in `text` by `***` (the given ones and every registered one), sanitises any
 * URL left in it, then hides credentials recognised by their shape (see the module comment).
 * @param text any text: a log line, an argv element, an error message
 * @param secrets stream keys, passphrases, tokens (empty and very short values are ignored)
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  // Longest first across both lists, so a secret that contains another is replaced whole.
  const all = secrets.length > 0 ? forms([...secrets, ...registered]) : registeredForms;
  for (const s of all) {
    if (out.includes(s)) out = out.split(s).join(REDACTED);
  }
  out = out.replace(URL_IN_TEXT, (match) => {
    const trailing = TRAILING_PUNCTUATION.exec(match)?.[0] ?? '';
    const url = trailing ? match.slice(0, -trailing.length) : match;
    return redactUrl(url) + trailing;
  });
  for (const [pattern, replace] of CREDENTIALS) out = out.replace(pattern, replace as (m: string, ...g: string[]) => string);
  return out;
}

/** Field names (compared without case, `-` and `_`) whose value is a secret whatever it holds. */
const SECRET_FIELDS = new Set(['authorization', 'proxyauthorization', 'cookie', 'setcookie', 'xapikey', 'apikey', 'passphrase', 'srtpassphrase', 'password', 'secret', 'token', 'accesstoken', 'admintoken', 'streamkey']);

/**
 * Whether a field of a structured record (a log attribute, a header) holds a secret by its name:
 * `authorization`, `passphrase`, `streamKey`, `token`, … (not `tokenId` or `streamKeyLast4`).
 */
export function isSecretField(name: string): boolean {
  return SECRET_FIELDS.has(name.toLowerCase().replace(/[-_]/g, ''));
}

/**
 * Sanitises an RTMP URL: drops userinfo, replaces the stream key (the last path segment when
 * the path has an application and a key) and the whole query string with `***`.
 *
 * `rtmp://user:pw@a.rtmp.youtube.com/live2/abcd-efgh` → `rtmp://a.rtmp.youtube.com/live2/***`
 * `rtmps://live-api-s.facebook.com:443/rtmp/FB-1-0-Ab?s_bl=1&a=Xy` → `rtmps://live-api-s.facebook.com:443/rtmp/***?***`
 *
 * A URL that does not parse is returned as `***` rather than risk showing it.
 */
export function redactRtmpUrl(url: string): string {
  const parts = URL_PARTS.exec(url);
  if (!parts) return REDACTED;
  const [, scheme = '', , authority = '', path = '', query, fragment] = parts;
  const segments = path.split('/');
  // segments[0] is '' (the path starts with '/'); an app plus a key means at least 3 entries.
  const nonEmpty = segments.filter((s) => s !== '');
  if (nonEmpty.length >= 2) {
    let last = segments.length - 1;
    while (last > 0 && segments[last] === '') last--;
    segments[last] = REDACTED;
  }
  return `${scheme}://${authority}${segments.join('/')}${query ? `?${REDACTED}` : ''}${fragment ? `#${REDACTED}` : ''}`;
}

/**
 * Sanitises any URL for display: tcp/tls/udp URLs only lose their userinfo; srt/rist URLs get
 * their `passphrase` masked; every other scheme is treated as {@link redactRtmpUrl} does.
 */
export function redactUrl(url: string): string {
  const parts = URL_PARTS.exec(url);
  if (!parts) return url.includes('://') ? REDACTED : url;
  const [, scheme = '', , authority = '', path = '', query = '', fragment = ''] = parts;
  const lower = scheme.toLowerCase();
  if (PLAIN_SCHEMES.has(lower)) return `${scheme}://${authority}${path}${query}${fragment}`;
  if (SRT_SCHEMES.has(lower)) {
    const q = query.replace(/([?&](?:passphrase|secret)=)[^&]*/gi, `$1${REDACTED}`);
    return `${scheme}://${authority}${path}${q}${fragment}`;
  }
  return redactRtmpUrl(url);
}

/** Command-line flags whose next argument is a secret (`-passphrase x` for FFmpeg's srt/rist). */
const SECRET_FLAGS = new Set(['-passphrase', '-secret', '-srtp_in_params', '-srtp_out_params']);

/**
 * Redacts a command line for display or storage: each element through {@link redact}, and the
 * value after a secret-bearing flag (`-passphrase`) whatever it is.
 */
export function redactArgv(argv: readonly string[], secrets: readonly string[] = []): string[] {
  return argv.map((arg, i) => {
    const prev = i > 0 ? argv[i - 1] : undefined;
    if (prev !== undefined && SECRET_FLAGS.has(prev)) return REDACTED;
    return redact(arg, secrets);
  });
}
