/**
 * The test contribution: `fanout-srt call` running FFmpeg (test pattern and tone, see argv.ts),
 * with the passphrase written to its stdin, so that neither process has it in its argv or its
 * environment. Used by `npm run test-source` (and the CLI's `fanout test-source`), the tests'
 * feeds and the benchmarks. The returned child is the caller; FFmpeg runs in its process group
 * (signal the group to stop both) and writes its stderr to the caller's.
 */
import { type ChildProcess, spawn, type StdioOptions } from 'node:child_process';
import { testSourceArgs, type TestSourceOptions } from './argv.ts';
import { ingestBinary } from './binary.ts';

export interface SpawnTestSourceOptions extends TestSourceOptions {
  passphrase: string;
  /** stdout and stderr of the caller (and FFmpeg); default both piped. */
  output?: 'pipe' | 'ignore' | 'inherit';
  /** Lead a process group of its own (default true). */
  detached?: boolean;
  /** The `fanout-srt` program; default the repository's, built if needed. */
  binary?: string;
}

/** Starts the test source; the passphrase goes in on stdin. */
export function spawnTestSource(o: SpawnTestSourceOptions): ChildProcess {
  const built = o.binary ? { path: o.binary, problem: null } : ingestBinary();
  if (built.problem) throw new Error(built.problem);
  const out = o.output ?? 'pipe';
  const stdio: StdioOptions = ['pipe', out, out];
  const child = spawn(built.path, testSourceArgs(o), { stdio, detached: o.detached ?? true, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } });
  child.stdin?.on('error', () => undefined);
  child.stdin?.end(`${o.passphrase}\n`);
  return child;
}
