/**
 * Test support for the HTTP edge: the path spellings a router may accept for one route, and a
 * client that sends exactly the bytes it is given (fetch resolves dot segments and re-encodes
 * paths before sending, so it cannot send `/api/x/../admin` or `CONNECT` at all).
 */
import { connect } from 'node:net';

/** `c` percent-encoded, with upper- or lower-case hex digits. */
const enc = (c: string, upper: boolean): string => {
  const hex = c.charCodeAt(0).toString(16).padStart(2, '0');
  return `%${upper ? hex.toUpperCase() : hex.toLowerCase()}`;
};

/**
 * Every spelling of `path` (a concrete path such as `/api/admin/tokens/abc`) worth trying against
 * an access check: each letter percent-encoded alone (hex upper- and lower-case: `%6d`, `%6D`),
 * whole segments encoded, dot segments (plain and encoded), doubled slashes, a trailing slash,
 * an encoded slash, and mixtures. Deduplicated; the canonical spelling first.
 */
export function pathSpellings(path: string): string[] {
  const out = new Set<string>([path]);
  const segments = path.split('/').slice(1);
  const join = (segs: string[]) => `/${segs.join('/')}`;

  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    if (!/[A-Za-z]/.test(c)) continue;
    for (const upper of [false, true]) out.add(path.slice(0, i) + enc(c, upper) + path.slice(i + 1));
  }
  segments.forEach((seg, i) => {
    for (const upper of [false, true]) {
      const whole = [...seg].map((c, j) => (/[A-Za-z]/.test(c) ? enc(c, j % 2 === 0 ? upper : !upper) : c)).join('');
      out.add(join(segments.map((s, k) => (k === i ? whole : s))));
    }
    // Dot segments, before this one: /a/./b, /a/x/../b, with encoded dots too.
    for (const dots of ['.', '%2e', '%2E', 'zz/..', 'zz/%2e%2e', 'zz/.%2E', 'zz/%2E.']) out.add(join([...segments.slice(0, i), ...dots.split('/'), ...segments.slice(i)]));
    // Doubled slash before this segment, and the segment with a trailing dot segment.
    out.add(join([...segments.slice(0, i), '', ...segments.slice(i)]));
    out.add(join([...segments.slice(0, i + 1), '.', ...segments.slice(i + 1)]));
    // A slash inside the segment, encoded (a router that decoded it would see another route).
    if (i > 0) out.add(join([...segments.slice(0, i - 1), `${segments[i - 1]}%2f${seg}`, ...segments.slice(i + 1)]));
    if (i > 0) out.add(join([...segments.slice(0, i - 1), `${segments[i - 1]}%2F${seg}`, ...segments.slice(i + 1)]));
  });
  out.add(`${path}/`);
  out.add(`/${path}`);
  out.add(path.toUpperCase());
  // Mixtures: an encoded letter, a dot segment, a doubled slash and a trailing slash at once.
  if (segments.length >= 2) {
    const [first, second, ...rest] = segments as [string, string, ...string[]];
    const s2 = second.replace(/[A-Za-z]/, (c) => enc(c, true));
    out.add(join([first, '', 'zz', '..', s2, ...rest]) + '/');
    out.add(join([first, '.', s2.replace(/%[0-9A-F]{2}/, (h) => h.toLowerCase()), '', ...rest]));
    out.add(`/${join([first, '%2e', s2, ...rest])}`);
  }
  return [...out];
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends `head` (request line and headers, CRLF-separated, without the final blank line) and
 * `body` over a fresh connection with `Connection: close`, and reads the response until the
 * server closes. An event stream (which never ends) is read up to its headers only.
 */
export async function rawRequest(url: string, head: string, body: string | Buffer = '', timeoutMs = 10_000): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete response within ${timeoutMs} ms to ${head.split('\r\n')[0]}`));
    }, timeoutMs);
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const [statusLine, ...lines] = text.slice(0, split === -1 ? text.length : split).split('\r\n');
      const status = Number(statusLine?.split(' ')[1]);
      if (!Number.isInteger(status)) {
        reject(new Error(`no HTTP response to ${head.split('\r\n')[0]}: ${JSON.stringify(text.slice(0, 200))}`));
        return;
      }
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      let payload = split === -1 ? '' : text.slice(split + 4);
      if (headers['transfer-encoding'] === 'chunked') payload = dechunk(payload);
      resolve({ status, headers, body: payload });
    };
    socket.on('data', (d) => {
      chunks.push(d);
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end !== -1 && /\r\ncontent-type:\s*text\/event-stream/i.test(text.slice(0, end))) {
        finish();
        socket.destroy();
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', finish);
    socket.write(`${head}\r\nconnection: close\r\n\r\n`);
    if (body.length > 0) socket.write(body);
  });
}

function dechunk(s: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const eol = s.indexOf('\r\n', at);
    if (eol === -1) return out;
    const size = parseInt(s.slice(at, eol), 16);
    if (!size) return out;
    out += s.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}
