/**
 * Test launcher: Node 20's `node --test` cannot glob TypeScript files, so this finds every
 * `*.test.ts` under the given roots (default: everything) and hands them to node's test runner
 * with tsx as the loader. Usage: `tsx test/run.ts [dir-or-file ...]`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const SKIP = new Set(['node_modules', '.git', 'data', '.serverless', '.esbuild', 'dist']);

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

const roots = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('--'));
const files: string[] = [];
for (const root of roots.length > 0 ? roots : ['shared', 'services', 'events', 'contracts', 'test']) collect(root, files);
files.sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', ...passThrough, ...files],
  // The AWS SDK's notice that its 2027 releases need Node 22 is noise in test output.
  { stdio: 'inherit', env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } },
);
process.exit(result.status ?? 1);
