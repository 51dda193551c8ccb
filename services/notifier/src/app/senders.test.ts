/**
 * The senders: SNS Publish requests checked against the official SNS model (the request-capture /
 * model-validator approach of the AWS engine), with the attributes subscribers filter on; SNS
 * errors as outcomes; network failures as codes.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { capturedFromMock, expectAllValid, modelsOrSkip } from '../../../../shared/engines/aws/request-capture.ts';
import { createLogger } from '../../../../shared/logging/logger.ts';
import type { Notification } from '../domain/alerting.ts';
import { findSecrets } from '../domain/mask.ts';
import { attempt, networkOutcome } from './senders.ts';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:fanout-prod-NotificationsTopic-1A2B3C';
const HOOK = 'https://hooks.slack.com/services/T000/B000/secretsecretsecret';

function notification(over: Partial<Notification> = {}): Notification {
  return {
    id: 'g@2026-11-20T10:00:00.000Z',
    groupKey: '[["scope","destination:d1"]]',
    groupLabels: { scope: 'destination:d1' },
    status: 'firing',
    reason: 'initial',
    severity: 'critical',
    firing: [
      {
        fingerprint: 'f1',
        status: 'firing',
        labels: { alertname: 'DestinationFailing', severity: 'critical', scope: 'destination:d1', destinationId: '6f1c0f43-3d5e-4a49-9d57-0d6f7b0c8e11', platform: 'youtube', stage: 'prod' },
        annotations: { summary: 'YouTube main is failing', description: `refused by ${HOOK}`, hint: 'Check the ingest URL.', errorCode: 'RTMP_CONNECTION_REFUSED', destinationName: 'YouTube main' },
        startsAt: '2026-11-20T09:59:00.000Z',
        endsAt: null,
      },
    ],
    resolved: [],
    at: '2026-11-20T10:00:00.000Z',
    ...over,
  };
}

test('SNS: Publish to the topic, valid against the official model, with the filterable attributes and no secret', async (t) => {
  const models = modelsOrSkip(t);
  if (!models) return;
  const sns = mockClient(SNSClient);
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  const client = new SNSClient({ region: 'eu-west-1' });
  const outcome = await attempt(
    { fetch, sns: client, snsTopicArn: TOPIC, log: createLogger('test') },
    { kind: 'sns', channelName: 'ops SNS', deliveryId: 'd-1', notifications: [notification()], render: { stage: 'prod', secrets: [HOOK] }, now: new Date('2026-11-20T10:00:01Z') },
  );
  assert.deepEqual(outcome, { kind: 'ok', status: null });
  const captured = capturedFromMock(sns, 'sns');
  expectAllValid(captured, models);
  const input = captured[0]!.input as { TopicArn: string; Subject: string; Message: string; MessageAttributes: Record<string, { DataType: string; StringValue: string }> };
  assert.equal(input.TopicArn, TOPIC);
  assert.deepEqual(Object.fromEntries(Object.entries(input.MessageAttributes).map(([k, v]) => [k, v.StringValue])), {
    severity: 'critical',
    eventType: 'DestinationFailing',
    status: 'firing',
    stage: 'prod',
    destinationId: '6f1c0f43-3d5e-4a49-9d57-0d6f7b0c8e11',
    platform: 'youtube',
  });
  assert.deepEqual(findSecrets(input, [HOOK]), []);
  // A burst of two alert types: eventType is a String.Array, still valid.
  sns.resetHistory();
  const two = notification({ firing: [...notification().firing, { ...notification().firing[0]!, fingerprint: 'f2', labels: { ...notification().firing[0]!.labels, alertname: 'MediaLiveChannelAlert', severity: 'warning' } }] });
  await attempt({ fetch, sns: client, snsTopicArn: TOPIC, log: createLogger('test') }, { kind: 'sns', channelName: 'ops SNS', deliveryId: 'd-2', notifications: [two], render: { stage: 'prod', secrets: [] }, now: new Date() });
  const burst = capturedFromMock(sns, 'sns');
  expectAllValid(burst, models);
  assert.equal((burst[0]!.input as { MessageAttributes: Record<string, { DataType: string }> }).MessageAttributes.eventType!.DataType, 'String.Array');
  sns.restore();
});

test('SNS: an error answer is an HTTP outcome; no topic is SNS_UNAVAILABLE', async () => {
  const sns = mockClient(SNSClient);
  sns.on(PublishCommand).rejects(Object.assign(new Error('throttled'), { name: 'ThrottledException', $metadata: { httpStatusCode: 429 } }));
  const client = new SNSClient({ region: 'eu-west-1' });
  const base = { kind: 'sns' as const, channelName: 'x', deliveryId: 'd', notifications: [notification()], render: { stage: 'prod', secrets: [] }, now: new Date() };
  assert.deepEqual(await attempt({ fetch, sns: client, snsTopicArn: TOPIC, log: createLogger('test') }, base), { kind: 'http', status: 429, retryAfterMs: null, detail: 'ThrottledException' });
  assert.equal(((await attempt({ fetch, snsTopicArn: null, log: createLogger('test') }, base)) as { code: string }).code, 'SNS_UNAVAILABLE');
  sns.restore();
});

test('network failures are outcomes with the system code', async () => {
  const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
  assert.deepEqual(networkOutcome(refused), { kind: 'network', code: 'ECONNREFUSED', message: 'the receiver could not be reached' });
  assert.equal((networkOutcome(Object.assign(new Error('t'), { name: 'TimeoutError' })) as { code: string }).code, 'TIMEOUT');
  // A real refused connection on loopback: a port that was just free.
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  const out = await attempt(
    { fetch, snsTopicArn: null, log: createLogger('test') },
    { kind: 'slack', channelName: 'x', deliveryId: 'd', notifications: [notification()], url: `http://127.0.0.1:${port}/hook`, render: { stage: 'p', secrets: [] }, now: new Date() },
  );
  assert.deepEqual(out, { kind: 'network', code: 'ECONNREFUSED', message: 'the receiver could not be reached' });
});
