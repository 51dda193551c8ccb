/**
 * The destination API end to end, in process: the whole local runtime (in-memory dynalite, the
 * in-process bus, the inbox consumer) behind real HTTP. Every error response is checked to be a
 * problem document with a registered code; every rejected write is checked to change nothing;
 * every stream key sent is checked never to come back.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { errorRegistry, type ErrorCode } from '../shared/errors/index.ts';
import { reportChannelState, reportFlowOutputRemoved } from './support/engine-events.ts';
import { ADMIN_TOKEN, eventually, startTestRuntime, type ApiResponse, type TestRuntime } from './support/local.ts';

let rt: TestRuntime;
before(async () => {
  rt = await startTestRuntime();
});
after(async () => {
  await rt?.close();
});

// ---- helpers ------------------------------------------------------------------------------------

type ApiOpts = Parameters<TestRuntime['api']>[2];

/** Every stream key the tests send, to check none ever comes back. */
const sentKeys = new Set<string>();
function streamKey(length = 24): string {
  const k = `sk_${randomUUID().replaceAll('-', '')}${randomUUID().replaceAll('-', '')}`.slice(0, length);
  sentKeys.add(k);
  return k;
}

/** The one shape of every error: a problem document whose registered code matches the status. */
function assertProblemShape(res: ApiResponse): void {
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, `content-type of ${res.status}: ${res.text}`);
  const p = res.json as Record<string, unknown>;
  assert.ok(p && typeof p === 'object', `problem body: ${res.text}`);
  assert.ok(typeof p.code === 'string' && p.code in errorRegistry, `unregistered code ${String(p.code)}`);
  assert.equal(errorRegistry[p.code as ErrorCode].status, res.status, `${String(p.code)} is registered with another status`);
  assert.equal(p.status, res.status);
  for (const k of ['type', 'title', 'detail', 'hint']) assert.equal(typeof p[k], 'string', `problem.${k}`);
}

let errorResponses = 0;
async function api(method: string, path: string, opts?: ApiOpts): Promise<ApiResponse> {
  const res = await rt.api(method, path, opts);
  if (res.status >= 400) {
    errorResponses++;
    assertProblemShape(res);
  }
  return res;
}

function expectStatus(res: ApiResponse, status: number): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
}

function expectProblem(res: ApiResponse, status: number, code: ErrorCode): Record<string, any> {
  expectStatus(res, status);
  assert.equal(res.json.code, code, res.text);
  return res.json;
}

async function listDestinations(token?: string | null): Promise<any[]> {
  const res = await api('GET', '/api/destinations', token === undefined ? {} : { token });
  expectStatus(res, 200);
  return res.json.destinations;
}

async function createDestination(body: Record<string, unknown> = {}, opts: ApiOpts = {}): Promise<any> {
  const res = await api('POST', '/api/destinations', { ...opts, body: { name: 'Main channel', platform: 'youtube', streamKey: streamKey(), ...body } });
  expectStatus(res, 201);
  return res.json;
}

/** Runs a request that must be rejected and checks it changed no destination (nor `extra` reads). */
async function changesNothing<T>(action: () => Promise<T>, extraPaths: string[] = []): Promise<T> {
  const read = async () => ({
    destinations: await listDestinations(),
    extra: await Promise.all(extraPaths.map(async (p) => (await api('GET', p)).json)),
  });
  const before = await read();
  const out = await action();
  assert.deepEqual(await read(), before, 'a rejected request changed stored state');
  return out;
}

async function rejected(method: string, path: string, opts: ApiOpts, status: number, code: ErrorCode, extraPaths: string[] = []): Promise<Record<string, any>> {
  return changesNothing(async () => expectProblem(await api(method, path, opts), status, code), extraPaths);
}

const published = (detailType: string, destinationId: string) => rt.published.filter((e) => e.DetailType === detailType && (JSON.parse(e.Detail) as { data: { destinationId?: string } }).data.destinationId === destinationId);

// ---- destinations -------------------------------------------------------------------------------

describe('destinations', () => {
  test('POST creates a destination with the platform defaults', async () => {
    const key = streamKey(40);
    const res = await api('POST', '/api/destinations', { body: { name: '  Main YouTube  ', platform: 'youtube', streamKey: key } });
    expectStatus(res, 201);
    const d = res.json;
    assert.match(d.destinationId, /^[0-9a-f-]{36}$/);
    assert.equal(res.headers.get('location'), `/api/destinations/${d.destinationId}`);
    assert.ok(res.headers.get('x-request-id'));
    assert.equal(res.headers.get('idempotent-replayed'), null);
    assert.equal(d.name, 'Main YouTube', 'names are trimmed');
    assert.equal(d.platform, 'youtube');
    assert.equal(d.rtmpUrl, 'rtmps://a.rtmps.youtube.com:443/live2', "the platform's RTMPS ingest by default");
    assert.equal(d.preset, 'youtube-1080p30', "the platform's default preset");
    assert.equal(d.status, 'creating');
    assert.equal(d.desired, 'stopped');
    assert.equal(d.version, 1);
    assert.equal(d.streamKeyLast4, key.slice(-4));
    assert.equal(d.lastError, null);
    assert.deepEqual(
      Object.keys(d).filter((k) => /streamKey(?!Last4)|cipher/i.test(k)),
      [],
      'no key material in the view',
    );
    await eventually(() => published('DestinationCreated', d.destinationId).length === 1, { what: 'DestinationCreated on the bus' });
  });

  test('GET lists destinations and GET one returns it', async () => {
    const d = await createDestination({ name: 'Listed', platform: 'twitch' });
    const list = await listDestinations();
    assert.deepEqual(
      list.find((x) => x.destinationId === d.destinationId),
      d,
    );
    const one = await api('GET', `/api/destinations/${d.destinationId}`);
    expectStatus(one, 200);
    assert.deepEqual(one.json, d);
    assert.equal(d.rtmpUrl, 'rtmps://live.twitch.tv:443/app');
    assert.equal(d.preset, 'twitch-1080p60');
  });

  test('PUT updates fields and bumps the version; credentials in the URL are refused with a message, not dropped', async () => {
    const d = await createDestination({ name: 'Before' });
    const creds = await rejected('PUT', `/api/destinations/${d.destinationId}`, { body: { rtmpUrl: 'rtmp://user:secretpass@ingest.example.com/live' } }, 422, 'INGEST_URL_CREDENTIALS');
    assert.deepEqual(
      creds.errors.map((e: any) => e.path),
      ['rtmpUrl'],
    );
    assert.ok(!JSON.stringify(creds).includes('secretpass'), 'the password is not repeated');
    const res = await api('PUT', `/api/destinations/${d.destinationId}`, {
      body: { name: 'After', rtmpUrl: 'rtmp://Ingest.Example.com/live', preset: 'youtube-720p30-mobile', version: 1 },
    });
    expectStatus(res, 200);
    assert.equal(res.json.name, 'After');
    assert.equal(res.json.rtmpUrl, 'rtmp://ingest.example.com/live', 'stored normalised');
    assert.equal(res.json.preset, 'youtube-720p30-mobile');
    assert.equal(res.json.version, 2);
    assert.ok(!res.text.includes('secretpass'));
    const stored = (await api('GET', `/api/destinations/${d.destinationId}`)).json;
    assert.deepEqual(stored, res.json);
    await eventually(() => published('DestinationUpdated', d.destinationId).length === 1, { what: 'DestinationUpdated' });
    const changed = JSON.parse(published('DestinationUpdated', d.destinationId)[0]!.Detail).data.changed;
    assert.deepEqual([...changed].sort(), ['name', 'preset', 'rtmpUrl']);

    // The same values again change nothing.
    const same = await api('PUT', `/api/destinations/${d.destinationId}`, { body: { name: 'After' } });
    expectStatus(same, 200);
    assert.equal(same.json.version, 2);

    // A generic preset is fine for any platform.
    const generic = await api('PUT', `/api/destinations/${d.destinationId}`, { body: { preset: 'passthrough' } });
    expectStatus(generic, 200);
    assert.equal(generic.json.preset, 'passthrough');
  });

  test('start and stop answer 202 with the wanted state; the status follows the engine', async () => {
    const d = await createDestination();
    // While the channel is being created, start only records the wish.
    const early = await api('POST', `/api/destinations/${d.destinationId}/start`);
    expectStatus(early, 202);
    assert.equal(early.json.desired, 'running');
    assert.equal(early.json.status, 'creating');
    assert.equal(early.json.version, 2);

    await reportChannelState(rt, d.destinationId, 'IDLE');
    const idle = await eventually(
      async () => {
        const r = (await api('GET', `/api/destinations/${d.destinationId}`)).json;
        return r.status === 'idle' && r;
      },
      { what: 'status idle' },
    );
    assert.equal(idle.desired, 'running');
    assert.ok(idle.mediaLiveChannelId);

    const start = await api('POST', `/api/destinations/${d.destinationId}/start`);
    expectStatus(start, 202);
    assert.equal(start.json.status, 'starting');
    assert.equal(start.json.desired, 'running');

    await reportChannelState(rt, d.destinationId, 'RUNNING');
    await eventually(async () => (await api('GET', `/api/destinations/${d.destinationId}`)).json.status === 'running', { what: 'status running' });

    // Start while running: accepted, nothing changes.
    const before = (await api('GET', `/api/destinations/${d.destinationId}`)).json;
    const again = await api('POST', `/api/destinations/${d.destinationId}/start`);
    expectStatus(again, 202);
    assert.deepEqual(again.json, before);

    const stop = await api('POST', `/api/destinations/${d.destinationId}/stop`);
    expectStatus(stop, 202);
    assert.equal(stop.json.desired, 'stopped');
    assert.equal(stop.json.status, 'stopping');

    await eventually(() => published('DestinationStatusChanged', d.destinationId).length === 4, { what: 'four status events' });
    const moves = published('DestinationStatusChanged', d.destinationId).map((e) => {
      const data = JSON.parse(e.Detail).data;
      return `${data.from}->${data.to}`;
    });
    assert.deepEqual(moves, ['creating->idle', 'idle->starting', 'starting->running', 'running->stopping']);
    assert.equal(published('DestinationStartRequested', d.destinationId).length, 2);
    assert.equal(published('DestinationStopRequested', d.destinationId).length, 1);
  });

  test('metrics: 200 with metrics null before the engine reports', async () => {
    const d = await createDestination();
    const res = await api('GET', `/api/destinations/${d.destinationId}/metrics`);
    expectStatus(res, 200);
    assert.deepEqual(res.json, { destinationId: d.destinationId, status: 'creating', metrics: null });
    expectProblem(await api('GET', `/api/destinations/${randomUUID()}/metrics`), 404, 'DESTINATION_NOT_FOUND');
  });

  test('flow status: UNKNOWN before flow-output reports', async () => {
    const res = await api('GET', '/api/mediaconnect/flow/status');
    expectStatus(res, 200);
    assert.deepEqual(res.json, { state: 'UNKNOWN', flowArn: null, sourceConnected: null, sourceAddress: null, connectedSince: null, outputs: null, primary: null, updatedAt: null });
  });

  test('DELETE answers 202 (deleting); deleting again, starting, stopping or updating is 409; teardown removes it', async () => {
    const d = await createDestination();
    const del = await api('DELETE', `/api/destinations/${d.destinationId}`);
    expectStatus(del, 202);
    assert.equal(del.json.status, 'deleting');
    assert.equal(del.json.desired, 'stopped');
    const path = `/api/destinations/${d.destinationId}`;

    const twice = await rejected('DELETE', path, {}, 409, 'ILLEGAL_TRANSITION');
    assert.equal(twice.currentStatus, 'deleting');
    const start = await rejected('POST', `${path}/start`, {}, 409, 'ILLEGAL_TRANSITION');
    assert.equal(start.currentStatus, 'deleting');
    assert.equal((await rejected('POST', `${path}/stop`, {}, 409, 'ILLEGAL_TRANSITION')).currentStatus, 'deleting');
    assert.equal((await rejected('PUT', path, { body: { name: 'Too late' } }, 409, 'ILLEGAL_TRANSITION')).currentStatus, 'deleting');
    assert.equal((await api('GET', path)).json.status, 'deleting');

    await eventually(() => published('DestinationDeleteRequested', d.destinationId).length === 1, { what: 'DestinationDeleteRequested' });
    await reportFlowOutputRemoved(rt, d.destinationId);
    await eventually(async () => (await api('GET', path)).status === 404, { what: 'the destination to be gone' });
    expectProblem(await api('GET', path), 404, 'DESTINATION_NOT_FOUND');
    assert.ok(!(await listDestinations()).some((x) => x.destinationId === d.destinationId));
    await eventually(() => published('DestinationDeleted', d.destinationId).length === 1, { what: 'DestinationDeleted' });
  });

  test('PUT with a stale version is 409 VERSION_CONFLICT', async () => {
    const d = await createDestination();
    expectStatus(await api('PUT', `/api/destinations/${d.destinationId}`, { body: { name: 'Version two', version: 1 } }), 200);
    const p = await rejected('PUT', `/api/destinations/${d.destinationId}`, { body: { name: 'Stale', version: 1 } }, 409, 'VERSION_CONFLICT');
    assert.equal(p.currentVersion, 2);
  });
});

// ---- presets (operators' view) -------------------------------------------------------------------

describe('presets', () => {
  test("GET /api/presets?platform=youtube: YouTube's presets (default first), then generic ones", async () => {
    const res = await api('GET', '/api/presets?platform=youtube');
    expectStatus(res, 200);
    const presets: any[] = res.json.presets;
    assert.ok(
      presets.every((p) => p.platform === 'youtube' || p.platform === 'generic'),
      'no other platform',
    );
    assert.deepEqual(
      presets.filter((p) => p.builtIn).map((p) => p.presetId),
      ['youtube-1080p30', 'youtube-720p30-mobile', 'generic-720p30', 'generic-1080p30', 'passthrough'],
    );
    const firstGeneric = presets.findIndex((p) => p.platform === 'generic');
    assert.ok(
      presets.slice(firstGeneric).every((p) => p.platform === 'generic'),
      'platform presets come first',
    );
  });

  test('GET /api/presets without a platform, or with an empty one, lists them all; a bad platform is 400', async () => {
    const res = await api('GET', '/api/presets');
    expectStatus(res, 200);
    const ids = res.json.presets.map((p: any) => p.presetId);
    for (const id of ['passthrough', 'generic-720p30', 'generic-1080p30', 'youtube-1080p30', 'youtube-720p30-mobile', 'twitch-1080p60', 'twitch-720p30', 'linkedin-720p30']) assert.ok(ids.includes(id), id);
    const empty = await api('GET', '/api/presets?platform=');
    expectStatus(empty, 200);
    assert.deepEqual(empty.json, res.json, '`?platform=` is no filter');
    expectProblem(await api('GET', '/api/presets?platform=Not%20A%20Platform'), 400, 'VALIDATION_FAILED');
  });
});

// ---- admin: platforms ---------------------------------------------------------------------------

const limits = { maxVideoBitrate: 8_000_000, maxFrameRate: 60, maxWidth: 1920, maxHeight: 1080, maxKeyframeInterval: 4 };

describe('admin: platforms', () => {
  test('lists the built-in platforms', async () => {
    const res = await api('GET', '/api/admin/platforms');
    expectStatus(res, 200);
    const ids = res.json.platforms.map((p: any) => p.platformId);
    for (const id of ['youtube', 'twitch', 'linkedin', 'facebook', 'custom']) assert.ok(ids.includes(id), id);
  });

  test('creates a custom platform, usable by destinations; a duplicate is 409', async () => {
    const res = await api('POST', '/api/admin/platforms', { body: { platformId: 'acme-tv', name: 'Acme TV', rtmpUrl: 'rtmp://ingest.acme.example/live', limits } });
    expectStatus(res, 201);
    assert.equal(res.json.platformId, 'acme-tv');
    assert.equal(res.json.builtIn, false);
    assert.equal(res.json.version, 1);
    assert.equal(res.json.rtmpsUrl, null);
    assert.ok((await api('GET', '/api/admin/platforms')).json.platforms.some((p: any) => p.platformId === 'acme-tv'));
    await rejected('POST', '/api/admin/platforms', { body: { platformId: 'acme-tv', name: 'Acme again', limits } }, 409, 'ALREADY_EXISTS', ['/api/admin/platforms']);

    const d = await createDestination({ platform: 'acme-tv' });
    assert.equal(d.rtmpUrl, 'rtmp://ingest.acme.example/live');
    assert.equal(d.preset, 'generic-720p30', 'the generic default for a platform without presets');
  });

  test("updates a built-in's ingest URL; new destinations use it; a stale version is 409", async () => {
    const current = (await api('GET', '/api/admin/platforms')).json.platforms.find((p: any) => p.platformId === 'facebook');
    const body = { name: current.name, rtmpUrl: current.rtmpUrl, rtmpsUrl: 'rtmps://edge.facebook.example:443/rtmp/', limits: current.limits, version: current.version };
    const res = await api('PUT', '/api/admin/platforms/facebook', { body });
    expectStatus(res, 200);
    assert.equal(res.json.rtmpsUrl, 'rtmps://edge.facebook.example:443/rtmp/');
    assert.equal(res.json.builtIn, true);
    assert.equal(res.json.version, current.version + 1);
    const d = await createDestination({ platform: 'facebook' });
    assert.equal(d.rtmpUrl, 'rtmps://edge.facebook.example:443/rtmp/');
    await rejected('PUT', '/api/admin/platforms/facebook', { body: { ...body, name: 'Stale' } }, 409, 'VERSION_CONFLICT', ['/api/admin/platforms']);
    expectProblem(await api('PUT', '/api/admin/platforms/no-such', { body: { ...body, version: undefined } }), 404, 'PLATFORM_NOT_FOUND');
  });

  test("limits cannot drop below the platform's own presets (422)", async () => {
    const twitch = (await api('GET', '/api/admin/platforms')).json.platforms.find((p: any) => p.platformId === 'twitch');
    const p = await rejected('PUT', '/api/admin/platforms/twitch', { body: { name: twitch.name, rtmpUrl: twitch.rtmpUrl, rtmpsUrl: twitch.rtmpsUrl, limits: { ...twitch.limits, maxFrameRate: 30 } } }, 422, 'PRESET_EXCEEDS_PLATFORM_LIMITS', [
      '/api/admin/platforms',
    ]);
    assert.ok(Array.isArray(p.violations) && p.violations.length > 0);
  });

  test('a built-in platform cannot be deleted (409 BUILT_IN_READ_ONLY)', async () => {
    await rejected('DELETE', '/api/admin/platforms/youtube', {}, 409, 'BUILT_IN_READ_ONLY', ['/api/admin/platforms']);
  });

  test('a platform in use cannot be deleted (409 PLATFORM_IN_USE); an unused one can', async () => {
    expectStatus(await api('POST', '/api/admin/platforms', { body: { platformId: 'used-tv', name: 'Used TV', rtmpUrl: 'rtmp://used.example/live', limits } }), 201);
    const d = await createDestination({ platform: 'used-tv' });
    const p = await rejected('DELETE', '/api/admin/platforms/used-tv', {}, 409, 'PLATFORM_IN_USE', ['/api/admin/platforms']);
    assert.deepEqual(p.usedBy.destinations, [d.destinationId]);

    const created = await api('POST', '/api/admin/platforms', { body: { name: 'Spare Platform', limits } });
    expectStatus(created, 201);
    assert.equal(created.json.platformId, 'spare-platform', 'the id is derived from the name');
    expectStatus(await api('DELETE', '/api/admin/platforms/spare-platform'), 204);
    assert.ok(!(await api('GET', '/api/admin/platforms')).json.platforms.some((x: any) => x.platformId === 'spare-platform'));
    expectProblem(await api('DELETE', '/api/admin/platforms/spare-platform'), 404, 'PLATFORM_NOT_FOUND');
  });

  test('an id derived from the name must be a valid platform id (else 400, nothing created)', async () => {
    for (const name of ['123 TV', 'A platform name that is far too long for an id']) {
      const p = await rejected('POST', '/api/admin/platforms', { body: { name, limits } }, 400, 'VALIDATION_FAILED', ['/api/admin/platforms']);
      assert.deepEqual(
        p.errors.map((e: any) => e.path),
        ['platformId'],
      );
    }
    const ok = await api('POST', '/api/admin/platforms', { body: { platformId: 'tv-123', name: '123 TV', limits } });
    expectStatus(ok, 201);
    expectStatus(await api('DELETE', '/api/admin/platforms/tv-123'), 204);
  });

  test("limits cannot drop below the presets the platform's destinations use (422)", async () => {
    expectStatus(await api('POST', '/api/admin/platforms', { body: { platformId: 'shrink-tv', name: 'Shrink TV', rtmpUrl: 'rtmp://shrink.example/live', limits } }), 201);
    const d = await createDestination({ platform: 'shrink-tv', preset: 'generic-1080p30' });
    assert.equal(d.preset, 'generic-1080p30');
    const p = await rejected('PUT', '/api/admin/platforms/shrink-tv', { body: { name: 'Shrink TV', rtmpUrl: 'rtmp://shrink.example/live', limits: { ...limits, maxVideoBitrate: 1_000_000 } } }, 422, 'PRESET_EXCEEDS_PLATFORM_LIMITS', [
      '/api/admin/platforms',
    ]);
    assert.ok(
      p.violations.some((v: string) => /bitrate/.test(v)),
      JSON.stringify(p.violations),
    );
    expectStatus(await api('PUT', '/api/admin/platforms/shrink-tv', { body: { name: 'Shrink TV', rtmpUrl: 'rtmp://shrink.example/live', limits: { ...limits, maxVideoBitrate: 6_000_000 } } }), 200);
  });

  test('invalid platforms are 400 and change nothing', async () => {
    const errors = (await rejected('POST', '/api/admin/platforms', { body: { name: 'Bad', rtmpUrl: 'http://not-rtmp.example', limits: { ...limits, maxFrameRate: 0 } } }, 400, 'VALIDATION_FAILED', ['/api/admin/platforms'])).errors;
    const paths = errors.map((e: any) => e.path);
    assert.ok(paths.includes('rtmpUrl') && paths.includes('limits.maxFrameRate'), JSON.stringify(errors));
  });
});

// ---- admin: presets -----------------------------------------------------------------------------

const video = { codec: 'h264', resolution: '1280x720', frameRate: 30, bitrate: 3_000_000 };
const audio = { codec: 'aac', bitrate: 128_000 };

describe('admin: presets', () => {
  test('validation failures are 400 with the list of errors', async () => {
    const p = await rejected(
      'POST',
      '/api/admin/presets',
      { body: { name: 'Too low', platform: 'generic', video: { ...video, bitrate: 50_000, frameRate: 0, resolution: '1281x720' }, audio: { ...audio, bitrate: 8_000 } } },
      400,
      'VALIDATION_FAILED',
      ['/api/admin/presets'],
    );
    assert.ok(Array.isArray(p.errors));
    const paths = p.errors.map((e: any) => e.path).sort();
    assert.deepEqual(paths, ['audio.bitrate', 'video.bitrate', 'video.frameRate', 'video.resolution']);
    for (const e of p.errors) assert.equal(typeof e.message, 'string');
  });

  test('a preset over its platform’s limits is 422 with the violations', async () => {
    const p = await rejected('POST', '/api/admin/presets', { body: { name: 'Twitch 8 Mbps', platform: 'twitch', video: { ...video, bitrate: 8_000_000 }, audio } }, 422, 'PRESET_EXCEEDS_PLATFORM_LIMITS', ['/api/admin/presets']);
    assert.deepEqual(p.violations, ['video bitrate 8000000 exceeds the maximum 6000000']);
    await rejected('POST', '/api/admin/presets', { body: { name: 'Nowhere', platform: 'nowhere', video, audio } }, 422, 'UNKNOWN_PLATFORM', ['/api/admin/presets']);
  });

  test('create, list, update (versioned), and order among the platform presets', async () => {
    const res = await api('POST', '/api/admin/presets', { body: { name: 'Twitch Low Latency', platform: 'twitch', description: 'lower bitrate', video: { ...video, bitrate: 2_500_000 }, audio } });
    expectStatus(res, 201);
    const p = res.json;
    assert.equal(p.presetId, 'twitch-twitch-low-latency');
    assert.equal(p.type, 'platform');
    assert.equal(p.builtIn, false);
    assert.equal(p.version, 1);
    assert.equal(p.video.keyframeInterval, 2, 'defaults are filled');
    assert.ok((await api('GET', '/api/admin/presets')).json.presets.some((x: any) => x.presetId === p.presetId));

    const order = (await api('GET', '/api/presets?platform=twitch')).json.presets.map((x: any) => x.presetId);
    assert.equal(order[0], 'twitch-1080p60', 'the default stays first');
    assert.ok(order.indexOf(p.presetId) < order.indexOf('generic-720p30'), 'platform presets before generic ones');
    assert.ok(!(await api('GET', '/api/presets?platform=youtube')).json.presets.some((x: any) => x.presetId === p.presetId));

    const upd = await api('PUT', `/api/admin/presets/${p.presetId}`, { body: { name: 'Twitch Low Latency v2', platform: 'twitch', video: { ...video, bitrate: 2_000_000 }, audio, version: 1 } });
    expectStatus(upd, 200);
    assert.equal(upd.json.version, 2);
    assert.equal(upd.json.video.bitrate, 2_000_000);
    assert.equal(upd.json.createdAt, p.createdAt);
    await rejected('PUT', `/api/admin/presets/${p.presetId}`, { body: { name: 'Stale', platform: 'twitch', video, audio, version: 1 } }, 409, 'VERSION_CONFLICT', ['/api/admin/presets']);
    await rejected('PUT', `/api/admin/presets/${p.presetId}`, { body: { name: 'Too much', platform: 'twitch', video: { ...video, bitrate: 8_000_000 }, audio } }, 422, 'PRESET_EXCEEDS_PLATFORM_LIMITS', ['/api/admin/presets']);
    expectProblem(await api('PUT', '/api/admin/presets/no-such-preset', { body: { name: 'x', platform: 'generic', passthrough: true } }), 404, 'PRESET_NOT_FOUND');
  });

  test("a preset in use cannot be changed beyond its destinations' platform limits (422)", async () => {
    expectStatus(await api('POST', '/api/admin/presets', { body: { presetId: 'generic-used-li', name: 'Generic used by LinkedIn', platform: 'generic', video, audio } }), 201);
    const d = await createDestination({ platform: 'linkedin', rtmpUrl: 'rtmps://li.example:443/live', preset: 'generic-used-li' });
    assert.equal(d.preset, 'generic-used-li');
    const p = await rejected('PUT', '/api/admin/presets/generic-used-li', { body: { name: 'Generic 60 fps', platform: 'generic', video: { ...video, frameRate: 60 }, audio } }, 422, 'PRESET_EXCEEDS_PLATFORM_LIMITS', ['/api/admin/presets']);
    assert.equal(p.platform, 'linkedin');
    assert.deepEqual(p.violations, ['frame rate 60 exceeds the maximum 30']);
    expectStatus(await api('PUT', '/api/admin/presets/generic-used-li', { body: { name: 'Generic 25 fps', platform: 'generic', video: { ...video, frameRate: 25 }, audio } }), 200);
  });

  test('an id derived from the name must be a valid preset id (else 400, nothing created)', async () => {
    const platformId = `p${'x'.repeat(30)}`;
    expectStatus(await api('POST', '/api/admin/platforms', { body: { platformId, name: 'Long id platform', limits } }), 201);
    const p = await rejected('POST', '/api/admin/presets', { body: { name: 'A preset name long enough to overflow the id', platform: platformId, video, audio } }, 400, 'VALIDATION_FAILED', ['/api/admin/presets']);
    assert.deepEqual(
      p.errors.map((e: any) => e.path),
      ['presetId'],
    );
    const ok = await api('POST', '/api/admin/presets', { body: { presetId: 'long-platform-hd', name: 'A preset name long enough to overflow the id', platform: platformId, video, audio } });
    expectStatus(ok, 201);
  });

  test('a passthrough preset has no encode settings', async () => {
    const res = await api('POST', '/api/admin/presets', { body: { presetId: 'raw-forward', name: 'Raw forward', platform: 'generic', passthrough: true } });
    expectStatus(res, 201);
    assert.equal(res.json.type, 'passthrough');
    assert.equal(res.json.video, null);
    assert.equal(res.json.audio, null);
    await rejected('POST', '/api/admin/presets', { body: { presetId: 'raw-forward', name: 'Again', platform: 'generic', passthrough: true } }, 409, 'ALREADY_EXISTS', ['/api/admin/presets']);
  });

  test('a preset in use cannot be deleted (409 PRESET_IN_USE); built-ins never; unused ones can', async () => {
    const made = await api('POST', '/api/admin/presets', { body: { presetId: 'yt-in-use', name: 'YT in use', platform: 'youtube', video, audio } });
    expectStatus(made, 201);
    const d = await createDestination({ preset: 'yt-in-use' });
    assert.equal(d.preset, 'yt-in-use');
    const p = await rejected('DELETE', '/api/admin/presets/yt-in-use', {}, 409, 'PRESET_IN_USE', ['/api/admin/presets']);
    assert.deepEqual(p.usedBy, [d.destinationId]);
    await rejected('DELETE', '/api/admin/presets/generic-720p30', {}, 409, 'BUILT_IN_READ_ONLY', ['/api/admin/presets']);

    expectStatus(await api('POST', '/api/admin/presets', { body: { presetId: 'to-delete', name: 'To delete', platform: 'generic', video, audio } }), 201);
    expectStatus(await api('DELETE', '/api/admin/presets/to-delete'), 204);
    assert.ok(!(await api('GET', '/api/admin/presets')).json.presets.some((x: any) => x.presetId === 'to-delete'));
    expectProblem(await api('DELETE', '/api/admin/presets/to-delete'), 404, 'PRESET_NOT_FOUND');
  });
});

// ---- admin: tokens ------------------------------------------------------------------------------

describe('admin: tokens', () => {
  test('an operator token is shown once, works for destinations and presets, not for admin; revoked it is 401', async () => {
    const res = await api('POST', '/api/admin/tokens', { body: { name: 'Alice', role: 'operator' } });
    expectStatus(res, 201);
    assert.match(res.headers.get('cache-control') ?? '', /no-store/);
    const { token, tokenId } = res.json;
    assert.match(token, /^fo_[A-Za-z0-9_-]{40,}$/);
    assert.equal(res.json.role, 'operator');

    const list = await api('GET', '/api/admin/tokens');
    expectStatus(list, 200);
    const listed = list.json.tokens.find((t: any) => t.tokenId === tokenId);
    assert.deepEqual(Object.keys(listed).sort(), ['createdAt', 'name', 'role', 'tokenId']);
    assert.ok(!list.text.includes(token), 'the token value is never listed');
    for (const t of list.json.tokens) assert.equal(t.tokenHash, undefined);

    // Operators manage destinations and read presets.
    expectStatus(await api('GET', '/api/destinations', { token }), 200);
    const d = await createDestination({ name: 'Operator made' }, { token });
    expectStatus(await api('POST', `/api/destinations/${d.destinationId}/start`, { token }), 202);
    expectStatus(await api('POST', `/api/destinations/${d.destinationId}/stop`, { token }), 202);
    expectStatus(await api('GET', '/api/presets?platform=twitch', { token }), 200);
    expectStatus(await api('GET', '/api/mediaconnect/flow/status', { token }), 200);
    // ...and read platforms: the same list admins get.
    const platforms = await api('GET', '/api/platforms', { token });
    expectStatus(platforms, 200);
    assert.deepEqual(platforms.json, (await api('GET', '/api/admin/platforms')).json);
    assert.ok(
      platforms.json.platforms.some((p: any) => p.platformId === 'youtube' && p.builtIn && p.limits),
      platforms.text,
    );

    // ...but nothing under /api/admin.
    for (const [method, path, body] of [
      ['GET', '/api/admin/platforms', undefined],
      ['GET', '/api/admin/presets', undefined],
      ['GET', '/api/admin/tokens', undefined],
      ['POST', '/api/admin/tokens', { name: 'Escalate', role: 'admin' }],
      ['DELETE', '/api/admin/presets/generic-720p30', undefined],
    ] as const) {
      await rejected(method, path, { token, ...(body ? { body } : {}) }, 403, 'FORBIDDEN', ['/api/admin/tokens', '/api/admin/presets']);
    }

    expectStatus(await api('DELETE', `/api/admin/tokens/${tokenId}`), 204);
    const revoked = expectProblem(await api('GET', '/api/destinations', { token }), 401, 'UNAUTHENTICATED');
    assert.ok(revoked);
    assert.ok(!(await api('GET', '/api/admin/tokens')).json.tokens.some((t: any) => t.tokenId === tokenId));
    expectProblem(await api('DELETE', `/api/admin/tokens/${tokenId}`), 404, 'TOKEN_NOT_FOUND');
  });

  test('an admin token created through the API works for admin endpoints', async () => {
    const res = await api('POST', '/api/admin/tokens', { body: { name: 'Second admin', role: 'admin' } });
    expectStatus(res, 201);
    expectStatus(await api('GET', '/api/admin/platforms', { token: res.json.token }), 200);
    expectStatus(await api('DELETE', `/api/admin/tokens/${res.json.tokenId}`), 204);
  });
});

// ---- system -------------------------------------------------------------------------------------

describe('system endpoints', () => {
  test('/api/health answers without a token', async () => {
    const res = await api('GET', '/api/health', { token: null });
    expectStatus(res, 200);
    assert.equal(res.json.status, 'ok');
    assert.equal(res.json.runtime, 'local');
    assert.equal(res.json.checks.store, 'ok');
    assert.equal(typeof res.json.version, 'string');
  });

  test('/api/openapi.json is an OpenAPI 3.1.0 document with every path of the plan', async () => {
    const res = await api('GET', '/api/openapi.json', { token: null });
    expectStatus(res, 200);
    const doc = res.json;
    assert.equal(doc.openapi, '3.1.0');
    const expected: Record<string, string[]> = {
      '/api/destinations': ['get', 'post'],
      '/api/destinations/{id}': ['delete', 'get', 'put'],
      '/api/destinations/{id}/start': ['post'],
      '/api/destinations/{id}/stop': ['post'],
      '/api/destinations/{id}/metrics': ['get'],
      '/api/mediaconnect/flow/status': ['get'],
      '/api/presets': ['get'],
      '/api/platforms': ['get'],
      '/api/admin/platforms': ['get', 'post'],
      '/api/admin/platforms/{id}': ['delete', 'put'],
      '/api/admin/presets': ['get', 'post'],
      '/api/admin/presets/{id}': ['delete', 'put'],
      '/api/admin/tokens': ['get', 'post'],
      '/api/admin/tokens/{id}': ['delete'],
      '/api/health': ['get'],
      '/api/session': ['get'],
      '/api/openapi.json': ['get'],
      '/api/events': ['get'],
    };
    for (const [path, methods] of Object.entries(expected)) {
      assert.ok(doc.paths[path], `missing path ${path}`);
      for (const m of methods) assert.ok(doc.paths[path][m], `missing ${m.toUpperCase()} ${path}`);
    }
    assert.ok(doc.components.schemas.Destination && doc.components.schemas.Problem);
    assert.equal(doc.components.securitySchemes.bearer.scheme, 'bearer');
    assert.equal(doc.components.schemas.CreateDestination.additionalProperties, false, 'request bodies are strict');
  });
});

// ---- error statuses -----------------------------------------------------------------------------

describe('errors', () => {
  test('400: unknown field, malformed JSON, bad uuid, bad values', async () => {
    const unknown = await rejected('POST', '/api/destinations', { body: { name: 'X', platform: 'youtube', streamKey: streamKey(), colour: 'red' } }, 400, 'VALIDATION_FAILED');
    assert.ok(
      unknown.errors.some((e: any) => /unknown field\(s\): colour/.test(e.message)),
      JSON.stringify(unknown.errors),
    );

    await rejected('POST', '/api/destinations', { raw: '{"name": "X", "platform": ', headers: { 'content-type': 'application/json' } }, 400, 'MALFORMED_JSON');

    const bad = await api('GET', '/api/destinations/not-a-uuid');
    expectProblem(bad, 400, 'VALIDATION_FAILED');
    assert.deepEqual(
      bad.json.errors.map((e: any) => e.path),
      ['id'],
    );
    await rejected('POST', '/api/destinations/not-a-uuid/start', {}, 400, 'VALIDATION_FAILED');
    await rejected('PUT', '/api/destinations/not-a-uuid', { body: { name: 'X' } }, 400, 'VALIDATION_FAILED');

    const values = await rejected('POST', '/api/destinations', { body: { name: '   ', platform: 'YouTube!', streamKey: 'has spaces in it', rtmpUrl: 'https://example.com/live' } }, 400, 'VALIDATION_FAILED');
    assert.deepEqual(values.errors.map((e: any) => e.path).sort(), ['name', 'platform', 'rtmpUrl', 'streamKey']);
    assert.ok(!JSON.stringify(values).includes('has spaces in it'), 'the rejected key is not echoed');

    const d = await createDestination();
    await rejected('PUT', `/api/destinations/${d.destinationId}`, { body: {} }, 400, 'VALIDATION_FAILED');
    await rejected('PUT', `/api/destinations/${d.destinationId}`, { body: { name: 'X', status: 'running' } }, 400, 'VALIDATION_FAILED');
    await rejected('POST', '/api/destinations', { body: [] }, 400, 'VALIDATION_FAILED');
  });

  test('401: no token, bad token, malformed header (with WWW-Authenticate)', async () => {
    const none = expectProblem(await api('GET', '/api/destinations', { token: null }), 401, 'UNAUTHENTICATED');
    assert.ok(none);
    const noneRes = await api('GET', '/api/destinations', { token: null });
    assert.equal(noneRes.headers.get('www-authenticate'), 'Bearer');
    const badRes = await api('GET', '/api/destinations', { token: 'fo_not-a-real-token' });
    expectProblem(badRes, 401, 'UNAUTHENTICATED');
    assert.match(badRes.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
    const basic = await api('GET', '/api/destinations', { token: null, headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } });
    expectProblem(basic, 401, 'UNAUTHENTICATED');
    assert.ok(basic.headers.get('www-authenticate'));
    // The query-string token is accepted for the event stream only.
    expectProblem(await api('GET', `/api/destinations?access_token=${ADMIN_TOKEN}`, { token: null }), 401, 'UNAUTHENTICATED');
    await rejected('POST', '/api/destinations', { token: null, body: { name: 'X', platform: 'youtube', streamKey: streamKey() } }, 401, 'UNAUTHENTICATED');
  });

  test('404: unknown destination and unknown route', async () => {
    const id = randomUUID();
    const p = expectProblem(await api('GET', `/api/destinations/${id}`), 404, 'DESTINATION_NOT_FOUND');
    assert.equal(p.destinationId, id);
    await rejected('PUT', `/api/destinations/${id}`, { body: { name: 'Ghost' } }, 404, 'DESTINATION_NOT_FOUND');
    await rejected('POST', `/api/destinations/${id}/start`, {}, 404, 'DESTINATION_NOT_FOUND');
    await rejected('DELETE', `/api/destinations/${id}`, {}, 404, 'DESTINATION_NOT_FOUND');
    expectProblem(await api('GET', '/api/nothing-here'), 404, 'ROUTE_NOT_FOUND');
    expectProblem(await api('GET', '/not-the-api', { token: null }), 404, 'ROUTE_NOT_FOUND');
  });

  test('413: a body over 64 KiB', async () => {
    const res = await rejected('POST', '/api/destinations', { body: { name: 'x'.repeat(70 * 1024), platform: 'youtube', streamKey: streamKey() } }, 413, 'PAYLOAD_TOO_LARGE');
    assert.ok(res);
  });

  test('415: a body that is not JSON', async () => {
    await rejected('POST', '/api/destinations', { raw: 'name=X&platform=youtube', headers: { 'content-type': 'text/plain' } }, 415, 'UNSUPPORTED_MEDIA_TYPE');
    await rejected('POST', '/api/destinations', { raw: JSON.stringify({ name: 'X', platform: 'youtube', streamKey: streamKey() }), headers: { 'content-type': 'text/plain' } }, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  test('422: unknown platform or preset, missing ingest URL, preset of another platform or over the limits', async () => {
    const body = (b: Record<string, unknown>) => ({ body: { name: 'Rejected', platform: 'youtube', streamKey: streamKey(), ...b } });
    const up = await rejected('POST', '/api/destinations', body({ platform: 'myspace' }), 422, 'UNKNOWN_PLATFORM');
    assert.equal(up.platform, 'myspace');
    await rejected('POST', '/api/destinations', body({ preset: 'no-such-preset' }), 422, 'UNKNOWN_PRESET');
    await rejected('POST', '/api/destinations', body({ platform: 'linkedin' }), 422, 'RTMP_URL_REQUIRED');
    await rejected('POST', '/api/destinations', body({ platform: 'custom' }), 422, 'RTMP_URL_REQUIRED');
    await rejected('POST', '/api/destinations', body({ preset: 'twitch-1080p60' }), 422, 'PRESET_PLATFORM_MISMATCH');

    // LinkedIn with its URL works, and the LinkedIn default preset fits.
    const li = await createDestination({ platform: 'linkedin', rtmpUrl: 'rtmps://1234.channel.media.azure.net:2935/live/abcd' });
    assert.equal(li.preset, 'linkedin-720p30');

    // A generic preset that a small platform cannot take.
    expectStatus(await api('POST', '/api/admin/platforms', { body: { platformId: 'tiny-tv', name: 'Tiny TV', rtmpUrl: 'rtmp://tiny.example/live', limits: { ...limits, maxVideoBitrate: 1_000_000 } } }), 201);
    const over = await rejected('POST', '/api/destinations', body({ platform: 'tiny-tv', preset: 'generic-1080p30' }), 422, 'PRESET_EXCEEDS_PLATFORM_LIMITS');
    assert.ok(over.violations.length > 0);

    // The same rules on update.
    const d = await createDestination();
    const path = `/api/destinations/${d.destinationId}`;
    await rejected('PUT', path, { body: { preset: 'twitch-720p30' } }, 422, 'PRESET_PLATFORM_MISMATCH');
    await rejected('PUT', path, { body: { preset: 'no-such-preset' } }, 422, 'UNKNOWN_PRESET');
  });
});

// ---- idempotency --------------------------------------------------------------------------------

describe('Idempotency-Key', () => {
  test('the same key and body create one destination; the replay says so', async () => {
    const key = `idem-${randomUUID()}`;
    const name = `Idempotent ${key}`;
    const body = { name, platform: 'twitch', streamKey: streamKey() };
    const first = await api('POST', '/api/destinations', { body, headers: { 'idempotency-key': key } });
    expectStatus(first, 201);
    assert.equal(first.headers.get('idempotent-replayed'), null);
    const second = await api('POST', '/api/destinations', { body, headers: { 'idempotency-key': key } });
    expectStatus(second, 201);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.equal(second.json.destinationId, first.json.destinationId);
    assert.deepEqual(second.json, first.json);
    assert.equal((await listDestinations()).filter((d) => d.name === name).length, 1);
    await eventually(() => published('DestinationCreated', first.json.destinationId).length === 1, { what: 'one DestinationCreated' });

    // The same key with another body is refused.
    const p = await rejected('POST', '/api/destinations', { body: { ...body, name: `${name} (changed)` }, headers: { 'idempotency-key': key } }, 422, 'IDEMPOTENCY_KEY_REUSED');
    assert.ok(p);
    assert.equal(published('DestinationCreated', first.json.destinationId).length, 1);
  });

  test('concurrent requests with the same key create one destination', async () => {
    const key = `idem-${randomUUID()}`;
    const body = { name: `Concurrent ${key}`, platform: 'youtube', streamKey: streamKey() };
    const results = await Promise.all(Array.from({ length: 4 }, () => api('POST', '/api/destinations', { body, headers: { 'idempotency-key': key } })));
    for (const r of results) expectStatus(r, 201);
    assert.equal(new Set(results.map((r) => r.json.destinationId)).size, 1);
    assert.equal(results.filter((r) => r.headers.get('idempotent-replayed') === 'true').length, 3);
    assert.equal((await listDestinations()).filter((d) => d.name === body.name).length, 1);
  });

  test('keys are per token; a malformed key is 400', async () => {
    const tok = await api('POST', '/api/admin/tokens', { body: { name: 'Idem operator', role: 'operator' } });
    expectStatus(tok, 201);
    const key = `idem-${randomUUID()}`;
    const body = { name: `Per token ${key}`, platform: 'youtube', streamKey: streamKey() };
    const a = await createDestination(body, { headers: { 'idempotency-key': key } });
    const b = await createDestination(body, { headers: { 'idempotency-key': key }, token: tok.json.token });
    assert.notEqual(a.destinationId, b.destinationId);
    await rejected('POST', '/api/destinations', { body, headers: { 'idempotency-key': 'has spaces' } }, 400, 'VALIDATION_FAILED');
    expectStatus(await api('DELETE', `/api/admin/tokens/${tok.json.tokenId}`), 204);
  });
});

// ---- stream keys --------------------------------------------------------------------------------

describe('stream keys', () => {
  test('streamKeyLast4 is the last 4 characters for keys of 12 or more, null for shorter ones', async () => {
    for (const [length, shown] of [
      [8, false],
      [11, false],
      [12, true],
      [64, true],
    ] as const) {
      const key = streamKey(length);
      assert.equal(key.length, length);
      // A custom platform takes keys of any length (YouTube's are at least 16: validation.test.ts).
      const d = await createDestination({ platform: 'custom', rtmpUrl: 'rtmp://ingest.example.com/live', streamKey: key });
      assert.equal(d.streamKeyLast4, shown ? key.slice(-4) : null, `key of ${length}`);
    }
  });

  test('changing the key updates streamKeyLast4 and the version', async () => {
    const d = await createDestination({ platform: 'custom', rtmpUrl: 'rtmp://ingest.example.com/live', streamKey: streamKey(30) });
    const short = streamKey(6);
    const res = await api('PUT', `/api/destinations/${d.destinationId}`, { body: { streamKey: short } });
    expectStatus(res, 200);
    assert.equal(res.json.streamKeyLast4, null);
    assert.equal(res.json.version, 2);
    const long = streamKey(20);
    const res2 = await api('PUT', `/api/destinations/${d.destinationId}`, { body: { streamKey: long } });
    assert.equal(res2.json.streamKeyLast4, long.slice(-4));
    assert.equal(res2.json.version, 3);
    const same = await api('PUT', `/api/destinations/${d.destinationId}`, { body: { streamKey: long } });
    assert.equal(same.json.version, 3, 'the same key is no change');
    await eventually(() => published('DestinationUpdated', d.destinationId).length === 2, { what: 'two updates' });
    const changed = published('DestinationUpdated', d.destinationId).map((e) => JSON.parse(e.Detail).data.changed);
    assert.deepEqual(changed, [['streamKey'], ['streamKey']]);
  });

  // Runs last in this file: it scans everything the other tests received.
  test('no stream key ever appears in a response body or a published event', () => {
    assert.ok(sentKeys.size > 20, `only ${sentKeys.size} keys were sent`);
    assert.ok(rt.responses.length > 100);
    for (const key of sentKeys) {
      // Short keys (< 8) could match by accident in ids or timestamps; they are long enough here.
      for (const body of rt.responses) assert.ok(!body.includes(key), `stream key ${key.slice(0, 3)}… leaked in a response`);
      for (const e of rt.published) assert.ok(!e.Detail.includes(key), `stream key leaked in ${e.DetailType}`);
    }
    assert.ok(errorResponses > 40, `error shape checked on ${errorResponses} responses`);
  });
});

// ---- rate limiting (its own runtime: 5 requests a minute) ----------------------------------------

describe('rate limiting', () => {
  test('429 RATE_LIMITED with Retry-After once a token has used its budget; other tokens are unaffected', async () => {
    const limited = await startTestRuntime({ FANOUT_RATE_LIMIT_PER_MINUTE: '5' });
    try {
      const op = await limited.api('POST', '/api/admin/tokens', { body: { name: 'Other', role: 'operator' } });
      expectStatus(op, 201);
      const statuses: number[] = [];
      let last: ApiResponse | undefined;
      for (let i = 0; i < 8; i++) {
        last = await limited.api('GET', '/api/destinations');
        statuses.push(last.status);
      }
      assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429, 429, 429], 'a burst of 5 (one was spent creating the token)');
      assertProblemShape(last!);
      assert.equal(last!.json.code, 'RATE_LIMITED');
      const retryAfter = Number(last!.headers.get('retry-after'));
      assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${last!.headers.get('retry-after')}`);
      assert.equal(last!.json.retryAfterSeconds, retryAfter);
      // A rate-limited write does nothing.
      const write = await limited.api('POST', '/api/destinations', { body: { name: 'Limited', platform: 'youtube', streamKey: streamKey() } });
      expectStatus(write, 429);
      expectStatus(await limited.api('GET', '/api/destinations', { token: op.json.token }), 200);
      assert.equal((await limited.api('GET', '/api/destinations', { token: op.json.token })).json.destinations.length, 0);
      expectStatus(await limited.api('GET', '/api/health', { token: null }), 200);
    } finally {
      await limited.close();
    }
  });
});
