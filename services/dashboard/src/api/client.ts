/**
 * The dashboards' HTTP client of the Fanout API: JSON in and out, the bearer token in the
 * Authorization header (never in a URL), every failure as an `ApiError` carrying the API's own
 * problem document (code, detail, hint, field errors) so the page can show it as the API says it.
 * A network failure is a problem too (code OFFLINE), so a caller has one shape to handle.
 */
import type { Problem } from './types.ts';

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(`${problem.code}: ${problem.detail}`);
    this.name = 'ApiError';
  }

  get status(): number {
    return this.problem.status;
  }

  get code(): string {
    return this.problem.code;
  }
}

export interface ApiClient {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown, headers?: Record<string, string>): Promise<T>;
  put<T>(path: string, body: unknown): Promise<T>;
  del<T = void>(path: string): Promise<T>;
  /** A GET whose answer is text, not JSON (the FOCUS CSV). */
  text(path: string): Promise<string>;
}

export interface ApiClientOptions {
  /** Base URL ('' = this origin), read at each call (the site's config.json may set it). */
  base: string | (() => string);
  token: () => string | null;
  /** Called on 401 (the token was revoked or is wrong): the app signs out. */
  onUnauthorized?: (p: Problem) => void;
  fetch?: typeof fetch;
}

async function problemFromResponse(res: Response): Promise<Problem> {
  const type = res.headers.get('content-type') ?? '';
  if (/json/.test(type)) {
    try {
      const p = (await res.json()) as Partial<Problem>;
      if (typeof p.code === 'string') return { ...p, status: res.status, code: p.code, detail: p.detail ?? '', hint: p.hint ?? '' } as Problem;
    } catch {
      /* not JSON after all */
    }
  }
  return { status: res.status, code: `HTTP_${res.status}`, detail: res.statusText || `The server answered ${res.status}.`, hint: '' };
}

export function createApiClient(o: ApiClientOptions): ApiClient {
  const doFetch = o.fetch ?? globalThis.fetch.bind(globalThis);
  async function call<T>(method: string, path: string, body?: unknown, extra: Record<string, string> = {}, asText = false): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...extra };
    const token = o.token();
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      const base = typeof o.base === 'function' ? o.base() : o.base;
      res = await doFetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    } catch {
      throw new ApiError({ status: 0, code: 'OFFLINE', detail: 'Fanout cannot be reached.', hint: 'Check that Fanout is running and this machine is online; the page retries when you act again.' });
    }
    if (!res.ok) {
      const p = await problemFromResponse(res);
      if (res.status === 401) o.onUnauthorized?.(p);
      throw new ApiError(p);
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    if (asText) return text as T;
    return (text ? JSON.parse(text) : undefined) as T;
  }
  return {
    get: (p) => call('GET', p),
    post: (p, b, h) => call('POST', p, b, h),
    put: (p, b) => call('PUT', p, b),
    del: (p) => call('DELETE', p),
    text: (p) => call<string>('GET', p, undefined, { accept: 'text/csv' }, true),
  };
}

/** The API's problem behind an error (an ApiError's own; anything else as a generic problem). */
export function problemOf(err: unknown): Problem {
  return err instanceof ApiError ? err.problem : { status: 0, code: 'ERROR', detail: String(err), hint: '' };
}

/** Field errors of a problem, by field path ('streamKey', 'video.bitrate'); the rest under ''. */
export function fieldErrors(p: Problem | null | undefined, fields: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!p?.errors) return out;
  for (const e of p.errors) {
    // A nested path belongs to the nearest field the form has ('video.bitrate' → 'video.bitrate' or 'video').
    const parts = e.path.split('.');
    let key = '';
    for (let i = parts.length; i > 0; i--) {
      const candidate = parts.slice(0, i).join('.');
      if (fields.includes(candidate)) {
        key = candidate;
        break;
      }
    }
    out[key] = out[key] ? `${out[key]}; ${e.message}` : key ? e.message : `${e.path}: ${e.message}`;
  }
  return out;
}
