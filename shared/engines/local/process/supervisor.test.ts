import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { afterEach, mock, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitFor } from './fixtures/wait-for.ts';
import { isAlive, readCmdline } from './proc.ts';
import { IllegalTransitionError, ProcessSupervisor, type StateChange, type SupervisorOptions, type SupervisorState, TRANSITIONS } from './supervisor.ts';

const FAKE = fileURLToPath(new URL('./fixtures/fake-ffmpeg.mjs', import.meta.url));
const stderrFixture = (name: string): string => fileURLToPath(new URL(`./fixtures/stderr/${name}.txt`, import.meta.url));
const KEY = 'live_SECRETKEY_0123456789';
const DEST = `rtmp://127.0.0.1:1935/app/${KEY}`;
/** Fast but realistic policy: 50 ms, 100 ms, 200 ms, 400 ms …; 300 ms of running is stable. */
const FAST = { initialIntervalMs: 50, backoffCoefficient: 2, maximumIntervalMs: 400, resetAfterStableMs: 300 };

const live: ProcessSupervisor[] = [];
const tmpDirs: string[] = [];
afterEach(async () => {
  mock.timers.reset();
  await Promise.all(live.splice(0).map((s) => s.stop()));
  for (const d of tmpDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'fanout-supervisor-'));
  tmpDirs.push(d);
  return d;
}

/** A supervisor around the fake FFmpeg, recording every event it emits. */
function fake(flags: string[], options: Partial<SupervisorOptions> = {}) {
  const sup = new ProcessSupervisor({
    name: 'dest-1',
    binary: process.execPath,
    argv: [FAKE, ...flags, DEST],
    secrets: [KEY],
    progressFd: 3,
    retry: FAST,
    stopGraceMs: 2000,
    stallTimeoutMs: 2000,
    ...options,
  });
  live.push(sup);
  const states: StateChange[] = [];
  const events: unknown[] = [];
  sup.on('state', (e) => {
    states.push(e);
    events.push(e);
  });
  sup.on('exit', (e) => events.push(e));
  sup.on('log', (e) => events.push(e));
  sup.on('progress', (e) => events.push(e));
  return { sup, states, events, path: () => states.map((s) => s.to) };
}

/** Nothing a supervisor shows may contain the stream key. */
function assertNoSecret(sup: ProcessSupervisor, events: unknown[] = []): void {
  const shown = JSON.stringify({ status: sup.status(), log: sup.logTail(), events });
  assert.ok(!shown.includes(KEY), 'the stream key leaked');
  assert.doesNotMatch(shown, /SECRET\d/, 'a fixture stream key leaked');
}

const grandchildPid = (sup: ProcessSupervisor): number | null => {
  const line = sup.logTail().find((l) => l.startsWith('fake-ffmpeg: grandchild pid '));
  return line ? Number(line.split(' ').at(-1)) : null;
};

test('the comment above TRANSITIONS lists exactly the legal transitions', () => {
  const source = readFileSync(fileURLToPath(new URL('./supervisor.ts', import.meta.url)), 'utf8');
  const documented = new Set([...source.matchAll(/^ \*\s+(\w+)\s+→\s+(\w+)\s{2,}/gm)].map((m) => `${m[1]}→${m[2]}`));
  const coded = new Set(Object.entries(TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => `${from}→${to}`)));
  assert.deepEqual([...documented].sort(), [...coded].sort());
  const err = new IllegalTransitionError('idle', 'running');
  assert.equal(err.code, 'ILLEGAL_TRANSITION');
  assert.match(err.message, /idle → running/);
});

test('clean start and stop: running on first progress, SIGINT, exit 255 counts as clean', async () => {
  const { sup, events, path } = fake([]);
  sup.start();
  assert.equal(sup.status().state, 'starting');
  assert.equal(sup.status().desired, 'running');
  const running = await waitFor('running', () => sup.status().state === 'running' && sup.status());
  assert.ok(running.pid && isAlive(running.pid));
  assert.ok((running.progress?.frame ?? 0) > 0);
  // No shell: the process is the program itself (setpriv exec'd into it), in its own group.
  assert.deepEqual(readCmdline(running.pid), [process.execPath, FAKE, DEST]);
  assert.deepEqual(running.command, [process.execPath, FAKE, 'rtmp://127.0.0.1:1935/app/***']);
  await waitFor('more progress', () => (sup.status().progress?.frame ?? 0) >= 50);

  await sup.stop();
  const st = sup.status();
  assert.equal(st.state, 'idle');
  assert.equal(st.desired, 'stopped');
  assert.equal(st.pid, null);
  assert.equal(st.lastError, null);
  assert.deepEqual({ ...st.lastExit, at: 0, runMs: 0 }, { pid: running.pid, code: 255, signal: null, at: 0, runMs: 0, cause: 'stop', clean: true });
  assert.equal(isAlive(running.pid), false);
  assert.deepEqual(path(), ['starting', 'running', 'stopping', 'idle']);
  assert.ok(sup.logTail().includes('Exiting normally, received signal 2.'));
  assertNoSecret(sup, events);
});

test('a child that ignores SIGINT is SIGKILLed after the grace period', async () => {
  const { sup } = fake(['--ignore-sigint'], { stopGraceMs: 300 });
  sup.start();
  await waitFor('running', () => sup.status().state === 'running');
  const t0 = Date.now();
  await sup.stop();
  const elapsed = Date.now() - t0;
  assert.ok(elapsed >= 290, `stopped after ${elapsed} ms, before the grace period`);
  const exit = sup.status().lastExit!;
  assert.equal(exit.signal, 'SIGKILL');
  assert.equal(exit.cause, 'stop-escalated');
  assert.equal(exit.clean, false);
  assert.equal(sup.status().state, 'idle');
  assert.ok(sup.logTail().includes('fake-ffmpeg: ignoring SIGINT'));
});

test('a crash is retried with growing delays, and every exit is recorded', async () => {
  // A run of the fake (a node process) lasts as long as node takes to start: on a loaded machine
  // more than FAST's 300 ms, which would count as stable and reset the attempts.
  const { sup, states, path } = fake(['--mode=crash', '--blocks=1', '--code=1', `--stderr=${stderrFixture('rtmp-connection-refused')}`], { retry: { ...FAST, resetAfterStableMs: 10_000 } });
  const exits: number[] = [];
  sup.on('exit', (e) => exits.push(e.code ?? -1));
  sup.start();
  await waitFor('three retries', () => sup.status().restarts >= 3, { timeoutMs: 8000 });
  await sup.stop();

  const backoffs = states.filter((s) => s.to === 'backoff');
  assert.deepEqual(
    backoffs.slice(0, 3).map((s) => s.status.attempt),
    [1, 2, 3],
  );
  // nextRetryAt is set a moment before the event's `at`, so the gap is the delay minus that moment.
  const delays = backoffs.slice(0, 3).map((s) => (s.status.nextRetryAt ?? 0) - s.at);
  for (const [i, expected] of [50, 100, 200].entries()) {
    assert.ok(delays[i]! <= expected && delays[i]! > expected - 25, `delay ${i + 1}: ${delays[i]} ms, expected ${expected}`);
  }
  // The next start waits for the delay.
  const restart = states[states.indexOf(backoffs[1]!) + 1]!;
  assert.equal(restart.to, 'starting');
  assert.ok(restart.at >= backoffs[1]!.status.nextRetryAt!, `restarted ${backoffs[1]!.status.nextRetryAt! - restart.at} ms early`);
  // Each run reached running (its one progress block) before crashing; under heavy load the exit
  // can be read before that block, so only the retry cycle itself is asserted strictly.
  assert.deepEqual(
    path()
      .filter((s) => s !== 'running')
      .slice(0, 4),
    ['starting', 'backoff', 'starting', 'backoff'],
  );
  assert.ok(path().includes('running'));
  assert.ok(exits.length >= 3 && exits.slice(0, 3).every((c) => c === 1), `exit codes ${exits}`);
  const err = backoffs[0]!.status.lastError!;
  assert.equal(err.code, 'RTMP_CONNECTION_REFUSED');
  assert.equal(err.retryable, true);
  assert.equal(backoffs[0]!.status.lastExit?.cause, 'unexpected');
});

test('a stable run resets the backoff to the initial interval', async () => {
  const counter = join(tmp(), 'runs');
  // Runs 1-3 crash after ~100 ms; run 4 stays up ~1 s (> resetAfterStableMs 500) then crashes.
  const { sup, states } = fake(['--mode=crash', `--counter=${counter}`, '--blocks=1,1,1,10', '--interval=100'], {
    retry: { ...FAST, resetAfterStableMs: 500 },
  });
  sup.start();
  await waitFor('run 4 running', () => sup.status().restarts === 3 && sup.status().state === 'running', { timeoutMs: 8000 });
  assert.equal(sup.status().attempt, 3);
  await waitFor('attempt reset while running', () => sup.status().attempt === 0 && sup.status().state === 'running', { timeoutMs: 3000 });
  await waitFor('run 4 crashed', () => states.filter((s) => s.to === 'backoff').length >= 4, { timeoutMs: 3000 });
  await sup.stop();
  const backoffs = states.filter((s) => s.to === 'backoff');
  assert.deepEqual(backoffs.map((s) => s.status.attempt).slice(0, 4), [1, 2, 3, 1]);
  const fourth = backoffs[3]!;
  const delay = (fourth.status.nextRetryAt ?? 0) - fourth.at;
  assert.ok(delay <= 50 && delay > 25, `back to the initial interval, got ${delay} ms`);
});

for (const mode of ['stall', 'frozen'] as const) {
  test(`the stall watchdog kills and restarts a child whose progress stops (${mode})`, async () => {
    const { sup, states } = fake([`--mode=${mode}`, '--blocks=2'], { stallTimeoutMs: 300 });
    sup.start();
    await waitFor('a watchdog kill', () => sup.status().lastExit?.cause === 'watchdog', { timeoutMs: 5000 });
    const afterKill = states.find((s) => s.to === 'backoff')!.status;
    assert.equal(afterKill.lastError?.code, 'INPUT_STALLED');
    assert.equal(afterKill.lastExit?.code, 255); // it got SIGINT, and obeyed
    assert.equal(afterKill.lastExit?.clean, false);
    await waitFor('restarted and running', () => sup.status().restarts >= 1 && sup.status().state === 'running');
    const path = states.map((s) => s.to);
    assert.deepEqual(path.slice(0, 6), ['starting', 'running', 'stopping', 'backoff', 'starting', 'running']);
  });
}

test('a child that never produces progress is killed by the start watchdog', async () => {
  // Progress goes to fd 3 but the supervisor listens on fd 4: nothing ever arrives.
  const { sup } = fake([], { progressFd: 4, startTimeoutMs: 300 });
  sup.start();
  await waitFor('start timeout', () => sup.status().lastError?.code === 'START_TIMEOUT', { timeoutMs: 5000 });
  assert.equal(sup.status().lastExit?.cause, 'watchdog');
});

test('a rejected stream key stops retrying after a few attempts, says so, and leaks nothing', async () => {
  const { sup, events } = fake(['--mode=exit', '--code=1', `--stderr=${stderrFixture('rtmp-on-publish-403')}`]);
  sup.start();
  const failed = await waitFor('failed', () => sup.status().state === 'failed' && sup.status(), { timeoutMs: 5000 });
  assert.equal(failed.lastError?.code, 'RTMP_STREAM_KEY_REJECTED');
  assert.equal(failed.lastError?.retryable, false);
  assert.match(failed.lastError!.message, /rtmp:\/\/127\.0\.0\.1:19350\/auth\/\*\*\*: Input\/output error/);
  assert.equal(failed.attempt, 3);
  assert.equal(failed.restarts, 2);
  assert.equal(failed.nextRetryAt, null);
  assert.equal(failed.pid, null);
  assert.match(failed.giveUpReason!, /RTMP_STREAM_KEY_REJECTED is not retryable; gave up after it happened 3 times in a row/);
  assert.equal(failed.desired, 'running');
  assertNoSecret(sup, events);

  // The owner fixes the key and asks again: a fresh count.
  sup.start();
  assert.equal(sup.status().state, 'starting');
  assert.equal(sup.status().attempt, 0);
  assert.equal(sup.status().lastError, null);
  await waitFor('failed again', () => sup.status().state === 'failed', { timeoutMs: 5000 });
  await sup.stop();
  assert.equal(sup.status().state, 'idle');
});

test('stop() cancels a pending retry (fake timers, default 1 s policy)', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  const { sup, path } = fake(['--mode=exit', '--code=1'], { retry: {} });
  sup.start();
  await waitFor('backoff', () => sup.status().state === 'backoff');
  assert.equal(sup.status().nextRetryAt, Date.now() + 1000);
  await sup.stop();
  assert.equal(sup.status().state, 'idle');
  assert.equal(sup.status().nextRetryAt, null);
  mock.timers.tick(120_000);
  assert.equal(sup.status().state, 'idle');
  assert.equal(sup.status().restarts, 0);
  assert.deepEqual(path(), ['starting', 'backoff', 'idle']);
});

test('without stop(), the retry fires exactly after its delay (fake timers)', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  const { sup } = fake(['--mode=exit', '--code=1'], { retry: {} });
  sup.start();
  await waitFor('backoff', () => sup.status().state === 'backoff');
  mock.timers.tick(999);
  assert.equal(sup.status().state, 'backoff');
  mock.timers.tick(1);
  assert.equal(sup.status().state, 'starting');
  assert.equal(sup.status().restarts, 1);
  await waitFor('second backoff', () => sup.status().state === 'backoff');
  assert.equal(sup.status().nextRetryAt, Date.now() + 2000);
  await sup.stop();
});

test('retryNow() starts a process waiting in backoff at once, with a fresh count; never one its owner stopped', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
  const { sup, path } = fake(['--mode=exit', '--code=1'], { retry: {} });
  assert.equal(sup.retryNow(), false, 'idle: nothing to retry');
  sup.start();
  await waitFor('backoff', () => sup.status().state === 'backoff');
  mock.timers.tick(1000);
  await waitFor('second backoff', () => sup.status().state === 'backoff' && sup.status().restarts === 1);
  assert.equal(sup.status().attempt, 2);
  assert.equal(sup.retryNow(), true);
  assert.equal(sup.status().state, 'starting');
  assert.equal(sup.status().restarts, 0, 'a fresh start');
  assert.equal(sup.status().nextRetryAt, null, 'the pending retry is cancelled');
  await waitFor('backoff again', () => sup.status().state === 'backoff');
  assert.equal(sup.status().attempt, 1, 'the failure count started over');
  // Stopped by its owner, it stays stopped: a kick that comes later starts nothing.
  await sup.stop();
  assert.equal(sup.retryNow(), false);
  mock.timers.tick(120_000);
  assert.equal(sup.status().state, 'idle');
  assert.deepEqual(path(), ['starting', 'backoff', 'starting', 'backoff', 'starting', 'backoff', 'idle']);
});

test('kill -9 of the child is noticed, its group is swept and it is restarted', async () => {
  const { sup } = fake(['--grandchild']);
  sup.start();
  const first = await waitFor('running', () => sup.status().state === 'running' && sup.status());
  const grandchild = await waitFor('grandchild pid', () => grandchildPid(sup));
  assert.ok(isAlive(grandchild));
  process.kill(first.pid!, 'SIGKILL');
  await waitFor('exit recorded', () => sup.status().lastExit?.signal === 'SIGKILL');
  const exit = sup.status().lastExit!;
  assert.equal(exit.cause, 'unexpected');
  assert.equal(exit.code, null);
  assert.equal(sup.status().lastError?.code, 'UNKNOWN');
  assert.match(sup.status().lastError!.message, /killed by SIGKILL/);
  await waitFor('grandchild gone', () => !isAlive(grandchild));
  const again = await waitFor('running again', () => sup.status().state === 'running' && sup.status());
  assert.notEqual(again.pid, first.pid);
  assert.equal(again.restarts, 1);
});

test('stop() takes the whole process group down, including a grandchild that ignores SIGINT', async () => {
  const { sup } = fake(['--grandchild']);
  sup.start();
  await waitFor('running', () => sup.status().state === 'running');
  const grandchild = await waitFor('grandchild pid', () => grandchildPid(sup));
  assert.ok(isAlive(grandchild));
  await sup.stop();
  assert.equal(sup.status().lastExit?.clean, true);
  await waitFor('grandchild gone', () => !isAlive(grandchild), { timeoutMs: 2000 });
});

test('an exit with code 0 nobody asked for is a failure too (FFmpeg exits 0 when its SRT input drops)', async () => {
  const { sup } = fake(['--mode=crash', '--blocks=1', '--code=0', `--stderr=${stderrFixture('srt-ffmpeg-input-lost')}`]);
  sup.start();
  await waitFor('backoff', () => sup.status().state === 'backoff');
  assert.equal(sup.status().lastExit?.code, 0);
  assert.equal(sup.status().lastError?.code, 'INPUT_STALLED');
});

test('without a progress pipe the child counts as running once spawned', async () => {
  const { sup, path } = fake([], { progressFd: null });
  sup.start();
  await waitFor('running', () => sup.status().state === 'running');
  assert.equal(sup.status().progress, null);
  await sup.stop();
  assert.deepEqual(path(), ['starting', 'running', 'stopping', 'idle']);
});

test('a missing binary fails at once with SPAWN_FAILED', () => {
  const sup = new ProcessSupervisor({ binary: 'no-such-ffmpeg-binary', argv: [DEST], secrets: [KEY] });
  live.push(sup);
  sup.start();
  const st = sup.status();
  assert.equal(st.state, 'failed');
  assert.equal(st.lastError?.code, 'SPAWN_FAILED');
  assert.equal(st.giveUpReason, 'the binary cannot be executed');
  assertNoSecret(sup);
});

test('the pidfile exists while the child runs, holds no secret, and is removed after it exits', async () => {
  const pidDir = tmp();
  const { sup, events } = fake([], { pidDir });
  sup.start();
  const st = await waitFor('running', () => sup.status().state === 'running' && sup.status());
  const files = readdirSync(pidDir);
  assert.deepEqual(files, [`${st.pid}.json`]);
  const text = readFileSync(join(pidDir, files[0]!), 'utf8');
  assert.ok(!text.includes(KEY));
  const record = JSON.parse(text);
  assert.equal(record.pid, st.pid);
  assert.equal(record.pgid, st.pid);
  assert.equal(record.ownerPid, process.pid);
  assert.deepEqual(record.command, st.command);
  await sup.stop();
  assert.deepEqual(readdirSync(pidDir), []);
  assertNoSecret(sup, events);
});

test('stop() during a watchdog kill or while starting ends in idle; start() during stopping restarts', async () => {
  const { sup, path } = fake([]);
  sup.start();
  const stopping = sup.stop(); // while starting
  await stopping;
  assert.equal(sup.status().state, 'idle');
  assert.deepEqual(path(), ['starting', 'stopping', 'idle']);

  sup.start();
  await waitFor('running', () => sup.status().state === 'running');
  const pending = sup.stop();
  sup.start(); // changes its mind before the exit
  await pending;
  await waitFor('running again', () => sup.status().state === 'running');
  assert.deepEqual(path().slice(3), ['starting', 'running', 'stopping', 'starting', 'running']);
});

const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;

test('real ffmpeg: progress through pipe:3, SIGINT stop exits 255 and counts as clean', { skip: !hasFfmpeg && 'ffmpeg not installed' }, async () => {
  const sup = new ProcessSupervisor({
    name: 'real-ffmpeg',
    binary: 'ffmpeg',
    argv: ['-hide_banner', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25', '-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'null', '-', '-progress', 'pipe:3', '-nostats'],
    progressFd: 3,
  });
  live.push(sup);
  sup.start();
  await waitFor('real progress', () => (sup.status().progress?.frame ?? 0) > 10, { timeoutMs: 5000 });
  assert.equal(sup.status().state, 'running');
  await sup.stop();
  assert.deepEqual([sup.status().lastExit?.code, sup.status().lastExit?.cause], [255, 'stop']);
});

test('real ffmpeg: a refused RTMP connection is classified, with the key redacted', { skip: !hasFfmpeg && 'ffmpeg not installed' }, async () => {
  const sup = new ProcessSupervisor({
    name: 'real-refused',
    binary: 'ffmpeg',
    argv: ['-hide_banner', '-nostdin', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25', '-c:v', 'libx264', '-f', 'flv', `rtmp://127.0.0.1:1/app/${KEY}`, '-progress', 'pipe:3'],
    secrets: [KEY],
    progressFd: 3,
    retry: FAST,
  });
  live.push(sup);
  const seen: SupervisorState[] = [];
  sup.on('state', (e) => seen.push(e.to));
  sup.start();
  await waitFor('backoff', () => sup.status().state === 'backoff', { timeoutMs: 5000 });
  const err = sup.status().lastError!;
  assert.equal(err.code, 'RTMP_CONNECTION_REFUSED');
  assert.match(err.message, /rtmp:\/\/127\.0\.0\.1:1\/app\/\*\*\*/);
  assert.deepEqual(seen.slice(0, 2), ['starting', 'backoff']); // never ran
  assertNoSecret(sup);
});

const hasSlt = spawnSync('srt-live-transmit', ['-version']).status === 0;

test('real srt-live-transmit + ffmpeg: a wrong SRT passphrase fails the caller, never the listener, and leaks nowhere', { skip: !(hasFfmpeg && hasSlt) && 'ffmpeg or srt-live-transmit not installed' }, async () => {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const good = 'correcthorse_SECRET_battery';
  const wrong = 'wrongpass_SECRET_staple';
  // srt-live-transmit prints its URL, passphrase included, on stderr when it starts.
  const listener = new ProcessSupervisor({
    name: 'contribution',
    binary: 'srt-live-transmit',
    argv: [`srt://:${port}?mode=listener&passphrase=${good}`, `udp://127.0.0.1:${port + 1}`],
    secrets: [good],
  });
  live.push(listener);
  listener.start();
  await waitFor('listener up', () => listener.status().state === 'running' && listener.logTail().some((l) => l.startsWith('Media path')));
  assert.ok(
    listener.logTail().some((l) => l.includes('passphrase=***')),
    listener.logTail().join('\n'),
  );

  const caller = new ProcessSupervisor({
    name: 'contributor',
    binary: 'ffmpeg',
    argv: ['-hide_banner', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25', '-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'mpegts', `srt://127.0.0.1:${port}?passphrase=${wrong}`, '-progress', 'pipe:3'],
    secrets: [wrong],
    progressFd: 3,
    retry: FAST,
  });
  live.push(caller);
  caller.start();
  const failed = await waitFor('caller failed', () => caller.status().state === 'failed' && caller.status(), { timeoutMs: 10_000 });
  assert.equal(failed.lastError?.code, 'SRT_PASSPHRASE_REJECTED');
  assert.equal(failed.attempt, 3);
  assert.equal(listener.status().state, 'running', 'a bad caller must not take the listener down');
  assert.ok(listener.logTail().some((l) => /Incorrect passphrase/.test(l)));

  await listener.stop();
  assert.deepEqual([listener.status().lastExit?.code, listener.status().lastExit?.cause], [0, 'stop']); // srt-live-transmit exits 0 on SIGINT
  const shown = JSON.stringify([listener.status(), listener.logTail(), caller.status(), caller.logTail()]);
  assert.ok(!shown.includes(good) && !shown.includes(wrong), 'a passphrase leaked');
});

test("stdout 'stream': each launch hands out its stdout raw (media, not log lines)", async () => {
  const sup = new ProcessSupervisor({
    name: 'mux',
    binary: process.execPath,
    argv: ['-e', 'process.stdout.write(Buffer.from([0x46, 0x4c, 0x56, 0x0a, 0x01])); setTimeout(() => process.exit(1), 150)'],
    progressFd: null,
    stdout: 'stream',
    retry: FAST,
  });
  live.push(sup);
  const got: Buffer[][] = [];
  sup.on('stdout', ({ stream }) => {
    const chunks: Buffer[] = [];
    got.push(chunks);
    stream.on('data', (c: Buffer) => chunks.push(c));
  });
  sup.start();
  await waitFor('two launches with output', () => got.length >= 2 && got.every((c) => Buffer.concat(c).length === 5));
  assert.deepEqual([...Buffer.concat(got[0] ?? [])], [0x46, 0x4c, 0x56, 0x0a, 0x01]);
  assert.ok(!sup.logTail().some((l) => l.includes('FLV')), 'stdout is not logged');
});

test("stdin 'stream': each launch gets its own stdin, and a stop closes it (a child blocked reading it exits at once)", async () => {
  // Like FFmpeg reading pipe:0: SIGINT does not interrupt its blocked read, EOF does.
  const child = "process.on('SIGINT', () => {}); let n = 0; process.stdin.on('data', (c) => { n += c.length; process.stderr.write('got ' + n + '\\n'); }); process.stdin.on('end', () => process.exit(255));";
  const sup = new ProcessSupervisor({ name: 'reader', binary: process.execPath, argv: ['-e', child], progressFd: null, stdin: 'stream', stopGraceMs: 5000, retry: FAST });
  live.push(sup);
  const stdins: Writable[] = [];
  sup.on('stdin', ({ stream }) => stdins.push(stream));
  sup.start();
  await waitFor('running with a stdin', () => sup.status().state === 'running' && stdins.length === 1);
  stdins[0]?.write(Buffer.alloc(1000, 1));
  await waitFor('the child read it', () => sup.logTail().includes('got 1000'));
  const t0 = Date.now();
  await sup.stop();
  assert.ok(Date.now() - t0 < 2000, `stopped in ${Date.now() - t0} ms, not after the grace period`);
  assert.deepEqual([sup.status().lastExit?.code, sup.status().lastExit?.cause], [255, 'stop']);
  assert.equal(stdins[0]?.destroyed, true);
  // Writing to the dead child's stdin is harmless: no unhandled 'error'.
  stdins[0]?.write(Buffer.alloc(10));
  sup.start();
  await waitFor('a second launch, a fresh stdin', () => sup.status().state === 'running' && stdins.length === 2);
  assert.notEqual(stdins[1], stdins[0]);
  assert.equal(stdins[1]?.destroyed, false);
});

test('a child that exits on its own has its stdin destroyed; writes to it are swallowed', async () => {
  const sup = new ProcessSupervisor({ name: 'quitter', binary: process.execPath, argv: ['-e', 'setTimeout(() => process.exit(3), 100)'], progressFd: null, stdin: 'stream', retry: FAST });
  live.push(sup);
  const stdins: Writable[] = [];
  sup.on('stdin', ({ stream }) => stdins.push(stream));
  sup.start();
  const first = await waitFor('first stdin', () => stdins[0]);
  const writer = setInterval(() => first.write(Buffer.alloc(188)), 5);
  try {
    await waitFor('it exited and was relaunched', () => sup.status().restarts >= 1 && first.destroyed, { timeoutMs: 5000 });
  } finally {
    clearInterval(writer);
  }
  assert.equal(sup.status().lastExit?.code, 3);
});

test('reportFd: the child opens /dev/fd/N by path (a FIFO), its lines are redacted report events, not log tail', async () => {
  const child = ["const fs = require('fs');", "const fd = fs.openSync('/dev/fd/3', 'w');", `fs.writeSync(fd, '{"stat":1,"url":"${DEST}"}\\n{"stat":2}\\n');`, "process.stderr.write('a log line\\n');", 'setInterval(() => {}, 1000);'].join(
    ' ',
  );
  const dir = tmp();
  const sup = new ProcessSupervisor({ name: 'reporter', binary: process.execPath, argv: ['-e', child], progressFd: null, reportFd: 3, secrets: [KEY], pidDir: dir, retry: FAST });
  live.push(sup);
  const reports: string[] = [];
  sup.on('log', (l) => {
    if (l.stream === 'report') reports.push(l.line);
  });
  sup.start();
  await waitFor('two reports', () => reports.length === 2);
  assert.deepEqual(JSON.parse(reports[1] ?? ''), { stat: 2 });
  assert.ok(reports[0]?.includes('***') && !reports[0].includes(KEY), 'redacted');
  await waitFor('the log line', () => sup.logTail().includes('a log line'));
  assert.ok(!sup.logTail().some((l) => l.includes('stat')), 'reports are not log lines');
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('fifo')),
    [],
    'the FIFO is unlinked at once',
  );
  assertNoSecret(sup, reports);
});
