/**
 * The fake's state machines (AWS-FACTS §4.2) driven straight through the SDK clients, on fake
 * timers: the rules the engine tests rely on are checked here once.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test, type TestContext } from 'node:test';
import {
  CreateChannelCommand,
  CreateInputCommand,
  DeleteChannelCommand,
  DeleteInputCommand,
  DescribeChannelCommand,
  DescribeInputCommand,
  DescribeInputSecurityGroupCommand,
  StartChannelCommand,
  StopChannelCommand,
  UpdateChannelCommand,
  type CreateChannelCommandInput,
} from '@aws-sdk/client-medialive';
import { DescribeFlowCommand, StartFlowCommand, StopFlowCommand } from '@aws-sdk/client-mediaconnect';
import { MediaLiveChannelStateChange } from '../../../events/native/schemas.ts';
import { AWS_TIMINGS, AwsFake } from './aws-fake.ts';
import { FACTS_CREATE_CHANNEL } from './fixtures/facts-examples.ts';

const ROLE = 'arn:aws:iam::111122223333:role/MediaLiveAccessRole';

let fake: AwsFake;

async function input(): Promise<string> {
  const res = await fake.medialive.send(new CreateInputCommand({ Name: 'in', Type: 'MEDIACONNECT', MediaConnectFlows: [{ FlowArn: fake.flowArn }], RoleArn: ROLE }));
  return res.Input!.Id!;
}

/** The §1.4 example pointed at `inputId`. */
function channelRequest(inputId: string, requestId?: string): CreateChannelCommandInput {
  const { RequestId: _r, ...req } = structuredClone(FACTS_CREATE_CHANNEL);
  req.InputAttachments[0]!.InputId = inputId;
  return { ...(req as CreateChannelCommandInput), ...(requestId ? { RequestId: requestId } : {}) };
}

const state = async (id: string) => (await fake.medialive.send(new DescribeChannelCommand({ ChannelId: id }))).State;
const rejects = (p: Promise<unknown>, name: string) => assert.rejects(p, (e: Error) => e.name === name);

describe('AwsFake state machines', () => {
  beforeEach((t) => {
    (t as TestContext).mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse('2026-11-21T10:00:00Z') });
    fake = new AwsFake();
  });
  afterEach(() => fake.close());

  test('input CREATING → DETACHED, ATTACHED to one channel, deletable only when detached', async (t) => {
    const id = await input();
    assert.equal(fake.input(id)!.State, 'CREATING');
    t.mock.timers.tick(AWS_TIMINGS.inputCreateMs);
    assert.equal(fake.input(id)!.State, 'DETACHED');
    assert.equal(fake.flowOutputs().filter((o) => o.MediaLiveInputArn?.endsWith(`:input:${id}`)).length, 1, 'the input added its managed output to the flow');
    const ch = (await fake.medialive.send(new CreateChannelCommand(channelRequest(id)))).Channel!.Id!;
    assert.equal(fake.input(id)!.State, 'ATTACHED');
    await rejects(fake.medialive.send(new DeleteInputCommand({ InputId: id })), 'ConflictException');
    const second = fake.medialive.send(new CreateChannelCommand(channelRequest(id)));
    await assert.rejects(second, (e: Error & { ValidationErrors?: { ElementPath: string }[] }) => e.name === 'UnprocessableEntityException' && e.ValidationErrors![0]!.ElementPath === '/inputAttachments/0/inputId');
    t.mock.timers.tick(AWS_TIMINGS.channelCreateMs);
    await fake.medialive.send(new DeleteChannelCommand({ ChannelId: ch }));
    t.mock.timers.tick(AWS_TIMINGS.channelDeleteMs);
    assert.equal(await state(ch), 'DELETED');
    assert.equal(fake.input(id)!.State, 'DETACHED');
    await fake.medialive.send(new DeleteInputCommand({ InputId: id }));
    t.mock.timers.tick(AWS_TIMINGS.inputDeleteMs);
    assert.equal((await fake.medialive.send(new DescribeInputCommand({ InputId: id }))).State, 'DELETED');
    assert.equal(fake.flowOutputs().filter((o) => o.MediaLiveInputArn?.endsWith(`:input:${id}`)).length, 0, 'the managed output went with the input');
  });

  test('channel: start only from IDLE (409 while CREATING), minutes to RUNNING, update/delete only while IDLE', async (t) => {
    const id = await input();
    t.mock.timers.tick(AWS_TIMINGS.inputCreateMs);
    const ch = (await fake.medialive.send(new CreateChannelCommand(channelRequest(id)))).Channel!.Id!;
    await rejects(fake.medialive.send(new StartChannelCommand({ ChannelId: ch })), 'ConflictException');
    t.mock.timers.tick(AWS_TIMINGS.channelCreateMs);
    assert.equal(await state(ch), 'IDLE');
    await fake.medialive.send(new StartChannelCommand({ ChannelId: ch }));
    t.mock.timers.tick(2 * 60_000);
    assert.equal(await state(ch), 'STARTING', 'still starting after two minutes');
    await rejects(fake.medialive.send(new UpdateChannelCommand({ ChannelId: ch, Name: 'x' })), 'ConflictException');
    t.mock.timers.tick(AWS_TIMINGS.channelStartMs - 2 * 60_000);
    assert.equal(await state(ch), 'RUNNING');
    await rejects(fake.medialive.send(new StartChannelCommand({ ChannelId: ch })), 'ConflictException');
    await rejects(fake.medialive.send(new DeleteChannelCommand({ ChannelId: ch })), 'ConflictException');
    await fake.medialive.send(new StopChannelCommand({ ChannelId: ch }));
    await rejects(fake.medialive.send(new StopChannelCommand({ ChannelId: ch })), 'ConflictException');
    t.mock.timers.tick(AWS_TIMINGS.channelStopMs);
    assert.equal(await state(ch), 'IDLE');
    await fake.medialive.send(new UpdateChannelCommand({ ChannelId: ch, Name: 'renamed' }));
    await fake.medialive.send(new DeleteChannelCommand({ ChannelId: ch }));
    t.mock.timers.tick(AWS_TIMINGS.channelDeleteMs);
    const states = fake.events.map((e) => e.detail.state);
    assert.deepEqual(states, ['CREATING', 'IDLE', 'STARTING', 'RUNNING', 'STOPPING', 'IDLE', 'DELETING', 'DELETED']);
    for (const e of fake.events) {
      MediaLiveChannelStateChange.parse({ version: '0', id: 'x', 'detail-type': e.detailType, source: e.source, account: fake.account, time: new Date().toISOString(), region: fake.region, resources: e.resources, detail: e.detail });
    }
  });

  test('service-side 422: an audio selector nobody defines (a mistake of several public examples)', async (t) => {
    const id = await input();
    t.mock.timers.tick(AWS_TIMINGS.inputCreateMs);
    const req = channelRequest(id);
    req.EncoderSettings!.AudioDescriptions![0]!.AudioSelectorName = 'Default';
    await assert.rejects(
      fake.medialive.send(new CreateChannelCommand(req)),
      (e: Error & { ValidationErrors?: { ElementPath: string }[] }) => e.name === 'UnprocessableEntityException' && e.ValidationErrors![0]!.ElementPath.endsWith('audioSelectorName'),
    );
  });

  test('a RequestId seen before answers with the same resource', async (t) => {
    const id = await input();
    t.mock.timers.tick(AWS_TIMINGS.inputCreateMs);
    const a = await fake.medialive.send(new CreateChannelCommand(channelRequest(id, 'same-token')));
    const b = await fake.medialive.send(new CreateChannelCommand(channelRequest(id, 'same-token')));
    assert.equal(a.Channel!.Id, b.Channel!.Id);
    assert.equal(fake.live().channels.length, 1);
  });

  test('flow: STANDBY → STARTING → ACTIVE → STOPPING → STANDBY with native events', async (t) => {
    await fake.mediaconnect.send(new StartFlowCommand({ FlowArn: fake.flowArn }));
    await assert.rejects(fake.mediaconnect.send(new StartFlowCommand({ FlowArn: fake.flowArn })), (e: Error) => e.name === 'BadRequestException');
    t.mock.timers.tick(AWS_TIMINGS.flowStartMs);
    assert.equal((await fake.mediaconnect.send(new DescribeFlowCommand({ FlowArn: fake.flowArn }))).Flow!.Status, 'ACTIVE');
    await fake.mediaconnect.send(new StopFlowCommand({ FlowArn: fake.flowArn }));
    t.mock.timers.tick(AWS_TIMINGS.flowStopMs);
    assert.deepEqual(
      fake.events.map((e) => e.detail.currentStatus),
      ['STARTING', 'ACTIVE', 'STOPPING', 'STANDBY'],
    );
  });

  test('a command the fake does not implement fails loudly', async () => {
    await assert.rejects(fake.medialive.send(new DescribeInputSecurityGroupCommand({ InputSecurityGroupId: '1' })), /not implemented by the fake/);
  });
});
