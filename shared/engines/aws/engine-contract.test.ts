/**
 * The engine contract (shared/engines/port/contract.ts) on the AWS engine over the in-memory AWS,
 * input redundancy (section 7) included: the fake's flow has the stack's two SRT sources with
 * source failover, the subject connects an encoder by starting the flow (a standby flow has no
 * source to deliver) and connecting the fake's source. It also checks every request the engine
 * sent against the official models. (The memory and local engines run it in their own folders.)
 */
import { test } from 'node:test';
import { AwsMediaEngine } from './aws-engine.ts';
import { AwsFake, FAST_TIMINGS } from './aws-fake.ts';
import { engineContract } from '../port/contract.ts';
import { waitFor } from '../local/process/fixtures/wait-for.ts';
import { expectAllValid, modelsOrSkip, type CapturedRequest } from './request-capture.ts';

/** Requests of every AWS contract test, validated once the suite has run. */
const sent: CapturedRequest[] = [];

engineContract('AwsMediaEngine + AwsFake', () => {
  const fake = new AwsFake({ timings: FAST_TIMINGS });
  const engine = new AwsMediaEngine(
    { flowArn: fake.flowArn, mediaLiveRoleArn: `arn:aws:iam::${fake.account}:role/MediaLiveAccessRole`, region: fake.region, tags: { app: 'fanout' }, deployment: 'contract' },
    // The engine's own switch events join what the in-memory AWS emits.
    { medialive: fake.medialive, mediaconnect: fake.mediaconnect, sink: (e) => fake.events.push(e) },
  );
  const flowActive = async () => {
    await engine.startFlow();
    await waitFor('flow ACTIVE', async () => (await engine.describeFlow()).state === 'ACTIVE', { timeoutMs: 5_000 });
  };
  return {
    engine,
    events: fake.events,
    close: () => {
      sent.push(...fake.captured());
      fake.close();
    },
    redundancy: {
      engine,
      connect: async (input) => {
        await flowActive();
        fake.connectSource(input);
      },
      lose: async (input) => fake.loseSource(input),
    },
  };
});

test('every request the AWS engine sent during the contract is valid against the official models', (t) => {
  const models = modelsOrSkip(t);
  if (models) expectAllValid(sent, models);
});
