/**
 * The shared SQS consumer on dynalite (its idempotency records are real DynamoDB items): a lost
 * optimistic-concurrency race is processed again at once; one lost every time, or any other error,
 * is reported as a batch item failure for SQS to redeliver.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { AppError } from '../errors/index.ts';
import { createLogger } from '../logging/logger.ts';
import { ensureTables, startDynalite, type EmbeddedDynamo } from '../runtimes/local/dynalite.ts';
import { defineEvent } from '../../events/envelope.ts';
import { createEventConsumer, domainRoute } from './consumer.ts';

const Pinged = defineEvent({ source: 'fanout.destination', name: 'TestPinged', version: 1, description: 'test only', data: z.object({ n: z.number() }) });
const TABLE = 'consumer-test-idempotency';

let dynamo: EmbeddedDynamo;
let client: DynamoDBClient;
before(async () => {
  dynamo = await startDynalite(undefined);
  client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await ensureTables(client, [{ logicalId: 'Idem', tableName: TABLE, keySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], attributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }] } as never]);
});
after(async () => {
  client.destroy();
  await dynamo.close();
});

const ids = new Map<string, string>();
const uuid = (name: string): string => ids.get(name) ?? (ids.set(name, randomUUID()), ids.get(name)!);

function sqsEvent(...names: string[]): SQSEvent {
  return {
    Records: names.map((name) => ({
      messageId: `m-${name}`,
      receiptHandle: 'r',
      body: JSON.stringify({
        id: `eb-${name}`,
        source: 'fanout.destination',
        'detail-type': 'TestPinged',
        time: new Date().toISOString(),
        detail: { version: 1, id: uuid(name), occurredAt: new Date().toISOString(), correlationId: name, data: { n: 1 } },
      }),
      attributes: {} as never,
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:q',
      awsRegion: 'eu-west-1',
    })),
  };
}

const context = { getRemainingTimeInMillis: () => 30_000, functionName: 'test', awsRequestId: 'req' } as unknown as Context;

function consumer(handle: () => Promise<void>, name: string) {
  return createEventConsumer({ name, routes: [domainRoute(Pinged, handle)], logger: createLogger('consumer-test'), idempotency: () => ({ client, tableName: TABLE }) });
}

describe('createEventConsumer', () => {
  test('a lost concurrent update is processed again at once, and succeeds', async () => {
    let calls = 0;
    const handler = consumer(async () => {
      calls++;
      if (calls < 3) throw new AppError('VERSION_CONFLICT', 'x changed concurrently.');
    }, 'conflict-then-ok');
    const res = await handler(sqsEvent('a'), context);
    assert.deepEqual(res.batchItemFailures, []);
    assert.equal(calls, 3);
    // And it is remembered: a redelivery changes nothing.
    await handler(sqsEvent('a'), context);
    assert.equal(calls, 3);
  });

  test('a race lost every time, and any other error, are left to the redelivery', async () => {
    let conflicts = 0;
    const always = consumer(async () => {
      conflicts++;
      throw new AppError('VERSION_CONFLICT', 'x changed concurrently.');
    }, 'always-conflict');
    // (A batch whose every record failed throws, as Powertools does: SQS redelivers the batch.)
    await assert.rejects(always(sqsEvent('b'), context), /All records failed/);
    assert.equal(conflicts, 4, 'a bounded number of attempts');

    let other = 0;
    const broken = consumer(async () => {
      other++;
      throw new Error('engine unavailable');
    }, 'other-error');
    await assert.rejects(broken(sqsEvent('c'), context), /All records failed/);
    assert.equal(other, 1, 'no immediate retry for other errors');
  });
});
