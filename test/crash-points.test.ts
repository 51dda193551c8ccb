/**
 * Crash safety, tested the way it fails: Fanout runs in a child process and is SIGKILLed for real
 * at each point between a write and the publication of the event that write produced (its crash
 * point, `killBeforePublish`), for every such event of every service; then it is restarted on the
 * same data dir and every destination must reach the state it was asked for (created → idle,
 * started → running, deleted → gone) within a deadline, with `GET /api/channels/validate` finding
 * nothing wrong. Every point runs on an engine that outlives the crash (`memory-persisted`, as
 * MediaLive and MediaConnect outlive a Lambda on AWS: the stricter case, where nothing is
 * re-created and every lost event must be made up for); the points whose repair re-creates
 * resources run on one that dies with it too (`memory`, as the local engine's FFmpegs do), and
 * the first of them on the production AWS engine over the in-memory AWS (`aws-fake`). Two crash
 * cases run at a time.
 *
 * Which of them failed before the fix (ADR 0016): FlowOutputAdded on every engine (the reported
 * "stuck in creating"), ChannelStateChanged IDLE / STARTING / RUNNING / STOPPING on the engine that
 * outlives the crash. The others passed already (the destination's outbox, the reconciles'
 * existing repairs) and guard those.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { allReachWanted, ChildDied, FanoutChild, Ledger, removeChildBundle, type ChildEngine, type CrashPoint } from './support/crash.ts';

const body = (name: string) => ({ name, platform: 'youtube', streamKey: `yt-crash-${name}-0123456789abcdef` });

async function status(f: FanoutChild, id: string): Promise<string> {
  const res = await f.api('GET', `/api/destinations/${id}`);
  return res.status === 404 ? 'gone' : (res.json.status as string);
}
const reaches = (f: FanoutChild, id: string, want: string) => f.until(async () => (await status(f, id)) === want, `${id} ${want}`);

/**
 * Every step of the saga once, each waited for: create (A), start (B), delete (C), start while
 * creating (D), stop (E), update (A). Any of them may be where the crash point fires.
 */
async function saga(f: FanoutChild, ledger: Ledger): Promise<void> {
  const createIdle = async (name: string) => {
    const id = await ledger.create(f, body(name));
    await reaches(f, id, 'idle');
    return id;
  };
  const command = async (id: string, c: 'start' | 'stop' | 'delete', then: string) => {
    await ledger.command(f, id, c);
    await reaches(f, id, then);
  };
  const a = await createIdle('A');
  await command(await createIdle('B'), 'start', 'running');
  await command(await createIdle('C'), 'delete', 'gone');
  await command(await ledger.create(f, body('D')), 'start', 'running');
  const e = await createIdle('E');
  await command(e, 'start', 'running');
  await command(e, 'stop', 'idle');
  const put = await f.api('PUT', `/api/destinations/${a}`, { preset: 'youtube-720p30-mobile' });
  assert.equal(put.status, 200, JSON.stringify(put.json));
  await f.until(async () => (await f.api('GET', `/api/destinations/${a}`)).json.preset === 'youtube-720p30-mobile', 'A updated');
}

/**
 * Every event published after a write, by service (ChannelReclaimed: its own scenario below);
 * `lost` marks those whose repair re-creates what an engine that died with the process lost.
 */
const POINTS: [service: string, point: CrashPoint, lost?: 'also on an engine that dies'][] = [
  ['destination', { detailType: 'DestinationCreated' }],
  ['destination', { detailType: 'DestinationStatusChanged', data: { from: 'creating', to: 'idle' } }],
  ['destination', { detailType: 'DestinationStartRequested' }],
  ['destination', { detailType: 'DestinationStatusChanged', data: { from: 'starting', to: 'running' } }],
  ['destination', { detailType: 'DestinationStopRequested' }],
  ['destination', { detailType: 'DestinationDeleteRequested' }],
  ['destination', { detailType: 'DestinationDeleted' }],
  ['destination', { detailType: 'DestinationUpdated' }],
  ['flow-output', { detailType: 'FlowOutputAdded' }, 'also on an engine that dies'],
  ['flow-output', { detailType: 'FlowOutputRemoved' }, 'also on an engine that dies'],
  ['channel-provisioner', { detailType: 'ChannelStateChanged', data: { state: 'CREATING' } }],
  ['channel-provisioner', { detailType: 'ChannelStateChanged', data: { state: 'IDLE' } }],
  ['channel-provisioner', { detailType: 'ChannelStateChanged', data: { state: 'STARTING' } }],
  ['channel-provisioner', { detailType: 'ChannelStateChanged', data: { state: 'RUNNING' } }, 'also on an engine that dies'],
  ['channel-provisioner', { detailType: 'ChannelStateChanged', data: { state: 'STOPPING' } }],
  ['channel-provisioner', { detailType: 'ChannelStateChanged', data: { state: 'DELETED' } }],
  ['channel-provisioner', { detailType: 'ChannelDeleted' }, 'also on an engine that dies'],
];

const label = (p: CrashPoint) =>
  `${p.detailType}${
    p.data
      ? ` (${Object.entries(p.data)
          .map(([k, v]) => `${k} ${String(v)}`)
          .join(', ')})`
      : ''
  }`;

/** Runs `script` on a child armed with `point` until the point kills it, restarts, and checks the outcome. */
async function crashAndRecover(o: { engine: ChildEngine; point: CrashPoint; env?: Record<string, string>; script: (f: FanoutChild, l: Ledger) => Promise<void>; after?: (f: FanoutChild, l: Ledger) => Promise<void> }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'fanout-crash-'));
  const ledger = new Ledger();
  let f = await FanoutChild.start({ dataDir, engine: o.engine, point: o.point, ...(o.env ? { env: o.env } : {}) });
  try {
    await o.script(f, ledger).catch((err: unknown) => {
      if (!(err instanceof ChildDied)) throw new Error(`${(err as Error).message}\n--- child output (tail):\n${f.output().slice(-6000)}`);
    });
    assert.ok(!f.alive, `the crash point ${label(o.point)} was never reached`);
    assert.equal(f.exitStatus?.signal, 'SIGKILL', `killed by its crash point: ${f.output().slice(-2000)}`);
    f = await FanoutChild.start({ dataDir, engine: o.engine, ...(o.env ? { env: o.env } : {}) });
    await allReachWanted(f, ledger);
    await o.after?.(f, ledger);
  } finally {
    await f.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

after(removeChildBundle);

describe('a crash between a write and its event', { concurrency: 2 }, () => {
  for (const engine of ['memory-persisted', 'memory'] as const) {
    for (const [service, point, lost] of POINTS) {
      if (engine === 'memory' && !lost) continue;
      test(`${engine}: ${service} killed between a write and ${label(point)}: after a restart every destination reaches what was asked`, { timeout: 150_000 }, () => crashAndRecover({ engine, point, script: saga }));
    }

    test(`${engine}: channel-provisioner killed at ChannelReclaimed (idle reclaim): the destination stays idle and still starts`, { timeout: 150_000 }, () =>
      crashAndRecover({
        engine,
        point: { detailType: 'ChannelReclaimed' },
        // 0.01 min of idle time; the reconcile runs every 6 s at the children's time scale.
        env: { FANOUT_IDLE_CHANNEL_RECLAIM_MINUTES: '0.01' },
        script: async (f, ledger) => {
          const r = await ledger.create(f, body('R'));
          await reaches(f, r, 'idle');
          await f.until(async () => (await f.api('GET', `/api/destinations/${r}`)).json.channelReclaimed === true, 'R reclaimed', 60_000);
        },
        after: async (f, ledger) => {
          const [r] = [...ledger.expected.keys()];
          await ledger.command(f, r!, 'start');
          await allReachWanted(f, ledger);
        },
      }),
    );
  }

  // The production AWS engine (its MediaConnect input is the destination's output, ADR 0007) over
  // the in-memory AWS, which dies with the process.
  test('aws-fake: flow-output killed between a write and FlowOutputAdded: after a restart every destination reaches what was asked', { timeout: 150_000 }, () =>
    crashAndRecover({ engine: 'aws-fake', point: { detailType: 'FlowOutputAdded' }, script: saga }),
  );
});
