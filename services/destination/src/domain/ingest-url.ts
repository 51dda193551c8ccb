/**
 * Ingest URLs and stream keys, checked at the door: everything either engine would refuse when the
 * destination starts is refused when it is created or changed, with the reason, and an accepted URL
 * is stored in the one form both engines read the same way.
 *
 * An ingest URL is `rtmp://host[:port]/app[/more]` or `rtmps://…`:
 *   - no credentials (`user:pass@`): neither engine can send them (the local engine's RTMP publisher
 *     has no login, MediaLive wants a username and an SSM parameter instead), and keeping them would
 *     store a secret in the clear; they are refused with a message, never silently dropped;
 *   - no query and no fragment: MediaLive refuses both; the stream key has its own field;
 *   - a port, when given, of 1 to 65535;
 *   - an application path (RTMP servers need one to accept a publish);
 *   - no control characters or white space anywhere: the WHATWG URL parser silently drops tabs and
 *     new lines and percent-encodes the rest, so the URL stored would not be the URL sent;
 *   - a path of printable ASCII (the local publisher sends it as it is, MediaLive may not);
 *   - a host name in ASCII: an IDN host (`ex%C3%A4mple.com` or `exämple.com`) is converted to
 *     punycode with `domainToASCII` (rtmp:// is not a "special" scheme for WHATWG URL, which
 *     percent-encodes such hosts instead, and no resolver finds those); IPv4 written in other forms
 *     (`2130706433`, `127.1`) is written as the dotted quad it means, so the egress policy judges
 *     the address that is really connected to.
 *
 * A stream key may not hold control characters: a NUL ends the key early at the platform (C strings).
 */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import ipaddr from 'ipaddr.js';

/** Why a URL is refused (stable tokens; problem documents carry them as `reason`). */
export type IngestUrlReason = 'scheme' | 'credentials' | 'control-character' | 'host' | 'port' | 'query' | 'fragment' | 'no-application' | 'path';

export interface IngestUrl {
  /** The normalised URL: lower-case scheme, ASCII host, the port as given, the path as given. */
  url: string;
  scheme: 'rtmp' | 'rtmps';
  /** ASCII host name or IP address (IPv6 without brackets). */
  host: string;
  port: number | null;
  path: string;
}

export type IngestUrlResult = { ok: true; value: IngestUrl } | { ok: false; reason: IngestUrlReason; message: string };

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this pattern's job (a URL must not carry them).
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const SPACE = /\s/u;

function fail(reason: IngestUrlReason, message: string): IngestUrlResult {
  return { ok: false, reason, message };
}

/**
 * Parses and normalises an ingest URL. Messages never repeat the URL's path or credentials (a
 * pasted URL may hold a stream key or a password); they may name the host.
 */
export function parseIngestUrl(raw: string, opts: { scheme?: 'rtmp' | 'rtmps' } = {}): IngestUrlResult {
  if (CONTROL.test(raw)) return fail('control-character', 'contains a control character (NUL, tab, new line, ...); paste the URL again without it');
  if (SPACE.test(raw)) return fail('control-character', 'contains white space; paste the URL again without it');
  const m = /^(rtmps?):\/\/([^/?#]*)(.*)$/is.exec(raw);
  if (!m) return fail('scheme', 'must start with rtmp:// or rtmps://');
  const scheme = m[1]!.toLowerCase() as 'rtmp' | 'rtmps';
  if (opts.scheme && scheme !== opts.scheme) return fail('scheme', `must be an ${opts.scheme}:// URL`);
  const authority = m[2]!;
  const rest = m[3]!;
  if (authority.includes('@'))
    return fail(
      'credentials',
      "holds credentials (user:password@); remove them: neither engine can send them (the local RTMP publisher has no login; MediaLive takes a username and an SSM parameter instead), and the platform's key goes in streamKey",
    );

  let hostPart: string;
  let portPart: string | undefined;
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    if (end < 0) return fail('host', 'has an IPv6 address without its closing bracket');
    hostPart = authority.slice(1, end);
    const after = authority.slice(end + 1);
    if (after !== '' && !after.startsWith(':')) return fail('host', 'has characters after the IPv6 address');
    portPart = after === '' ? undefined : after.slice(1);
    if (isIP(hostPart) !== 6) return fail('host', `"[${hostPart}]" is not an IPv6 address`);
  } else {
    const colon = authority.indexOf(':');
    hostPart = colon < 0 ? authority : authority.slice(0, colon);
    portPart = colon < 0 ? undefined : authority.slice(colon + 1);
  }

  let port: number | null = null;
  if (portPart !== undefined) {
    if (!/^\d{1,5}$/.test(portPart)) return fail('port', 'has a port that is not a number from 1 to 65535');
    port = Number(portPart);
    if (port < 1 || port > 65535) return fail('port', `has port ${port}; a port is 1 to 65535 (rtmp:// uses 1935 and rtmps:// 443 when none is given)`);
  }

  const host = asciiHost(hostPart);
  if (!host.ok) return fail('host', host.message);

  if (rest.startsWith('?') || rest.includes('?')) return fail('query', 'has a query (?...); MediaLive refuses one, and the stream key goes in streamKey');
  if (rest.includes('#')) return fail('fragment', 'has a fragment (#...); RTMP URLs have none');
  const segments = rest.split('/').filter((s) => s !== '');
  if (segments.length === 0) return fail('no-application', 'has no application path (rtmp://host[:port]/app); RTMP servers need one to accept a publish');
  if (!/^[\x21-\x7e]*$/.test(rest)) return fail('path', 'has characters outside printable ASCII in its path; use the URL exactly as the platform gives it');

  const hostOut = isIP(host.value) === 6 ? `[${host.value}]` : host.value;
  return { ok: true, value: { url: `${scheme}://${hostOut}${portPart !== undefined ? `:${portPart}` : ''}${rest}`, scheme, host: host.value, port, path: rest } };
}

/** The host in ASCII: IP addresses as they are (IPv4 as a dotted quad), names in punycode, lower case. */
function asciiHost(raw: string): { ok: true; value: string } | { ok: false; message: string } {
  if (raw === '') return { ok: false, message: 'has no host' };
  if (isIP(raw) === 6) return { ok: true, value: ipaddr.parse(raw).toString() };
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return { ok: false, message: 'has a host with a broken percent-encoding' };
  }
  if (CONTROL.test(decoded) || SPACE.test(decoded)) return { ok: false, message: 'has a host with a control character or white space' };
  // getaddrinfo reads `2130706433`, `0x7f.1` and `127.1` as IPv4 addresses: write the one it means.
  if (/^[0-9a-fx.]+$/i.test(decoded) && ipaddr.IPv4.isValid(decoded)) return { ok: true, value: ipaddr.IPv4.parse(decoded).toString() };
  const ascii = domainToASCII(decoded.toLowerCase());
  if (
    ascii === '' ||
    !/^[a-z0-9._-]+$/.test(ascii) ||
    ascii
      .replace(/\.$/, '')
      .split('.')
      .some((label) => label.length === 0 || label.length > 63) ||
    ascii.length > 253
  )
    return { ok: false, message: `has a host that is not a valid host name` };
  return { ok: true, value: ascii };
}

export type StreamKeyResult = { ok: true } | { ok: false; message: string };

/**
 * The shortest key each built-in platform issues, with room to spare: a key shorter than this is a
 * partial paste, and the platform would refuse it only once the stream starts. YouTube's are five
 * groups of four (24 characters), Twitch's `live_<digits>_<30 characters>`, Facebook's `FB-...`
 * longer still. LinkedIn, custom and admin-added platforms take any length.
 */
export const MIN_STREAM_KEY_LENGTH: Readonly<Record<string, number>> = Object.freeze({ youtube: 16, twitch: 16, facebook: 16 });

/**
 * A stream key may not hold control characters (a NUL ends the key at the platform), and is not
 * shorter than the platform's keys ever are. The message never shows the key.
 */
export function checkStreamKey(key: string, platform?: { platformId: string; name: string }): StreamKeyResult {
  if (CONTROL.test(key)) return { ok: false, message: 'contains a control character (NUL, tab, new line, ...): a NUL would end the key early at the platform; paste the key again without it' };
  const min = platform ? MIN_STREAM_KEY_LENGTH[platform.platformId] : undefined;
  if (min !== undefined && key.length < min) return { ok: false, message: `is ${key.length} characters long; ${platform!.name} stream keys are at least ${min}: copy the whole key from ${platform!.name}'s live dashboard` };
  return { ok: true };
}
