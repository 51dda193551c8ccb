/**
 * Crash safety under load, the way it was found failing (issue 11: 5 of 57 destinations created
 * in the last second before a kill -9 stayed `creating` for good): ~50 destinations created at
 * once, a third of them started and some deleted as soon as they are acknowledged, and the
 * process SIGKILLed once half of the creations are acknowledged, with the rest of the requests
 * and every saga in flight. After a restart on the same data dir every destination reaches what
 * was asked (or, for a request the crash cut short, what its record asks for), within a deadline.
 * Once on an engine that outlives the crash (as AWS's media services do) and once on one that
 * dies with it (as the local engine's processes do).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { allReachWanted, ChildDied, FanoutChild, Ledger, removeChildBundle } from './support/crash.ts';

const COUNT = 50;
const KILL_AFTER_ACKNOWLEDGED = 25;

after(removeChildBundle);

for (const engine of ['memory-persisted', 'memory'] as const) {
  test(`${engine}: kill -9 while ${COUNT} destinations are being created, started and deleted; after a restart all reach what was asked`, { timeout: 240_000 }, async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fanout-crash-load-'));
    const ledger = new Ledger();
    let f = await FanoutChild.start({ dataDir, engine });
    try {
      let acknowledged = 0;
      const outcomes = await Promise.allSettled(
        Array.from({ length: COUNT }, async (_, i) => {
          const id = await ledger.create(f, { name: `Load ${i}`, platform: i % 2 ? 'youtube' : 'twitch', streamKey: `live_crash_load_${i}_0123456789abcdef` });
          if (++acknowledged === KILL_AFTER_ACKNOWLEDGED) f.child.kill('SIGKILL'); // mid-way: half the creations still in flight
          if (i % 3 === 0) await ledger.command(f, id, 'start');
          if (i % 7 === 0) await ledger.command(f, id, 'delete');
        }),
      );
      await f.exited;
      for (const o of outcomes) if (o.status === 'rejected') assert.ok(o.reason instanceof ChildDied, `only the crash cut requests short: ${String(o.reason)}`);
      assert.ok(ledger.expected.size >= KILL_AFTER_ACKNOWLEDGED, 'half were acknowledged before the kill');
      assert.equal(f.exitStatus?.signal, 'SIGKILL');

      f = await FanoutChild.start({ dataDir, engine });
      const ms = await allReachWanted(f, ledger, 120_000);
      const list = (await f.api('GET', '/api/destinations')).json.destinations as unknown[];
      t.diagnostic(`${ledger.expected.size} acknowledged, ${list.length} in the store after the restart; all where they should be ${ms} ms after the restart served`);
    } finally {
      await f.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
}
