/**
 * The engine contract (shared/engines/port/contract.ts) on the AWS engine over the in-memory AWS;
 * it also checks every request the engine sent against the official models. (The memory and local
 * engines run it in their own folders.)
 */
import { test } from 'node:test';
import { AwsMediaEngine } from './aws-engine.ts';
import { AwsFake, FAST_TIMINGS } from './aws-fake.ts';
import { engineContract } from '../port/contract.ts';
import { expectAllValid, modelsOrSkip, type CapturedRequest } from './request-capture.ts';

/** Requests of every AWS contract test, validated once the suite has run. */
const sent: CapturedRequest[] = [];

engineContract('AwsMediaEngine + AwsFake', () => {
  const fake = new AwsFake({ timings: FAST_TIMINGS });
  const engine = new AwsMediaEngine(
    { flowArn: fake.flowArn, mediaLiveRoleArn: `arn:aws:iam::${fake.account}:role/MediaLiveAccessRole`, region: fake.region, tags: { app: 'fanout' }, deployment: 'contract' },
    { medialive: fake.medialive, mediaconnect: fake.mediaconnect },
  );
  return {
    engine,
    events: fake.events,
    close: () => {
      sent.push(...fake.captured());
      fake.close();
    },
  };
});

test('every request the AWS engine sent during the contract is valid against the official models', (t) => {
  const models = modelsOrSkip(t);
  if (models) expectAllValid(sent, models);
});
