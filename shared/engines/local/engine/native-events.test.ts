import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MediaConnectFlowStatusChange, MediaConnectSourceHealth, MediaLiveChannelAlert, MediaLiveChannelStateChange, channelIdFromArn } from '../../../../events/native/schemas.ts';
import type { NativeEngineEvent } from '../../port/ports.ts';
import { classifyStderrText, PROCESS_ERROR_CATALOG } from '../process/stderr-classifier.ts';
import { ALERT_TYPES, alarmId, alertTypeFor, channelAlert, channelArn, channelStateChange, destinationIdOfOutputArn, flowStatusChange, outputArn, sourceHealth } from './native-events.ts';

const envelope = (e: NativeEngineEvent) => ({
  version: '0',
  id: 'x',
  'detail-type': e.detailType,
  source: e.source,
  account: '000000000000',
  time: '2026-01-01T00:00:00Z',
  region: 'local',
  resources: e.resources,
  detail: e.detail,
});

test('every builder produces what the native schemas accept', () => {
  const error = { code: 'RTMP_CONNECTION_REFUSED', message: 'refused', hint: 'check the port' };
  MediaLiveChannelStateChange.parse(envelope(channelStateChange('1234567', 'RUNNING')));
  MediaLiveChannelAlert.parse(envelope(channelAlert('1234567', { state: 'SET', alarmId: 'a', alertType: 'RTMP Connection Failed', message: 'm', error })));
  MediaLiveChannelAlert.parse(envelope(channelAlert('1234567', { state: 'CLEARED', alarmId: 'a', alertType: 'RTMP Connection Failed', message: 'm', error: null })));
  MediaConnectFlowStatusChange.parse(envelope(flowStatusChange('ACTIVE', 'STARTING')));
  MediaConnectSourceHealth.parse(envelope(sourceHealth('DISCONNECTED', 'CONNECTED')));
  const state = channelStateChange('1234567', 'RUNNING');
  assert.equal(state.detail['pipelines_running_count'], 1);
  assert.equal(channelStateChange('1234567', 'IDLE').detail['pipelines_running_count'], 0);
  assert.equal(channelIdFromArn(String(state.detail['channel_arn'])), '1234567');
});

test('ARNs: channel, and output ARNs that give back their destination', () => {
  assert.equal(channelArn('7654321'), 'arn:aws:medialive:local:000000000000:channel:7654321');
  const arn = outputArn('3f2c0c1e-0000-4000-8000-000000000001');
  assert.equal(arn, 'arn:aws:mediaconnect:local:000000000000:output:1-local-3f2c0c1e-0000-4000-8000-000000000001:dest-3f2c0c1e-0000-4000-8000-000000000001');
  assert.equal(destinationIdOfOutputArn(arn), '3f2c0c1e-0000-4000-8000-000000000001');
  assert.equal(destinationIdOfOutputArn('arn:aws:mediaconnect:eu-west-1:1:output:x:y'), null);
});

test('every classified error has an alert type; alarm ids are stable per episode', () => {
  assert.deepEqual(Object.keys(ALERT_TYPES).sort(), Object.keys(PROCESS_ERROR_CATALOG).sort());
  assert.equal(alertTypeFor('SOMETHING_NEW'), 'Process Failed');
  assert.equal(alarmId('1', 'RTMP Connection Failed', 1), alarmId('1', 'RTMP Connection Failed', 1));
  assert.notEqual(alarmId('1', 'RTMP Connection Failed', 1), alarmId('1', 'RTMP Connection Failed', 2));
});

test('joining a live feed without a keyframe in the probe is retryable, not an encoder error', () => {
  const text = readFileSync(fileURLToPath(new URL('./fixtures/ffmpeg-probe-without-keyframe.stderr.txt', import.meta.url)), 'utf8');
  const e = classifyStderrText(text, { exitCode: 1 });
  assert.equal(e.code, 'INPUT_STALLED');
  assert.equal(e.retryable, true);
  assert.match(e.message, /No keyframe arrived while FFmpeg probed its input/);
});

test('a pusher killed by a signal is not explained by a metadata line', () => {
  const e = classifyStderrText("Input #0, mpegts, from 'udp://127.0.0.1:5000':\n  Program 1 \n    Metadata:\n      service_provider: FFmpeg\nPress [q] to stop, [?] for help\n", { signal: 'SIGKILL' });
  assert.equal(e.code, 'UNKNOWN');
  assert.equal(e.message, 'the process was killed by SIGKILL');
});
