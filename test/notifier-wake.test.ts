/**
 * The notifier's precise waits on AWS (ADR 0027) through its Lambda entry's deps and handlers, on
 * dynalite with a clock of the test's own: each run puts its next wake-up on NotifierWakeQueue with
 * DelaySeconds (every SendMessage checked against the official SQS model), a wake already on its
 * way covers a later one (no message per batch), a due wake sends the group when its group_wait
 * ends, a wait past SQS's 900 s is a chain of re-delays under one id that runs nothing early, and
 * a wake delivered twice sends nothing twice.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { SQSEvent } from 'aws-lambda';
import { loadConfig } from '../shared/config/index.ts';
import { formatProblem, ModelValidator } from '../shared/engines/aws/model-validator.ts';
import { MODELS_DIR, operationOf } from '../shared/engines/aws/request-capture.ts';
import type { BusEntry } from '../shared/events/publisher.ts';
import { ensureTables, startDynalite, type EmbeddedDynamo } from '../shared/runtimes/local/dynalite.ts';
import { loadServerlessConfig } from '../shared/runtimes/local/serverless-config.ts';
import { LocalKeyFileCipher } from '../shared/secrets/cipher.ts';
import { createDynamoClient } from '../shared/store/dynamo.ts';
import { lambdaContext, lambdaEnvironment } from './support/lambda.ts';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/111122223333/fanout-dev-NotifierWakeQueue';
const context = lambdaContext('fanout-dev-notifierInbox');
let db: EmbeddedDynamo;
let dir: string;

before(async () => {
  db = await startDynalite(undefined);
  dir = mkdtempSync(join(tmpdir(), 'fanout-wake-'));
  await ensureTables(createDynamoClient({ region: 'eu-west-1', endpoint: db.endpoint }), loadServerlessConfig({ stage: 'dev' }).tables);
});
after(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

function sqsEvent(bodies: string[], queue = 'NotifierQueue'): SQSEvent {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `m-${i}-${Math.random()}`,
      receiptHandle: 'h',
      body,
      attributes: {} as never,
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:eu-west-1:111122223333:${queue}`,
      awsRegion: 'eu-west-1',
    })),
  };
}

const alarm = (queue: string, at: Date) =>
  JSON.stringify({
    version: '0',
    id: `alarm-${queue}-${at.getTime()}`,
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '111122223333',
    time: at.toISOString(),
    region: 'eu-west-1',
    resources: [],
    detail: { alarmName: `fanout-dev-dlq-${queue}`, state: { value: 'ALARM', reasonData: '{"recentDatapoints":[1.0]}' } },
  });

test('precise waits: SQS delayed wake-ups at group_wait, covered wakes, 900 s chains, duplicates harmless', async (t) => {
  const modelFile = join(MODELS_DIR, 'sqs.service-2.json');
  if (!existsSync(modelFile)) return t.skip(`no SQS model at ${modelFile}`);
  const sqsModel = ModelValidator.fromFile(modelFile);
  const { createAwsNotifierDeps } = await import('../shared/runtimes/aws/notifier.ts');
  const { createInboxHandler } = await import('../services/notifier/src/handlers/inbox.ts');
  const { createWakeHandler } = await import('../services/notifier/src/handlers/wake.ts');
  const { createTickHandler } = await import('../services/notifier/src/handlers/tick.ts');
  const { notifierFor } = await import('../services/notifier/src/handlers/notifier.ts');
  const cfg = loadConfig(lambdaEnvironment(db.endpoint, { FANOUT_NOTIFY_WAKE_QUEUE_URL: QUEUE_URL, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' }));
  const built = createAwsNotifierDeps(cfg);
  assert.equal(built.wake?.queueUrl, QUEUE_URL, 'the entry wires the wake queue from FANOUT_NOTIFY_WAKE_QUEUE_URL');
  assert.equal(createAwsNotifierDeps({ ...cfg, notifyWakeQueueUrl: undefined }).wake, undefined);

  // SQS cannot run here: a fake that checks every request against the official model and keeps the messages.
  const sent: { body: { id: string; wakeAt: string }; delaySeconds: number; at: number }[] = [];
  const problems: string[] = [];
  let clock = new Date('2026-12-02T10:00:00.000Z');
  const sqs = {
    send: async (command: { input: Record<string, unknown> }) => {
      const op = operationOf(command);
      problems.push(...sqsModel.validate(op, command.input).map((p) => `${op} ${formatProblem(p)}`));
      assert.equal(op, 'SendMessage');
      assert.equal(command.input.QueueUrl, QUEUE_URL);
      sent.push({ body: JSON.parse(command.input.MessageBody as string), delaySeconds: command.input.DelaySeconds as number, at: clock.getTime() });
      return { MessageId: `sqs-${sent.length}` };
    },
  };
  const published: BusEntry[] = [];
  const deps = {
    ...built,
    cipher: LocalKeyFileCipher.open(join(dir, 'n.key')),
    publisher: { publish: async (e: BusEntry[]) => void published.push(...e) },
    egress: undefined,
    wake: { sqs: sqs as never, queueUrl: QUEUE_URL },
    now: () => clock,
  };
  const n = notifierFor(deps);
  await n.createChannel({ name: 'ops log', kind: 'log' });
  const inbox = createInboxHandler(deps);
  const wake = createWakeHandler(deps);
  const deliveries = async () => (await n.deliveries(50)).filter((d) => !d.test);
  const t0 = clock.getTime();
  const at = (s: number) => (clock = new Date(t0 + s * 1000));

  // A dead-letter queue fills: nothing is due before group_wait (30 s); one wake-up, 30 s later.
  assert.deepEqual(await inbox(sqsEvent([alarm('FlowOutputDLQ', clock)]), context), { batchItemFailures: [] });
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.delaySeconds, 30);
  assert.equal(Date.parse(sent[0]!.body.wakeAt), t0 + 30_000);
  assert.equal((await deliveries()).length, 0);

  // Another group 5 s later ends its wait at 35 s: the 30 s wake covers it, no second message.
  at(5);
  await inbox(sqsEvent([alarm('CostTrackerDLQ', clock)]), context);
  assert.equal(sent.length, 1, 'a wake on its way covers a later one');

  // The wake arrives on time: the first group goes out, and the next wake is set for the second (5 s).
  at(30);
  assert.deepEqual(await wake(sqsEvent([JSON.stringify(sent[0]!.body)], 'NotifierWakeQueue')), { batchItemFailures: [] });
  const first = await deliveries();
  assert.equal(first.length, 1);
  assert.deepEqual(first[0]!.alertNames, ['DeadLetterQueueMessage']);
  assert.equal(first[0]!.outcome, 'sent');
  assert.equal(sent.length, 2);
  assert.equal(sent[1]!.delaySeconds, 5);
  assert.equal(Date.parse(sent[1]!.body.wakeAt), t0 + 35_000);

  // A wake arriving early (a second before its time is still early) is sent on with the time left, runs nothing.
  at(33);
  await wake(sqsEvent([JSON.stringify(sent[1]!.body)], 'NotifierWakeQueue'));
  assert.equal(sent.length, 3);
  assert.deepEqual([sent[2]!.body, sent[2]!.delaySeconds], [sent[1]!.body, 2], 'the same wake, the time left');
  assert.equal((await deliveries()).length, 1);

  at(35);
  await wake(sqsEvent([JSON.stringify(sent[2]!.body)], 'NotifierWakeQueue'));
  assert.equal((await deliveries()).length, 2, 'the second group at the end of its wait');

  // What stays broken repeats after repeat_interval (4 h): SQS's 900 s at most, then re-delays under one id.
  const repeat = sent[sent.length - 1]!;
  assert.equal(repeat.delaySeconds, 900);
  assert.equal(Date.parse(repeat.body.wakeAt), t0 + 30_000 + 4 * 3_600_000);
  let hop = repeat;
  let hops = 0;
  while (Date.parse(hop.body.wakeAt) - clock.getTime() > 1000) {
    clock = new Date(clock.getTime() + hop.delaySeconds * 1000);
    const sentBefore: number = sent.length;
    await wake(sqsEvent([JSON.stringify(hop.body)], 'NotifierWakeQueue'));
    if (Date.parse(hop.body.wakeAt) - clock.getTime() <= 1000) break;
    assert.equal(sent.length, sentBefore + 1);
    hop = sent[sent.length - 1]!;
    assert.equal(hop.body.id, repeat.body.id, 'one chain');
    assert.ok(hop.delaySeconds >= 1 && hop.delaySeconds <= 900);
    hops++;
    assert.equal((await deliveries()).length, 2, 'nothing runs early');
  }
  assert.equal(hops, 15, '4 h from 35 s: 15 re-delays after the first 900 s');
  assert.equal(clock.getTime(), t0 + 30_000 + 4 * 3_600_000, 'the last hop lands on the repeat');
  const repeated = await deliveries();
  assert.equal(repeated.length, 3, 'the first group repeated at 4 h');

  // The same wake delivered again (SQS at-least-once): nothing is sent twice.
  const sentAfter = sent.length;
  await wake(sqsEvent([JSON.stringify(hop.body), JSON.stringify(hop.body)], 'NotifierWakeQueue'));
  assert.equal((await deliveries()).length, 3);
  assert.ok(sent.length - sentAfter <= 1, 'at most the next wake');

  // The minute tick (the backstop) schedules too, and is covered by what is on its way.
  const beforeTick = sent.length;
  await createTickHandler(deps)();
  assert.equal(sent.length, beforeTick, 'covered');

  assert.deepEqual(problems, [], 'every SendMessage valid per the SQS model');
  assert.ok(sent.every((m) => m.delaySeconds >= 0 && m.delaySeconds <= 900));
  assert.equal(published.filter((e) => e.DetailType === 'NotificationSent').length, 3);
});

test('a wake message that is not ours runs the notifier once and is let go; without a wake queue the handler fails the record', async () => {
  const { createAwsNotifierDeps } = await import('../shared/runtimes/aws/notifier.ts');
  const { createWakeHandler } = await import('../services/notifier/src/handlers/wake.ts');
  const cfg = loadConfig(lambdaEnvironment(db.endpoint, { FANOUT_LOG_LEVEL: 'ERROR' }));
  const deps = { ...createAwsNotifierDeps(cfg), cipher: LocalKeyFileCipher.open(join(dir, 'n.key')), publisher: { publish: async () => undefined } };
  const noQueue = createWakeHandler(deps);
  const ev = sqsEvent(['{"id":"x","wakeAt":"2026-12-02T10:00:00Z"}'], 'NotifierWakeQueue');
  assert.deepEqual(await noQueue(ev), { batchItemFailures: [{ itemIdentifier: ev.Records[0]!.messageId }] });
  const sends: unknown[] = [];
  const withQueue = createWakeHandler({ ...deps, wake: { sqs: { send: async (c: unknown) => void sends.push(c) } as never, queueUrl: QUEUE_URL } });
  assert.deepEqual(await withQueue(sqsEvent(['not json'], 'NotifierWakeQueue')), { batchItemFailures: [] });
});
