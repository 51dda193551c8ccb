/**
 * Builds the dashboards (Vite) into `.build/dashboard/`, the folder the local runtime serves and
 * the one uploaded to S3 on AWS. Incremental: a digest of every input (the app's sources, its
 * Vite configuration and the lockfile) is kept beside the output, and a build whose inputs did not
 * change is skipped (a few milliseconds), so `npm start` rebuilds only after an edit or an update.
 *
 *   tsx services/dashboard/build.ts [--force] [--out .build/dashboard]
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const REPO = resolve(HERE, '../..');
/** Where `npm start` builds the dashboards and the local runtime serves them from. */
export const DASHBOARD_OUT = join(REPO, '.build/dashboard');
const DIGEST_FILE = '.inputs-sha256';

/** Files whose change means a new build: the app (not its Node tests), its config, the lockfile. */
function inputs(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (!name.endsWith('.test.ts')) files.push(p);
    }
  };
  for (const d of ['src', 'public']) if (existsSync(join(HERE, d))) walk(join(HERE, d));
  files.push(join(HERE, 'index.html'), join(HERE, 'vite.config.ts'), join(HERE, 'site.ts'), join(REPO, 'package-lock.json'));
  return files;
}

/** The digest of every input's path and content. */
export function inputDigest(): string {
  const h = createHash('sha256');
  for (const f of inputs()) {
    h.update(relative(REPO, f));
    h.update('\0');
    h.update(readFileSync(f));
    h.update('\0');
  }
  return h.digest('hex');
}

export interface DashboardBuild {
  outDir: string;
  /** False when the inputs were unchanged and the previous build was kept. */
  built: boolean;
  ms: number;
}

/** Builds the dashboards unless the output is up to date with its inputs (or `force`). */
export async function buildDashboard(o: { outDir?: string; force?: boolean } = {}): Promise<DashboardBuild> {
  const t0 = performance.now();
  const outDir = resolve(o.outDir ?? DASHBOARD_OUT);
  const digest = inputDigest();
  const digestPath = join(outDir, DIGEST_FILE);
  const upToDate = existsSync(join(outDir, 'index.html')) && existsSync(digestPath) && readFileSync(digestPath, 'utf8') === digest;
  if (upToDate && !o.force) return { outDir, built: false, ms: Math.round(performance.now() - t0) };
  // Imported here: a skipped build does not pay for loading Vite.
  const { build } = await import('vite');
  await build({ configFile: join(HERE, 'vite.config.ts'), build: { outDir, emptyOutDir: true } });
  writeFileSync(digestPath, digest);
  return { outDir, built: true, ms: Math.round(performance.now() - t0) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const i = process.argv.indexOf('--out');
  const r = await buildDashboard({ force: process.argv.includes('--force'), ...(i > 0 ? { outDir: process.argv[i + 1] } : {}) });
  process.stderr.write(`fanout: dashboards ${r.built ? 'built' : 'up to date'} in ${relative(process.cwd(), r.outDir) || '.'} (${r.ms} ms)\n`);
}
