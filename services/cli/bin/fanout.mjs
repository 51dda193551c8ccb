#!/usr/bin/env node
/**
 * The `fanout` command (package.json `bin`): runs the CLI's compiled bundle with plain node,
 * building it first when it is missing or older than any file it was built from (a fresh clone,
 * a `git pull`, an edit), which takes a fraction of a second once. Checking costs a stat per
 * source file (about a millisecond).
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bundle = join(root, '.build/cli/fanout.mjs');

function stale() {
  let built;
  try {
    built = statSync(bundle).mtimeMs;
  } catch {
    return true;
  }
  try {
    const inputs = JSON.parse(readFileSync(join(root, '.build/cli/inputs.json'), 'utf8'));
    return inputs.some((f) => {
      try {
        return statSync(join(root, f)).mtimeMs > built;
      } catch {
        return true;
      }
    });
  } catch {
    return true;
  }
}

if (stale()) {
  try {
    const { buildCli } = await import('../build.mjs');
    await buildCli();
  } catch (err) {
    process.stderr.write(`fanout: cannot build the CLI (${err instanceof Error ? err.message : String(err)}).\nRun \`npm ci\` in ${root}, then \`npm run build:cli\`.\n`);
    process.exit(1);
  }
}
await import(pathToFileURL(bundle).href);
