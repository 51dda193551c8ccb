/**
 * The CLI's HTTP client of the public Fanout API: where to connect (--url/--token, else
 * FANOUT_URL/FANOUT_TOKEN, else the profile), requests with the bearer token, and the API's
 * problem documents turned into errors as the API wrote them. The token is registered with the
 * output as a secret, so it is never written; `--verbose` shows requests with `Bearer ***`.
 */
import { performance } from 'node:perf_hooks';
import type { CliEnv } from './env.ts';
import { apiError, cliError, type Problem } from './errors.ts';
import type { ConfigFile, Profile } from './config-file.ts';
import type { Io } from './output.ts';
import { VERSION } from './version.ts';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface Connection {
  url: string;
  token: string | undefined;
  /** Where the token came from, for messages (never the token itself). */
  tokenSource: '--token' | 'FANOUT_TOKEN' | 'profile' | null;
  /** The profile in use (it may not exist yet). */
  profile: string;
  profileRecord: Profile | undefined;
}

export interface ConnectionFlags {
  url?: string | undefined;
  token?: string | undefined;
  profile?: string | undefined;
}

const origin = (u: string): string => {
  try {
    return new URL(u).origin;
  } catch {
    return u;
  }
};

/**
 * Where to connect. A profile's token is only sent to the profile's own URL: with another --url or
 * FANOUT_URL, the token must come from --token or FANOUT_TOKEN (a saved token never leaks to a
 * server it was not made for).
 */
export function resolveConnection(flags: ConnectionFlags, env: CliEnv, file: ConfigFile): Connection {
  const profile = flags.profile ?? env.profile ?? file.current ?? 'default';
  const rec = file.profiles[profile];
  const url = normaliseUrl(flags.url ?? env.url ?? rec?.url ?? DEFAULT_URL);
  let token: string | undefined;
  let tokenSource: Connection['tokenSource'] = null;
  if (flags.token) [token, tokenSource] = [flags.token, '--token'];
  else if (env.token) [token, tokenSource] = [env.token, 'FANOUT_TOKEN'];
  else if (rec?.token && origin(rec.url) === origin(url)) [token, tokenSource] = [rec.token, 'profile'];
  return { url, token, tokenSource, profile, profileRecord: rec };
}

/** Checks and normalises a base URL: http(s), no trailing slash. */
export function normaliseUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw cliError('CLI_USAGE', `Not a URL: ${JSON.stringify(raw)}.`, 'Give the API base URL, e.g. http://127.0.0.1:8080 or https://fanout.example.com.');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw cliError('CLI_USAGE', `The URL must be http:// or https://, not ${u.protocol}//.`, 'e.g. https://fanout.example.com');
  if (u.username || u.password) throw cliError('CLI_USAGE', 'Put the token in --token, FANOUT_TOKEN or a profile, not in the URL.', '');
  return u.href.replace(/\/+$/, '');
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  /** No token needed (health). */
  anonymous?: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** The body as text, not parsed (a CSV answer). */
  text?: boolean;
}

export interface ApiResult<T> {
  status: number;
  headers: Headers;
  body: T;
}

export class Api {
  constructor(
    readonly conn: Connection,
    private readonly io: Io,
  ) {
    io.secret(conn.token);
  }

  /** Fails with exit 4 when no token is configured. */
  requireToken(): string {
    if (!this.conn.token) throw cliError('CLI_NO_TOKEN', `No token for ${this.conn.url}.`, 'Run `fanout login`, or set FANOUT_TOKEN (or --token, which other users can see in `ps`).');
    return this.conn.token;
  }

  /** The full URL of an API path, with a query. */
  url(path: string, query: RequestOptions['query'] = {}): string {
    const u = new URL(this.conn.url + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, String(v));
    return u.href;
  }

  /** Request headers (the token included unless anonymous). */
  headers(o: Pick<RequestOptions, 'anonymous' | 'headers'> = {}): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json, application/problem+json', 'user-agent': `fanout-cli/${VERSION}`, ...(o.headers ?? {}) };
    if (!o.anonymous) h.authorization = `Bearer ${this.requireToken()}`;
    return h;
  }

  /** Sends a request; a non-2xx answer throws the API's problem as an error. */
  async request<T = unknown>(method: string, path: string, o: RequestOptions = {}): Promise<ApiResult<T>> {
    const url = this.url(path, o.query);
    const headers = this.headers(o);
    let body: string | undefined;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] = 'application/json';
    }
    this.io.debug(`${method} ${url}${headers.authorization ? ' (Authorization: Bearer ***)' : ''}`);
    if (body !== undefined) this.io.debug(`body ${body}`);
    const t0 = performance.now();
    let res: Response;
    try {
      res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}), signal: o.signal ?? AbortSignal.timeout(o.timeoutMs ?? 30_000) });
    } catch (err) {
      throw unreachable(this.conn.url, err);
    }
    const text = await res.text();
    this.io.debug(`${res.status} ${res.statusText} in ${Math.round(performance.now() - t0)} ms (${text.length} bytes)`);
    const parsed = parseJson(text);
    if (!res.ok) throw problemFrom(res.status, parsed, text, method, path);
    return { status: res.status, headers: res.headers, body: (o.text ? text : parsed) as T };
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The API's problem document, or one made for an answer that has none (a proxy's HTML 502). */
export function problemFrom(status: number, parsed: unknown, text: string, method: string, path: string): Error {
  const p = parsed as Partial<Problem> | undefined;
  if (p && typeof p === 'object' && typeof p.code === 'string' && typeof p.title === 'string') return apiError({ detail: '', hint: '', type: 'about:blank', ...p, status } as Problem);
  const snippet = text.replace(/\s+/g, ' ').trim().slice(0, 120);
  return cliError('CLI_BAD_RESPONSE', `${method} ${path} answered ${status} without a problem document${snippet ? `: ${snippet}` : ''}.`, 'Is --url the Fanout API (not another server or a proxy error page)?', { httpStatus: status });
}

/** A fetch that failed before any answer. */
export function unreachable(url: string, err: unknown): Error {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return cliError('CLI_UNREACHABLE', `${url} did not answer in time.`, 'Check that Fanout runs and the URL is right.');
  if (e?.name === 'AbortError') return cliError('CLI_INTERRUPTED', 'Interrupted.', '');
  const why = e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
  return cliError('CLI_UNREACHABLE', `Cannot reach Fanout at ${url} (${why}).`, 'Is it running (`npm start`)? Check --url, FANOUT_URL or the profile (`fanout login`).');
}
