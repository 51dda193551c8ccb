import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { reportFlowOutputRemoved } from './support/engine-events.ts';
import { startTestRuntime, type TestRuntime } from './support/local.ts';

let rt: TestRuntime;
before(async () => {
  rt = await startTestRuntime();
});
after(async () => {
  await rt.close();
});

test('an Idempotency-Key whose destination was deleted does not bring it back', async () => {
  const body = { name: 'Replay', platform: 'youtube', streamKey: 'replay-key-0123456789' };
  const headers = { 'idempotency-key': 'replay-after-delete' };
  const first = await rt.api('POST', '/api/destinations', { body, headers });
  assert.equal(first.status, 201);
  const id = first.json.destinationId as string;
  assert.equal((await rt.api('DELETE', `/api/destinations/${id}`)).status, 202);
  await reportFlowOutputRemoved(rt, id);
  await rt.bus.drain(5000);
  assert.equal((await rt.api('GET', `/api/destinations/${id}`)).status, 404);
  const replay = await rt.api('POST', '/api/destinations', { body, headers });
  assert.equal(replay.status, 422);
  assert.equal(replay.json.code, 'IDEMPOTENCY_KEY_REUSED');
  assert.equal((await rt.api('GET', '/api/destinations')).json.destinations.length, 0);
});

test('one default preset per platform', async () => {
  const made = await rt.api('POST', '/api/admin/presets', {
    body: {
      presetId: 'youtube-720p60-sport',
      name: 'YouTube 720p60 Sport',
      platform: 'youtube',
      isDefault: true,
      video: { codec: 'h264', resolution: '1280x720', frameRate: 60, bitrate: 4_500_000 },
      audio: { codec: 'aac', bitrate: 128_000 },
    },
  });
  assert.equal(made.status, 201, made.text);
  const youtube = (await rt.api('GET', '/api/presets?platform=youtube')).json.presets as { presetId: string; platform: string; isDefault: boolean }[];
  assert.deepEqual(
    youtube.filter((p) => p.platform === 'youtube' && p.isDefault).map((p) => p.presetId),
    ['youtube-720p60-sport'],
  );
  assert.equal(youtube[0]!.presetId, 'youtube-720p60-sport', 'the default comes first');
  const created = await rt.api('POST', '/api/destinations', { body: { name: 'Sport', platform: 'youtube', streamKey: 'sport-key-0123456789' } });
  assert.equal(created.json.preset, 'youtube-720p60-sport');
});
