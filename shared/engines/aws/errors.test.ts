/** AWS exceptions → domain errors, table-driven, with the secrets never surviving into a message. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EngineError, portError } from '../port/errors.ts';
import { medialiveError, mediaconnectError } from './aws-fake.ts';
import { AwsEngineError, QUOTAS, toDomainError } from './errors.ts';

const KEY = 'sk_live_0123456789abcdef';
const ctx = { operation: 'MediaLive CreateChannel', subject: 'destination d-1', secrets: [KEY], quota: QUOTAS.channels, conflict: 'CHANNEL_NOT_IDLE' as const };

describe('toDomainError', () => {
  const table: [string, unknown, (e: Error) => void][] = [
    [
      'ConflictException → the given conflict code',
      medialiveError('ConflictException', 'Channel is RUNNING'),
      (e) => {
        assert.ok(e instanceof AwsEngineError);
        assert.equal(e.code, 'CHANNEL_NOT_IDLE');
        assert.equal(e.details.httpStatus, 409);
      },
    ],
    [
      'UnprocessableEntityException → REQUEST_REJECTED listing ValidationErrors, key redacted',
      medialiveError('UnprocessableEntityException', 'Unprocessable Entity', [
        { ElementPath: '/destinations/0/settings/0/streamName', ErrorMessage: `stream name ${KEY} is too long` },
        { ElementPath: '/encoderSettings/timecodeConfig', ErrorMessage: 'required' },
      ]),
      (e) => {
        assert.ok(e instanceof AwsEngineError);
        assert.equal(e.code, 'REQUEST_REJECTED');
        assert.match(e.message, /\/encoderSettings\/timecodeConfig: required/);
        assert.equal(e.details.validationErrors?.length, 2);
        assert.ok(!JSON.stringify({ m: e.message, d: e.details }).includes(KEY), 'no key anywhere');
      },
    ],
    [
      'TooManyRequestsException (after the SDK gave up) → ENGINE_UNAVAILABLE, retried by the queue',
      medialiveError('TooManyRequestsException', 'Too Many Requests'),
      (e) => {
        assert.ok(e instanceof EngineError);
        assert.equal(e.code, 'ENGINE_UNAVAILABLE');
        assert.equal(e.retryable, true);
      },
    ],
    ['5xx → ENGINE_UNAVAILABLE', medialiveError('InternalServerErrorException', 'oops'), (e) => assert.ok(e instanceof EngineError && e.code === 'ENGINE_UNAVAILABLE' && e.retryable)],
    ['network error → ENGINE_UNAVAILABLE', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), (e) => assert.ok(e instanceof EngineError && e.code === 'ENGINE_UNAVAILABLE' && e.retryable)],
    [
      'BadRequest naming a limit → QUOTA_EXCEEDED with the quota to raise',
      medialiveError('BadRequestException', 'You have reached the limit of 5 channels'),
      (e) => {
        assert.ok(e instanceof AwsEngineError && e instanceof EngineError, "the port's error type");
        assert.equal(e.code, 'QUOTA_EXCEEDED');
        assert.equal(e.retryable, false, 'a quota needs a person: no redelivery');
        assert.match(e.hint, /Channels.*default 5/);
        assert.deepEqual(e.toLastError(), { code: 'QUOTA_EXCEEDED', message: e.message, hint: e.hint });
      },
    ],
    ['other BadRequest → BAD_REQUEST', mediaconnectError('BadRequestException', 'Invalid flow'), (e) => assert.equal((e as AwsEngineError).code, 'BAD_REQUEST')],
    ['NotFound → NOT_FOUND', medialiveError('NotFoundException', 'Channel 1 not found'), (e) => assert.equal((e as AwsEngineError).code, 'NOT_FOUND')],
    [
      'Forbidden → ACCESS_DENIED with an IAM hint',
      Object.assign(new Error('not authorized'), { name: 'ForbiddenException', $fault: 'client', $metadata: { httpStatusCode: 403 } }),
      (e) => {
        assert.equal((e as AwsEngineError).code, 'ACCESS_DENIED');
        assert.match((e as AwsEngineError).hint, /iam:PassRole/);
      },
    ],
    ['a message echoing the key is redacted', medialiveError('BadRequestException', `bad stream name ${KEY}`), (e) => assert.ok(!e.message.includes(KEY))],
    ['a programming error passes through unchanged', new TypeError('x is undefined'), (e) => assert.ok(e instanceof TypeError)],
  ];
  for (const [name, err, check] of table) test(name, () => check(toDomainError(err, ctx)));

  test('domain errors are returned as they are', () => {
    const e = portError('ENGINE_UNAVAILABLE', 'x');
    assert.equal(toDomainError(e, ctx), e);
  });
});
