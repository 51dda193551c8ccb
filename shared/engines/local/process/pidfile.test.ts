import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitFor } from './fixtures/wait-for.ts';
import { hashArgv, type PidRecord, readPidfiles, reapOrphans, removePidfile, selfStartTicks, writePidfile } from './pidfile.ts';
import { isAlive, readCmdline, readProcStat } from './proc.ts';

const CONTROL_PLANE = fileURLToPath(new URL('./fixtures/control-plane.ts', import.meta.url));
const SLEEPER = ['-e', 'setInterval(() => {}, 1000)'];

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanup.splice(0).reverse()) fn();
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'fanout-pidfile-'));
  cleanup.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function killLater(pid: number | null | undefined): void {
  cleanup.push(() => {
    try {
      if (pid) process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  });
}

/** A pid that existed and has exited: an owner that crashed. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid!;
}

/** A detached process group of our own, like the supervisor makes. */
function sleeper(): ChildProcess {
  const c = spawn(process.execPath, SLEEPER, { detached: true, stdio: 'ignore' });
  killLater(c.pid);
  return c;
}

function record(over: Partial<PidRecord> & { pid: number }): PidRecord {
  return {
    version: 1,
    name: 'dest-x',
    pgid: over.pid,
    startedAt: Date.now(),
    startTicks: readProcStat(over.pid)?.startTicks ?? null,
    argvHash: hashArgv([process.execPath, ...SLEEPER]),
    command: ['node', '…'],
    ownerPid: deadPid(),
    ownerStartTicks: null,
    ...over,
  };
}

/** Starts fixtures/control-plane.ts and waits for the pids of its fake FFmpeg and grandchild. */
async function crashingControlPlane(pidDir: string, pdeath: 'SIGKILL' | 'none') {
  const cp = spawn(process.execPath, ['--import', 'tsx', CONTROL_PLANE, pidDir, pdeath], { stdio: ['ignore', 'pipe', 'inherit'] });
  killLater(cp.pid);
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: cp.stdout! }).once('line', resolve);
    cp.once('exit', (code) => reject(new Error(`control plane exited ${code}`)));
  });
  const pids = JSON.parse(first) as { pid: number; grandchild: number };
  killLater(pids.pid);
  killLater(pids.grandchild);
  return { cp, ...pids };
}

test('hashArgv matches what /proc/<pid>/cmdline shows', () => {
  const c = sleeper();
  const cmdline = readCmdline(c.pid!);
  assert.deepEqual(cmdline, [process.execPath, ...SLEEPER]);
  assert.equal(hashArgv(cmdline!), hashArgv([process.execPath, ...SLEEPER]));
  assert.notEqual(hashArgv(['a', 'bc']), hashArgv(['ab', 'c']));
});

test('records round-trip; malformed files are reported and removed', async () => {
  const dir = tmp();
  const r = record({ pid: 123_456 });
  writePidfile(dir, r);
  writeFileSync(join(dir, '999.json'), '{not json');
  const all = readPidfiles(dir);
  assert.deepEqual(all.find((x) => x.path.endsWith('123456.json'))?.record, r);
  assert.equal(all.find((x) => x.path.endsWith('999.json'))?.record, null);
  const results = await reapOrphans(dir);
  assert.deepEqual(results.map((x) => x.outcome).sort(), ['already-gone', 'unreadable']);
  assert.deepEqual(readdirSync(dir), []);
  removePidfile(dir, 1); // absent: no error
});

test('reapOrphans leaves a pid alone whose command line no longer matches', async () => {
  const dir = tmp();
  const c = sleeper();
  writePidfile(dir, record({ pid: c.pid!, argvHash: hashArgv(['ffmpeg', '-i', 'something-else']) }));
  const [result] = await reapOrphans(dir, { graceMs: 100 });
  assert.equal(result?.outcome, 'not-ours');
  assert.ok(isAlive(c.pid!), 'an unrelated process was killed');
  assert.deepEqual(readdirSync(dir), [], 'the stale record is removed');
});

test('reapOrphans leaves a pid alone that was reused (start time differs)', async () => {
  const dir = tmp();
  const c = sleeper();
  writePidfile(dir, record({ pid: c.pid!, startTicks: (readProcStat(c.pid!)?.startTicks ?? 0) - 1 }));
  const [result] = await reapOrphans(dir, { graceMs: 100 });
  assert.equal(result?.outcome, 'not-ours');
  assert.ok(isAlive(c.pid!));
});

test('reapOrphans keeps the records of a control plane that is still running', async () => {
  const dir = tmp();
  const c = sleeper();
  writePidfile(dir, record({ pid: c.pid!, ownerPid: process.pid, ownerStartTicks: selfStartTicks() }));
  const [result] = await reapOrphans(dir);
  assert.equal(result?.outcome, 'owner-alive');
  assert.ok(isAlive(c.pid!));
  assert.equal(readdirSync(dir).length, 1);
});

test('reapOrphans kills a matching orphan group: SIGINT first, SIGKILL for what ignores it', async () => {
  const dir = tmp();
  // Leader and a member of its group that ignores SIGINT.
  const leader = spawn(process.execPath, ['-e', "require('child_process').spawn(process.execPath, ['-e', \"process.on('SIGINT',()=>{});setInterval(()=>{},1000)\"], {stdio:'ignore'}); setInterval(()=>{},1000)"], {
    detached: true,
    stdio: 'ignore',
  });
  killLater(leader.pid);
  const member = await waitFor('group member', () => {
    const m = readdirSync('/proc')
      .filter((e) => /^\d+$/.test(e))
      .map(Number)
      .find((p) => p !== leader.pid && readProcStat(p)?.pgrp === leader.pid);
    return m;
  });
  killLater(member);
  writePidfile(dir, record({ pid: leader.pid!, argvHash: hashArgv(readCmdline(leader.pid!)!) }));
  const [result] = await reapOrphans(dir, { graceMs: 200 });
  assert.equal(result?.outcome, 'killed');
  assert.equal(isAlive(leader.pid!), false);
  assert.equal(isAlive(member), false);
  assert.deepEqual(readdirSync(dir), []);
});

test('control plane killed -9: setpriv kills the child at once; reapOrphans sweeps what is left of its group', async () => {
  const dir = tmp();
  const { cp, pid, grandchild } = await crashingControlPlane(dir, 'SIGKILL');
  assert.ok(isAlive(pid) && isAlive(grandchild));
  assert.equal(readPidfiles(dir).length, 1);
  cp.kill('SIGKILL');
  await waitFor('child killed by its parent-death signal', () => !isAlive(pid));
  // The grandchild had no parent-death signal of its own: it is an orphan in the old group.
  assert.ok(isAlive(grandchild), 'grandchild expected to survive the crash');
  const [result] = await reapOrphans(dir, { graceMs: 200 });
  assert.equal(result?.outcome, 'killed');
  assert.equal(isAlive(grandchild), false);
  assert.deepEqual(readdirSync(dir), []);
});

test('control plane killed -9 without a parent-death signal: the next start-up reaps the whole group', async () => {
  const dir = tmp();
  const { cp, pid, grandchild } = await crashingControlPlane(dir, 'none');
  cp.kill('SIGKILL');
  await waitFor('control plane dead', () => cp.exitCode !== null || cp.signalCode !== null);
  assert.ok(isAlive(pid), 'without setpriv the child outlives the control plane');
  const [record] = readPidfiles(dir);
  assert.equal(record?.record?.pid, pid);
  assert.ok(!JSON.stringify(record).includes('crash_SECRET_key_123456'), 'the pidfile holds a secret');
  const [result] = await reapOrphans(dir, { graceMs: 1000 });
  assert.equal(result?.outcome, 'killed');
  assert.equal(isAlive(pid), false);
  assert.equal(isAlive(grandchild), false);
});
