/**
 * Test support: runs the `fanout` CLI as a person or a script would, through its bin
 * (services/cli/bin/fanout.mjs on plain node, which runs the compiled bundle), with a private
 * HOME and XDG_CONFIG_HOME and no inherited FANOUT_* variables. Every output is kept, so a test
 * can check at the end that no token or stream key was ever written.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const CLI_BIN = resolve(import.meta.dirname, '../../services/cli/bin/fanout.mjs');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliRunner {
  /** The private HOME (and XDG_CONFIG_HOME under it unless overridden). */
  home: string;
  env: Record<string, string>;
  /** Every output of every run (stdout + stderr), for secret scans. */
  outputs: string[];
  run(args: string[], o?: { env?: Record<string, string | undefined>; input?: string; timeoutMs?: number }): Promise<CliResult>;
  /** Starts a long-running command (events, test-source); read `out()`, stop it with a signal. */
  spawn(args: string[], o?: { env?: Record<string, string | undefined>; detached?: boolean }): { child: ChildProcess; out(): string; err(): string; exited: Promise<CliResult> };
}

export function cliRunner(base: Record<string, string> = {}): CliRunner {
  const home = mkdtempSync(join(tmpdir(), 'fanout-cli-home-'));
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: home, XDG_CONFIG_HOME: join(home, 'xdg'), ...base };
  const outputs: string[] = [];
  const envFor = (extra: Record<string, string | undefined> = {}): Record<string, string> => {
    const e: Record<string, string | undefined> = { ...env, ...extra };
    return Object.fromEntries(Object.entries(e).filter((kv): kv is [string, string] => kv[1] !== undefined));
  };
  const start = (args: string[], o: { env?: Record<string, string | undefined>; detached?: boolean } = {}) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { env: envFor(o.env), stdio: ['pipe', 'pipe', 'pipe'], detached: o.detached ?? false });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<CliResult>((resolveExit) =>
      child.on('close', (code, signal) => {
        outputs.push(stdout, stderr);
        resolveExit({ code, signal, stdout, stderr });
      }),
    );
    return { child, out: () => stdout, err: () => stderr, exited };
  };
  return {
    home,
    env,
    outputs,
    async run(args, o = {}) {
      const p = start(args, o);
      p.child.stdin!.end(o.input ?? '');
      const timer = setTimeout(() => p.child.kill('SIGKILL'), o.timeoutMs ?? 30_000);
      const r = await p.exited;
      clearTimeout(timer);
      return r;
    },
    spawn(args, o = {}) {
      const p = start(args, o);
      return p;
    },
  };
}

/** Parses the problem document the CLI writes on stderr with --json (its last line). */
export function problemOf(r: CliResult): Record<string, any> {
  const line = r.stderr.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as Record<string, any>;
  } catch {
    throw new Error(`no JSON problem on stderr (exit ${r.code}): ${r.stderr}\nstdout: ${r.stdout}`);
  }
}
