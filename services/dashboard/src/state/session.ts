/**
 * Who is signed in: the token (kept in sessionStorage: it survives a reload of this tab and is
 * gone when the tab closes; never in a URL, never logged), the role found by one cheap call (an
 * operator's token gets 403 from an admin route, an admin's 200), and the API client using it.
 */
import { signal } from '@preact/signals';
import { ApiError, createApiClient, type ApiClient } from '../api/client.ts';
import type { Problem, Role, Session } from '../api/types.ts';
import type { SiteConfig } from '../../site.ts';

const KEY = 'fanout.token';

export const token = signal<string | null>(readToken());
export const role = signal<Role | null>(null);
/** Why the last session ended (a revoked token, say), shown on the sign-in page. */
export const signedOutBecause = signal<Problem | null>(null);

function readToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export let config: SiteConfig = { apiBase: '', hlsUrl: '/hls/primary/index.m3u8', srt: null, runtime: 'local' };

/** Reads /config.json (written at deploy time on AWS, by the local runtime locally). */
export async function loadConfig(): Promise<SiteConfig> {
  try {
    const res = await fetch('/config.json', { cache: 'no-store' });
    if (res.ok) config = { ...config, ...((await res.json()) as Partial<SiteConfig>) };
  } catch {
    /* the defaults are the local runtime's */
  }
  return config;
}

export const api: ApiClient = createApiClient({
  base: () => config.apiBase,
  token: () => token.value,
  onUnauthorized: (p) => signOut(p),
});

/** The API at config.apiBase (set after loadConfig). */
export function apiUrl(path: string): string {
  return `${config.apiBase}${path}`;
}

/**
 * Checks a token and finds its role with GET /api/session, which any valid token may read (401:
 * not valid, thrown as the API's problem). A `metrics` token is refused here: it may read only
 * GET /metrics, so every call the dashboards make would be a 403.
 */
export async function probeRole(candidate: string): Promise<Role> {
  const probe = createApiClient({ base: config.apiBase, token: () => candidate });
  const session = await probe.get<Session>('/api/session');
  if (session.role === 'metrics')
    throw new ApiError({
      status: 403,
      code: 'METRICS_TOKEN',
      detail: 'This is a metrics token: it may read only GET /metrics (for a Prometheus scraper), not the dashboards.',
      hint: 'Sign in with an operator or admin token.',
    });
  return session.role;
}

export async function signIn(candidate: string): Promise<Role> {
  const r = await probeRole(candidate.trim());
  try {
    sessionStorage.setItem(KEY, candidate.trim());
  } catch {
    /* private mode: the session lasts as long as the page */
  }
  signedOutBecause.value = null;
  token.value = candidate.trim();
  role.value = r;
  return r;
}

export function signOut(because: Problem | null = null): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    /* nothing stored */
  }
  signedOutBecause.value = because;
  token.value = null;
  role.value = null;
}
