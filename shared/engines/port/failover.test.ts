/** The failover rules (failover.ts) on a fake clock: each rule of the table in its header, step by step. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FailoverController, type LastMedia, failoverSwitchDetail } from './failover.ts';
import type { FailoverSettings } from './ports.ts';

const AUTO: FailoverSettings = { mode: 'automatic', inputLossThresholdMs: 1000, errorClearTimeMs: 10_000, slateTimeoutMs: 60_000 };

/** A controller, a clock, and what each input delivers: `feed(name)` = delivering now, `cut(name)` = last media now. */
function rig(settings: FailoverSettings = AUTO, backup = true) {
  const c = new FailoverController(settings);
  let now = 1_000_000;
  const live = { main: false, backup: false };
  const last: LastMedia = { main: null, backup: null };
  const log: string[] = [];
  const step = (ms = 0): string[] => {
    const out: string[] = [];
    // Ticks of 50 ms, as the local engine does.
    const end = now + ms;
    for (let more = true; more; ) {
      for (const n of ['main', 'backup'] as const) if (live[n] && (n === 'main' || backup)) last[n] = now;
      for (const s of c.observe(now, { ...last })) out.push(`${s.switch.from}>${s.switch.to}:${s.switch.reason}`);
      more = now < end;
      now = Math.min(end, now + 50);
    }
    log.push(...out);
    return out;
  };
  return {
    c,
    step,
    log,
    now: () => now,
    feed: (n: 'main' | 'backup') => {
      live[n] = true;
    },
    cut: (n: 'main' | 'backup') => {
      live[n] = false;
    },
  };
}

test('the first input that delivers becomes active without a switch; the main wins when both do', () => {
  const r = rig();
  assert.deepEqual(r.step(500), []);
  assert.equal(r.c.active, null);
  r.feed('backup');
  r.feed('main');
  assert.deepEqual(r.step(), []);
  assert.equal(r.c.active, 'main');
  assert.equal(r.c.lastSwitch, null);
});

test('input loss after inputLossThresholdMs, not before; revert after errorClearTimeMs of clean main', () => {
  const r = rig();
  r.feed('main');
  r.feed('backup');
  r.step();
  r.cut('main');
  assert.deepEqual(r.step(950), [], 'within the threshold');
  assert.deepEqual(r.step(100), ['main>backup:input-loss']);
  r.feed('main');
  r.step(5000);
  r.cut('main'); // a break longer than the loss threshold restarts the clean time
  r.step(1100);
  r.feed('main');
  assert.deepEqual(r.step(9900), []);
  assert.deepEqual(r.step(200), ['backup>main:recovered']);
  assert.equal(r.c.active, 'main');
});

test('automatic and revertive: a manual switch to the backup holds for errorClearTimeMs, then the clean main returns', () => {
  const r = rig();
  r.feed('main');
  r.feed('backup');
  r.step(20_000);
  assert.equal(r.c.manual('backup', r.now())?.switch.reason, 'manual');
  assert.deepEqual(r.step(9900), []);
  assert.deepEqual(r.step(200), ['backup>main:recovered']);
});

test('non-revertive: stays on the backup; back to the main only when the backup is lost', () => {
  const r = rig({ ...AUTO, errorClearTimeMs: null });
  r.feed('main');
  r.feed('backup');
  r.step();
  r.cut('main');
  r.step(1100);
  r.feed('main');
  assert.deepEqual(r.step(60_000), []);
  assert.equal(r.c.active, 'backup');
  r.cut('backup');
  assert.deepEqual(r.step(1100), ['backup>main:input-loss']);
});

test('slate when nothing delivers, its stop time, the timeout once, and the real feed back (main first)', () => {
  const r = rig({ ...AUTO, slateTimeoutMs: 5000 });
  r.feed('main');
  r.step();
  r.cut('main');
  assert.deepEqual(r.step(1100), ['main>slate:input-loss']);
  const slate = r.c.slate;
  assert.ok(slate);
  assert.equal(Date.parse(slate.stopsAt) - Date.parse(slate.since), 5000);
  assert.equal(r.c.nextDueAt(), Date.parse(slate.stopsAt));
  r.c.setSettings({ ...AUTO, slateTimeoutMs: 6000 });
  assert.equal(Date.parse(r.c.slate!.stopsAt) - Date.parse(slate.since), 6000, 'new settings move the stop time');
  assert.deepEqual(r.step(3000), []);
  assert.deepEqual(r.step(3100), ['slate>slate:slate-timeout']);
  assert.ok(r.c.slateTimedOut);
  assert.deepEqual(r.step(3000), [], 'the timeout is reported once');
  r.feed('backup');
  r.feed('main');
  assert.deepEqual(r.step(), ['slate>main:recovered']);
  assert.equal(r.c.slate, null);
});

test('no backup configured: the main lost goes to the slate; it returns without an operator', () => {
  const r = rig(AUTO, false);
  r.feed('main');
  r.feed('backup'); // an encoder there, but the backup is not configured: never delivers
  r.step();
  r.cut('main');
  assert.deepEqual(r.step(1100), ['main>slate:input-loss']);
  r.feed('main');
  assert.deepEqual(r.step(), ['slate>main:recovered']);
});

test('manual mode: a lost input goes to the slate, never to the other; only the lost input returns by itself; the operator switches', () => {
  const r = rig({ ...AUTO, mode: 'manual' });
  r.feed('main');
  r.feed('backup');
  r.step();
  r.cut('main');
  assert.deepEqual(r.step(1100), ['main>slate:input-loss']);
  const sw = r.c.manual('backup', r.now());
  assert.equal(sw?.switch.reason, 'manual');
  assert.equal(r.c.manual('backup', r.now()), null, 'already active');
  r.feed('main');
  assert.deepEqual(r.step(20_000), [], 'no revert in manual mode');
  r.c.manual('main', r.now());
  r.cut('main');
  assert.deepEqual(r.step(1100), ['main>slate:input-loss']);
  r.feed('main');
  assert.deepEqual(r.step(), ['slate>main:recovered']);
  assert.deepEqual(r.log, ['main>slate:input-loss', 'main>slate:input-loss', 'slate>main:recovered']);
});

test('settings apply from the next look; reset forgets the active input; the native detail', () => {
  const r = rig();
  r.feed('main');
  r.feed('backup');
  r.step();
  r.c.setSettings({ ...AUTO, inputLossThresholdMs: 200 });
  r.cut('main');
  assert.deepEqual(r.step(250), ['main>backup:input-loss']);
  const last = r.c.lastSwitch;
  assert.ok(last);
  assert.deepEqual(failoverSwitchDetail({ switch: last, slateStopsAt: null }, 'automatic'), {
    previous_source: 'main',
    current_source: 'backup',
    reason: 'input-loss',
    switched_at: last.at,
    failover_mode: 'automatic',
    slate_stops_at: null,
  });
  r.c.reset();
  assert.equal(r.c.active, null);
  assert.equal(r.c.nextDueAt(), null);
});
