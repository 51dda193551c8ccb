/**
 * The engine contract against the in-memory reference engine and against the AWS engine on the
 * in-memory AWS; the AWS run also checks every request it sent against the official models.
 */
import { test } from 'node:test';
import { MemoryEngine } from '../memory/memory-engine.ts';
import type { NativeEngineEvent } from '../port/ports.ts';
import { AwsMediaEngine } from './aws-engine.ts';
import { AwsFake, FAST_TIMINGS } from './aws-fake.ts';
import { engineContract } from '../port/contract.ts';
import { expectAllValid, modelsOrSkip, type CapturedRequest } from './request-capture.ts';

engineContract('MemoryEngine', () => {
  const events: NativeEngineEvent[] = [];
  const engine = new MemoryEngine({ sink: (e) => events.push(e), transitionMs: 5 });
  return { engine, events, close: () => engine.close() };
});

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
