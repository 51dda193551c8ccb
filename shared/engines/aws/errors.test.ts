/** AWS exceptions → domain errors, table-driven, with the secrets never surviving into a message. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../errors/index.ts';
import { medialiveError, mediaconnectError } from './aws-fake.ts';
import { AwsEngineError, QUOTAS, toDomainError } from './errors.ts';

const KEY = 'sk_live_0123456789abcdef';
const ctx = { operation: 'MediaLive CreateChannel', subject: 'destination d-1', secrets: [KEY], quota: QUOTAS.channels, conflict: 'CHANNEL_NOT_IDLE' as const };

describe('toDomainError', () => {
  const table: [string, unknown, (e: Error) => void][] = [
    ['ConflictException → the given conflict code', medialiveError('ConflictException', 'Channel is RUNNING'), (e) => {
      assert.ok(e instanceof AwsEngineError);
      assert.equal(e.code, 'CHANNEL_NOT_IDLE');
      assert.equal(e.details.httpStatus, 409);
    }],
    ['UnprocessableEntityException → REQUEST_REJECTED listing ValidationErrors, key redacted', medialiveError('UnprocessableEntityException', 'Unprocessable Entity', [{ ElementPath: '/destinations/0/settings/0/streamName', ErrorMessage: `stream name ${KEY} is too long` }, { ElementPath: '/encoderSettings/timecodeConfig', ErrorMessage: 'required' }]), (e) => {
      assert.ok(e instanceof AwsEngineError);
      assert.equal(e.code, 'REQUEST_REJECTED');
      assert.match(e.message, /\/encoderSettings\/timecodeConfig: required/);
      assert.equal(e.details.validationErrors?.length, 2);
      assert.ok(!JSON.stringify({ m: e.message, d: e.details }).includes(KEY), 'no key anywhere');
    }],
    ['TooManyRequestsException (after the SDK gave up) → ENGINE_UNAVAILABLE, retried by the queue', medialiveError('TooManyRequestsException', 'Too Many Requests'), (e) => {
      assert.ok(e instanceof AppError);
      assert.equal(e.code, 'ENGINE_UNAVAILABLE');
    }],
    ['5xx → ENGINE_UNAVAILABLE', medialiveError('InternalServerErrorException', 'oops'), (e) => assert.equal((e as AppError).code, 'ENGINE_UNAVAILABLE')],
    ['network error → ENGINE_UNAVAILABLE', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), (e) => assert.equal((e as AppError).code, 'ENGINE_UNAVAILABLE')],
    ['BadRequest naming a limit → QUOTA_EXCEEDED with the quota to raise', medialiveError('BadRequestException', 'You have reached the limit of 5 channels'), (e) => {
      assert.equal((e as AwsEngineError).code, 'QUOTA_EXCEEDED');
      assert.match((e as AwsEngineError).hint, /Channels.*default 5/);
    }],
    ['other BadRequest → BAD_REQUEST', mediaconnectError('BadRequestException', 'Invalid flow'), (e) => assert.equal((e as AwsEngineError).code, 'BAD_REQUEST')],
    ['NotFound → NOT_FOUND', medialiveError('NotFoundException', 'Channel 1 not found'), (e) => assert.equal((e as AwsEngineError).code, 'NOT_FOUND')],
    ['Forbidden → ACCESS_DENIED with an IAM hint', Object.assign(new Error('not authorized'), { name: 'ForbiddenException', $fault: 'client', $metadata: { httpStatusCode: 403 } }), (e) => {
      assert.equal((e as AwsEngineError).code, 'ACCESS_DENIED');
      assert.match((e as AwsEngineError).hint, /iam:PassRole/);
    }],
    ['a message echoing the key is redacted', medialiveError('BadRequestException', `bad stream name ${KEY}`), (e) => assert.ok(!e.message.includes(KEY))],
    ['a programming error passes through unchanged', new TypeError('x is undefined'), (e) => assert.ok(e instanceof TypeError)],
  ];
  for (const [name, err, check] of table) test(name, () => check(toDomainError(err, ctx)));

  test('domain errors are returned as they are', () => {
    const e = new AppError('ENGINE_UNAVAILABLE', 'x');
    assert.equal(toDomainError(e, ctx), e);
  });
});
