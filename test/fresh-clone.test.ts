/**
 * The README's first command from a fresh clone: `npm start` sets up and starts Fanout. The clone
 * gets a hard-linked copy of this checkout's node_modules (nothing is downloaded at test time); the setup script sees
 * the lockfile unchanged and starts at once. (`npm test`, the second command, is what CI runs on
 * its own fresh clone.)
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually } from './support/local.ts';
import { freeUdpPort } from './support/nginx-rtmp.ts';

test('npm start works from a fresh clone and stops cleanly on Ctrl+C', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fanout-clone-'));
  const repo = join(dir, 'fanout');
  try {
    const clone = spawnSync('git', ['clone', '-q', process.cwd(), repo], { encoding: 'utf8' });
    assert.equal(clone.status, 0, clone.stderr);
    // A hard-linked copy: cheap, and whatever the clone's setup does to it cannot touch ours.
    const copy = spawnSync('cp', ['-al', join(process.cwd(), 'node_modules'), join(repo, 'node_modules')], { encoding: 'utf8' });
    assert.equal(copy.status, 0, copy.stderr);
    const child = spawn('npm', ['start'], {
      cwd: repo,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        FANOUT_PORT: '0',
        FANOUT_LOG_LEVEL: 'WARN',
        // Not the default 9998: other tests and a running Fanout may hold it.
        FANOUT_SRT_PORT: String(await freeUdpPort()),
        FANOUT_SRT_HOST: '127.0.0.1',
        // No backup listener: the default 9999 would collide between parallel runs.
        FANOUT_SRT_BACKUP_PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    let url = '';
    try {
      url = await eventually(() => out.match(/Fanout is running at (http:\/\/\S+)/)?.[1], { timeoutMs: 60_000, what: `start-up (output so far: ${out})` });
      assert.match(out, /Admin token \(shown only this once/);
      const token = out.match(/\n\s+(fo_[A-Za-z0-9_-]{20,})\n/)?.[1];
      assert.ok(token, 'the generated admin token is printed');
      const health = await fetch(`${url}/api/health`);
      assert.equal(health.status, 200);
      const list = await fetch(`${url}/api/destinations`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(list.status, 200);
      assert.deepEqual(await list.json(), { destinations: [], nextCursor: null });
    } finally {
      process.kill(-child.pid!, 'SIGINT');
    }
    // npm itself dies of the SIGINT; Fanout (its child) must stop cleanly and close its port.
    const { code, signal } = await exited;
    assert.ok(code === 0 || signal === 'SIGINT', `exit ${code} ${signal}`);
    await eventually(() => out.includes('SIGINT: stopping Fanout'), { what: 'shutdown message' });
    await eventually(
      async () =>
        fetch(`${url}/api/health`).then(
          () => false,
          () => true,
        ),
      { what: 'the port to close' },
    );
    assert.doesNotMatch(out, /failed|Error:/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
