/**
 * The data dir holds the database and the secrets: a pre-existing one with loose permissions (a
 * `mkdir data` is 0755) is tightened to 0700 at start, and the reason is logged; one that belongs
 * to another user is refused (docs/security.md, "Secrets on the machine").
 */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DataDirError, prepareDataDir } from '../shared/runtimes/local/data-dir.ts';
import { startTestRuntime } from './support/local.ts';

const mode = (p: string): number => statSync(p).mode & 0o777;

test('a data dir made 0755 beforehand is 0700 once Fanout has started, and the log says why', async () => {
  const parent = mkdtempSync(join(tmpdir(), 'fanout-datadir-'));
  const dataDir = join(parent, 'data');
  mkdirSync(dataDir, { mode: 0o755 });
  chmodSync(dataDir, 0o755); // whatever the umask made of it
  assert.equal(mode(dataDir), 0o755);
  const logs: string[] = [];
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    logs.push(String(chunk));
    return writeErr(chunk as string, ...(rest as []));
  }) as typeof process.stderr.write;
  let rt: Awaited<ReturnType<typeof startTestRuntime>>;
  try {
    rt = await startTestRuntime({}, { dataDir, inMemory: false });
  } finally {
    process.stderr.write = writeErr;
  }
  try {
    assert.equal(mode(dataDir), 0o700);
    const line = logs.find((l) => l.includes('data dir permissions tightened'));
    assert.ok(line, 'logged');
    assert.match(line, /0755/);
    assert.match(line, /other local users must not read them/);
  } finally {
    await rt.close();
    rmSync(parent, { recursive: true, force: true });
  }
});

test("prepareDataDir: creates 0700, leaves a private one alone, tightens 0750, refuses another user's", () => {
  const parent = mkdtempSync(join(tmpdir(), 'fanout-datadir-'));
  try {
    const fresh = join(parent, 'fresh');
    assert.deepEqual(prepareDataDir(fresh), { tightenedFrom: null });
    assert.equal(mode(fresh), 0o700);
    assert.deepEqual(prepareDataDir(fresh), { tightenedFrom: null });
    const group = join(parent, 'group');
    mkdirSync(group);
    chmodSync(group, 0o750);
    assert.deepEqual(prepareDataDir(group), { tightenedFrom: '0750' });
    assert.equal(mode(group), 0o700);
    if (process.getuid?.() === 0) {
      // As root: a directory of another user (nobody) is refused, and left as it was.
      const theirs = join(parent, 'theirs');
      mkdirSync(theirs, { mode: 0o755 });
      chownSync(theirs, 65534, 65534);
      assert.throws(
        () => prepareDataDir(theirs),
        (e: unknown) => e instanceof DataDirError && e.code === 'DATA_DIR_NOT_OURS' && /belongs to uid 65534/.test(e.message),
      );
      assert.equal(statSync(theirs).uid, 65534);
    }
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});
