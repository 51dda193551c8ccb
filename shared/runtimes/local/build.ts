/**
 * Compiles the local runtime (or another entry that starts it, like the bench) into one ES module
 * under `.build/`, the way serverless-esbuild compiles each Lambda: `npm start` runs that bundle
 * with plain `node`. Running from source through tsx costs about half a percent of a core all the
 * time (its loader thread and esbuild service), as much as nginx-rtmp's whole fan-out of a feed to
 * 10 destinations; the bundle costs nothing at rest and starts faster.
 *
 * The services' handlers reach the runtime by static imports (shared/runtimes/local/services/), so
 * the bundle holds every one of them. npm packages stay external (resolved from node_modules at
 * run time, like `packages: external` on Lambda).
 *
 * Run as a command it also builds the dashboards (services/dashboard/build.ts: Vite, into
 * `.build/dashboard/`, which the runtime serves at / and /admin), skipped in milliseconds when
 * their sources did not change; `--no-dashboard` leaves them out.
 *
 *   tsx shared/runtimes/local/build.ts [--entry shared/runtimes/local/main.ts] [--out .build/local/main.mjs] [--no-dashboard]
 */
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { repoRoot } from './serverless-config.ts';

export interface BuildOptions {
  /** Entry file, relative to the repository. */
  entry?: string;
  /** Output file, relative to the repository. */
  outfile?: string;
}

export const DEFAULT_ENTRY = 'shared/runtimes/local/main.ts';

/**
 * The flags of every `node` that runs a bundle (`shared/runtimes/local/node-flags`, which the npm
 * scripts read too): V8 garbage-collector settings for the media path (ADR 0011).
 */
export function nodeFlags(): string[] {
  return readFileSync(resolve(repoRoot, 'shared/runtimes/local/node-flags'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}
export const DEFAULT_OUTFILE = '.build/local/main.mjs';

/** Builds the bundle; returns its absolute path. */
export async function buildLocal(o: BuildOptions = {}): Promise<{ outfile: string; ms: number }> {
  const t0 = performance.now();
  const entry = resolve(repoRoot, o.entry ?? DEFAULT_ENTRY);
  const outfile = resolve(repoRoot, o.outfile ?? DEFAULT_OUTFILE);
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    // Some packages are CommonJS and call require(): give the ES module bundle one.
    banner: { js: "import { createRequire as __fanoutCreateRequire } from 'node:module'; const require = __fanoutCreateRequire(import.meta.url);" },
    outfile,
    logLevel: 'warning',
  });
  return { outfile, ms: Math.round(performance.now() - t0) };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const r = await buildLocal({ entry: arg('--entry'), outfile: arg('--out') });
  process.stderr.write(`fanout: built ${relative(process.cwd(), r.outfile)} (${r.ms} ms)\n`);
  if (!process.argv.includes('--no-dashboard')) {
    const { buildDashboard } = await import('../../../services/dashboard/build.ts');
    const d = await buildDashboard();
    process.stderr.write(`fanout: dashboards ${d.built ? 'built' : 'up to date'} in ${relative(process.cwd(), d.outDir)} (${d.ms} ms)\n`);
  }
}
