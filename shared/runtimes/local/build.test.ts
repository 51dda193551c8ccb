import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { buildLocal, localHandlerFiles, nodeFlags, registrationModule } from './build.ts';
import { loadServerlessConfig, repoRoot } from './serverless-config.ts';

test('the registration module names every handler file serverless.yml wires locally', () => {
  const files = localHandlerFiles();
  const w = loadServerlessConfig();
  for (const fn of [...w.sqsFunctions, ...w.scheduledFunctions, ...w.httpApiFunctions]) assert.ok(files.includes(fn.handler.file), fn.name);
  const mod = registrationModule(files);
  for (const f of files) assert.ok(mod.includes(`bundledHandlers.set(${JSON.stringify(f)}`), f);
});

test('a bundle runs on plain node and resolves every handler from itself', { timeout: 60_000 }, async () => {
  const { outfile, handlers } = await buildLocal({ entry: 'shared/runtimes/local/fixtures/bundle-probe.ts', outfile: `.build/test-build-${process.pid}/probe.mjs` });
  try {
    assert.ok(handlers >= 8);
    // No TypeScript loader: a handler imported from its .ts file would fail (ERR_UNKNOWN_FILE_EXTENSION).
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
