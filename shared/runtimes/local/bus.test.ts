import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { LocalEventBus, type BusLogger, type BusTrace, type EventBridgeEvent, type LambdaContextLike, type LambdaHandler, type SqsBatchResponse, type SqsEvent, type SqsRecord } from './bus.ts';
import { loadServerlessConfig, type LocalWiring, type SqsFunctionWiring } from './serverless-config.ts';
import {
  ChannelDeletedV1,
  ChannelFailedV1,
  ChannelReclaimedV1,
  ChannelStateChangedV1,
  DestinationCreatedV1,
  FlowOutputAddedV1,
  FlowOutputFailedV1,
  FlowOutputRemovedV1,
  FlowStateChangedV1,
  OrphanResourcesCleanedUpV1,
} from '../../../events/catalogue.ts';
import type { EventDefinition } from '../../../events/envelope.ts';

// Durations in the wiring are "AWS seconds"; TIME_SCALE turns 20 s into 100 ms.
const TIME_SCALE = 0.005;
const VISIBILITY_S = 20; // 100 ms
const TIMEOUT_S = 10; // 50 ms
const VISIBILITY_MS = VISIBILITY_S * 1000 * TIME_SCALE;

function fn(name: string, queue: string, overrides: Partial<SqsFunctionWiring> = {}): SqsFunctionWiring {
  return {
    name,
    handler: { file: `test/${name}.ts`, exportName: 'handler' },
    queue,
    batchSize: 3,
    maximumBatchingWindowSeconds: 0,
    reportBatchItemFailures: true,
    timeoutSeconds: TIMEOUT_S,
    ...overrides,
  };
}

function makeWiring(overrides: Partial<LocalWiring> = {}): LocalWiring {
  const queue = (logicalId: string, extra: object = {}) => ({
    logicalId,
    queueName: `svc-test-${logicalId}`,
    visibilityTimeoutSeconds: VISIBILITY_S,
    delaySeconds: 0,
    ...extra,
  });
  return {
    service: 'svc',
    stage: 'test',
    region: 'eu-west-1',
    buses: [{ logicalId: 'Bus', name: 'custom-bus' }],
    tables: [],
    queues: [queue('Inbox', { maxReceiveCount: 3, deadLetterQueue: 'InboxDLQ' }), queue('InboxDLQ'), queue('Audit'), queue('DefaultBusQueue')],
    rules: [
      { logicalId: 'InboxRule', name: 'InboxRule', busName: 'custom-bus', enabled: true, eventPattern: { source: ['app.orders'] }, targetQueues: ['Inbox'] },
      {
        logicalId: 'AuditRule',
        name: 'AuditRule',
        busName: 'custom-bus',
        enabled: true,
        eventPattern: { 'detail-type': [{ prefix: 'Audit' }], detail: { level: [{ numeric: ['>=', 3] }] } },
        targetQueues: ['Audit'],
      },
      { logicalId: 'DisabledRule', name: 'DisabledRule', busName: 'custom-bus', enabled: false, eventPattern: { source: ['app.orders'] }, targetQueues: ['Audit'] },
      { logicalId: 'DefaultRule', name: 'DefaultRule', busName: 'default', enabled: true, eventPattern: { source: ['app.orders'] }, targetQueues: ['DefaultBusQueue'] },
    ],
    sqsFunctions: [fn('inbox', 'Inbox')],
    scheduledFunctions: [],
    httpApiFunctions: [],
    environment: {},
    omittedEnvironment: [],
    ...overrides,
  };
}

interface Call {
  fn: string;
  at: number;
  /** Date.now() at the call, to compare with the records' wall-clock attributes. */
  wallAt: number;
  records: SqsRecord[];
  context: LambdaContextLike;
}

function captureLogger(): BusLogger & { lines: { level: string; message: string; attributes?: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; attributes?: Record<string, unknown> }[] = [];
  const push = (level: string) => (message: string, attributes?: Record<string, unknown>) => {
    lines.push({ level, message, attributes });
  };
  return { lines, info: push('info'), warn: push('warn'), error: push('error') };
}

function setup(handlers: Record<string, (event: SqsEvent, call: Call) => Promise<SqsBatchResponse | void> | SqsBatchResponse | void>, wiring: LocalWiring = makeWiring()) {
  const calls: Call[] = [];
  const logger = captureLogger();
  const bus = new LocalEventBus(wiring, {
    timeScale: TIME_SCALE,
    logger,
    account: '111122223333',
    resolveHandler: async (ref): Promise<LambdaHandler> => {
      const h = handlers[ref.name];
      if (!h) throw new Error(`no test handler ${ref.name}`);
      return async (event: SqsEvent, context: LambdaContextLike) => {
        const call: Call = { fn: ref.name, at: performance.now(), wallAt: Date.now(), records: event.Records, context };
        calls.push(call);
        return h(event, call);
      };
    },
  });
  return { bus, calls, logger };
}

const order = (n: number, extra: Record<string, unknown> = {}) => ({
  Source: 'app.orders',
  DetailType: 'OrderPlaced',
  Detail: JSON.stringify({ n, ...extra }),
  EventBusName: 'custom-bus',
});

const detailOf = (r: SqsRecord) => (JSON.parse(r.body) as EventBridgeEvent<{ n: number }>).detail;

/** Polls a condition until a deadline (for timer-driven state such as schedules). */
async function waitUntil(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test('putEvents routes by pattern to the matching rules of the right bus', async () => {
  const { bus } = setup({ inbox: async () => {} });
  const res = await bus.putEvents([
    order(1), // InboxRule only (DisabledRule would match but is disabled)
    { Source: 'app.audit', DetailType: 'AuditEntry', Detail: JSON.stringify({ level: 5 }), EventBusName: 'custom-bus' }, // AuditRule
    { Source: 'app.audit', DetailType: 'AuditEntry', Detail: JSON.stringify({ level: 1 }), EventBusName: 'custom-bus' }, // nothing: level < 3
    { Source: 'app.orders', DetailType: 'OrderPlaced', Detail: '{"n":2}' }, // default bus: DefaultRule
    { ...order(3), EventBusName: 'arn:aws:events:eu-west-1:111122223333:event-bus/custom-bus' }, // ARN form
  ]);
  assert.equal(res.FailedEntryCount, 0);
  assert.equal(res.Entries.length, 5);
  for (const e of res.Entries) assert.match(e.EventId ?? '', /^[0-9a-f-]{36}$/);

  const stats = bus.queueStats();
  assert.equal(stats['Inbox']?.visible, 2);
  assert.equal(stats['Audit']?.visible, 1);
  assert.equal(stats['DefaultBusQueue']?.visible, 1);
  assert.equal(stats['InboxDLQ']?.visible, 0);
  assert.equal(stats['Inbox']?.dlq, 0);

  const published = bus.publishedEvents();
  assert.deepEqual(
    published.map((p) => [p.busName, p.matchedRules]),
    [
      ['custom-bus', ['InboxRule']],
      ['custom-bus', ['AuditRule']],
      ['custom-bus', []],
      ['default', ['DefaultRule']],
      ['custom-bus', ['InboxRule']],
    ],
  );
  const first = published[0]!.event;
  assert.equal(first.id, res.Entries[0]!.EventId);
  assert.equal(first.version, '0');
  assert.equal(first.source, 'app.orders');
  assert.equal(first['detail-type'], 'OrderPlaced');
  assert.equal(first.account, '111122223333');
  assert.equal(first.region, 'eu-west-1');
  assert.deepEqual(first.resources, []);
  assert.deepEqual(first.detail, { n: 1 });
  assert.match(first.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});

test('putEvents reports bad entries per entry and rejects oversized requests', async () => {
  const { bus } = setup({ inbox: async () => {} });
  const res = await bus.putEvents([
    order(1),
    { Source: 'app.orders', DetailType: 'X', Detail: 'not json', EventBusName: 'custom-bus' },
    { Source: 'app.orders', DetailType: 'X', Detail: '[1]', EventBusName: 'custom-bus' },
    { ...order(2), EventBusName: 'no-such-bus' },
    { Source: 'aws.ec2', DetailType: 'X', Detail: '{}', EventBusName: 'custom-bus' },
  ]);
  assert.equal(res.FailedEntryCount, 4);
  assert.deepEqual(
    res.Entries.map((e) => e.ErrorCode),
    [undefined, 'MalformedDetail', 'MalformedDetail', 'ResourceNotFoundException', 'NotAuthorizedForSourceException'],
  );
  assert.equal(bus.queueStats()['Inbox']?.visible, 1);
  await assert.rejects(bus.putEvents(Array.from({ length: 11 }, (_, i) => order(i))), /1 to 10 entries/);
  await assert.rejects(bus.putEvents([]), /1 to 10 entries/);
});

test('records have the real SQSRecord shape', async () => {
  const { bus, calls } = setup({ inbox: async () => {} });
  const res = await bus.putEvents([order(7)]);
  bus.start();
  try {
    await bus.drain(5_000);
  } finally {
    await bus.stop();
  }
  assert.equal(calls.length, 1);
  const r = calls[0]!.records[0]!;
  assert.match(r.messageId, /^[0-9a-f-]{36}$/);
  assert.ok(r.receiptHandle.length > 0);
  assert.equal(r.eventSource, 'aws:sqs');
  assert.equal(r.eventSourceARN, 'arn:aws:sqs:eu-west-1:111122223333:svc-test-Inbox');
  assert.equal(r.awsRegion, 'eu-west-1');
  assert.equal(r.attributes.ApproximateReceiveCount, '1');
  assert.match(r.attributes.SentTimestamp, /^\d+$/);
  assert.match(r.attributes.ApproximateFirstReceiveTimestamp, /^\d+$/);
  assert.ok(r.attributes.SenderId.length > 0);
  assert.deepEqual(r.messageAttributes, {});
  assert.match(r.md5OfBody, /^[0-9a-f]{32}$/);
  const event = JSON.parse(r.body) as EventBridgeEvent;
  assert.equal(event.id, res.Entries[0]!.EventId);
  assert.deepEqual(event.detail, { n: 7 });
  const ctx = calls[0]!.context;
  assert.equal(ctx.functionName, 'svc-test-inbox');
  assert.equal(ctx.invokedFunctionArn, 'arn:aws:lambda:eu-west-1:111122223333:function:svc-test-inbox');
  assert.ok(ctx.getRemainingTimeInMillis() <= TIMEOUT_S * 1000 * TIME_SCALE);
});

test('batch size is respected', async () => {
  const { bus, calls } = setup({ inbox: async () => {} });
  for (let i = 0; i < 7; i += 1) await bus.putEvents([order(i)]);
  bus.start();
  try {
    await bus.drain(5_000);
  } finally {
    await bus.stop();
  }
  const sizes = calls.map((c) => c.records.length);
  assert.deepEqual(sizes, [3, 3, 1]);
  assert.deepEqual(
    calls.flatMap((c) => c.records.map((r) => detailOf(r).n)).sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6],
  );
});

test('the batching window waits for more messages and dispatches as soon as the batch is full', async () => {
  // Window 200 s × 0.005 = 1 s: long enough that only a full batch explains an early dispatch.
  const wiring = makeWiring({ sqsFunctions: [fn('inbox', 'Inbox', { batchSize: 3, maximumBatchingWindowSeconds: 200 })] });
  const { bus, calls } = setup({ inbox: async () => {} }, wiring);
  bus.start();
  try {
    const started = performance.now();
    await bus.putEvents([order(1)]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(calls.length, 0, 'a lone message waits for the window');
    await bus.putEvents([order(2), order(3)]);
    await bus.drain(5_000);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.records.length, 3);
    assert.ok(performance.now() - started < 1_000, 'dispatched before the window ended');
  } finally {
    await bus.stop();
  }
});

test('partial batch failure redelivers only the failed items, after the visibility timeout', async () => {
  const { bus, calls } = setup({
    inbox: async (event) => {
      const failures = event.Records.filter((r) => detailOf(r).n === 2 && r.attributes.ApproximateReceiveCount === '1');
      return { batchItemFailures: failures.map((r) => ({ itemIdentifier: r.messageId })) };
    },
  });
  await bus.putEvents([order(1), order(2), order(3)]);
  bus.start();
  try {
    await bus.drain(5_000);
  } finally {
    await bus.stop();
  }
  assert.equal(calls.length, 2);
  assert.deepEqual(
    calls[0]!.records.map((r) => detailOf(r).n),
    [1, 2, 3],
  );
  assert.deepEqual(
    calls[1]!.records.map((r) => detailOf(r).n),
    [2],
  );
  assert.equal(calls[1]!.records[0]!.attributes.ApproximateReceiveCount, '2');
  assert.equal(calls[1]!.records[0]!.messageId, calls[0]!.records[1]!.messageId);
  assert.notEqual(calls[1]!.records[0]!.receiptHandle, calls[0]!.records[1]!.receiptHandle);
  // Invisible for the visibility timeout counted from the first receive (not from the handler call,
  // which can come later on a loaded machine).
  const sinceFirstReceive = calls[1]!.wallAt - Number(calls[1]!.records[0]!.attributes.ApproximateFirstReceiveTimestamp);
  assert.ok(sinceFirstReceive >= VISIBILITY_MS - 5, `redelivered ${sinceFirstReceive} ms after the first receive`);
  assert.deepEqual(bus.queueStats()['Inbox'], { visible: 0, inFlight: 0, dlq: 0 });
});

test('a thrown error redelivers the whole batch after the visibility timeout', async () => {
  const { bus, calls, logger } = setup({
    inbox: async () => {
      if (calls.length === 1) throw new Error('boom');
    },
  });
  await bus.putEvents([order(1), order(2)]);
  bus.start();
  try {
    await bus.drain(5_000);
  } finally {
    await bus.stop();
  }
  assert.equal(calls.length, 2);
  assert.deepEqual(
    calls[1]!.records.map((r) => detailOf(r).n),
    [1, 2],
  );
  assert.deepEqual(
    calls[1]!.records.map((r) => r.attributes.ApproximateReceiveCount),
    ['2', '2'],
  );
  // Invisible for the visibility timeout counted from the first receive (not from the handler call,
  // which can come later on a loaded machine).
  const sinceFirstReceive = calls[1]!.wallAt - Number(calls[1]!.records[0]!.attributes.ApproximateFirstReceiveTimestamp);
  assert.ok(sinceFirstReceive >= VISIBILITY_MS - 5, `redelivered ${sinceFirstReceive} ms after the first receive`);
  assert.ok(logger.lines.some((l) => l.level === 'error' && l.attributes?.['error'] === 'boom'));
});

test('an invalid batch response (unknown itemIdentifier) fails the whole batch', async () => {
  const { bus, calls } = setup({
    inbox: async () => (calls.length === 1 ? { batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] } : undefined),
  });
  await bus.putEvents([order(1), order(2)]);
  bus.start();
  try {
    await bus.drain(5_000);
  } finally {
    await bus.stop();
  }
  assert.deepEqual(
    calls.map((c) => c.records.length),
    [2, 2],
  );
});

test('without ReportBatchItemFailures a returned failure list is ignored', async () => {
  const wiring = makeWiring({ sqsFunctions: [fn('inbox', 'Inbox', { reportBatchItemFailures: false })] });
  const { bus, calls } = setup({ inbox: async (e) => ({ batchItemFailures: [{ itemIdentifier: e.Records[0]!.messageId }] }) }, wiring);
  await bus.putEvents([order(1)]);
  bus.start();
  try {
    await bus.drain(5_000);
  } finally {
    await bus.stop();
  }
  assert.equal(calls.length, 1);
});

test('a handler that exceeds the function timeout is treated as failed', async () => {
  let release!: () => void;
  const hung = new Promise<void>((resolve) => {
    release = resolve;
  });
  const { bus, calls, logger } = setup({
    inbox: async () => {
      if (calls.length === 1) await hung; // never returns within the 50 ms timeout
    },
  });
  await bus.putEvents([order(1)]);
  bus.start();
  try {
    await bus.drain(5_000);
  } finally {
    release();
    await bus.stop();
  }
  assert.equal(calls.length, 2);
  assert.equal(calls[1]!.records[0]!.attributes.ApproximateReceiveCount, '2');
  assert.ok(logger.lines.some((l) => l.message.includes('timed out')));
});

test('a message received more than maxReceiveCount times goes to the DLQ; redrive brings it back', async () => {
  let healthy = false;
  const { bus, calls, logger } = setup({
    inbox: async (event) => {
      if (healthy) return;
      return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
    },
  });
  await bus.putEvents([order(1, { secret: 'body-secret-value' })]);
  bus.start();
  try {
    await bus.drain(5_000);
    assert.equal(calls.length, 3, 'maxReceiveCount 3: three deliveries, then the DLQ');
    assert.deepEqual(
      calls.map((c) => c.records[0]!.attributes.ApproximateReceiveCount),
      ['1', '2', '3'],
    );
    assert.deepEqual(bus.queueStats()['Inbox'], { visible: 0, inFlight: 0, dlq: 1 });
    assert.equal(bus.queueStats()['InboxDLQ']?.visible, 1);
    const letters = bus.deadLetters('InboxDLQ');
    assert.equal(letters.length, 1);
    assert.equal(letters[0]!.sourceQueue, 'Inbox');
    assert.equal(letters[0]!.receiveCount, 3);
    assert.equal(letters[0]!.messageId, calls[0]!.records[0]!.messageId);
    assert.deepEqual(bus.deadLetters('Inbox'), letters, 'a source queue id gives its DLQ messages');
    assert.ok(logger.lines.some((l) => l.level === 'warn' && l.message.includes('dead-letter')));

    healthy = true;
    assert.equal(bus.redrive('InboxDLQ'), 1);
    await bus.drain(5_000);
    assert.equal(calls.length, 4);
    assert.equal(calls[3]!.records[0]!.attributes.ApproximateReceiveCount, '1');
    assert.deepEqual(detailOf(calls[3]!.records[0]!), { n: 1, secret: 'body-secret-value' });
    assert.equal(bus.deadLetters('InboxDLQ').length, 0);
  } finally {
    await bus.stop();
  }
  // Bodies never reach the logs.
  assert.ok(!JSON.stringify(logger.lines).includes('body-secret-value'));
});

test('drain() waits for cascades and rejects when nothing can make progress', async () => {
  const wiring = makeWiring({ sqsFunctions: [fn('inbox', 'Inbox'), fn('audit', 'Audit')] });
  const { bus, calls } = setup(
    {
      inbox: async () => {
        await new Promise((resolve) => setTimeout(resolve, 10));
        const res = await bus.putEvents([{ Source: 'app.audit', DetailType: 'AuditEntry', Detail: JSON.stringify({ level: 3 }), EventBusName: 'custom-bus' }]);
        assert.equal(res.FailedEntryCount, 0);
      },
      audit: async () => {},
    },
    wiring,
  );
  await bus.putEvents([order(1)]);
  await assert.rejects(bus.drain(1_000), /not started/);
  bus.start();
  try {
    await bus.drain(5_000);
    assert.deepEqual(
      calls.map((c) => c.fn),
      ['inbox', 'audit'],
    );
    assert.deepEqual(bus.queueStats()['Audit'], { visible: 0, inFlight: 0 });
  } finally {
    await bus.stop();
  }
});

test('drain() times out with the queue stats when messages keep failing', async () => {
  const { bus } = setup({
    inbox: async () => {
      throw new Error('always');
    },
  });
  await bus.putEvents([order(1)]);
  bus.start();
  try {
    await assert.rejects(bus.drain(30), /timed out after 30 ms.*"Inbox"/);
  } finally {
    await bus.stop();
  }
});

test('stop() waits for the in-flight batch', async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let finished = false;
  const wiring = makeWiring({ sqsFunctions: [fn('inbox', 'Inbox', { timeoutSeconds: 1000 })] });
  const { bus, calls } = setup(
    {
      inbox: async () => {
        await gate;
        finished = true;
      },
    },
    wiring,
  );
  await bus.putEvents([order(1)]);
  bus.start();
  await waitUntil(() => calls.length === 1, 'the handler to start');
  const stopped = bus.stop();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(finished, false);
  release();
  await stopped;
  assert.equal(finished, true);
  assert.deepEqual(bus.queueStats()['Inbox'], { visible: 0, inFlight: 0, dlq: 0 });
});

test('a handler that fails to load fails the batch; the message is retried', async () => {
  let loads = 0;
  const bus = new LocalEventBus(makeWiring(), {
    timeScale: TIME_SCALE,
    logger: captureLogger(),
    resolveHandler: async () => {
      loads += 1;
      if (loads === 1) throw new Error('SyntaxError in handler');
      return async () => undefined;
    },
  });
  await bus.putEvents([order(1)]);
  bus.start();
  try {
    await bus.drain(5_000);
  } finally {
    await bus.stop();
  }
  assert.equal(loads, 2);
});

test('scheduled functions run at their rate and on demand', async () => {
  const events: unknown[] = [];
  const wiring = makeWiring({
    sqsFunctions: [],
    scheduledFunctions: [{ name: 'tick', handler: { file: 'x.ts', exportName: 'handler' }, rateSeconds: 10, timeoutSeconds: 5 }],
  });
  const bus = new LocalEventBus(wiring, {
    timeScale: TIME_SCALE, // every 50 ms
    logger: captureLogger(),
    resolveHandler: async () => async (event: unknown) => {
      events.push(event);
      return 'ran';
    },
  });
  assert.equal(await bus.runScheduled('tick'), 'ran');
  const first = events[0] as EventBridgeEvent;
  assert.equal(first['detail-type'], 'Scheduled Event');
  assert.equal(first.source, 'aws.events');
  assert.deepEqual(first.detail, {});
  await assert.rejects(bus.runScheduled('nope'), /no scheduled function nope/);
  bus.start();
  try {
    await waitUntil(() => events.length >= 3, 'two scheduled runs');
  } finally {
    await bus.stop();
  }
  const count = events.length;
  await new Promise((resolve) => setTimeout(resolve, 120));
  assert.equal(events.length, count, 'no runs after stop()');
});

test('constructor rejects wiring that references unknown queues', () => {
  const wiring = makeWiring({ sqsFunctions: [fn('inbox', 'Missing')] });
  assert.throws(() => new LocalEventBus(wiring, { resolveHandler: async () => async () => undefined }), /unknown queue Missing/);
});

test('the real serverless.yml wiring routes fanout events to the destination inbox', async () => {
  const wiring = loadServerlessConfig({ stage: 'dev' });
  const batches: string[][] = [];
  const bus = new LocalEventBus(wiring, {
    timeScale: 0.001,
    logger: captureLogger(),
    runSchedules: false,
    resolveHandler: async (ref) => {
      // The other services' inboxes get some of these events too: they accept them and are not under test.
      if (ref.name !== 'destinationInbox') return async () => ({ batchItemFailures: [] });
      assert.deepEqual(ref.handler, { file: 'shared/runtimes/aws/destination.ts', exportName: 'inbox' });
      return async (event: SqsEvent) => {
        batches.push(event.Records.map((r) => JSON.parse(r.body) as EventBridgeEvent).map((e) => `${e.source} ${e['detail-type']}`));
        return { batchItemFailures: [] };
      };
    },
  });
  // Every event the destination inbox consumes (its routes in services/destination/src/handlers/inbox.ts),
  // by the names the catalogue gives them; and events it must not get.
  const consumed = [ChannelStateChangedV1, ChannelFailedV1, ChannelDeletedV1, ChannelReclaimedV1, OrphanResourcesCleanedUpV1, FlowOutputAddedV1, FlowOutputFailedV1, FlowOutputRemovedV1, FlowStateChangedV1];
  const entry = (d: EventDefinition, bus?: string) => ({ Source: d.source, DetailType: d.name, Detail: '{}', ...(bus ? { EventBusName: bus } : {}) });
  const res = [
    await bus.putEvents(consumed.map((d) => entry(d, 'fanout-dev'))),
    await bus.putEvents([
      entry(DestinationCreatedV1, 'fanout-dev'), // its own events: not back into its inbox
      entry(ChannelStateChangedV1), // default bus: no rule
    ]),
  ];
  assert.deepEqual(
    res.map((r) => r.FailedEntryCount),
    [0, 0],
  );
  assert.equal(bus.queueStats()['DestinationInboxQueue']?.visible, consumed.length);
  bus.start();
  try {
    await bus.drain(5_000);
  } finally {
    await bus.stop();
  }
  assert.deepEqual(batches.flat().sort(), consumed.map((d) => `${d.source} ${d.name}`).sort());
});

test('onTrace: each hop of an event in order (published → received → completed, failures named); nothing once unsubscribed', async () => {
  let fail = true;
  const { bus } = setup({
    inbox: async () => {
      if (fail) {
        fail = false;
        throw new Error('first try fails');
      }
    },
  });
  const traces: BusTrace[] = [];
  const off = bus.onTrace((t) => traces.push(t));
  bus.start();
  try {
    await bus.putEvents([order(1)]);
    await bus.drain(5_000);
    const published = traces.filter((t) => t.type === 'published');
    assert.equal(published.length, 1);
    const p = published[0] as Extract<BusTrace, { type: 'published' }>;
    assert.equal(p.detailType, 'OrderPlaced');
    assert.deepEqual(p.detail, { n: 1 });
    assert.deepEqual(
      p.messages.map((m) => m.queue),
      ['Inbox'],
    );
    const id = p.messages[0]!.messageId;
    const hops = traces.filter((t) => t.type !== 'published' && t.messageIds.includes(id)) as Exclude<BusTrace, { type: 'published' }>[];
    // First try: received, completed with the message failed; after the visibility timeout: received, completed.
    assert.deepEqual(
      hops.map((t) => t.type),
      ['received', 'completed', 'received', 'completed'],
    );
    assert.deepEqual((hops[1] as Extract<BusTrace, { type: 'completed' }>).failed, [id]);
    assert.deepEqual((hops[3] as Extract<BusTrace, { type: 'completed' }>).failed, []);
    for (const t of hops) assert.equal(t.function, 'inbox');
    const at = [p.at, ...hops.map((t) => t.at)];
    assert.deepEqual(
      at,
      [...at].sort((a, b) => a - b),
      'in time order',
    );
    const done = hops[3] as Extract<BusTrace, { type: 'completed' }>;
    assert.ok(done.startedAt >= hops[2]!.at && done.startedAt <= done.at);

    off();
    const before = traces.length;
    await bus.putEvents([order(2)]);
    await bus.drain(5_000);
    assert.equal(traces.length, before, 'no trace without a listener');
  } finally {
    await bus.stop();
  }
});
