import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesPattern, validatePattern, EventPatternError, type EventPattern } from './event-pattern.ts';

const event = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'DestinationCreated',
  source: 'fanout.channel-provisioner',
  account: '111122223333',
  time: '2024-05-01T12:00:00Z',
  region: 'eu-west-1',
  resources: ['arn:aws:medialive:eu-west-1:111122223333:channel:1234', 'arn:aws:mediaconnect:eu-west-1:111122223333:flow:abc'],
  detail: {
    destinationId: 'dst-42',
    platform: 'YouTube',
    state: 'RUNNING',
    bitrate: 6000,
    ratio: 1.5,
    enabled: true,
    note: null,
    tags: ['live', 'primary'],
    ip: '10.0.12.34',
    file: 'segment-0001.ts',
    outputs: [
      { id: 'o1', protocol: 'rtmp', port: 1935 },
      { id: 'o2', protocol: 'srt', port: 9000 },
    ],
    nested: { deeper: { value: 'x' } },
  },
};

type Case = [name: string, pattern: EventPattern, expected: boolean];

const cases: Case[] = [
  // exact values
  ['exact source', { source: ['fanout.channel-provisioner'] }, true],
  ['exact source among several', { source: ['other', 'fanout.channel-provisioner'] }, true],
  ['exact source mismatch', { source: ['fanout.flow-output'] }, false],
  ['exact is case sensitive', { source: ['Fanout.Channel-Provisioner'] }, false],
  ['detail-type', { 'detail-type': ['DestinationCreated'] }, true],
  ['AND of fields', { source: ['fanout.channel-provisioner'], 'detail-type': ['Nope'] }, false],
  ['nested detail string', { detail: { state: ['RUNNING'] } }, true],
  ['nested detail mismatch', { detail: { state: ['STOPPED'] } }, false],
  ['number exact', { detail: { bitrate: [6000] } }, true],
  ['number exact compares numerically', { detail: { bitrate: [6000.0] } }, true],
  ['number does not match its string', { detail: { bitrate: ['6000'] } }, false],
  ['string does not match a number', { detail: { state: [1] } }, false],
  ['boolean exact', { detail: { enabled: [true] } }, true],
  ['boolean mismatch', { detail: { enabled: [false] } }, false],
  ['null exact', { detail: { note: [null] } }, true],
  ['null does not match missing', { detail: { missing: [null] } }, false],
  ['deeply nested', { detail: { nested: { deeper: { value: ['x'] } } } }, true],
  ['deeply nested mismatch', { detail: { nested: { deeper: { value: ['y'] } } } }, false],
  ['missing field', { detail: { nope: ['x'] } }, false],
  ['leaf pattern on an object value', { detail: { nested: ['x'] } }, false],
  ['nested pattern on a string value', { source: { x: ['y'] } }, false],
  // arrays in the event
  ['event array: any element', { detail: { tags: ['primary'] } }, true],
  ['event array: none match', { detail: { tags: ['backup'] } }, false],
  ['resources array prefix', { resources: [{ prefix: 'arn:aws:mediaconnect:' }] }, true],
  ['array of objects: one element matches', { detail: { outputs: { protocol: ['srt'] } } }, true],
  ['array of objects: fields from the same element', { detail: { outputs: { protocol: ['srt'], port: [9000] } } }, true],
  ['array of objects: fields from different elements', { detail: { outputs: { protocol: ['srt'], port: [1935] } } }, false],
  // prefix / suffix
  ['prefix', { source: [{ prefix: 'fanout.' }] }, true],
  ['prefix mismatch', { source: [{ prefix: 'aws.' }] }, false],
  ['prefix on a number never matches', { detail: { bitrate: [{ prefix: '6' }] } }, false],
  ['prefix equals-ignore-case', { detail: { platform: [{ prefix: { 'equals-ignore-case': 'you' } }] } }, true],
  ['suffix', { detail: { file: [{ suffix: '.ts' }] } }, true],
  ['suffix mismatch', { detail: { file: [{ suffix: '.m3u8' }] } }, false],
  ['suffix equals-ignore-case', { detail: { file: [{ suffix: { 'equals-ignore-case': '.TS' } }] } }, true],
  // anything-but
  ['anything-but value', { detail: { state: [{ 'anything-but': 'STOPPED' }] } }, true],
  ['anything-but value excluded', { detail: { state: [{ 'anything-but': 'RUNNING' }] } }, false],
  ['anything-but list', { detail: { state: [{ 'anything-but': ['STOPPED', 'IDLE'] }] } }, true],
  ['anything-but list excluded', { detail: { state: [{ 'anything-but': ['STOPPED', 'RUNNING'] }] } }, false],
  ['anything-but number', { detail: { bitrate: [{ 'anything-but': [3000, 4000] }] } }, true],
  ['anything-but number excluded', { detail: { bitrate: [{ 'anything-but': 6000 }] } }, false],
  ['anything-but prefix', { source: [{ 'anything-but': { prefix: 'aws.' } }] }, true],
  ['anything-but prefix excluded', { source: [{ 'anything-but': { prefix: 'fanout.' } }] }, false],
  ['anything-but suffix excluded', { detail: { file: [{ 'anything-but': { suffix: '.ts' } }] } }, false],
  ['anything-but equals-ignore-case excluded', { detail: { platform: [{ 'anything-but': { 'equals-ignore-case': ['youtube'] } }] } }, false],
  ['anything-but needs the field to exist', { detail: { missing: [{ 'anything-but': 'x' }] } }, false],
  ['anything-but over an array: one element not excluded', { detail: { tags: [{ 'anything-but': 'live' }] } }, true],
  ['anything-but over an array: all excluded', { detail: { tags: [{ 'anything-but': ['live', 'primary'] }] } }, false],
  // exists
  ['exists true', { detail: { state: [{ exists: true }] } }, true],
  ['exists true on missing', { detail: { missing: [{ exists: true }] } }, false],
  ['exists false on missing', { detail: { missing: [{ exists: false }] } }, true],
  ['exists false on present', { detail: { state: [{ exists: false }] } }, false],
  ['exists true on null (a present value)', { detail: { note: [{ exists: true }] } }, true],
  ['exists only matches leaves', { detail: { nested: [{ exists: true }] } }, false],
  ['exists false under a missing parent', { detail: { nope: { inner: [{ exists: false }] } } }, true],
  ['exists true under a missing parent', { detail: { nope: { inner: [{ exists: true }] } } }, false],
  // numeric
  ['numeric >', { detail: { bitrate: [{ numeric: ['>', 5000] }] } }, true],
  ['numeric > mismatch', { detail: { bitrate: [{ numeric: ['>', 6000] }] } }, false],
  ['numeric >=', { detail: { bitrate: [{ numeric: ['>=', 6000] }] } }, true],
  ['numeric <', { detail: { ratio: [{ numeric: ['<', 1.5] }] } }, false],
  ['numeric <=', { detail: { ratio: [{ numeric: ['<=', 1.5] }] } }, true],
  ['numeric =', { detail: { bitrate: [{ numeric: ['=', 6000] }] } }, true],
  ['numeric range inside', { detail: { bitrate: [{ numeric: ['>', 0, '<=', 6000] }] } }, true],
  ['numeric range outside', { detail: { bitrate: [{ numeric: ['>', 0, '<', 6000] }] } }, false],
  ['numeric on a string never matches', { detail: { state: [{ numeric: ['>', 0] }] } }, false],
  ['numeric over array of objects', { detail: { outputs: { port: [{ numeric: ['>', 5000] }] } } }, true],
  // equals-ignore-case, wildcard, cidr
  ['equals-ignore-case', { detail: { platform: [{ 'equals-ignore-case': 'YOUTUBE' }] } }, true],
  ['equals-ignore-case mismatch', { detail: { platform: [{ 'equals-ignore-case': 'twitch' }] } }, false],
  ['wildcard', { detail: { file: [{ wildcard: 'segment-*.ts' }] } }, true],
  ['wildcard mismatch', { detail: { file: [{ wildcard: 'init-*.ts' }] } }, false],
  ['wildcard escaped star is literal', { detail: { file: [{ wildcard: 'segment-\\*.ts' }] } }, false],
  ['cidr', { detail: { ip: [{ cidr: '10.0.0.0/16' }] } }, true],
  ['cidr mismatch', { detail: { ip: [{ cidr: '10.1.0.0/16' }] } }, false],
  // mixed matchers in one array: OR
  ['matchers in one array are ORed', { detail: { state: ['STOPPED', { prefix: 'RUN' }] } }, true],
  // $or
  ['$or: second branch matches', { $or: [{ source: ['nope'] }, { detail: { state: ['RUNNING'] } }] }, true],
  ['$or: no branch matches', { $or: [{ source: ['nope'] }, { detail: { state: ['IDLE'] } }] }, false],
  ['$or combined with other keys (AND)', { source: ['nope'], $or: [{ account: ['111122223333'] }, { region: ['x'] }] }, false],
  ['$or nested in detail', { detail: { $or: [{ bitrate: [{ numeric: ['<', 10] }] }, { platform: ['YouTube'] }] } }, true],
  ['empty pattern matches everything', {}, true],
];

for (const [name, pattern, expected] of cases) {
  test(`matchesPattern: ${name}`, () => {
    validatePattern(pattern);
    assert.equal(matchesPattern(pattern, event), expected);
  });
}

const invalid: [string, unknown][] = [
  ['not an object', ['source']],
  ['scalar value', { source: 'fanout' }],
  ['empty array', { source: [] }],
  ['unknown operator', { source: [{ 'starts-with': 'x' }] }],
  ['two operators in one object', { source: [{ prefix: 'a', suffix: 'b' }] }],
  ['prefix with a number', { source: [{ prefix: 1 }] }],
  ['numeric odd arguments', { detail: { n: [{ numeric: ['>'] }] } }],
  ['numeric bad operator', { detail: { n: [{ numeric: ['!=', 1] }] } }],
  ['exists non boolean', { detail: { n: [{ exists: 'yes' }] } }],
  ['$or with one branch', { $or: [{ source: ['a'] }] }],
  ['anything-but empty list', { source: [{ 'anything-but': [] }] }],
  ['anything-but unknown operator', { source: [{ 'anything-but': { numeric: ['>', 1] } }] }],
  ['wildcard with **', { source: [{ wildcard: 'a**' }] }],
  ['cidr that is not a block', { ip: [{ cidr: 'nope' }] }],
];

for (const [name, pattern] of invalid) {
  test(`validatePattern rejects: ${name}`, () => {
    assert.throws(() => validatePattern(pattern), EventPatternError);
  });
}

test('matchesPattern throws on an invalid matcher it meets', () => {
  assert.throws(() => matchesPattern({ source: [{ bogus: 1 }] }, event), /unknown operator "bogus"/);
});
