import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { buildLocal, nodeFlags } from './build.ts';
import { repoRoot } from './serverless-config.ts';

test('a bundle runs on plain node and resolves every handler from itself', { timeout: 60_000 }, async () => {
  const { outfile } = await buildLocal({ entry: 'shared/runtimes/local/fixtures/bundle-probe.ts', outfile: `.build/test-build-${process.pid}/probe.mjs` });
  try {
    // No TypeScript loader: a handler that was not bundled would fail to import (ERR_UNKNOWN_FILE_EXTENSION).
    const out = JSON.parse(execFileSync(process.execPath, [outfile], { cwd: '/', env: { PATH: process.env.PATH }, encoding: 'utf8' })) as { repoRoot: string; found: Record<string, string> };
    assert.equal(out.repoRoot, repoRoot, 'the bundle finds the repository from its own location');
    assert.ok(Object.keys(out.found).length >= 8);
    for (const [name, kind] of Object.entries(out.found)) assert.equal(kind, 'function', name);
  } finally {
    rmSync(dirname(outfile), { recursive: true, force: true });
  }
  assert.ok(!existsSync(outfile));
});

test('this node accepts every flag the bundle runs with (a node without one would not start Fanout)', () => {
  const flags = nodeFlags();
  assert.ok(flags.includes('--heap-growing-percent=100') && flags.includes('--no-memory-reducer'), flags.join(' '));
  // Node exits 9 "bad option" on a flag it does not know.
  assert.equal(execFileSync(process.execPath, [...flags, '-p', '1'], { encoding: 'utf8' }).trim(), '1');
});
