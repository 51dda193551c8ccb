/**
 * Where the SRT ingest program (`fanout-srt`, built from `fanout-srt.c` beside this file against
 * Debian's libsrt, see ADR 0020) lives, and building it: `<repo>/.build/native/fanout-srt`.
 * `npm run setup` (shared/runtimes/local/setup.sh) builds it; `ingestBinary()` builds it again when
 * it is missing or older than its source (a fresh checkout, a changed source), so the engine and the
 * tests never run a stale one. Built into a temporary file and renamed: several processes may
 * build at once. Needs `cc` and libsrt-gnutls-dev (setup installs them).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE_IN_REPO = 'shared/engines/local/engine/ingest/fanout-srt.c';
export const INGEST_BINARY_IN_REPO = '.build/native/fanout-srt';

/** The checkout this module (or the bundle that contains it) is in. */
function repoRoot(): string | null {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, SOURCE_IN_REPO))) return dir;
    if (dirname(dir) === dir) return null;
  }
}

const mtime = (p: string): number | null => {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return null;
  }
};

/** The compiler command line (also what setup.sh runs). */
export function ingestBuildArgs(source: string, out: string): string[] {
  return ['-O2', '-Wall', '-Wextra', '-o', out, source, '-lsrt-gnutls', '-lpthread'];
}

/**
 * The path of a current `fanout-srt`, built if needed.
 * @returns the path, and why it could not be built (the path may then not exist)
 */
export function ingestBinary(): { path: string; problem: string | null } {
  const root = repoRoot();
  if (!root) return { path: 'fanout-srt', problem: `no Fanout checkout around ${fileURLToPath(import.meta.url)} (${SOURCE_IN_REPO})` };
  const source = join(root, SOURCE_IN_REPO);
  const out = join(root, INGEST_BINARY_IN_REPO);
  const built = mtime(out);
  if (built !== null && built >= (mtime(source) ?? 0)) return { path: out, problem: null };
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const r = spawnSync('cc', ingestBuildArgs(source, tmp), { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    const why = r.error ? r.error.message : (r.stderr || `cc exited ${r.status}`).trim().split('\n').slice(-3).join(' ');
    return { path: out, problem: `cannot build ${INGEST_BINARY_IN_REPO} (needs cc and libsrt-gnutls-dev: run npm run setup): ${why}` };
  }
  renameSync(tmp, out);
  return { path: out, problem: null };
}
