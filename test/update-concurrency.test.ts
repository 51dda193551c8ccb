/**
 * PUT without `version` never answers VERSION_CONFLICT because a background handler wrote in
 * between: the service retries its own read-modify-write. With `version`, the conflict is the
 * client's to see. First deterministically (an engine observation lands between the update's read
 * and its write), then as it happens: back-to-back key and URL changes while observations stream in.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestRuntime, type TestRuntime } from './support/local.ts';

let rt: TestRuntime;
before(async () => {
  rt = await startTestRuntime();
});
after(async () => rt?.close());

async function createOne(): Promise<string> {
  const res = await rt.api('POST', '/api/destinations', { body: { name: 'Race', platform: 'custom', rtmpUrl: 'rtmp://ingest.example.com/live', streamKey: 'race-key-0123456789' } });
  assert.equal(res.status, 201, res.text);
  return res.json.destinationId;
}

/** Makes the next save of `destinationId` lose a race: an observation is written just before it. */
function loseNextRace(destinationId: string): () => number {
  const m = rt.destination;
  const save = m.destinations.save.bind(m.destinations);
  let injected = 0;
  m.destinations.save = async (next, events, opts) => {
    if (next.destinationId === destinationId && injected === 0) {
      injected++;
      await m.service.observeOutputAdded({ destinationId, outputArn: `arn:aws:mediaconnect:eu-west-1:111122223333:flow:1-x:f:output:${Date.now()}` }, 'background');
    }
    return save(next, events, opts);
  };
  return () => injected;
}

test('without version: an observation between read and write does not surface as 409; the change and the observation both land', async () => {
  const id = await createOne();
  const injected = loseNextRace(id);
  const res = await rt.api('PUT', `/api/destinations/${id}`, { body: { rtmpUrl: 'rtmp://ingest.example.com/live2' } });
  assert.equal(injected(), 1, 'the race was staged');
  assert.equal(res.status, 200, res.text);
  const stored = (await rt.api('GET', `/api/destinations/${id}`)).json;
  assert.equal(stored.rtmpUrl, 'rtmp://ingest.example.com/live2');
  assert.match(stored.mediaConnectOutputArn, /output:\d+$/, 'the observation is kept, not overwritten by the retry');
  assert.equal(stored.version, 3, 'created (1), observed (2), updated (3)');
});

test("with version: optimistic concurrency is the client's, so the same race is VERSION_CONFLICT", async () => {
  const id = await createOne();
  loseNextRace(id);
  const res = await rt.api('PUT', `/api/destinations/${id}`, { body: { rtmpUrl: 'rtmp://ingest.example.com/live3', version: 1 } });
  assert.equal(res.status, 409, res.text);
  assert.equal(res.json.code, 'VERSION_CONFLICT');
  assert.equal((await rt.api('GET', `/api/destinations/${id}`)).json.rtmpUrl, 'rtmp://ingest.example.com/live', 'nothing changed');
});

test('back-to-back key and URL changes while engine observations land alongside each: every PUT without version succeeds', async () => {
  const id = await createOne();
  const m = rt.destination;
  // What the inbox does while destinations start and run: each PUT goes out together with two
  // engine observations (a channel state, an output), each of them a version bump of its own.
  for (let i = 0; i < 40; i++) {
    const body = i % 2 === 0 ? { streamKey: `rotated-key-${i}-0123456789` } : { rtmpUrl: `rtmp://ingest.example.com/live${i}` };
    const [res] = await Promise.all([
      rt.api('PUT', `/api/destinations/${id}`, { body }),
      m.service.observeOutputAdded({ destinationId: id, outputArn: `arn:aws:mediaconnect:eu-west-1:111122223333:flow:1-x:f:output:${i}` }, 'bg'),
      m.service.observeChannelState({ destinationId: id, channelId: `ch-${i}`, state: 'IDLE', error: null, observedAt: new Date().toISOString() }, 'bg'),
    ]);
    assert.equal(res.status, 200, `PUT ${i}: ${res.text}`);
  }
  const d = (await rt.api('GET', `/api/destinations/${id}`)).json;
  assert.equal(d.rtmpUrl, 'rtmp://ingest.example.com/live39');
  assert.equal(d.streamKeyLast4, '6789');
  assert.match(d.mediaConnectOutputArn, /output:39$/, 'the observations landed too');
});
