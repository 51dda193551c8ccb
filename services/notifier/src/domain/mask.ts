/**
 * Secrets never reach a message. Webhook URLs are secrets (whoever has a Slack incoming-webhook
 * URL can post to the channel), as are stream keys and tokens: `maskUrl` is the one way a URL is
 * shown (origin and the last four characters), and `scrub` cleans any free text that goes into a
 * message (an error message, an annotation): known secret values become `***` and every URL is
 * masked (the shared redaction also knows RTMP stream keys and SRT passphrases).
 * `findSecrets` is the guard the renderers' output is checked with.
 */
import { redact } from '../../../../shared/secrets/redact.ts';

const MASK = '***';
const HTTP_URL = /\bhttps?:\/\/[^\s'"<>)]+/gi;

/**
 * A URL as it may be shown: scheme and host, then `***` and the last four characters when the URL
 * is long enough that they give nothing away. Userinfo, path and query never appear.
 *
 * `https://hooks.slack.com/services/T000/B000/XXXXabcd` → `https://hooks.slack.com/***abcd`
 */
export function maskUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return MASK;
  }
  const tail = url.length >= 24 ? url.slice(-4) : '';
  return `${u.protocol}//${u.host}/${MASK}${tail}`;
}

/** Free text made safe for a message: secrets out, URLs masked. */
export function scrub(text: string, secrets: readonly string[] = []): string {
  // URLs first (a webhook URL shows as its masked form), then any known secret left in the text.
  return redact(
    text.replace(HTTP_URL, (m) => maskUrl(m)),
    secrets,
  );
}

/** Every place in `value` (a rendered message) where one of `secrets` appears: paths like `attachments[0].blocks[2].text.text`. */
export function findSecrets(value: unknown, secrets: readonly string[], path = '$'): string[] {
  const live = secrets.filter((s) => s.length >= 4);
  if (typeof value === 'string') return live.some((s) => value.includes(s) || value.includes(encodeURIComponent(s))) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => findSecrets(v, live, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [...(live.some((s) => k.includes(s)) ? [`${path}.<key>`] : []), ...findSecrets(v, live, `${path}.${k}`)]);
  return [];
}
