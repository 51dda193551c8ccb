/**
 * Contract of the destination service's repositories (DestinationRepository with its embedded
 * outbox, and CatalogRepository), written against a `makeDeps` factory so the same suite can run
 * against dynalite here and against real DynamoDB later (a factory that creates uniquely named
 * tables and points the clients at AWS). Every test uses fresh ids, so suites may share tables.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DestinationCreatedV1, DestinationDeletedV1, DestinationStartRequestedV1, DestinationStatusChangedV1, DestinationUpdatedV1 } from '../../../../events/catalogue.ts';
import { AppError, type ErrorCode } from '../../../../shared/errors/index.ts';
import { EmbeddedOutbox } from '../../../../shared/events/outbox.ts';
import { buildEntry, type BusEntry, type EventPublisher } from '../../../../shared/events/publisher.ts';
import { ensureTables, startDynalite } from '../../../../shared/runtimes/local/dynalite.ts';
import { loadServerlessConfig } from '../../../../shared/runtimes/local/serverless-config.ts';
import { createDocumentClient, createDynamoClient } from '../../../../shared/store/dynamo.ts';
import type { DestinationRecord } from '../domain/destination.ts';
import { BUILT_IN_PRESETS, type Preset } from '../domain/presets.ts';
import { CatalogRepository } from './catalog-repository.ts';
import { DestinationRepository } from './destination-repository.ts';
import { PRESET_SCHEMA } from './record-schemas.ts';

/** A publisher that records what it publishes and can be made to fail. */
export class CapturingPublisher implements EventPublisher {
  published: BusEntry[] = [];
  failing = false;
  calls = 0;
  async publish(entries: BusEntry[]): Promise<void> {
    this.calls++;
    if (this.failing) throw new Error('bus unavailable (test)');
    this.published.push(...entries);
  }
}

export interface RepositoryDeps {
  destinations: DestinationRepository;
  presets: CatalogRepository<Preset>;
  outbox: EmbeddedOutbox;
  publisher: CapturingPublisher;
  /** Warnings the outbox logged. */
  warnings: string[];
  /** The raw stored destination item (outbox and tombstone included), bypassing the repository. */
  rawDestination(destinationId: string): Promise<Record<string, unknown> | undefined>;
  close(): Promise<void>;
}

// ---- helpers ------------------------------------------------------------------------------------

const correlationId = 'contract-test';

function record(over: Partial<DestinationRecord> = {}): DestinationRecord {
  const at = new Date().toISOString();
  return {
    destinationId: randomUUID(),
    name: 'Contract test',
    platform: 'youtube',
    rtmpUrl: 'rtmps://a.rtmps.youtube.com:443/live2',
    streamKeyCiphertext: 'v1:ciphertext',
    streamKeyLast4: 'WXYZ',
    preset: 'youtube-1080p30',
    status: 'creating',
    desired: 'stopped',
    mediaLiveChannelId: null,
    mediaConnectOutputArn: null,
    lastError: null,
    lastObservedAt: null,
    version: 1,
    createdAt: at,
    lastModified: at,
    ...over,
  };
}

const created = (r: DestinationRecord): BusEntry =>
  buildEntry(DestinationCreatedV1, { destinationId: r.destinationId, aggregateVersion: r.version, name: r.name, platform: r.platform, preset: r.preset, rtmpUrl: r.rtmpUrl, status: r.status, desired: r.desired }, { correlationId });
const updated = (r: DestinationRecord): BusEntry => buildEntry(DestinationUpdatedV1, { destinationId: r.destinationId, aggregateVersion: r.version, changed: ['name'], status: r.status, desired: r.desired }, { correlationId });
const startRequested = (r: DestinationRecord): BusEntry => buildEntry(DestinationStartRequestedV1, { destinationId: r.destinationId, aggregateVersion: r.version }, { correlationId });
const statusChanged = (r: DestinationRecord, from: DestinationRecord['status']): BusEntry =>
  buildEntry(DestinationStatusChangedV1, { destinationId: r.destinationId, aggregateVersion: r.version, from, to: r.status, desired: r.desired, lastError: r.lastError }, { correlationId });
const deleted = (r: DestinationRecord): BusEntry => buildEntry(DestinationDeletedV1, { destinationId: r.destinationId, aggregateVersion: r.version }, { correlationId });

const eventId = (e: BusEntry): string => (JSON.parse(e.Detail) as { id: string }).id;
const ids = (entries: BusEntry[]): string[] => entries.map(eventId);
const about = (entries: BusEntry[], destinationId: string): BusEntry[] => entries.filter((e) => (JSON.parse(e.Detail) as { data: { destinationId?: string } }).data.destinationId === destinationId);

async function rejectsWith(p: Promise<unknown>, code: ErrorCode): Promise<AppError> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof AppError, `expected AppError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code);
  return caught;
}

function customPreset(over: Partial<Preset> = {}): Preset {
  const at = new Date().toISOString();
  return {
    presetId: `contract-${randomUUID().slice(0, 8)}`,
    name: 'Contract preset',
    platform: 'generic',
    type: 'generic',
    description: '',
    isDefault: false,
    video: { codec: 'h264', resolution: '1280x720', frameRate: 30, bitrate: 3_000_000, rateControl: 'cbr', profile: 'high', level: 'auto', keyframeInterval: 2 },
    audio: { codec: 'aac', bitrate: 128_000, sampleRate: 48000, channels: 2 },
    builtIn: false,
    version: 1,
    createdAt: at,
    lastModified: at,
    ...over,
  };
}

// ---- the contract -------------------------------------------------------------------------------

export function repositoryContract(name: string, makeDeps: () => Promise<RepositoryDeps>): void {
  describe(`repository contract: ${name}`, () => {
    let d: RepositoryDeps;
    before(async () => {
      d = await makeDeps();
    });
    after(async () => {
      await d?.close();
    });
    beforeEach(() => {
      d.publisher.published = [];
      d.publisher.failing = false;
      d.publisher.calls = 0;
      d.warnings.length = 0;
    });

    describe('DestinationRepository', () => {
      test('create, get, require and list', async () => {
        const r = record({ name: 'Create and get' });
        assert.equal(await d.destinations.create(r, [created(r)]), true);
        assert.deepEqual(await d.destinations.get(r.destinationId), r);
        assert.deepEqual(await d.destinations.require(r.destinationId), r);
        const listed = (await d.destinations.list()).find((x) => x.destinationId === r.destinationId);
        assert.deepEqual(listed, r, 'list returns the record without outbox or tombstone fields');
        assert.equal(await d.destinations.get(randomUUID()), undefined);
        await rejectsWith(d.destinations.require(randomUUID()), 'DESTINATION_NOT_FOUND');
      });

      test('list is ordered by creation time', async () => {
        const a = record({ createdAt: '2030-01-01T00:00:00.000Z' });
        const b = record({ createdAt: '2030-01-01T00:00:01.000Z' });
        await d.destinations.create(b, []);
        await d.destinations.create(a, []);
        const order = (await d.destinations.list()).map((x) => x.destinationId).filter((id) => id === a.destinationId || id === b.destinationId);
        assert.deepEqual(order, [a.destinationId, b.destinationId]);
      });

      test('page: the list index in creation order, the view fields only; a tombstone leaves it at once (ADR 0025)', async () => {
        const a = record({ createdAt: '2031-01-01T00:00:00.000Z' });
        const b = record({ createdAt: '2031-01-01T00:00:01.000Z' });
        const c = record({ createdAt: '2031-01-01T00:00:02.000Z' });
        for (const r of [c, a, b]) await d.destinations.create(r, []);
        const mine = async () => {
          const out: Record<string, unknown>[] = [];
          let cursor: string | undefined;
          do {
            const p = await d.destinations.page(2, cursor);
            out.push(...(p.items as unknown as Record<string, unknown>[]).filter((x) => [a, b, c].some((r) => r.destinationId === x.destinationId)));
            cursor = p.nextCursor ?? undefined;
          } while (cursor);
          return out;
        };
        const listed = await mine();
        assert.deepEqual(
          listed.map((x) => x.destinationId),
          [a, b, c].map((r) => r.destinationId),
        );
        const { streamKeyCiphertext: _c, lastObservedAt: _o, ...view } = a;
        assert.deepEqual(listed[0], view, 'no ciphertext, outbox, index keys or schema version');
        d.publisher.failing = true; // the tombstone stays (its event waits), yet it is no longer listed
        const gone = { ...b, status: 'deleting' as const, version: 2 };
        await d.destinations.save(gone, [deleted(gone)], { tombstone: true });
        d.publisher.failing = false;
        assert.deepEqual(
          (await mine()).map((x) => x.destinationId),
          [a, c].map((r) => r.destinationId),
        );
        assert.equal((await d.rawDestination(b.destinationId))?.tombstone, true);
      });

      test('creating the same id twice returns false and keeps the first record', async () => {
        const r = record({ name: 'First' });
        assert.equal(await d.destinations.create(r, [created(r)]), true);
        const again = { ...r, name: 'Second' };
        assert.equal(await d.destinations.create(again, [created(again)]), false);
        assert.equal((await d.destinations.require(r.destinationId)).name, 'First');
        assert.deepEqual(ids(about(d.publisher.published, r.destinationId)).length, 1, 'the losing create publishes nothing');
      });

      test('save with the next version replaces the record', async () => {
        const r = record();
        await d.destinations.create(r, []);
        const v2 = { ...r, name: 'Renamed', version: 2 };
        await d.destinations.save(v2, [updated(v2)]);
        assert.deepEqual(await d.destinations.require(r.destinationId), v2);
        const v3 = { ...v2, status: 'idle' as const, version: 3 };
        await d.destinations.save(v3, []);
        assert.equal((await d.destinations.require(r.destinationId)).status, 'idle');
      });

      test('save with a stale or skipped version is VERSION_CONFLICT and changes nothing', async () => {
        const r = record();
        await d.destinations.create(r, []);
        const v2 = { ...r, name: 'Winner', version: 2 };
        await d.destinations.save(v2, []);
        const loser = { ...r, name: 'Loser', version: 2 }; // also read version 1
        const err = await rejectsWith(d.destinations.save(loser, [updated(loser)]), 'VERSION_CONFLICT');
        assert.equal(err.status, 409);
        await rejectsWith(d.destinations.save({ ...r, name: 'Skipper', version: 5 }, []), 'VERSION_CONFLICT');
        assert.deepEqual(await d.destinations.require(r.destinationId), v2);
        assert.deepEqual(about(d.publisher.published, r.destinationId), [], 'a rejected save publishes nothing');
        assert.equal((await d.rawDestination(r.destinationId))?.outbox, undefined, 'and leaves nothing in the outbox');
      });

      test('concurrent saves of the same version: exactly one wins, the others are VERSION_CONFLICT', async () => {
        const r = record();
        await d.destinations.create(r, []);
        const racers = Array.from({ length: 6 }, (_, i) => ({ ...r, name: `Racer ${i}`, version: 2 }));
        const results = await Promise.allSettled(racers.map((x) => d.destinations.save(x, [updated(x)])));
        const won = results.flatMap((res, i) => (res.status === 'fulfilled' ? [racers[i]!] : []));
        assert.equal(won.length, 1, `winners: ${won.map((w) => w.name).join(', ')}`);
        for (const res of results) if (res.status === 'rejected') assert.ok(res.reason instanceof AppError && res.reason.code === 'VERSION_CONFLICT', String(res.reason));
        assert.deepEqual(await d.destinations.require(r.destinationId), won[0]);
        assert.equal(about(d.publisher.published, r.destinationId).length, 1, "only the winner's event is published");
      });

      test('save of an unknown destination is DESTINATION_NOT_FOUND', async () => {
        await rejectsWith(d.destinations.save(record({ version: 2 }), []), 'DESTINATION_NOT_FOUND');
      });

      test('a tombstone hides the record at once and is removed once its events are out', async () => {
        const r = record();
        await d.destinations.create(r, []);
        const v2 = { ...r, status: 'deleting' as const, version: 2 };
        await d.destinations.save(v2, []);
        const v3 = { ...v2, version: 3 };
        const event = deleted(v3);
        await d.destinations.save(v3, [event], { tombstone: true });
        assert.equal(await d.destinations.get(r.destinationId), undefined);
        assert.ok(!(await d.destinations.list()).some((x) => x.destinationId === r.destinationId));
        await rejectsWith(d.destinations.require(r.destinationId), 'DESTINATION_NOT_FOUND');
        assert.deepEqual(ids(about(d.publisher.published, r.destinationId)), [eventId(event)]);
        assert.equal(about(d.publisher.published, r.destinationId)[0]?.DetailType, 'DestinationDeleted');
        assert.equal(await d.rawDestination(r.destinationId), undefined, 'the drained tombstone is deleted');
      });

      test('a tombstone whose event could not be published stays (hidden) until the sweep publishes it', async () => {
        const r = record();
        await d.destinations.create(r, []);
        const v2 = { ...r, status: 'deleting' as const, version: 2 };
        await d.destinations.save(v2, []);
        d.publisher.failing = true;
        const v3 = { ...v2, version: 3 };
        const event = deleted(v3);
        await d.destinations.save(v3, [event], { tombstone: true });
        const raw = await d.rawDestination(r.destinationId);
        assert.equal(raw?.tombstone, true);
        assert.equal(await d.destinations.get(r.destinationId), undefined, 'hidden while pending');
        assert.equal(await d.destinations.create({ ...r, version: 1 }, []), false, 'the id cannot be reused while the tombstone exists');
        await rejectsWith(d.destinations.save({ ...v3, version: 4 }, []), 'DESTINATION_NOT_FOUND');
        d.publisher.failing = false;
        assert.ok((await d.outbox.sweep()) >= 1);
        assert.deepEqual(ids(about(d.publisher.published, r.destinationId)), [eventId(event)]);
        assert.equal(await d.rawDestination(r.destinationId), undefined);
      });

      test('outbox events are published in order and then cleared', async () => {
        const r = record();
        const c = created(r);
        await d.destinations.create(r, [c]);
        assert.deepEqual(ids(about(d.publisher.published, r.destinationId)), [eventId(c)]);
        assert.equal((await d.rawDestination(r.destinationId))?.outbox, undefined, 'the outbox map is removed once empty');

        const v2 = { ...r, status: 'idle' as const, desired: 'running' as const, version: 2 };
        const batch = [startRequested(v2), statusChanged(v2, 'creating'), updated(v2)];
        await d.destinations.save(v2, batch);
        assert.deepEqual(ids(about(d.publisher.published, r.destinationId)), [eventId(c), ...ids(batch)]);
        assert.equal((await d.rawDestination(r.destinationId))?.outbox, undefined);
        assert.deepEqual(await d.destinations.require(r.destinationId), v2, 'clearing the outbox does not touch the record');
      });

      test('a publisher failure leaves the events in the outbox; sweep publishes them later, in order, once', async () => {
        const r = record();
        d.publisher.failing = true;
        const c = created(r);
        assert.equal(await d.destinations.create(r, [c]), true, 'the write succeeds although publishing failed');
        const v2 = { ...r, name: 'Two', version: 2 };
        const u2 = updated(v2);
        await d.destinations.save(v2, [u2]);
        const v3 = { ...v2, name: 'Three', version: 3 };
        const u3a = updated(v3);
        const u3b = statusChanged({ ...v3 }, 'creating');
        await d.destinations.save(v3, [u3a, u3b]);
        assert.ok(d.publisher.calls >= 3, 'publishing was attempted after each write');
        assert.deepEqual(d.publisher.published, []);
        assert.ok(d.warnings.length >= 1, 'the failure is logged');

        const raw = await d.rawDestination(r.destinationId);
        const outbox = raw?.outbox as Record<string, { seq: number; entry: BusEntry }> | undefined;
        assert.ok(outbox, 'events wait in the outbox');
        const pending = Object.values(outbox).sort((a, b) => a.seq - b.seq);
        assert.deepEqual(ids(pending.map((p) => p.entry)), ids([c, u2, u3a, u3b]));
        assert.deepEqual(await d.destinations.require(r.destinationId), v3, 'the record itself is current');

        d.publisher.failing = false;
        const published = await d.outbox.sweep();
        assert.ok(published >= 4, `sweep published ${published}`);
        assert.deepEqual(ids(about(d.publisher.published, r.destinationId)), ids([c, u2, u3a, u3b]));
        assert.equal((await d.rawDestination(r.destinationId))?.outbox, undefined, 'cleared after the sweep');

        d.publisher.published = [];
        await d.outbox.sweep();
        assert.deepEqual(about(d.publisher.published, r.destinationId), [], 'a second sweep publishes nothing again');
      });

      test('sweep keeps events that still cannot be published', async () => {
        const r = record();
        d.publisher.failing = true;
        await d.destinations.create(r, [created(r)]);
        await d.outbox.sweep();
        assert.ok((await d.rawDestination(r.destinationId))?.outbox, 'still pending');
        d.publisher.failing = false;
        await d.outbox.sweep();
        assert.equal(about(d.publisher.published, r.destinationId).length, 1);
        assert.equal((await d.rawDestination(r.destinationId))?.outbox, undefined);
      });

      test('usedBy finds the destinations using a preset or platform', async () => {
        const preset = `contract-${randomUUID().slice(0, 8)}`;
        const r = record({ preset, platform: 'twitch' });
        await d.destinations.create(r, []);
        assert.deepEqual(await d.destinations.usedBy('preset', preset), [r.destinationId]);
        assert.ok((await d.destinations.usedBy('platform', 'twitch')).includes(r.destinationId));
        assert.deepEqual(await d.destinations.usedBy('preset', 'nothing-uses-this'), []);
      });
    });

    describe('CatalogRepository', () => {
      test('create, get, list; a duplicate is ALREADY_EXISTS', async () => {
        const p = customPreset();
        await d.presets.create(p);
        assert.deepEqual(await d.presets.get(p.presetId), p);
        assert.ok((await d.presets.list()).some((x) => x.presetId === p.presetId));
        const err = await rejectsWith(d.presets.create({ ...p, name: 'Duplicate' }), 'ALREADY_EXISTS');
        assert.equal(err.status, 409);
        assert.equal((await d.presets.require(p.presetId)).name, 'Contract preset', 'the duplicate changed nothing');
        await rejectsWith(d.presets.require('no-such-preset'), 'PRESET_NOT_FOUND');
      });

      test('replace needs the stored version; a stale one is VERSION_CONFLICT', async () => {
        const p = customPreset();
        await d.presets.create(p);
        const v2 = { ...p, name: 'Version two', version: 2 };
        await d.presets.replace(v2);
        assert.deepEqual(await d.presets.get(p.presetId), v2);
        const err = await rejectsWith(d.presets.replace({ ...p, name: 'Stale', version: 2 }), 'VERSION_CONFLICT');
        assert.equal(err.extra.currentVersion, 2);
        await rejectsWith(d.presets.replace({ ...p, version: 7 }), 'VERSION_CONFLICT');
        assert.equal((await d.presets.require(p.presetId)).name, 'Version two');
        await rejectsWith(d.presets.replace(customPreset({ version: 2 })), 'PRESET_NOT_FOUND');
      });

      test('delete needs the stored version', async () => {
        const p = customPreset();
        await d.presets.create(p);
        await rejectsWith(d.presets.delete(p.presetId, 2), 'VERSION_CONFLICT');
        assert.ok(await d.presets.get(p.presetId), 'a rejected delete keeps the item');
        await d.presets.delete(p.presetId, 1);
        assert.equal(await d.presets.get(p.presetId), undefined);
        assert.ok(!(await d.presets.list()).some((x) => x.presetId === p.presetId));
        await rejectsWith(d.presets.delete(p.presetId, 1), 'VERSION_CONFLICT');
      });

      test('seed adds missing built-ins and never overwrites an edited one', async () => {
        await d.presets.seed(BUILT_IN_PRESETS);
        for (const b of BUILT_IN_PRESETS) assert.deepEqual(await d.presets.get(b.presetId), b);
        const edited = { ...(await d.presets.require('generic-720p30')), name: 'Edited by an admin', version: 2 };
        await d.presets.replace(edited);
        const extra = customPreset({ builtIn: true });
        await d.presets.seed([...BUILT_IN_PRESETS, extra]);
        assert.deepEqual(await d.presets.get('generic-720p30'), edited, 'the admin edit survives a re-seed');
        assert.deepEqual(await d.presets.get(extra.presetId), extra, 'a new built-in is added');
        // Put the built-in back as it was for other suites sharing the table.
        await d.presets.replace({ ...BUILT_IN_PRESETS.find((p) => p.presetId === 'generic-720p30')!, version: 3 });
      });
    });
  });
}

// ---- dynalite -----------------------------------------------------------------------------------

export async function dynaliteDeps(): Promise<RepositoryDeps> {
  const wiring = loadServerlessConfig({ stage: 'local' });
  const db = await startDynalite(undefined);
  const client = createDynamoClient({ region: 'eu-west-1', endpoint: db.endpoint });
  await ensureTables(client, wiring.tables);
  const doc: DynamoDBDocumentClient = createDocumentClient(client);
  const tableDestinations = wiring.environment.FANOUT_TABLE_DESTINATIONS!;
  const tablePresets = wiring.environment.FANOUT_TABLE_PRESETS!;
  assert.ok(tableDestinations && tablePresets, 'serverless.yml names the tables');
  const publisher = new CapturingPublisher();
  const warnings: string[] = [];
  const outbox = new EmbeddedOutbox(doc, publisher, tableDestinations, 'destinationId', {
    warn: (m) => warnings.push(m),
    info: () => {},
  });
  return {
    destinations: new DestinationRepository(doc, tableDestinations, outbox),
    presets: new CatalogRepository<Preset>(doc, tablePresets, 'presetId', 'PRESET_NOT_FOUND', PRESET_SCHEMA),
    outbox,
    publisher,
    warnings,
    async rawDestination(destinationId) {
      const out = await doc.send(new GetCommand({ TableName: tableDestinations, Key: { destinationId }, ConsistentRead: true }));
      return out.Item;
    },
    async close() {
      client.destroy();
      await db.close();
    },
  };
}

repositoryContract('dynalite (in memory)', dynaliteDeps);
