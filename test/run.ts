/**
 * Test launcher: Node 20's `node --test` cannot glob TypeScript files, so this finds every
 * `*.test.ts` under the given roots (default: everything) and hands them to node's test runner
 * with tsx as the loader. Usage: `tsx test/run.ts [--unit] [dir-or-file ...]`.
 *
 * `--unit` (`npm run test:unit`) is the fast loop: the tests beside the code (shared/, services/,
 * events/, contracts/) without media. It leaves out test/ (the cross-service tests: whole runtimes
 * on dynalite, bundles, crash and load tests, test/e2e/ with real media and Chromium) and every
 * file whose header carries the `@media` tag (it needs FFmpeg, ffprobe, srt-live-transmit, nginx
 * or Chromium), and it makes sure the rest really needs none: the media binaries on PATH are
 * replaced by stubs that fail loudly, and `FANOUT_TEST_UNIT=1` makes test/support/browser.ts
 * refuse to launch Chromium. A test that needs media and is not tagged fails there, naming the
 * tag; one that probes for FFmpeg first (`spawnSync('ffmpeg', ['-version'])`) skips its media part.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { delimiter, join, relative, sep } from 'node:path';

const SKIP = new Set(['node_modules', '.git', 'data', '.serverless', '.esbuild', 'dist']);
/** The tag a media test carries in its header comment (a line ` * @media …`). */
const MEDIA_TAG = /^\s*(?:\/\*\*|\*)\s*@media\b/m;
/** Folders left out of a unit run: the cross-service tests (test/e2e/ among them). */
const NOT_UNIT_DIRS = ['test/'];
/** What a unit run must not start. */
const MEDIA_BINARIES = ['ffmpeg', 'ffprobe', 'srt-live-transmit', 'nginx', 'chromium'];

function collect(path: string, out: string[]): void {
  const st = statSync(path);
  if (st.isFile()) {
    if (path.endsWith('.test.ts')) out.push(path);
    return;
  }
  for (const entry of readdirSync(path)) {
    if (SKIP.has(entry)) continue;
    collect(join(path, entry), out);
  }
}

/** Whether a test file belongs to a unit run: beside the code, and not tagged `@media` in its header. */
function isUnit(file: string): boolean {
  const posix = relative(process.cwd(), file).split(sep).join('/');
  if (NOT_UNIT_DIRS.some((d) => posix.startsWith(d))) return false;
  return !MEDIA_TAG.test(readFileSync(file, 'utf8').slice(0, 4000));
}

const args = process.argv.slice(2);
const unit = args.includes('--unit');
const roots = args.filter((a) => !a.startsWith('--'));
const passThrough = args.filter((a) => a.startsWith('--') && a !== '--unit');
let files: string[] = [];
for (const root of roots.length > 0 ? roots : ['shared', 'services', 'events', 'contracts', 'test']) collect(root, files);
files.sort();
if (unit) files = files.filter(isUnit);
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

// The AWS SDK's notice that its 2027 releases need Node 22 is noise in test output.
const env: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
let stubs: string | undefined;
if (unit) {
  stubs = mkdtempSync(join(tmpdir(), 'fanout-unit-'));
  for (const bin of MEDIA_BINARIES) {
    const p = join(stubs, bin);
    writeFileSync(p, `#!/bin/sh\necho "npm run test:unit: a test ran ${bin}; tag its file @media (test/run.ts)" >&2\nexit 127\n`);
    chmodSync(p, 0o755);
  }
  env.PATH = `${stubs}${delimiter}${env.PATH ?? ''}`;
  env.FANOUT_TEST_UNIT = '1';
}
const started = Date.now();
// Media tests share the machine's encoders and ports: one file at a time. Unit files need neither,
// and most of their time is Node and tsx starting: as many at once as there are cores.
const concurrency = passThrough.some((a) => a.startsWith('--test-concurrency')) ? [] : [`--test-concurrency=${unit ? Math.max(2, availableParallelism()) : 1}`];
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...concurrency, ...passThrough, ...files], { stdio: 'inherit', env });
if (stubs) rmSync(stubs, { recursive: true, force: true });
if (unit) console.error(`test:unit: ${files.length} files in ${((Date.now() - started) / 1000).toFixed(1)} s (media and cross-service tests: npm test)`);
process.exit(result.status ?? 1);
