/**
 * The model validator: table-driven against the official models (skipped, saying so, when
 * ../shared/aws-models is absent) and against a small hand-written model for every rule, so the
 * rules themselves are tested in every clone.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatProblem, ModelValidator, rangeFromShapeName, type ServiceModel } from './model-validator.ts';
import { FACTS_CREATE_CHANNEL } from './fixtures/facts-examples.ts';
import { modelsOrSkip } from './request-capture.ts';

/** The original plan's YouTube channel (seeds/003, CloudFormation YAML), as the request it stands for. */
const PLAN_CREATE_CHANNEL = {
  Name: 'lunora-player-prod-youtube-channel',
  ChannelClass: 'SINGLE_PIPELINE',
  RoleArn: 'arn:aws:iam::111122223333:role/MediaLiveRole',
  InputSpecification: { Codec: 'AVC', MaximumBitrate: 'MAX_20_MBPS', Resolution: 'HD' },
  Destinations: [{ Id: 'youtube-rtmp-destination', RtmpPushSettings: [{ ConnectionRetryInterval: 2, NumRetries: 10 }] }],
  EncoderSettings: {
    OutputGroups: [
      {
        Name: 'YouTube RTMP Output',
        OutputGroupSettings: { RtmpGroupSettings: { AuthenticationScheme: 'COMMON', CacheFullBehavior: 'DISCONNECT_IMMEDIATELY', CacheLength: 30, CaptionData: 'ALL', RestartDelay: 15 } },
        Outputs: [
          {
            OutputName: 'YouTube Stream',
            OutputSettings: { RtmpOutputSettings: { Destination: { DestinationRefId: 'youtube-rtmp-destination' }, ConnectionRetryInterval: 2, NumRetries: 10 } },
            VideoDescriptionName: 'video_1080p30',
            AudioDescriptionNames: ['audio_aac'],
          },
        ],
      },
    ],
    VideoDescriptions: [
      {
        Name: 'video_1080p30',
        CodecSettings: {
          H264Settings: {
            Bitrate: 6000000,
            FramerateControl: 'SPECIFIED',
            FramerateNumerator: 30,
            FramerateDenominator: 1,
            GopSize: 60,
            GopSizeUnits: 'FRAMES',
            Profile: 'HIGH',
            Level: 'H264_LEVEL_4_1',
            LookAheadRateControl: 'HIGH',
            RateControlMode: 'CBR',
          },
        },
      },
    ],
    AudioDescriptions: [{ Name: 'audio_aac', CodecSettings: { AacSettings: { Bitrate: 128000, CodingMode: 'CODING_MODE_2_0', SampleRate: 48000 } } }],
  },
  InputAttachments: [{ InputId: '1234567', InputAttachmentName: 'youtube-input' }],
};

const FLOW_ARN = 'arn:aws:mediaconnect:us-west-2:111122223333:flow:1-AbCdEfGhIjKlMnOp-0123456789ab:ingest-main';
const OUTPUT_ARN = 'arn:aws:mediaconnect:us-west-2:111122223333:output:2-QrStUvWxYzAbCdEf-0123456789ab:to-ml-dest-yt-01HZX9';

/** `base` with `patch` applied at a dotted path (`a.b[0].c`). */
function withAt(base: unknown, path: string, value: unknown): unknown {
  const copy = structuredClone(base) as Record<string, unknown>;
  const keys = path.replace(/\[(\d+)\]/g, '.$1').split('.');
  let node: Record<string, unknown> = copy;
  for (const k of keys.slice(0, -1)) node = node[k] as Record<string, unknown>;
  const last = keys.at(-1)!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

interface Case {
  name: string;
  service: 'medialive' | 'mediaconnect' | 'mediapackagev2';
  operation: string;
  input: unknown;
  /** Every problem, formatted, each matched by prefix (exact set: no more, no fewer). */
  expect: string[];
}

const H264 = 'EncoderSettings.VideoDescriptions[0].CodecSettings.H264Settings';

const CASES: Case[] = [
  { name: 'AWS-FACTS §1.4 minimal CreateChannel is valid', service: 'medialive', operation: 'CreateChannel', input: FACTS_CREATE_CHANNEL, expect: [] },
  {
    name: "the plan's channel: RtmpPushSettings unknown, TimecodeConfig and AudioSelectorName missing",
    service: 'medialive',
    operation: 'CreateChannel',
    input: PLAN_CREATE_CHANNEL,
    expect: [
      "Destinations[0].RtmpPushSettings: unknown member 'RtmpPushSettings'",
      "EncoderSettings.TimecodeConfig: missing required member 'TimecodeConfig'",
      "EncoderSettings.AudioDescriptions[0].AudioSelectorName: missing required member 'AudioSelectorName'",
    ],
  },
  {
    name: 'missing TimecodeConfig alone',
    service: 'medialive',
    operation: 'CreateChannel',
    input: withAt(FACTS_CREATE_CHANNEL, 'EncoderSettings.TimecodeConfig', undefined),
    expect: ["EncoderSettings.TimecodeConfig: missing required member 'TimecodeConfig'"],
  },
  { name: 'enum value outside the enum', service: 'medialive', operation: 'CreateChannel', input: withAt(FACTS_CREATE_CHANNEL, `${H264}.Profile`, 'FOO'), expect: [`${H264}.Profile: 'FOO' not in enum`] },
  { name: 'ChannelClass outside the enum', service: 'medialive', operation: 'CreateChannel', input: withAt(FACTS_CREATE_CHANNEL, 'ChannelClass', 'SINGLE'), expect: ["ChannelClass: 'SINGLE' not in enum"] },
  {
    name: 'integer given as a string',
    service: 'medialive',
    operation: 'CreateChannel',
    input: withAt(FACTS_CREATE_CHANNEL, 'EncoderSettings.VideoDescriptions[0].Width', '1920'),
    expect: ['EncoderSettings.VideoDescriptions[0].Width: expected integer, got string'],
  },
  {
    name: 'integer given a fraction',
    service: 'medialive',
    operation: 'CreateChannel',
    input: withAt(FACTS_CREATE_CHANNEL, `${H264}.FramerateNumerator`, 29.97),
    expect: [`${H264}.FramerateNumerator: expected integer, got non-integer 29.97`],
  },
  { name: 'double given as a string', service: 'medialive', operation: 'CreateChannel', input: withAt(FACTS_CREATE_CHANNEL, `${H264}.GopSize`, '2'), expect: [`${H264}.GopSize: expected double, got string`] },
  { name: 'list given an object', service: 'medialive', operation: 'CreateChannel', input: withAt(FACTS_CREATE_CHANNEL, 'InputAttachments', { InputId: '1' }), expect: ['InputAttachments: expected list, got object'] },
  { name: 'structure given a string', service: 'medialive', operation: 'CreateChannel', input: withAt(FACTS_CREATE_CHANNEL, 'InputSpecification', 'HD'), expect: ['InputSpecification: expected structure InputSpecification, got string'] },
  { name: 'map value of the wrong type', service: 'medialive', operation: 'CreateChannel', input: withAt(FACTS_CREATE_CHANNEL, 'Tags', { app: 1 }), expect: ['Tags["app"]: expected string, got number'] },
  { name: 'null member', service: 'medialive', operation: 'CreateChannel', input: withAt(FACTS_CREATE_CHANNEL, 'LogLevel', null), expect: ['LogLevel: null is not a valid string'] },
  {
    name: 'MediaLive range from the shape name: CacheLength below 30',
    service: 'medialive',
    operation: 'CreateChannel',
    input: withAt(FACTS_CREATE_CHANNEL, 'EncoderSettings.OutputGroups[0].OutputGroupSettings.RtmpGroupSettings.CacheLength', 10),
    expect: ['EncoderSettings.OutputGroups[0].OutputGroupSettings.RtmpGroupSettings.CacheLength: value 10 is below the minimum 30 (range from the shape name __integerMin30)'],
  },
  {
    name: 'MediaLive range from the shape name: 8 B-frames',
    service: 'medialive',
    operation: 'CreateChannel',
    input: withAt(FACTS_CREATE_CHANNEL, `${H264}.GopNumBFrames`, 8),
    expect: [`${H264}.GopNumBFrames: value 8 is above the maximum 7`],
  },
  { name: 'StartChannel without ChannelId', service: 'medialive', operation: 'StartChannel', input: {}, expect: ["ChannelId: missing required member 'ChannelId'"] },
  {
    name: 'AWS-FACTS §2.1 MEDIACONNECT CreateInput is valid',
    service: 'medialive',
    operation: 'CreateInput',
    input: {
      Name: 'in-dest-yt-01HZX9',
      Type: 'MEDIACONNECT',
      MediaConnectFlows: [{ FlowArn: FLOW_ARN }],
      RoleArn: 'arn:aws:iam::111122223333:role/MediaLiveAccessRole',
      RequestId: 'in-dest-yt-01HZX9-1',
      Tags: { app: 'restream-control-plane' },
    },
    expect: [],
  },
  {
    name: 'AWS-FACTS §3.1 AddFlowOutputs rtp-fec and srt-caller examples are valid',
    service: 'mediaconnect',
    operation: 'AddFlowOutputs',
    input: {
      FlowArn: FLOW_ARN,
      Outputs: [
        { Name: 'to-ml-dest-yt-01HZX9', Description: 'RTP-FEC to MediaLive RTP_PUSH input for destination 01HZX9', Protocol: 'rtp-fec', Destination: '198.51.100.24', Port: 5000, SmoothingLatency: 0, OutputStatus: 'ENABLED' },
        {
          Name: 'to-ml-srt-dest-yt-01HZX9',
          Protocol: 'srt-caller',
          Destination: '198.51.100.24',
          Port: 5000,
          MinLatency: 2000,
          StreamId: 'dest-yt-01HZX9',
          Encryption: { KeyType: 'srt-password', RoleArn: 'arn:aws:iam::111122223333:role/MediaConnectSecretsRole', SecretArn: 'arn:aws:secretsmanager:us-west-2:111122223333:secret:srt-out-pass-AbCdEf' },
        },
      ],
    },
    expect: [],
  },
  {
    name: "AddFlowOutputs on an output ARN (the plan's mix-up) breaks the FlowArn pattern",
    service: 'mediaconnect',
    operation: 'AddFlowOutputs',
    input: { FlowArn: OUTPUT_ARN, Outputs: [{ Name: 'x', Protocol: 'rtp', Destination: '198.51.100.24', Port: 5000 }] },
    expect: ['FlowArn: '],
  },
  {
    name: 'SRT encryption key type outside the enum',
    service: 'mediaconnect',
    operation: 'AddFlowOutputs',
    input: { FlowArn: FLOW_ARN, Outputs: [{ Name: 'x', Protocol: 'srt-caller', Destination: '198.51.100.24', Port: 5000, Encryption: { KeyType: 'aes-128', RoleArn: 'arn:aws:iam::111122223333:role/R' } }] },
    expect: ["Outputs[0].Encryption.KeyType: 'aes-128' not in enum"],
  },
  { name: 'RemoveFlowOutput with neither ARN', service: 'mediaconnect', operation: 'RemoveFlowOutput', input: {}, expect: ["FlowArn: missing required member 'FlowArn'", "OutputArn: missing required member 'OutputArn'"] },
  {
    name: 'AWS-FACTS §3.4 CreateFlow with an srt-password SRT listener is valid',
    service: 'mediaconnect',
    operation: 'CreateFlow',
    input: {
      Name: 'ingest-main',
      AvailabilityZone: 'us-west-2a',
      Source: {
        Name: 'srt-in',
        Description: 'Contribution encoder, SRT listener, AES via SRT passphrase',
        Protocol: 'srt-listener',
        IngestPort: 5000,
        WhitelistCidr: '203.0.113.0/24',
        MinLatency: 2000,
        MaxBitrate: 20000000,
        Decryption: { KeyType: 'srt-password', RoleArn: 'arn:aws:iam::111122223333:role/MediaConnectSecretsRole', SecretArn: 'arn:aws:secretsmanager:us-west-2:111122223333:secret:srt-ingest-pass-AbCdEf' },
      },
    },
    expect: [],
  },
  {
    name: 'explicit min/max/pattern traits (MediaPackage v2 channel group name)',
    service: 'mediapackagev2',
    operation: 'CreateChannelGroup',
    input: { ChannelGroupName: '', Description: 'x'.repeat(1025) },
    expect: ['ChannelGroupName: length 0 is below the minimum 1', 'ChannelGroupName: ', 'Description: length 1025 is above the maximum 1024'],
  },
];

describe('validation against the official models', () => {
  for (const c of CASES) {
    test(c.name, (t) => {
      const models = modelsOrSkip(t);
      if (!models) return;
      const got = models[c.service].validate(c.operation, c.input).map(formatProblem);
      const unmatched = got.filter((g) => !c.expect.some((e) => g.startsWith(e)));
      const missing = c.expect.filter((e) => !got.some((g) => g.startsWith(e)));
      assert.deepEqual({ unmatched, missing, count: got.length }, { unmatched: [], missing: [], count: c.expect.length }, `got:\n${got.join('\n')}`);
    });
  }

  test('the enum message names the allowed values', (t) => {
    const models = modelsOrSkip(t);
    if (!models) return;
    const [p] = models.medialive.validate('CreateChannel', withAt(FACTS_CREATE_CHANNEL, `${H264}.Profile`, 'FOO'));
    assert.equal(formatProblem(p!), `${H264}.Profile: 'FOO' not in enum H264Profile (BASELINE | HIGH | HIGH_10BIT | HIGH_422 | HIGH_422_10BIT | MAIN)`);
  });

  test('an operation the model does not have is an error, not a pass', (t) => {
    const models = modelsOrSkip(t);
    if (!models) return;
    assert.throws(() => models.medialive.validate('CreateChannels', {}), /has no operation CreateChannels/);
  });
});

/** A small model written for these tests (not a copy of an AWS model): one shape per rule. */
const TOY: ServiceModel = {
  metadata: { serviceId: 'Toy', apiVersion: '2026-01-01' },
  operations: { Put: { name: 'Put', input: { shape: 'PutRequest' } }, Ping: { name: 'Ping' } },
  shapes: {
    PutRequest: {
      type: 'structure',
      required: ['Id'],
      members: {
        Id: { shape: 'Id' },
        Count: { shape: '__integerMin1Max5' },
        Big: { shape: 'Long' },
        Ratio: { shape: 'Ratio' },
        On: { shape: 'Bool' },
        At: { shape: 'Time' },
        Data: { shape: 'Bytes' },
        Items: { shape: 'Items' },
        Labels: { shape: 'Labels' },
        Choice: { shape: 'Choice' },
        Offset: { shape: '__integerMinNegative60Max60' },
      },
    },
    Id: { type: 'string', pattern: '^[a-z]+-\\d+$', min: 3, max: 10 },
    __integerMin1Max5: { type: 'integer' },
    __integerMinNegative60Max60: { type: 'integer' },
    Long: { type: 'long', min: 0 },
    Ratio: { type: 'double', max: 1 },
    Bool: { type: 'boolean' },
    Time: { type: 'timestamp' },
    Bytes: { type: 'blob' },
    Items: { type: 'list', member: { shape: 'Id' }, min: 1, max: 2 },
    Labels: { type: 'map', key: { shape: 'LabelKey' }, value: { shape: 'Bool' }, max: 1 },
    LabelKey: { type: 'string', enum: ['a', 'b'] },
    Choice: { type: 'structure', union: true, members: { A: { shape: 'Bool' }, B: { shape: 'Bool' } } },
  },
};

describe('validation rules (hand-written model)', () => {
  const v = new ModelValidator(TOY);
  const cases: [string, unknown, string[]][] = [
    ['a valid request', { Id: 'ab-1', Count: 5, Big: 10n, Ratio: 0.5, On: true, At: new Date(), Data: new Uint8Array([1]), Items: ['ab-2'], Labels: { a: false }, Choice: { A: true }, Offset: -60 }, []],
    ['undefined members are absent, as the SDK treats them', { Id: 'ab-1', Count: undefined }, []],
    ['missing required', {}, ["Id: missing required member 'Id'"]],
    ['pattern', { Id: 'AB-1' }, ["Id: 'AB-1' does not match pattern ^[a-z]+-\\d+$"]],
    ['string length (code points)', { Id: 'abcdefgh-12' }, ['Id: length 11 is above the maximum 10']],
    ['range from a shape name', { Id: 'ab-1', Count: 0 }, ['Count: value 0 is below the minimum 1 (range from the shape name __integerMin1Max5)']],
    ['negative range from a shape name', { Id: 'ab-1', Offset: -61 }, ['Offset: value -61 is below the minimum -60 (range from the shape name __integerMinNegative60Max60)']],
    ['long accepts bigint, rejects fractions', { Id: 'ab-1', Big: 1.5 }, ['Big: expected long, got non-integer 1.5']],
    ['double max', { Id: 'ab-1', Ratio: 1.5 }, ['Ratio: value 1.5 is above the maximum 1']],
    ['double rejects NaN', { Id: 'ab-1', Ratio: Number.NaN }, ['Ratio: expected double, got NaN']],
    ['boolean', { Id: 'ab-1', On: 'true' }, ['On: expected boolean, got string']],
    ['timestamp accepts ISO strings, rejects garbage', { Id: 'ab-1', At: 'yesterday' }, ['At: expected timestamp (Date, epoch seconds or ISO 8601), got string']],
    ['blob', { Id: 'ab-1', Data: 5 }, ['Data: expected blob (bytes or string), got number']],
    ['list size and items', { Id: 'ab-1', Items: ['ab-1', 'ab-2', 'x'] }, ['Items: items 3 is above the maximum 2', 'Items[2]: length 1 is below the minimum 3', "Items[2]: 'x' does not match pattern ^[a-z]+-\\d+$"]],
    ['map keys and size', { Id: 'ab-1', Labels: { a: true, c: true } }, ['Labels: entries 2 is above the maximum 1', "Labels{key 'c'}: 'c' not in enum LabelKey (a | b)"]],
    ['union with two members', { Id: 'ab-1', Choice: { A: true, B: false } }, ['Choice: union Choice needs exactly one member set, got 2 (A, B)']],
    ['unknown member names its shape', { Id: 'ab-1', Extra: 1 }, ["Extra: unknown member 'Extra' of PutRequest"]],
    ['the request itself must be a structure', 'x', ['(request): expected structure PutRequest, got string']],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => assert.deepEqual(v.validate('Put', input).map(formatProblem), expected));
  }

  test('an operation without input accepts nothing but an empty request', () => {
    assert.deepEqual(v.validate('Ping', {}), []);
    assert.deepEqual(v.validate('Ping', { X: 1 }).map(formatProblem), ['(request): Ping takes no input']);
  });

  test('ranges from shape names can be turned off', () => {
    const strict = new ModelValidator(TOY, { rangesFromShapeNames: false });
    assert.deepEqual(strict.validate('Put', { Id: 'ab-1', Count: 0 }), []);
  });

  test('shape-name ranges: only MediaLive-style numeric/string names', () => {
    assert.deepEqual(rangeFromShapeName('__integerMin0Max7'), { min: 0, max: 7 });
    assert.deepEqual(rangeFromShapeName('__stringMin1Max255PatternS'), { min: 1, max: 255 });
    assert.deepEqual(rangeFromShapeName('__doubleMinNegative59Max0'), { min: -59, max: 0 });
    assert.deepEqual(rangeFromShapeName('__integerMax5'), { max: 5 });
    assert.equal(rangeFromShapeName('__listOf__stringMin1'), null);
    assert.equal(rangeFromShapeName('__string'), null);
    assert.equal(rangeFromShapeName('H264Settings'), null);
  });
});
