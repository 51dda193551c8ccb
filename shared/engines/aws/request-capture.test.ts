/** The capture is not vacuous: a bad request sent through a mocked client fails `expectAllValid`. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CreateChannelCommand, StartChannelCommand } from '@aws-sdk/client-medialive';
import { AwsFake } from './aws-fake.ts';
import { expectAllValid, modelsOrSkip, operationOf } from './request-capture.ts';

test('operation names come from the command class', () => {
  assert.equal(operationOf(new StartChannelCommand({ ChannelId: '1' })), 'StartChannel');
  assert.throws(() => operationOf({}), /cannot tell the operation/);
});

test('a request the service would reject for its shape fails expectAllValid, naming the member', async (t) => {
  const models = modelsOrSkip(t);
  if (!models) return;
  const fake = new AwsFake();
  try {
    await fake.medialive.send(new StartChannelCommand({ ChannelId: '1' })).catch(() => {});
    const plan = { Name: 'x', Destinations: [{ Id: 'yt', RtmpPushSettings: [{ NumRetries: 10 }] }] };
    await fake.medialive.send(new CreateChannelCommand(plan as never)).catch(() => {});
    const captured = fake.captured();
    assert.deepEqual(
      captured.map((c) => c.operation),
      ['StartChannel', 'CreateChannel'],
    );
    assert.throws(
      () => expectAllValid(captured, models),
      (e: Error) => /#1 medialive CreateChannel Destinations\[0\]\.RtmpPushSettings: unknown member 'RtmpPushSettings'/.test(e.message),
    );
    expectAllValid(captured.slice(0, 1), models);
    assert.throws(() => expectAllValid([], models), /no requests were captured/);
  } finally {
    fake.close();
  }
});
