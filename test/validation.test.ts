/**
 * Validation at the door, through the API: everything an engine would refuse when a destination
 * starts is refused when it is created or changed: a 422 problem with a stable code and an
 * `errors[]` entry naming the field, and nothing stored, claimed or published. Then the egress
 * policy at the door, with the local runtime's default (private ranges allowed) and with the AWS
 * default (refused), names resolved by an injected resolver (no DNS query leaves the machine).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HostResolver } from '../shared/net/egress.ts';
import { eventually, startTestRuntime, testResolver, type ApiResponse, type TestRuntime } from './support/local.ts';

function expectProblem(res: ApiResponse, status: number, code: string, path?: string): Record<string, any> {
  assert.equal(res.status, status, res.text);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(res.json.code, code, res.text);
  if (path)
    assert.deepEqual(
      res.json.errors?.map((e: { path: string }) => e.path),
      [path],
      res.text,
    );
  return res.json;
}

/** The request is refused and leaves destinations, events and the idempotency key as they were. */
async function refusedAndUnchanged(rt: TestRuntime, method: string, path: string, body: unknown, status: number, code: string, field?: string): Promise<Record<string, any>> {
  const before = (await rt.api('GET', '/api/destinations')).json;
  const events = rt.published.length;
  const p = expectProblem(await rt.api(method, path, { body, headers: method === 'POST' ? { 'idempotency-key': `k-${Math.random()}` } : {} }), status, code, field);
  assert.deepEqual((await rt.api('GET', '/api/destinations')).json, before, 'a refused request changed stored state');
  assert.equal(rt.published.length, events, 'a refused request published an event');
  return p;
}

describe('destinations: ingest URLs and stream keys (local runtime defaults)', () => {
  let rt: TestRuntime;
  let id: string;
  before(async () => {
    rt = await startTestRuntime();
    const res = await rt.api('POST', '/api/destinations', { body: { name: 'Base', platform: 'custom', rtmpUrl: 'rtmp://ingest.example.com/live', streamKey: 'base-key-0123456789' } });
    assert.equal(res.status, 201, res.text);
    id = res.json.destinationId;
  });
  after(async () => rt?.close());

  const urls: [url: string, code: string, reason: string, message: RegExp][] = [
    ['rtmp://ingest.example.com', 'INGEST_URL_INVALID', 'no-application', /no application path/],
    ['rtmp://ingest.example.com:0/live', 'INGEST_URL_INVALID', 'port', /port 0/],
    ['rtmp://ingest.example.com:70000/live', 'INGEST_URL_INVALID', 'port', /port 70000/],
    ['rtmp://ingest.example.com/live?key=1', 'INGEST_URL_INVALID', 'query', /query/],
    ['rtmp://ingest.example.com/live#x', 'INGEST_URL_INVALID', 'fragment', /fragment/],
    ['rtmp://ingest.example.com/li\u0000ve', 'INGEST_URL_INVALID', 'control-character', /control character/],
    ['rtmp://ingest.example.com/live\r\n', 'INGEST_URL_INVALID', 'control-character', /control character/],
    ['rtmp://user:hunter2pass@ingest.example.com/live', 'INGEST_URL_CREDENTIALS', 'credentials', /credentials.*neither engine/],
  ];
  for (const [url, code, reason, message] of urls) {
    test(`create and update refuse ${JSON.stringify(url)}: ${code} (${reason}) naming rtmpUrl`, async () => {
      for (const [method, path, body] of [
        ['POST', '/api/destinations', { name: 'X', platform: 'custom', rtmpUrl: url, streamKey: 'some-key-0123456789' }],
        ['PUT', `/api/destinations/${id}`, { rtmpUrl: url }],
      ] as const) {
        const p = await refusedAndUnchanged(rt, method, path, body, 422, code, 'rtmpUrl');
        assert.equal(p.reason, reason);
        assert.match(p.detail, message);
        assert.ok(!JSON.stringify(p).includes('hunter2pass'), 'a password is never repeated');
      }
    });
  }

  test('a NUL or another control character in a stream key is refused (it would end the key at the platform); the key is never shown', async () => {
    for (const key of ['abc\u0000def-0123456789', 'abc-0123456789\u007f', 'abc\u001b[0m-0123456789']) {
      for (const [method, path, body] of [
        ['POST', '/api/destinations', { name: 'X', platform: 'custom', rtmpUrl: 'rtmp://ingest.example.com/live', streamKey: key }],
        ['PUT', `/api/destinations/${id}`, { streamKey: key }],
      ] as const) {
        const p = await refusedAndUnchanged(rt, method, path, body, 422, 'STREAM_KEY_INVALID', 'streamKey');
        assert.ok(!JSON.stringify(p).includes('0123456789'));
      }
    }
  });

  test('a key shorter than the platform ever issues is refused at create and update, naming the platform; custom platforms take any length', async () => {
    const yt = await rt.api('POST', '/api/destinations', { body: { name: 'YT', platform: 'youtube', streamKey: 'abcd-efgh-ijkl-mnop-qrst' } });
    assert.equal(yt.status, 201, yt.text);
    for (const [method, path, body] of [
      ['POST', '/api/destinations', { name: 'YT short', platform: 'youtube', streamKey: 'abcd-efgh' }],
      ['POST', '/api/destinations', { name: 'Twitch short', platform: 'twitch', streamKey: 'live_1234_abcd' }],
      ['PUT', `/api/destinations/${yt.json.destinationId}`, { streamKey: 'abcd-efgh' }],
    ] as const) {
      const p = await refusedAndUnchanged(rt, method, path, body, 422, 'STREAM_KEY_INVALID', 'streamKey');
      assert.match(p.detail, /(YouTube|Twitch) stream keys are at least \d+/);
      assert.ok(!JSON.stringify(p).includes('abcd-efgh') && !JSON.stringify(p).includes('live_1234'), 'the key is never repeated');
    }
    const custom = await rt.api('POST', '/api/destinations', { body: { name: 'Own server', platform: 'custom', rtmpUrl: 'rtmp://ingest.example.com/live', streamKey: 'x' } });
    assert.equal(custom.status, 201, custom.text);
  });

  test('an IDN host is stored in punycode (never percent-encoded)', async () => {
    for (const url of ['rtmp://bücher.example/live', 'rtmp://b%C3%BCcher.example/live']) {
      const res = await rt.api('POST', '/api/destinations', { body: { name: 'IDN', platform: 'custom', rtmpUrl: url, streamKey: 'idn-key-0123456789' } });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.json.rtmpUrl, 'rtmp://xn--bcher-kva.example/live');
    }
    const upd = await rt.api('PUT', `/api/destinations/${id}`, { body: { rtmpUrl: 'rtmps://exämple.com:443/app' } });
    assert.equal(upd.status, 200, upd.text);
    assert.equal(upd.json.rtmpUrl, 'rtmps://xn--exmple-cua.com:443/app');
  });

  test('egress at the door, local defaults: loopback and private hosts are allowed; link-local and metadata never', async () => {
    for (const url of ['rtmp://127.0.0.1:1935/live', 'rtmp://localhost/live', 'rtmp://192.168.1.20/live', 'rtmp://[::1]:1935/live']) {
      const res = await rt.api('POST', '/api/destinations', { body: { name: 'LAN', platform: 'custom', rtmpUrl: url, streamKey: 'lan-key-0123456789' } });
      assert.equal(res.status, 201, `${url}: ${res.text}`);
    }
    const never: [string, string][] = [
      ['rtmp://169.254.169.254/latest', 'metadata'],
      ['rtmp://[fd00:ec2::254]/latest', 'metadata'],
      ['rtmp://metadata.google.internal/computeMetadata', 'metadata'],
      ['rtmp://169.254.10.1:1935/live', 'link-local'],
      ['rtmp://[fe80::1]:1935/live', 'link-local'],
      ['rtmp://[::ffff:169.254.169.254]/live', 'metadata'],
    ];
    for (const [url, reason] of never) {
      const p = await refusedAndUnchanged(rt, 'POST', '/api/destinations', { name: 'X', platform: 'custom', rtmpUrl: url, streamKey: 'k-0123456789' }, 422, 'EGRESS_REFUSED', 'rtmpUrl');
      assert.equal(p.reason, reason, url);
      assert.equal(p.setting, null, 'no setting allows it');
      assert.match(p.detail, /Fanout never connects there/);
    }
  });

  test('a name that does not resolve is refused at the door', async () => {
    const p = await refusedAndUnchanged(rt, 'PUT', `/api/destinations/${id}`, { rtmpUrl: 'rtmp://no-such-host.invalid/live' }, 422, 'INGEST_HOST_NOT_FOUND', 'rtmpUrl');
    assert.match(p.detail, /no-such-host\.invalid does not resolve/);
  });

  test('platforms: credentials in an ingest URL are refused with a message, on rtmpUrl and rtmpsUrl; each URL has its own scheme', async () => {
    const limits = { maxVideoBitrate: 6_000_000, maxFrameRate: 60, maxWidth: 1920, maxHeight: 1080, maxKeyframeInterval: 4 };
    const before = (await rt.api('GET', '/api/admin/platforms')).json;
    expectProblem(await rt.api('POST', '/api/admin/platforms', { body: { platformId: 'creds-tv', name: 'Creds TV', rtmpUrl: 'rtmp://u:pw@ingest.creds.example/live', limits } }), 422, 'INGEST_URL_CREDENTIALS', 'rtmpUrl');
    expectProblem(await rt.api('POST', '/api/admin/platforms', { body: { platformId: 'creds-tv', name: 'Creds TV', rtmpsUrl: 'rtmps://u:pw@ingest.creds.example:443/live', limits } }), 422, 'INGEST_URL_CREDENTIALS', 'rtmpsUrl');
    expectProblem(await rt.api('POST', '/api/admin/platforms', { body: { platformId: 'creds-tv', name: 'Creds TV', rtmpsUrl: 'rtmp://ingest.creds.example/live', limits } }), 422, 'INGEST_URL_INVALID', 'rtmpsUrl');
    expectProblem(await rt.api('POST', '/api/admin/platforms', { body: { platformId: 'creds-tv', name: 'Creds TV', rtmpUrl: 'rtmp://ingest.creds.example:0/live', limits } }), 422, 'INGEST_URL_INVALID', 'rtmpUrl');
    const twitch = (before.platforms as any[]).find((p) => p.platformId === 'twitch');
    expectProblem(
      await rt.api('PUT', '/api/admin/platforms/twitch', { body: { name: twitch.name, rtmpUrl: 'rtmp://live:secret@live.twitch.tv/app', rtmpsUrl: twitch.rtmpsUrl, limits: twitch.limits } }),
      422,
      'INGEST_URL_CREDENTIALS',
      'rtmpUrl',
    );
    assert.deepEqual((await rt.api('GET', '/api/admin/platforms')).json, before, 'nothing changed');
    const ok = await rt.api('POST', '/api/admin/platforms', { body: { platformId: 'idn-tv', name: 'IDN TV', rtmpUrl: 'RTMP://Ingest.Bücher.example/live', limits } });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.json.rtmpUrl, 'rtmp://ingest.xn--bcher-kva.example/live');
  });
});

describe('presets: what both engines can encode', () => {
  let rt: TestRuntime;
  before(async () => {
    rt = await startTestRuntime();
  });
  after(async () => rt?.close());
  const audio = { codec: 'aac', bitrate: 128_000 };

  test('an H.264 level too low for the size, rate or bitrate is refused, naming video.level and the level that would fit', async () => {
    const before = (await rt.api('GET', '/api/admin/presets')).json;
    const p = expectProblem(
      await rt.api('POST', '/api/admin/presets', { body: { name: 'Sixty', platform: 'generic', video: { codec: 'h264', resolution: '1920x1080', frameRate: 60, bitrate: 6_000_000, level: '4.1' }, audio } }),
      422,
      'PRESET_NOT_ENCODABLE',
      'video.level',
    );
    assert.match(p.errors[0].message, /level 4\.1 allows 245760.*use level 4\.2/);
    expectProblem(
      await rt.api('POST', '/api/admin/presets', { body: { name: 'Huge', platform: 'generic', video: { codec: 'h264', resolution: '7680x4320', frameRate: 30, bitrate: 50_000_000 }, audio } }),
      422,
      'PRESET_NOT_ENCODABLE',
      'video.level',
    );
    assert.deepEqual((await rt.api('GET', '/api/admin/presets')).json, before);
  });

  test('without a level (or with auto) the lowest level that fits is chosen and stored', async () => {
    const res = await rt.api('POST', '/api/admin/presets', { body: { name: 'Auto sixty', platform: 'generic', video: { codec: 'h264', resolution: '1920x1080', frameRate: 60, bitrate: 6_000_000 }, audio } });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.video.level, '4.2');
    const upd = await rt.api('PUT', `/api/admin/presets/${res.json.presetId}`, {
      body: { name: 'Auto thirty', platform: 'generic', video: { codec: 'h264', resolution: '1280x720', frameRate: 30, bitrate: 3_000_000, level: 'auto' }, audio },
    });
    assert.equal(upd.status, 200, upd.text);
    assert.equal(upd.json.video.level, '3.1');
  });

  test("AAC bitrate outside MediaLive's range for the channels and sample rate, and more than 60 fps, are refused", async () => {
    const video = { codec: 'h264', resolution: '1280x720', frameRate: 30, bitrate: 3_000_000 };
    expectProblem(await rt.api('POST', '/api/admin/presets', { body: { name: 'Thin', platform: 'generic', video, audio: { codec: 'aac', bitrate: 48_000 } } }), 422, 'PRESET_NOT_ENCODABLE', 'audio.bitrate');
    expectProblem(await rt.api('POST', '/api/admin/presets', { body: { name: 'Fat mono', platform: 'generic', video, audio: { codec: 'aac', bitrate: 320_000, channels: 1 } } }), 422, 'PRESET_NOT_ENCODABLE', 'audio.bitrate');
    expectProblem(await rt.api('POST', '/api/admin/presets', { body: { name: 'Fast', platform: 'generic', video: { ...video, frameRate: 90 }, audio } }), 422, 'PRESET_NOT_ENCODABLE', 'video.frameRate');
  });
});

describe('egress at the door, AWS defaults (private ranges refused) with an allow-list', () => {
  let rt: TestRuntime;
  const dns: Record<string, string[]> = {
    'public.example': ['2a00:1450:4001::1'],
    'internal.corp.example': ['10.1.2.3'],
    'allowed.corp.example': ['10.9.9.9'],
    'rebind.example': ['169.254.169.254'],
  };
  const resolver: HostResolver = async (host) => {
    if (host === 'slow-dns.example') throw Object.assign(new Error('getaddrinfo EAI_AGAIN slow-dns.example'), { code: 'EAI_AGAIN' });
    const a = dns[host];
    if (!a) return testResolver(host);
    return a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  before(async () => {
    rt = await startTestRuntime({ FANOUT_EGRESS_ALLOW_PRIVATE: 'off', FANOUT_EGRESS_ALLOW_HOSTS: 'allowed.corp.example,192.168.50.0/24' }, { resolveHost: resolver });
  });
  after(async () => rt?.close());
  const create = (rtmpUrl: string) => rt.api('POST', '/api/destinations', { body: { name: 'E', platform: 'custom', rtmpUrl, streamKey: 'egress-key-0123456789' } });

  test('loopback, private and CGNAT hosts are refused with the host, the reason and the setting that would allow them', async () => {
    for (const [url, reason] of [
      ['rtmp://127.0.0.1:1935/live', 'loopback'],
      ['rtmp://2130706433:1935/live', 'loopback'],
      ['rtmp://localhost/live', 'loopback'],
      ['rtmp://10.0.0.8/live', 'private'],
      ['rtmp://100.64.3.4/live', 'private'],
      ['rtmp://0.0.0.0/live', 'non-public'],
      ['rtmp://internal.corp.example/live', 'private'],
    ] as const) {
      const p = await refusedAndUnchanged(rt, 'POST', '/api/destinations', { name: 'E', platform: 'custom', rtmpUrl: url, streamKey: 'egress-key-0123456789' }, 422, 'EGRESS_REFUSED', 'rtmpUrl');
      assert.equal(p.reason, reason, url);
      assert.match(p.setting, /FANOUT_EGRESS_ALLOW_PRIVATE=on or FANOUT_EGRESS_ALLOW_HOSTS/);
      assert.ok(p.detail.includes(p.host), p.detail);
    }
  });

  test('the allow-list opens a listed name and a listed range; public hosts pass; metadata stays refused', async () => {
    assert.equal((await create('rtmp://allowed.corp.example/live')).status, 201);
    assert.equal((await create('rtmp://192.168.50.7:1935/live')).status, 201);
    assert.equal((await create('rtmp://public.example/live')).status, 201);
    expectProblem(await create('rtmp://192.168.51.7:1935/live'), 422, 'EGRESS_REFUSED', 'rtmpUrl');
    expectProblem(await create('rtmp://rebind.example/live'), 422, 'EGRESS_REFUSED', 'rtmpUrl');
  });

  test('a platform default URL goes through the same check; DNS that does not answer is a 503 to retry', async () => {
    const yt = await rt.api('POST', '/api/destinations', { body: { name: 'YT', platform: 'youtube', streamKey: 'yt-key-0123456789' } });
    assert.equal(yt.status, 201, yt.text);
    const p = await refusedAndUnchanged(rt, 'POST', '/api/destinations', { name: 'E', platform: 'custom', rtmpUrl: 'rtmp://slow-dns.example/live', streamKey: 'egress-key-0123456789' }, 503, 'DNS_UNAVAILABLE');
    assert.match(p.detail, /retry/);
  });
});

describe('the level chosen is the level used (through the saga, on the AWS engine over the in-memory AWS)', () => {
  let rt: TestRuntime;
  before(async () => {
    // Scaled time (function timeouts 1.5-3 s: a loaded machine keeps them; nothing here is redelivered).
    rt = await startTestRuntime({}, { engine: 'aws-fake', timeScale: 0.05 });
  });
  after(async () => rt?.close());

  test('a preset stored with level auto becomes H264_LEVEL_4_2 in the channel MediaLive is given, scene-change detection off', async () => {
    const preset = await rt.api('POST', '/api/admin/presets', {
      body: { presetId: 'auto-1080p60', name: 'Auto 1080p60', platform: 'generic', video: { codec: 'h264', resolution: '1920x1080', frameRate: 60, bitrate: 6_000_000 }, audio: { codec: 'aac', bitrate: 160_000 } },
    });
    assert.equal(preset.status, 201, preset.text);
    assert.equal(preset.json.video.level, '4.2');
    const d = await rt.api('POST', '/api/destinations', { body: { name: 'Level', platform: 'custom', rtmpUrl: 'rtmp://ingest.example.com/live', streamKey: 'level-key-0123456789', preset: 'auto-1080p60' } });
    assert.equal(d.status, 201, d.text);
    const channelId = await eventually(async () => (await rt.api('GET', `/api/destinations/${d.json.destinationId}`)).json.mediaLiveChannelId as string | null, { timeoutMs: 30_000, what: 'the channel' });
    const h264 = rt.awsFake!.channel(channelId)!.settings.EncoderSettings!.VideoDescriptions![0]!.CodecSettings!.H264Settings!;
    assert.equal(h264.Level, 'H264_LEVEL_4_2');
    assert.equal(h264.SceneChangeDetect, 'DISABLED');
  });
});
