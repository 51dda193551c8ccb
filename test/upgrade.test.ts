/**
 * Upgrades keep data (ADR 0017): a data dir written by Fanout before records carried a schema
 * version (test/fixtures/data-dir-v1, made with the code of f30e2ef) is served whole by this code:
 * every destination, preset, platform and token, every stream key still decryptable, the channel
 * and output records read by the reconciles; older records are rewritten in the current shape at
 * start-up (an IDN host the old code kept percent-encoded becomes punycode, a level stored as
 * `auto` the level chosen), and a second start changes nothing. A data dir written by a newer
 * Fanout is refused with the reason. Every run works on a copy of the fixture.
 */
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { eventually, startTestRuntime, type TestRuntime } from './support/local.ts';

const FIXTURE = new URL('./fixtures/data-dir-v1/', import.meta.url).pathname;
const ADMIN = 'fixture-admin-token-0123456789';
/** The operator token created in the fixture (stored there only as its hash). */
const OPERATOR = 'fo_9iouMtJuzmuj3CCk2P-Ke4Ok-BRAVss40fV0INgtoTE';

/** What the fixture holds, as the old code wrote it, and how this code must serve it. */
const DESTINATIONS: Record<string, { name: string; platform: string; preset: string; rtmpUrl: string; streamKey: string; version: number }> = {
  '6f915711-0964-48cf-81d9-7f643f413f36': { name: 'YouTube main', platform: 'youtube', preset: 'youtube-1080p30', rtmpUrl: 'rtmps://a.rtmps.youtube.com:443/live2', streamKey: 'fixture-yt-key-aaaa-bbbb-cccc', version: 4 },
  '955508a3-bdb7-49af-8f7d-f9ec49a5e7dd': { name: 'Twitch (renamed)', platform: 'twitch', preset: 'twitch-720p30', rtmpUrl: 'rtmps://live.twitch.tv:443/app', streamKey: 'live_fixture_twitch_key_rotated_4567', version: 5 },
  'b3330d7e-2b60-4f36-89e2-9b1a115e54d4': { name: 'Acme', platform: 'acme-tv', preset: 'acme-1080p60-auto', rtmpUrl: 'rtmps://ingest.acme.example:443/live', streamKey: 'acme-fixture-key-0123456789', version: 4 },
  // Stored percent-encoded by the old code (`ingest.b%C3%BCcher.example`): migrated to punycode.
  '4f2a3af0-958e-42e4-a41e-47072ffacbea': { name: 'Bücher custom', platform: 'custom', preset: 'generic-540p30', rtmpUrl: 'rtmp://ingest.xn--bcher-kva.example:1935/live', streamKey: 'idn-fixture-key-0123456789', version: 4 },
  '5cc99f46-da9b-4b08-a4ae-b24a5e5578fc': { name: 'LAN passthrough', platform: 'custom', preset: 'passthrough', rtmpUrl: 'rtmp://127.0.0.1:19350/live', streamKey: 'lan-fixture-key-0123456789', version: 4 },
};

const copies: string[] = [];
function copyOfFixture(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fanout-upgrade-'));
  cpSync(FIXTURE, dir, { recursive: true });
  rmSync(join(dir, 'README.md'));
  // As a data dir of Fanout's own is: private to its user (a checkout leaves them readable by all).
  for (const sub of ['', 'db', 'secrets']) chmodSync(join(dir, sub), 0o700);
  copies.push(dir);
  return dir;
}
after(() => {
  for (const d of copies) rmSync(d, { recursive: true, force: true });
});

const start = (dataDir: string): Promise<TestRuntime> => startTestRuntime({ FANOUT_ADMIN_TOKEN: ADMIN, FANOUT_SRT_PASSPHRASE: 'fixture-passphrase-0123' }, { dataDir, inMemory: false, engine: 'memory' });

async function servesEverything(rt: TestRuntime): Promise<void> {
  // As the fixture's admin (its FANOUT_ADMIN_TOKEN) unless a token is given.
  const api = (method: string, path: string, o: { token?: string } = {}) => rt.api(method, path, { token: ADMIN, ...o });
  // Destinations: every one, in its current shape.
  const list = await api('GET', '/api/destinations');
  assert.equal(list.status, 200, list.text);
  const byId = new Map((list.json.destinations as any[]).map((d) => [d.destinationId, d]));
  assert.deepEqual([...byId.keys()].sort(), Object.keys(DESTINATIONS).sort());
  for (const [id, want] of Object.entries(DESTINATIONS)) {
    const d = byId.get(id);
    assert.deepEqual({ name: d.name, platform: d.platform, preset: d.preset, rtmpUrl: d.rtmpUrl }, { name: want.name, platform: want.platform, preset: want.preset, rtmpUrl: want.rtmpUrl }, id);
    assert.ok(d.version >= want.version, `${id}: version ${d.version}`);
    assert.equal(d.streamKeyLast4, want.streamKey.slice(-4));
  }
  // Stream keys: decryptable with the data dir's key file.
  const cipher = rt.infrastructure.cipher;
  for (const r of await rt.destination.destinations.list()) assert.equal((await cipher.decrypt(r.streamKeyCiphertext, r.destinationId)).reveal(), DESTINATIONS[r.destinationId]!.streamKey);

  // Presets and platforms: the admins' own and their edits of built-ins.
  const presets = new Map(((await api('GET', '/api/admin/presets')).json.presets as any[]).map((p) => [p.presetId, p]));
  assert.equal(presets.get('acme-1080p60-auto')?.video.level, '4.2', 'a level stored as auto is the level chosen');
  assert.equal(presets.get('acme-1080p60-auto')?.isDefault, true);
  assert.equal(presets.get('generic-540p30')?.video.level, '3.1');
  for (const id of ['passthrough', 'generic-720p30', 'twitch-1080p60']) assert.ok(presets.has(id), id);
  assert.ok(!JSON.stringify([...presets.values()]).includes('schemaVersion'), 'the store keeps its version to itself');
  const platforms = new Map(((await api('GET', '/api/admin/platforms')).json.platforms as any[]).map((p) => [p.platformId, p]));
  assert.equal(platforms.get('acme-tv')?.rtmpsUrl, 'rtmps://ingest.acme.example:443/live');
  assert.equal(platforms.get('twitch')?.limits.maxVideoBitrate, 8_000_000, "an admin's edit of a built-in is kept");

  // Tokens: the operator token still works (with its role), and is listed.
  const asOperator = await api('GET', '/api/destinations', { token: OPERATOR });
  assert.equal(asOperator.status, 200, asOperator.text);
  assert.equal((await api('GET', '/api/admin/tokens', { token: OPERATOR })).status, 403);
  assert.ok(((await api('GET', '/api/admin/tokens')).json.tokens as any[]).some((t) => t.name === 'ops' && t.role === 'operator'));

  // Channel and output records: the reconciles read them and bring every destination's channel back.
  await eventually(
    async () => {
      const ds = (await api('GET', '/api/destinations')).json.destinations as any[];
      return ds.every((d) => d.status === 'idle' && d.mediaLiveChannelId && d.mediaConnectOutputArn) && (await rt.engine!.listChannels()).length === ds.length;
    },
    { timeoutMs: 20_000, what: 'every channel back in the engine' },
  );
}

test('this code starts on a data dir written before schema versions and serves every record, keys decryptable', async () => {
  const dir = copyOfFixture();
  const rt = await start(dir);
  try {
    await servesEverything(rt);
    // Migrated in place at start-up: the raw items carry the current schema version.
    const raw = await rt.infrastructure.doc.send(new GetCommand({ TableName: rt.config.tableDestinations, Key: { destinationId: '4f2a3af0-958e-42e4-a41e-47072ffacbea' }, ConsistentRead: true }));
    assert.equal(raw.Item?.schemaVersion, 3);
    assert.equal(raw.Item?.rtmpUrl, 'rtmp://ingest.xn--bcher-kva.example:1935/live', 'rewritten, so other services read it too');
    // Version 3: the list index's keys (ADR 0025); the table was rebuilt with the index (dynalite cannot add one).
    assert.equal(raw.Item?.listKey, 'destination');
    assert.equal(raw.Item?.listSort, `${raw.Item?.createdAt}#4f2a3af0-958e-42e4-a41e-47072ffacbea`);
  } finally {
    await rt.close();
  }
  // A second start on the same (now migrated) data dir serves the same and migrates nothing.
  const again = await start(dir);
  try {
    await servesEverything(again);
    const reports = await again.destination.migrateStored();
    assert.deepEqual(
      reports.map((r) => r.migrated),
      [0, 0, 0],
    );
  } finally {
    await again.close();
  }
});

test('a data dir written by a newer Fanout is refused at start with the reason', async () => {
  const dir = copyOfFixture();
  const rt = await start(dir);
  const id = Object.keys(DESTINATIONS)[0]!;
  const current = await rt.infrastructure.doc.send(new GetCommand({ TableName: rt.config.tableDestinations, Key: { destinationId: id }, ConsistentRead: true }));
  await rt.infrastructure.doc.send(new PutCommand({ TableName: rt.config.tableDestinations, Item: { ...current.Item, schemaVersion: 99, futureField: 'x' } }));
  await rt.close();
  await assert.rejects(start(dir), /written by a newer Fanout .*schema version 99; this Fanout reads up to 3/);
});
