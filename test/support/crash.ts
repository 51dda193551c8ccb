/**
 * Test support for the crash tests: a Fanout in a child process (test/support/crash-child.ts) that
 * can be killed for real (SIGKILL, by the test or by its own crash point), restarted on the same
 * data dir, and asked over HTTP; and a ledger of what Fanout acknowledged, to check after the
 * restart that every destination reaches the state it was asked for (created → idle,
 * started → running, deleted → gone).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { buildLocal, nodeFlags } from '../../shared/runtimes/local/build.ts';
import { repoRoot } from '../../shared/runtimes/local/serverless-config.ts';
import { ADMIN_TOKEN } from './local.ts';

export interface CrashPoint {
  /** The event whose publication the child dies just before (after the write that produced it). */
  detailType: string;
  /** Only an event whose `data` has these values. */
  data?: Record<string, string | number | boolean | null>;
}

export type ChildEngine = 'memory' | 'memory-persisted' | 'aws-fake' | 'local';

let bundle: Promise<string> | undefined;

/**
 * The child compiled as `npm start` compiles Fanout (build.ts), once per test process: it starts
 * faster than through tsx, and the compiled form is what runs. Its own directory, removed by
 * `removeChildBundle` (other runs may build theirs meanwhile).
 */
function childBundle(): Promise<string> {
  bundle ??= buildLocal({ entry: 'test/support/crash-child.ts', outfile: `.build/test-crash-${process.pid}/crash-child.mjs` }).then((b) => b.outfile);
  return bundle;
}

/** Removes the bundle built for this process (call it from the test file's `after`). */
export async function removeChildBundle(): Promise<void> {
  if (bundle) rmSync(dirname(await bundle), { recursive: true, force: true });
}

/** Thrown by `api` once the child is dead: the script that was driving it stops there. */
export class ChildDied extends Error {
  override name = 'ChildDied';
}

export interface ApiAnswer {
  status: number;
  json: any;
}

export class FanoutChild {
  private out = '';
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
  }

  url = '';

  /** Starts a child on `dataDir` and waits until it serves (it has run its start-up sweep and reconciles). */
  static async start(o: { dataDir: string; engine?: ChildEngine; point?: CrashPoint; env?: Record<string, string>; timeScale?: number }): Promise<FanoutChild> {
    const child = spawn(process.execPath, [...nodeFlags(), await childBundle()], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        FANOUT_DATA_DIR: o.dataDir,
        FANOUT_PORT: '0',
        FANOUT_HOST: '127.0.0.1',
        FANOUT_ADMIN_TOKEN: ADMIN_TOKEN,
        FANOUT_LOG_LEVEL: 'WARN',
        // The tests poll; the API's rate limit is not what they are about.
        FANOUT_RATE_LIMIT_PER_MINUTE: '1000000',
        // No backup SRT listener (the default 9999 would collide between parallel runs).
        FANOUT_SRT_BACKUP_PORT: '0',
        CRASH_ENGINE: o.engine ?? 'memory',
        CRASH_TIME_SCALE: String(o.timeScale ?? 0.1),
        ...(o.point ? { CRASH_POINT: JSON.stringify(o.point) } : {}),
        ...(o.env ?? {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const f = new FanoutChild(child);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const url = f.out.match(/CRASH-CHILD READY (http:\/\/\S+)/)?.[1];
      if (url) {
        f.url = url;
        return f;
      }
      if (f.exit) throw new ChildDied(`the child exited during start-up (${JSON.stringify(f.exit)}):\n${f.out}`);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`timed out waiting for the child to serve on ${o.dataDir}:\n${f.out}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** How the child ended, once it has. */
  get exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.exit;
  }

  output(): string {
    return this.out;
  }

  /** One request with the admin token; ChildDied when the child is dead or dies meanwhile. */
  async api(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
    if (!this.alive) throw new ChildDied('the child is dead');
    try {
      const res = await fetch(`${this.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined };
    } catch (err) {
      // A refused or reset connection is the child dying (or dead): say so, once it is.
      await Promise.race([this.exited, new Promise((r) => setTimeout(r, 2000))]);
      if (!this.alive) throw new ChildDied(`the child died during ${method} ${path}`);
      throw err;
    }
  }

  /** Polls until `fn` is truthy (no sleeping for state); gives up at once with ChildDied when the child dies. */
  async until<T>(fn: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      if (!this.alive) throw new ChildDied(`the child died waiting for ${what}`);
      try {
        const v = await fn();
        if (v) return v;
      } catch (err) {
        if (err instanceof ChildDied) throw err;
        last = err;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** kill -9, and wait until it is gone. */
  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** A clean stop (SIGINT), SIGKILL after 15 s. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGINT');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(t);
  }
}

export type Wanted = 'idle' | 'running' | 'gone';

interface Expectation {
  wanted: Wanted;
  /** The state asked for by a request that was under way when the child died (it may or may not have been taken). */
  maybe?: Wanted;
}

/**
 * What Fanout acknowledged. An operation is entered as `maybe` when it is sent and becomes
 * `wanted` on its 2xx answer; one cut short by the crash stays `maybe`: either outcome is right,
 * a half-done one is not.
 */
export class Ledger {
  readonly expected = new Map<string, Expectation>();

  async create(f: FanoutChild, body: unknown): Promise<string> {
    const res = await f.api('POST', '/api/destinations', body);
    if (res.status !== 201) throw new Error(`create answered ${res.status}: ${JSON.stringify(res.json)}`);
    const id = res.json.destinationId as string;
    this.expected.set(id, { wanted: 'idle' });
    return id;
  }

  async command(f: FanoutChild, id: string, command: 'start' | 'stop' | 'delete'): Promise<void> {
    const e = this.expected.get(id)!;
    e.maybe = command === 'start' ? 'running' : command === 'stop' ? 'idle' : 'gone';
    const res = command === 'delete' ? await f.api('DELETE', `/api/destinations/${id}`) : await f.api('POST', `/api/destinations/${id}/${command}`);
    if (res.status !== 202) throw new Error(`${command} answered ${res.status}: ${JSON.stringify(res.json)}`);
    e.wanted = e.maybe;
    delete e.maybe;
  }
}

export interface DestinationView {
  destinationId: string;
  status: string;
  desired: 'running' | 'stopped';
}

/** Where a destination stands against what was asked: null when it is where it should be. */
export function disagreement(id: string, e: Expectation, d: DestinationView | undefined): string | null {
  const now = d ? d.status : 'gone';
  const ok: string[] = [e.wanted, ...(e.maybe ? [e.maybe] : [])];
  if (!ok.includes(now)) return `${id}: ${now} (desired ${d?.desired ?? '-'}), asked for ${ok.join(' or ')}`;
  // Settled on what its own record asks for, too (a `maybe` that was taken must be finished).
  if (d && d.status !== (d.desired === 'running' ? 'running' : 'idle')) return `${id}: ${d.status} but desired ${d.desired}`;
  return null;
}

/**
 * After the restart: every destination acknowledged reaches what was asked, every destination in
 * the store reaches what its record asks for (nothing left `creating`, `starting`, `deleting`...),
 * and the validation finds no orphan and no disagreement. Polled with a deadline; returns the time
 * it took.
 */
/** Every destination, page by page (the list answers 100 at a time, ADR 0025). */
async function everyDestination(f: FanoutChild): Promise<DestinationView[]> {
  const all: DestinationView[] = [];
  let cursor: string | null = null;
  do {
    const page = (await f.api('GET', `/api/destinations${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`)).json as { destinations: DestinationView[]; nextCursor: string | null };
    all.push(...page.destinations);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

export async function allReachWanted(f: FanoutChild, ledger: Ledger, timeoutMs = 60_000): Promise<number> {
  const t0 = Date.now();
  let last = '';
  try {
    await f.until(
      async () => {
        const list = await everyDestination(f);
        const byId = new Map(list.map((d) => [d.destinationId, d]));
        const problems: string[] = [];
        for (const [id, e] of ledger.expected) {
          const p = disagreement(id, e, byId.get(id));
          if (p) problems.push(p);
        }
        for (const d of list) {
          if (ledger.expected.has(d.destinationId)) continue;
          // Created by a request the crash cut short: it exists, so it must settle.
          const p = disagreement(d.destinationId, { wanted: d.desired === 'running' ? 'running' : 'idle' }, d);
          if (p) problems.push(`(unacknowledged) ${p}`);
        }
        if (problems.length === 0) {
          const v = (await f.api('GET', '/api/channels/validate')).json;
          if (v.orphans.length + v.mismatches.length > 0) problems.push(`validate: ${JSON.stringify({ orphans: v.orphans, mismatches: v.mismatches })}`);
        }
        last = problems.join('\n');
        return problems.length === 0;
      },
      'every destination to reach what was asked for',
      timeoutMs,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\nstill wrong:\n${last}\n--- child output (tail):\n${f.output().slice(-4000)}`);
  }
  return Date.now() - t0;
}
