/**
 * The AWS engine against the in-memory AWS (aws-fake.ts) on fake timers: the whole lifecycle with
 * AWS's timings (a start takes minutes), failures mid-way, throttling, wrong-state conflicts,
 * idempotent creates, ownership, and every request it sent checked against the official models.
 * One test drives a real SDK client through its own retry middleware (HTTP-level stub) to show
 * that throttling is retried by the SDK, not by the engine.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test, type TestContext } from 'node:test';
import { CreateInputCommand, MediaLiveClient } from '@aws-sdk/client-medialive';
import { MediaConnectClient } from '@aws-sdk/client-mediaconnect';
import { MediaLiveChannelStateChange, MediaConnectFlowStatusChange } from '../../../events/native/schemas.ts';
import { EngineError } from '../port/errors.ts';
import { Secret } from '../../secrets/secret.ts';
import type { ChannelSpec, EncodeSpec, NativeEngineEvent } from '../port/ports.ts';
import { AwsMediaEngine, TAGS, type AwsEngineConfig } from './aws-engine.ts';
import { AWS_TIMINGS, AwsFake, medialiveError, type AwsFakeOptions } from './aws-fake.ts';
import { AwsEngineError } from './errors.ts';
import { captureWithMiddleware, expectAllValid, modelsOrSkip, type CapturedRequest } from './request-capture.ts';

const KEY = 'yt-abcd-efgh-ijkl-mnop-qrst';
const DEST = '0f8fad5b-d9cb-469f-a165-70867728950e';
const ENCODE: EncodeSpec = { video: { width: 1920, height: 1080, frameRate: 30, bitrate: 6_000_000, profile: 'high', level: '4.1', keyframeInterval: 2 }, audio: { bitrate: 128_000, sampleRate: 48_000, channels: 2 } };

interface Harness {
  fake: AwsFake;
  engine: AwsMediaEngine;
  config: AwsEngineConfig;
  logs: string[];
  tick(ms: number): void;
}

function setup(t: TestContext, fakeOptions: AwsFakeOptions = {}, config: Partial<AwsEngineConfig> = {}): Harness {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse('2026-11-21T10:00:00Z') });
  const fake = new AwsFake(fakeOptions);
  t.after(() => fake.close());
  const logs: string[] = [];
  const logger = { info: (m: string, a?: object) => logs.push(`INFO ${m} ${JSON.stringify(a ?? {})}`), warn: (m: string, a?: object) => logs.push(`WARN ${m} ${JSON.stringify(a ?? {})}`) };
  const cfg: AwsEngineConfig = { flowArn: fake.flowArn, mediaLiveRoleArn: 'arn:aws:iam::111122223333:role/MediaLiveAccessRole', region: fake.region, tags: { app: 'fanout', 'cost-center': 'live' }, deployment: 'dev', ...config };
  const engine = new AwsMediaEngine(cfg, { medialive: fake.medialive, mediaconnect: fake.mediaconnect, logger });
  return { fake, engine, config: cfg, logs, tick: (ms) => t.mock.timers.tick(ms) };
}

function spec(outputArn: string, over: Partial<ChannelSpec> = {}): ChannelSpec {
  return { destinationId: DEST, name: 'YouTube — main', outputArn, presetId: 'youtube-1080p30', encode: ENCODE, target: { url: 'rtmp://a.rtmp.youtube.com/live2', streamKey: new Secret(KEY) }, ...over };
}

/** The native event as EventBridge delivers it (the envelope the consumers parse). */
function envelope(e: NativeEngineEvent, fake: AwsFake) {
  return { version: '0', id: 'evt', 'detail-type': e.detailType, source: e.source, account: fake.account, time: new Date().toISOString(), region: fake.region, resources: e.resources, detail: e.detail };
}

const channelStates = (h: Harness, arn: string) => h.fake.events.filter((e) => e.resources[0] === arn).map((e) => e.detail.state);

/** Output and channel, ready (input detached, channel IDLE). */
async function ready(h: Harness, over: Partial<ChannelSpec> = {}) {
  const { outputArn } = await h.engine.addOutput(over.destinationId ?? DEST);
  h.tick(AWS_TIMINGS.inputCreateMs);
  const ch = await h.engine.createChannel(spec(outputArn, over));
  h.tick(AWS_TIMINGS.channelCreateMs);
  return { outputArn, ...ch };
}

const isEngineError = (code: string) => (e: unknown) => e instanceof AwsEngineError && e.code === code;
const isUnavailable = (e: unknown) => e instanceof EngineError && e.code === 'ENGINE_UNAVAILABLE' && e.retryable;

describe('AwsMediaEngine', () => {
  test('configuration: every problem at once, and an output ARN is not a flow ARN', () => {
    const fake = new AwsFake();
    try {
      assert.throws(
        () =>
          new AwsMediaEngine(
            { flowArn: 'arn:aws:mediaconnect:eu-west-1:111122223333:output:2-Abc-0123:to-ml', mediaLiveRoleArn: 'MediaLiveAccessRole', region: 'eu-west-1', tags: { 'fanout:x': 'y', ok: 'bad\nvalue' }, deployment: 'Prod!' },
            fake,
          ),
        (e: unknown) => {
          assert.ok(isEngineError('INVALID_CONFIG')(e));
          const m = (e as Error).message;
          for (const part of ['that is an output ARN', 'mediaLiveRoleArn', 'deployment', 'fanout:x', 'not a valid AWS tag value']) assert.ok(m.includes(part), part);
          return true;
        },
      );
      assert.throws(() => new AwsMediaEngine({ flowArn: fake.flowArn, mediaLiveRoleArn: 'arn:aws:iam::111122223333:role/R', region: 'us-east-1', tags: {}, deployment: 'dev' }, fake), /inputs must be in the flow's Region/);
      // The channels' input-loss image (issue 15) is checked with the rest.
      assert.throws(
        () =>
          new AwsMediaEngine(
            { flowArn: fake.flowArn, mediaLiveRoleArn: 'arn:aws:iam::111122223333:role/R', region: 'eu-west-1', tags: {}, deployment: 'dev', inputLoss: { repeatFrameMsec: 1000, blackFrameMsec: 0, image: { type: 'color', color: 'grey' } } },
            fake,
          ),
        /input-loss colour must be 6 hex digits/,
      );
    } finally {
      fake.close();
    }
  });

  test('full lifecycle add → create → start (minutes) → stop → delete → remove, reported by native events', async (t) => {
    const h = setup(t);
    const { outputArn } = await h.engine.addOutput(DEST);
    assert.match(outputArn, /^arn:aws:medialive:eu-west-1:111122223333:input:\d+$/);
    assert.deepEqual(await h.engine.addOutput(DEST), { outputArn }, 'idempotent per destination');
    const flow = await h.engine.describeFlow();
    assert.deepEqual(flow.outputs, [{ outputArn, destinationId: DEST }], "only Fanout's outputs, not the primary's");
    assert.equal(h.fake.flowOutputs().length, 2, 'the primary output and the managed output of our input');

    h.tick(AWS_TIMINGS.inputCreateMs);
    const { channelId, arn } = await h.engine.createChannel(spec(outputArn));
    assert.equal((await h.engine.describeChannel(channelId))?.state, 'CREATING');
    h.tick(AWS_TIMINGS.channelCreateMs);
    assert.deepEqual(await h.engine.describeChannel(channelId), { channelId, arn, destinationId: DEST, state: 'IDLE', error: null });
    assert.deepEqual(await h.engine.listChannels(), [{ channelId, arn, destinationId: DEST, state: 'IDLE', error: null }]);

    await h.engine.startChannel(channelId);
    assert.equal((await h.engine.describeChannel(channelId))?.state, 'STARTING', 'the API answers at once; the channel is only starting');
    h.tick(2 * 60_000);
    assert.equal((await h.engine.describeChannel(channelId))?.state, 'STARTING', 'still starting two minutes later');
    await h.engine.startChannel(channelId); // a redelivered start while STARTING changes nothing
    h.tick(AWS_TIMINGS.channelStartMs - 2 * 60_000);
    assert.equal((await h.engine.describeChannel(channelId))?.state, 'RUNNING');

    await h.engine.stopChannel(channelId);
    await h.engine.stopChannel(channelId); // idempotent
    h.tick(AWS_TIMINGS.channelStopMs);
    assert.equal((await h.engine.describeChannel(channelId))?.state, 'IDLE');
    await h.engine.stopChannel(channelId); // stopping an idle channel is fine

    await h.engine.deleteChannel(channelId);
    await assert.rejects(h.engine.removeOutput(outputArn), isUnavailable, 'the input is attached until the channel is DELETED: retry later');
    h.tick(AWS_TIMINGS.channelDeleteMs);
    assert.equal(await h.engine.describeChannel(channelId), null, 'a DELETED channel is gone');
    await h.engine.deleteChannel(channelId); // idempotent
    await h.engine.removeOutput(outputArn);
    assert.deepEqual((await h.engine.describeFlow()).outputs, [], 'a deleting input is no longer an output');
    h.tick(AWS_TIMINGS.inputDeleteMs);
    await h.engine.removeOutput(outputArn); // idempotent
    assert.equal(h.fake.flowOutputs().length, 1, 'the managed output went with the input; the primary output is untouched');
    assert.deepEqual(h.fake.live(), { channels: [], inputs: [] });

    assert.deepEqual(channelStates(h, arn), ['CREATING', 'IDLE', 'STARTING', 'RUNNING', 'STOPPING', 'IDLE', 'DELETING', 'DELETED']);
    for (const e of h.fake.events) MediaLiveChannelStateChange.parse(envelope(e, h.fake));
    const ops = h.fake.operations();
    for (const op of ['CreateInput', 'CreateChannel', 'StartChannel', 'StopChannel', 'DeleteChannel', 'DeleteInput']) assert.equal(ops.filter((o) => o === op).length, 1, `${op} sent exactly once`);
    assert.ok(!ops.includes('RemoveFlowOutput'), 'managed outputs are never removed directly');

    await t.test('every request sent is valid against the official models', (st) => {
      const models = modelsOrSkip(st);
      if (models) expectAllValid(h.fake.captured(), models);
    });
  });

  test('what CreateInput and CreateChannel carry: flow ARN, SINGLE_PIPELINE, RTMP target, timecode, selector, tags, RequestId without the key', async (t) => {
    const h = setup(t);
    const { outputArn, channelId } = await ready(h);
    const inputReq = h.fake.captured().find((c) => c.operation === 'CreateInput')!.input as Record<string, any>;
    assert.equal(inputReq.Type, 'MEDIACONNECT');
    assert.deepEqual(inputReq.MediaConnectFlows, [{ FlowArn: h.fake.flowArn }], 'the flow ARN, never an output ARN');
    assert.equal(inputReq.RoleArn, h.config.mediaLiveRoleArn);
    assert.deepEqual(inputReq.Tags, { app: 'fanout', 'cost-center': 'live', [TAGS.deployment]: 'dev', [TAGS.destinationId]: DEST, [TAGS.resource]: 'destination-input' });

    const req = h.fake.captured().find((c) => c.operation === 'CreateChannel')!.input as Record<string, any>;
    assert.equal(req.ChannelClass, 'SINGLE_PIPELINE');
    assert.equal(req.InputAttachments[0].InputId, outputArn.split(':input:')[1]);
    assert.deepEqual(req.Destinations, [{ Id: 'rtmp', Settings: [{ Url: 'rtmp://a.rtmp.youtube.com/live2', StreamName: KEY }] }]);
    assert.deepEqual(req.EncoderSettings.TimecodeConfig, { Source: 'SYSTEMCLOCK' });
    assert.equal(req.EncoderSettings.AudioDescriptions[0].AudioSelectorName, req.InputAttachments[0].InputSettings.AudioSelectors[0].Name);
    assert.deepEqual(req.InputSpecification, { Codec: 'AVC', Resolution: 'HD', MaximumBitrate: 'MAX_10_MBPS' });
    assert.equal(req.Tags[TAGS.deployment], 'dev');
    assert.equal(req.Tags[TAGS.destinationId], DEST);
    assert.equal(req.Tags[TAGS.name], 'YouTube _ main', 'the human name, as a valid tag value');
    assert.match(req.RequestId, new RegExp(`^fanout-dev-channel-${DEST}-[0-9a-f]{12}-g1$`));
    assert.ok(!req.RequestId.includes(KEY));
    assert.ok(!h.logs.join('\n').includes(KEY), 'the key is never logged');
    assert.ok(channelId);
  });

  test('passthrough presets become a source-matching encode that the service accepts', async (t) => {
    const h = setup(t);
    const { channelId, outputArn } = await ready(h, { encode: null });
    await h.engine.updateChannel(channelId, spec(outputArn, { encode: ENCODE, name: 'renamed' }));
    const [create, update] = h.fake
      .captured()
      .filter((c) => c.operation === 'CreateChannel' || c.operation === 'UpdateChannel')
      .map((c) => c.input as Record<string, any>);
    assert.equal(create!.EncoderSettings.VideoDescriptions[0].CodecSettings.H264Settings.FramerateControl, 'INITIALIZE_FROM_SOURCE');
    assert.equal(update!.EncoderSettings.VideoDescriptions[0].Width, 1920);
    assert.equal(h.fake.channel(channelId)!.Tags[TAGS.name], 'renamed', 'the name tag follows the destination');
    await t.test('valid against the official models', (st) => {
      const models = modelsOrSkip(st);
      if (models) expectAllValid(h.fake.captured(), models);
    });
  });

  describe('failure mid-way', () => {
    test('CreateChannel rejected (422) after the input exists: a typed error without the key; removing the output cleans everything up', async (t) => {
      const h = setup(t);
      const { outputArn } = await h.engine.addOutput(DEST);
      h.tick(AWS_TIMINGS.inputCreateMs);
      h.fake.failNext('CreateChannel', medialiveError('UnprocessableEntityException', 'Unprocessable Entity', [{ ElementPath: '/destinations/0/settings/0/streamName', ErrorMessage: `invalid stream name ${KEY}` }]));
      await assert.rejects(h.engine.createChannel(spec(outputArn)), (e: unknown) => {
        assert.ok(isEngineError('REQUEST_REJECTED')(e));
        const err = e as AwsEngineError;
        assert.equal(err.details.validationErrors?.[0]?.elementPath, '/destinations/0/settings/0/streamName');
        assert.ok(!JSON.stringify({ m: err.message, d: err.details }).includes(KEY), 'no key in the error');
        return true;
      });
      assert.equal(h.fake.live().channels.length, 0);
      assert.equal(h.fake.input(outputArn.split(':input:')[1]!)!.State, 'DETACHED', 'no half-made channel holds the input');
      await h.engine.removeOutput(outputArn); // the saga's compensation (flow-output on ChannelDeleted)
      h.tick(AWS_TIMINGS.inputDeleteMs);
      assert.deepEqual(h.fake.live(), { channels: [], inputs: [] });
      assert.equal(h.fake.flowOutputs().length, 1, 'only the primary output remains');
    });

    test('a channel that ends CREATE_FAILED can be deleted, then its output removed', async (t) => {
      const h = setup(t);
      h.fake.failNextCreates(1);
      const { outputArn, channelId, arn } = await ready(h);
      assert.equal((await h.engine.describeChannel(channelId))?.state, 'CREATE_FAILED');
      await assert.rejects(h.engine.startChannel(channelId), isEngineError('CHANNEL_NOT_IDLE'));
      await h.engine.deleteChannel(channelId);
      h.tick(AWS_TIMINGS.channelDeleteMs);
      await h.engine.removeOutput(outputArn);
      h.tick(AWS_TIMINGS.inputDeleteMs);
      assert.deepEqual(h.fake.live(), { channels: [], inputs: [] });
      assert.deepEqual(channelStates(h, arn), ['CREATING', 'CREATE_FAILED', 'DELETING', 'DELETED']);
    });

    test('a channel cannot be created on an input that is still being created: retryable', async (t) => {
      const h = setup(t);
      const { outputArn } = await h.engine.addOutput(DEST);
      await assert.rejects(h.engine.createChannel(spec(outputArn)), isUnavailable);
      h.tick(AWS_TIMINGS.inputCreateMs);
      await h.engine.createChannel(spec(outputArn));
      assert.equal(h.fake.operations().filter((o) => o === 'CreateChannel').length, 1, 'no CreateChannel was sent for the CREATING input');
    });
  });

  describe('throttling', () => {
    test('TooManyRequestsException that outlived the SDK retries becomes ENGINE_UNAVAILABLE; the redelivery succeeds', async (t) => {
      const h = setup(t);
      const { channelId } = await ready(h);
      h.fake.failNext('StartChannel', medialiveError('TooManyRequestsException', 'Too Many Requests'));
      await assert.rejects(h.engine.startChannel(channelId), isUnavailable);
      await h.engine.startChannel(channelId);
      assert.equal(h.fake.channel(channelId)!.State, 'STARTING');
    });

    test('a 429 is retried by the SDK client itself (real client, HTTP-level stub): the engine sees success', async (t) => {
      t.mock.timers.enable({ apis: ['setTimeout'] });
      const http: string[] = [];
      let starts = 0;
      const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}) => ({
        response: { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: Readable.from([Buffer.from(JSON.stringify(body))]) },
      });
      const tags = { [TAGS.deployment]: 'dev', [TAGS.destinationId]: DEST };
      const requestHandler = {
        async handle(req: { method: string; path: string }) {
          http.push(`${req.method} ${req.path}`);
          if (req.method === 'GET' && req.path === '/prod/channels/1234567') return json(200, { id: '1234567', arn: 'arn:aws:medialive:eu-west-1:111122223333:channel:1234567', state: 'IDLE', tags });
          if (req.method === 'POST' && req.path === '/prod/channels/1234567/start') {
            if (starts++ === 0) return json(429, { message: 'Too Many Requests' }, { 'x-amzn-errortype': 'TooManyRequestsException' });
            return json(200, { id: '1234567', state: 'STARTING' });
          }
          return json(404, { message: 'not found' }, { 'x-amzn-errortype': 'NotFoundException' });
        },
        updateHttpClientConfig() {},
        httpHandlerConfigs: () => ({}),
      };
      const credentials = { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' };
      const medialive = new MediaLiveClient({ region: 'eu-west-1', credentials, requestHandler: requestHandler as never, maxAttempts: 3 });
      const captured: CapturedRequest[] = [];
      captureWithMiddleware(medialive, 'medialive', captured);
      const engine = new AwsMediaEngine(
        { flowArn: 'arn:aws:mediaconnect:eu-west-1:111122223333:flow:1-AbCd-0123456789ab:fanout-ingest', mediaLiveRoleArn: 'arn:aws:iam::111122223333:role/MediaLiveAccessRole', region: 'eu-west-1', tags: {}, deployment: 'dev' },
        { medialive, mediaconnect: new MediaConnectClient({ region: 'eu-west-1', credentials }) },
      );
      let settled = false;
      const started = engine.startChannel('1234567').finally(() => (settled = true));
      // The SDK's backoff sleeps on setTimeout: advance fake time until the call settles.
      for (let i = 0; i < 200 && !settled; i++) {
        await new Promise((r) => setImmediate(r));
        t.mock.timers.tick(250);
      }
      await started;
      assert.deepEqual(http, ['GET /prod/channels/1234567', 'POST /prod/channels/1234567/start', 'POST /prod/channels/1234567/start']);
      assert.deepEqual(
        captured.map((c) => c.operation),
        ['DescribeChannel', 'StartChannel'],
        'the engine sent StartChannel once; the SDK retried it',
      );
      await t.test('valid against the official models', (st) => {
        const models = modelsOrSkip(st);
        if (models) expectAllValid(captured, models);
      });
    });
  });

  describe('wrong state (ConflictException)', () => {
    test('update and delete while RUNNING: CHANNEL_NOT_IDLE, without sending the doomed request', async (t) => {
      const h = setup(t);
      const { channelId, outputArn } = await ready(h);
      await h.engine.startChannel(channelId);
      h.tick(AWS_TIMINGS.channelStartMs);
      await assert.rejects(h.engine.updateChannel(channelId, spec(outputArn)), isEngineError('CHANNEL_NOT_IDLE'));
      await assert.rejects(h.engine.deleteChannel(channelId), isEngineError('CHANNEL_NOT_IDLE'));
      assert.ok(!h.fake.operations().includes('UpdateChannel') && !h.fake.operations().includes('DeleteChannel'));
    });

    test('a 409 from the service (lost race) maps to CHANNEL_NOT_IDLE for start, update and delete', async (t) => {
      const h = setup(t);
      const { channelId, outputArn } = await ready(h);
      for (const op of ['StartChannel', 'UpdateChannel', 'DeleteChannel']) h.fake.failNext(op, medialiveError('ConflictException', 'Channel is in the wrong state'));
      await assert.rejects(h.engine.startChannel(channelId), isEngineError('CHANNEL_NOT_IDLE'));
      await assert.rejects(h.engine.updateChannel(channelId, spec(outputArn)), isEngineError('CHANNEL_NOT_IDLE'));
      await assert.rejects(h.engine.deleteChannel(channelId), isEngineError('CHANNEL_NOT_IDLE'));
    });

    test('a 409 on start because someone else started it first is success', async (t) => {
      const h = setup(t);
      const { channelId } = await ready(h);
      h.fake.failNext('StartChannel', () => {
        h.fake.forceChannelState(channelId, 'STARTING');
        return medialiveError('ConflictException', 'Channel is STARTING');
      });
      await h.engine.startChannel(channelId);
    });

    test('removing an output whose channel still exists is refused (INPUT_ATTACHED)', async (t) => {
      const h = setup(t);
      const { outputArn } = await ready(h);
      await assert.rejects(h.engine.removeOutput(outputArn), isEngineError('INPUT_ATTACHED'));
    });
  });

  describe('idempotent create', () => {
    test('a second createChannel for the destination finds the channel by tag and sends nothing', async (t) => {
      const h = setup(t);
      const { outputArn, channelId } = await ready(h);
      assert.equal((await h.engine.createChannel(spec(outputArn))).channelId, channelId);
      assert.equal(h.fake.operations().filter((o) => o === 'CreateChannel').length, 1);
    });

    test('a lost response and a list that does not show the channel yet: the retry reuses the RequestId and gets the same channel', async (t) => {
      const h = setup(t);
      const { outputArn } = await h.engine.addOutput(DEST);
      h.tick(AWS_TIMINGS.inputCreateMs);
      h.fake.hideNewResourcesFromLists();
      h.fake.loseNextResponse('CreateChannel');
      await assert.rejects(h.engine.createChannel(spec(outputArn)), isUnavailable);
      const again = await h.engine.createChannel(spec(outputArn));
      const creates = h.fake
        .captured()
        .filter((c) => c.operation === 'CreateChannel')
        .map((c) => (c.input as { RequestId: string }).RequestId);
      assert.equal(creates.length, 2);
      assert.equal(creates[0], creates[1], 'same RequestId');
      assert.equal(h.fake.live().channels.length, 1, 'one channel');
      assert.equal(h.fake.live().channels[0]!.Id, again.channelId);
    });

    test('re-adding a deleted destination: AWS replays the old RequestId with the deleted input, the engine moves to the next generation', async (t) => {
      const h = setup(t);
      const first = (await h.engine.addOutput(DEST)).outputArn;
      h.tick(AWS_TIMINGS.inputCreateMs);
      await h.engine.removeOutput(first);
      h.tick(AWS_TIMINGS.inputDeleteMs);
      const second = (await h.engine.addOutput(DEST)).outputArn;
      assert.notEqual(second, first);
      const ids = h.fake
        .captured()
        .filter((c) => c.operation === 'CreateInput')
        .map((c) => (c.input as { RequestId: string }).RequestId);
      assert.deepEqual(
        ids.map((id) => id.slice(-3)),
        ['-g1', '-g1', '-g2'],
      );
      assert.ok(h.logs.some((l) => l.includes('replayed a deleted input')));
    });
  });

  describe('ownership and references', () => {
    test("other deployments' and foreign resources are invisible and untouched", async (t) => {
      const h = setup(t);
      const { channelId } = await ready(h);
      const prod = new AwsMediaEngine({ ...h.config, deployment: 'prod' }, { medialive: h.fake.medialive, mediaconnect: h.fake.mediaconnect });
      assert.deepEqual(await prod.listChannels(), []);
      assert.equal(await prod.describeChannel(channelId), null);
      await prod.deleteChannel(channelId);
      await prod.stopChannel(channelId);
      assert.deepEqual((await prod.describeFlow()).outputs, []);
      assert.equal(h.fake.channel(channelId)!.State, 'IDLE');
      // An untagged input someone made by hand on the same flow.
      const hand = await h.fake.medialive.send(new CreateInputCommand({ Name: 'by-hand', Type: 'MEDIACONNECT', MediaConnectFlows: [{ FlowArn: h.fake.flowArn }], RoleArn: h.config.mediaLiveRoleArn }));
      h.tick(AWS_TIMINGS.inputCreateMs);
      await assert.rejects(h.engine.removeOutput(hand.Input!.Arn!), isEngineError('NOT_OWNED'));
      assert.equal((await h.engine.describeFlow()).outputs.length, 1);
    });

    test("a MediaConnect output ARN where an input ARN belongs (the plan's mix-up) is refused with a hint", async (t) => {
      const h = setup(t);
      const outputArn = h.fake.flowOutputs()[0]!.OutputArn;
      await assert.rejects(h.engine.createChannel(spec(outputArn)), (e: unknown) => isEngineError('INVALID_REFERENCE')(e) && /MediaConnect output ARN/.test((e as AwsEngineError).hint));
      await assert.rejects(h.engine.removeOutput(outputArn), isEngineError('INVALID_REFERENCE'));
      assert.ok(!h.fake.operations().includes('CreateChannel'));
    });

    test('an RTMP target MediaLive cannot push to is refused before any request', async (t) => {
      const h = setup(t);
      const { outputArn } = await h.engine.addOutput(DEST);
      h.tick(AWS_TIMINGS.inputCreateMs);
      await assert.rejects(h.engine.createChannel(spec(outputArn, { target: { url: 'srt://host:9000', streamKey: new Secret(KEY) } })), isEngineError('INVALID_TARGET'));
      assert.ok(!h.fake.operations().includes('CreateChannel'));
    });
  });

  describe('quotas', () => {
    test('the channel quota says which quota to raise', async (t) => {
      const h = setup(t, { channelQuota: 1 });
      await ready(h);
      const other = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
      const { outputArn } = await h.engine.addOutput(other);
      h.tick(AWS_TIMINGS.inputCreateMs);
      await assert.rejects(h.engine.createChannel(spec(outputArn, { destinationId: other })), (e: unknown) => isEngineError('QUOTA_EXCEEDED')(e) && /Channels/.test((e as AwsEngineError).hint));
    });

    test('a full flow (50 outputs) says so', async (t) => {
      const h = setup(t, { maxOutputsPerFlow: 2 });
      await h.engine.addOutput(DEST);
      await assert.rejects(h.engine.addOutput('7c9e6679-7425-40de-944b-e07fc1f90ae7'), (e: unknown) => isEngineError('QUOTA_EXCEEDED')(e) && /outputs per flow/.test((e as AwsEngineError).hint));
    });
  });

  test('lists page through every result', async (t) => {
    const h = setup(t, { channelQuota: 500, maxOutputsPerFlow: 500 });
    for (let i = 0; i < 120; i++) {
      await h.fake.medialive.send(new CreateInputCommand({ Name: `other-${i}`, Type: 'MEDIACONNECT', MediaConnectFlows: [{ FlowArn: h.fake.flowArn }], RoleArn: h.config.mediaLiveRoleArn, Tags: { [TAGS.deployment]: 'other' } }));
    }
    const { outputArn } = await h.engine.addOutput(DEST);
    assert.equal((await h.engine.addOutput(DEST)).outputArn, outputArn, 'found on the second page');
    assert.equal(h.fake.operations().filter((o) => o === 'CreateInput').length, 121);
    h.tick(AWS_TIMINGS.inputCreateMs);
    const { channelId } = await h.engine.createChannel(spec(outputArn));
    assert.equal((await h.engine.listChannels())[0]?.channelId, channelId);
  });

  test('flow: start/stop are idempotent, report native events, and describeFlow reads source health', async (t) => {
    const h = setup(t);
    await h.engine.startFlow();
    await h.engine.startFlow();
    h.tick(AWS_TIMINGS.flowStartMs);
    let flow = await h.engine.describeFlow();
    assert.equal(flow.state, 'ACTIVE');
    assert.equal(flow.source.connected, false);
    assert.equal(flow.source.lastError?.code, 'SOURCE_PROBLEM', 'one stable code (docs/errors.md)');
    assert.match(flow.source.lastError?.message ?? '', /^SOURCE_DISCONNECTED: /, "MediaConnect's own code leads the message");
    h.fake.sourceConnected = true;
    flow = await h.engine.describeFlow();
    assert.equal(flow.source.connected, true);
    assert.equal(flow.source.lastError, null);
    await h.engine.stopFlow();
    await h.engine.stopFlow();
    h.tick(AWS_TIMINGS.flowStopMs);
    assert.equal((await h.engine.describeFlow()).state, 'STANDBY');
    await h.engine.stopFlow();
    assert.equal(h.fake.operations().filter((o) => o === 'StartFlow').length, 1);
    assert.equal(h.fake.operations().filter((o) => o === 'StopFlow').length, 1);
    const flowEvents = h.fake.events.filter((e) => e.source === 'aws.mediaconnect');
    assert.deepEqual(
      flowEvents.map((e) => e.detail.currentStatus),
      ['STARTING', 'ACTIVE', 'STOPPING', 'STANDBY'],
    );
    for (const e of flowEvents) MediaConnectFlowStatusChange.parse(envelope(e, h.fake));
    await t.test('valid against the official models', (st) => {
      const models = modelsOrSkip(st);
      if (models) expectAllValid(h.fake.captured(), models);
    });
  });
});

describe('AwsMediaEngine: the always-on primary channel', () => {
  test("starts the stack's primary channel only when it is IDLE, reports its state, and every request is valid", async (t) => {
    const models = modelsOrSkip(t);
    const h = setup(t, { primaryChannelFor: 'dev' }, { primaryChannelId: '999998' });
    assert.deepEqual(await h.engine.describePrimary(), { channelId: '999998', state: 'IDLE' });
    await h.engine.startPrimary();
    assert.equal((await h.engine.describePrimary()).state, 'STARTING');
    await h.engine.startPrimary(); // starting already: nothing sent
    h.tick(AWS_TIMINGS.channelStartMs);
    assert.equal((await h.engine.describePrimary()).state, 'RUNNING');
    await h.engine.startPrimary();
    assert.equal(h.fake.operations().filter((o) => o === 'StartChannel').length, 1, 'one StartChannel for three startPrimary calls');
    assert.deepEqual(channelStates(h, h.fake.channel('999998')!.Arn), ['STARTING', 'RUNNING']);
    // The primary is never a destination's channel: not listed, not stoppable through the port.
    assert.deepEqual(await h.engine.listChannels(), []);
    assert.equal(await h.engine.describeChannel('999998'), null);
    await h.engine.stopChannel('999998');
    assert.equal(h.fake.channel('999998')!.State, 'RUNNING');
    if (models) expectAllValid(h.fake.captured(), models);
  });

  test("refuses a channel that is not this deployment's primary", async (t) => {
    const other = setup(t, { primaryChannelFor: 'prod' }, { primaryChannelId: '999998' });
    await assert.rejects(other.engine.describePrimary(), (e: unknown) => e instanceof AwsEngineError && e.code === 'NOT_OWNED');
    await assert.rejects(other.engine.startPrimary(), (e: unknown) => e instanceof AwsEngineError && e.code === 'NOT_OWNED');
    assert.ok(!other.fake.operations().includes('StartChannel'));
  });

  test('says when no primary is configured, or it does not exist, or the id is not a channel id', async (t) => {
    await t.test('none configured', async (t) => {
      const none = setup(t, {});
      await assert.rejects(none.engine.describePrimary(), (e: unknown) => e instanceof AwsEngineError && e.code === 'INVALID_CONFIG');
    });
    await t.test('missing', async (t) => {
      const missing = setup(t, {}, { primaryChannelId: '424242' });
      await assert.rejects(missing.engine.describePrimary(), (e: unknown) => e instanceof AwsEngineError && e.code === 'CHANNEL_NOT_FOUND');
    });
    await t.test('an ARN instead of an id', (t) => {
      assert.throws(() => setup(t, {}, { primaryChannelId: 'arn:aws:medialive:eu-west-1:111122223333:channel:1' }), /primaryChannelId must be a MediaLive channel id/);
    });
  });

  test('a start that loses a race with another start is fine', async (t) => {
    const h = setup(t, { primaryChannelFor: 'dev' }, { primaryChannelId: '999998' });
    h.fake.failNext('StartChannel', () => {
      h.fake.forceChannelState('999998', 'STARTING');
      return medialiveError('ConflictException', 'Channel 999998 is STARTING; cannot start');
    });
    await h.engine.startPrimary();
    assert.equal((await h.engine.describePrimary()).state, 'STARTING');
  });
});
