/**
 * Test support: starts the whole local runtime in this process (in-memory dynalite, the
 * in-process bus, a temp data dir, a random port) and gives a small HTTP client for it.
 * Everything it captures (log lines, responses, published events) can be scanned for secrets.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostResolver } from '../../shared/net/egress.ts';
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from '../../shared/runtimes/local/runtime.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

/**
 * The tests' DNS: no query leaves the machine. `localhost` is loopback, names under `.invalid`
 * (RFC 6761) do not exist, and every other name answers with a public documentation-free address
 * (nothing ever connects to it: engine-less and memory-engine runs never dial, media tests use IP
 * literals on loopback).
 */
export const testResolver: HostResolver = async (host) => {
  if (host === 'localhost') return [{ address: '127.0.0.1', family: 4 }];
  if (host.endsWith('.invalid')) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', hostname: host });
  return [{ address: '93.184.215.14', family: 4 }];
};

export interface TestRuntime extends LocalRuntime {
  dataDir: string;
  /** Fetches `path` with the admin token (or `token`); JSON bodies are encoded. */
  api(method: string, path: string, opts?: { body?: unknown; token?: string | null; headers?: Record<string, string>; raw?: string }): Promise<ApiResponse>;
  /** Every response body received through `api` (for secret scans). */
  responses: string[];
  close(): Promise<void>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** How long a test's API request may take before it fails (a hung request names its route). */
const API_TIMEOUT_MS = 20_000;

export async function startTestRuntime(env: Record<string, string> = {}, opts: Omit<LocalRuntimeOptions, 'env' | 'inMemory'> & { dataDir?: string; inMemory?: boolean } = {}): Promise<TestRuntime> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'fanout-test-'));
  const rt = await startLocalRuntime({
    // Default: the destination service alone; tests of the whole pipeline choose an engine.
    engine: 'none',
    resolveHost: testResolver,
    ...opts,
    inMemory: opts.inMemory ?? true,
    env: {
      PATH: process.env.PATH,
      FANOUT_PORT: '0',
      FANOUT_HOST: '127.0.0.1',
      FANOUT_DATA_DIR: dataDir,
      FANOUT_ADMIN_TOKEN: ADMIN_TOKEN,
      FANOUT_LOG_LEVEL: 'WARN',
      // No backup SRT listener unless a test asks for one (on a free port): parallel runs would all bind 9999.
      FANOUT_SRT_BACKUP_PORT: '0',
      ...env,
    },
  });
  const responses: string[] = [];
  return Object.assign(rt, {
    dataDir,
    responses,
    async api(method: string, path: string, o: { body?: unknown; token?: string | null; headers?: Record<string, string>; raw?: string } = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      const token = o.token === undefined ? ADMIN_TOKEN : o.token;
      if (token) headers.authorization = `Bearer ${token}`;
      let body: string | undefined = o.raw;
      if (o.body !== undefined) {
        body = JSON.stringify(o.body);
        headers['content-type'] ??= 'application/json';
      }
      // A bounded request: a server that accepts and never answers fails the test with the route named.
      const res = await fetch(`${rt.url}${path}`, { method, headers, signal: AbortSignal.timeout(API_TIMEOUT_MS), ...(body !== undefined ? { body } : {}) }).catch((err: unknown) => {
        throw new Error(`${method} ${path}: ${(err as Error).name === 'TimeoutError' ? `no answer in ${API_TIMEOUT_MS} ms` : String(err)}`);
      });
      const text = await res.text();
      responses.push(text);
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: res.status, headers: res.headers, text, json };
    },
    async close() {
      await rt.stop();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

/** Polls `fn` until it returns a truthy value or the deadline passes (no sleeping for state). */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let last: unknown;
  const what = opts.what ?? 'condition';
  for (;;) {
    // An attempt that hangs (a request never answered) must not outlive the deadline: the wait
    // fails with what it waited for, rather than the suite timing out with nothing said.
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`an attempt was still pending at the deadline${last ? ` (before it: ${String(last)})` : ''}`)), Math.max(deadline - Date.now(), 0) + 1_000);
    });
    try {
      const v = await Promise.race([Promise.resolve(fn()), hung]);
      if (v) return v as T;
    } catch (err) {
      last = err;
    } finally {
      clearTimeout(timer);
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 25));
  }
}
