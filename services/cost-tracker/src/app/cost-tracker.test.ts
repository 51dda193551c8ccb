/**
 * cost-tracker's use cases on dynalite with a clock of the test's own: a session across the last
 * day of a month settled by the tick, CostSummary for that day and that month published once each,
 * and a stop nobody heard (the destination's status says idle, the tracker still has it running)
 * closed by the tick's reconcile with `endReason: reconciled`, `endEstimated`.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { ChannelStateChangedV1 } from '../../../../events/catalogue.ts';
import { buildEntry, type BusEntry } from '../../../../shared/events/publisher.ts';
import { createLogger } from '../../../../shared/logging/logger.ts';
import { ensureTables, startDynalite, type EmbeddedDynamo } from '../../../../shared/runtimes/local/dynalite.ts';
import { loadServerlessConfig } from '../../../../shared/runtimes/local/serverless-config.ts';
import { createDocumentClient, createDynamoClient } from '../../../../shared/store/dynamo.ts';
import type { CostTrackerDeps } from '../deps.ts';
import { costTrackerFor } from './build.ts';

let db: EmbeddedDynamo;
const wiring = loadServerlessConfig({ stage: 'test' });
const env = wiring.environment;
const published: BusEntry[] = [];
let clock = new Date('2026-11-30T10:00:00Z');

function deps(): CostTrackerDeps {
  const dynamo = createDynamoClient({ region: 'eu-west-1', endpoint: db.endpoint });
  return {
    doc: createDocumentClient(dynamo),
    idempotency: { client: dynamo, tableName: env.FANOUT_TABLE_IDEMPOTENCY! },
    publisher: { publish: async (e) => void published.push(...e) },
    log: createLogger('cost-tracker-test'),
    tables: { costs: env.FANOUT_TABLE_COSTS!, destinations: env.FANOUT_TABLE_DESTINATIONS!, presets: env.FANOUT_TABLE_PRESETS! },
    engine: 'aws',
    timeZone: 'Europe/Paris',
    settleMs: 15 * 60_000,
    local: { machineHourUsd: 0.1, cores: 2 },
    now: () => clock,
  };
}

const stateEvent = (destinationId: string, state: 'RUNNING' | 'IDLE', observedAt: string) => {
  const e = buildEntry(ChannelStateChangedV1, { destinationId, channelId: `ch-${destinationId.slice(0, 4)}`, state, observedAt, error: null } as never, { correlationId: 'c', occurredAt: observedAt });
  return { id: randomUUID(), source: e.Source, detailType: e.DetailType, time: observedAt, resources: [], detail: JSON.parse(e.Detail) };
};
const ofType = (t: string) => published.filter((e) => e.DetailType === t).map((e) => JSON.parse(e.Detail).data);

before(async () => {
  db = await startDynalite(undefined);
  await ensureTables(createDynamoClient({ region: 'eu-west-1', endpoint: db.endpoint }), wiring.tables);
});
after(async () => db.close());

test('a session over midnight into a new month: settled by the tick, day and month summaries once each', async () => {
  const d = deps();
  const tracker = costTrackerFor(d);
  const id = randomUUID();
  // 23:30 to 00:30 Paris time on the last night of November (22:30-23:30 UTC).
  clock = new Date('2026-11-30T22:30:00Z');
  await tracker.record(stateEvent(id, 'RUNNING', '2026-11-30T22:30:00Z'), 'c');
  clock = new Date('2026-11-30T23:30:00Z');
  await tracker.record(stateEvent(id, 'IDLE', '2026-11-30T23:30:00Z'), 'c');
  assert.equal(ofType('UsageSessionClosed').length, 0, 'not before the settle window passed');
  clock = new Date('2026-12-01T02:00:00Z');
  await tracker.tick('t');
  const closed = ofType('UsageSessionClosed').filter((x) => x.kind === 'running');
  assert.equal(closed.length, 1);
  assert.equal(closed[0].durationSeconds, 3600);

  const first = await tracker.publishSummaries('s');
  assert.deepEqual(first.sort(), ['day:2026-11-30', 'month:2026-11'], 'the finished day and month; 1 December is not over');
  assert.deepEqual(await tracker.publishSummaries('s'), [], 'once each');
  const summaries = ofType('CostSummary');
  assert.equal(summaries.length, 2);
  const day = summaries.find((x) => x.period.kind === 'day');
  const month = summaries.find((x) => x.period.kind === 'month');
  assert.equal(day.period.label, '2026-11-30');
  assert.equal(day.period.timeZone, 'Europe/Paris');
  assert.equal(month.period.label, '2026-11');
  assert.equal(month.complete, true);
  // Half the hour fell on 30 November (Paris), half on 1 December: the day has half the usage, plus the minimum's part on the day the run ended.
  assert.ok(Number(day.total) > 0 && Number(day.total) < Number(closed[0].breakdown.total), `${day.total} < ${closed[0].breakdown.total}`);
});

test('a stop nobody heard is closed by the reconcile at the tick, endEstimated', async () => {
  const d = deps();
  const tracker = costTrackerFor(d);
  const id = randomUUID();
  clock = new Date('2026-12-05T10:00:00Z');
  await tracker.record(stateEvent(id, 'RUNNING', '2026-12-05T10:00:00Z'), 'c');
  // The destination stopped while the cost-tracker heard nothing: its record says idle, for an hour now.
  await d.doc.send(new PutCommand({ TableName: d.tables.destinations, Item: { destinationId: id, name: 'Quiet', platform: 'youtube', preset: 'passthrough', status: 'idle', desired: 'stopped', lastModified: '2026-12-05T11:00:00Z' } }));
  clock = new Date('2026-12-05T12:00:00Z');
  const first = await tracker.tick('t');
  assert.equal(first.reconciled.length, 1);
  clock = new Date('2026-12-05T12:30:00Z');
  await tracker.tick('t');
  const closed = ofType('UsageSessionClosed').filter((x) => x.destinationId === id && x.kind === 'running');
  assert.equal(closed.length, 1);
  assert.equal(closed[0].endReason, 'reconciled');
  assert.equal(closed[0].endEstimated, true);
  assert.equal(closed[0].endedAt, '2026-12-05T12:00:00.000Z');
});

test("the fixed design's comparison: priced on the AWS engine; on the local engine the report says why it does not apply", async () => {
  clock = new Date('2026-12-10T12:00:00Z');
  const id = randomUUID();
  const aws = costTrackerFor(deps());
  await aws.record(stateEvent(id, 'RUNNING', '2026-12-10T10:00:00Z'), 'c');
  await aws.record(stateEvent(id, 'IDLE', '2026-12-10T11:00:00Z'), 'c');
  const onAws = await aws.report();
  assert.ok(onAws.fixedDesign, 'AWS: the same usage priced as the fixed design');
  assert.ok(Number(onAws.fixedDesign.total) > Number(onAws.fixedDesign.actual));
  assert.equal(onAws.fixedDesignNotApplicable, null);
  const future = await aws.report('2027-03');
  assert.equal(future.fixedDesign, null);
  assert.equal(future.fixedDesignNotApplicable?.reason, 'month-not-started');

  const local = costTrackerFor({ ...deps(), engine: 'local' });
  const onLocal = await local.report();
  assert.equal(onLocal.engine, 'local');
  assert.equal(onLocal.fixedDesign, null);
  assert.equal(onLocal.fixedDesignNotApplicable?.reason, 'local-engine');
  assert.match(onLocal.fixedDesignNotApplicable!.detail, /machine by the hour whether the destinations' processes run or not/);
  assert.match(onLocal.fixedDesignNotApplicable!.detail, /AWS engine only/);
});

test("local engine: the RTMP publishers' CPU, measured inside Fanout's process, goes to their destinations with the encoders'", async () => {
  clock = new Date('2026-12-12T10:00:00Z');
  const a = randomUUID();
  const b = randomUUID();
  const chA = `ch-${a.slice(0, 4)}`;
  const chB = `ch-${b.slice(0, 4)}`;
  // The encoder (pid 4242) feeds both destinations; each has its publisher in Fanout's process (no pid).
  const cpu = { encoder: 10, pubA: 0.4, pubB: 0.1, pubAStart: 'publisher-a#0' };
  const processes = () => [
    { name: 'encoder-x', role: 'encoder', pid: 4242, channelIds: [chA, chB] },
    { name: `publisher-${chA}`, role: 'pusher', pid: null, channelIds: [chA], cpu: { start: cpu.pubAStart, seconds: cpu.pubA } },
    { name: `publisher-${chB}`, role: 'pusher', pid: null, channelIds: [chB], cpu: { start: 'publisher-b#0', seconds: cpu.pubB } },
    // Not measured: nothing attributed (and no crash).
    { name: 'publisher-unmeasured', role: 'pusher', pid: null, channelIds: [chA] },
  ];
  const d = { ...deps(), engine: 'local' as const, processes, readCpu: (pid: number) => (pid === 4242 ? { start: 'boot-1', seconds: cpu.encoder } : null) };
  for (const [id, ch] of [
    [a, chA],
    [b, chB],
  ] as const)
    await d.doc.send(
      new PutCommand({
        TableName: d.tables.destinations,
        Item: { destinationId: id, name: id.slice(0, 4), platform: 'youtube', preset: 'passthrough', status: 'running', desired: 'running', mediaLiveChannelId: ch, lastModified: '2026-12-12T09:00:00Z' },
      }),
    );
  const tracker = costTrackerFor(d);
  await tracker.record(stateEvent(a, 'RUNNING', '2026-12-12T10:00:00Z'), 'c');
  await tracker.record(stateEvent(b, 'RUNNING', '2026-12-12T10:00:00Z'), 'c');
  const near = (got: number | null, want: number) => assert.ok(got !== null && Math.abs(got - want) < 1e-9, `${got} ≈ ${want}`);
  const cpuOf = async (id: string) => {
    const { chosen } = await tracker.sessions({ destinationId: id, kind: 'running' });
    assert.equal(chosen.length, 1);
    return chosen[0]!.session.cpuSeconds;
  };
  // First reading: everything so far is new (a process first seen counts from its start).
  clock = new Date('2026-12-12T10:01:00Z');
  await tracker.tick('t');
  near(await cpuOf(a), 10 / 2 + 0.4);
  near(await cpuOf(b), 10 / 2 + 0.1);
  // A minute later: the growth of each, the publishers' to their own destination only.
  Object.assign(cpu, { encoder: 16, pubA: 1.4, pubB: 0.3 });
  clock = new Date('2026-12-12T10:02:00Z');
  await tracker.tick('t');
  near(await cpuOf(a), 8 + 1.4);
  near(await cpuOf(b), 8 + 0.3);
  // A's publisher restarted (a new run): it counts from its own start, never negative.
  Object.assign(cpu, { pubA: 0.25, pubAStart: 'publisher-a#1' });
  clock = new Date('2026-12-12T10:03:00Z');
  await tracker.tick('t');
  near(await cpuOf(a), 8 + 1.4 + 0.25);
  // Priced as core-hours of the machine, the line says it was measured.
  const { chosen } = await tracker.sessions({ destinationId: a, kind: 'running' });
  assert.match(chosen[0]!.pricing.lines.map((l) => l.computation).join(' '), /9\.65 CPU-s measured/);
});
