import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CloudWatchAlarmStateChange, MediaConnectFlowStatusChange, MediaConnectSourceHealth, MediaLiveChannelAlert, MediaLiveChannelStateChange, channelIdFromArn } from './schemas.ts';

const sample = (name: string): unknown => JSON.parse(readFileSync(new URL(`./${name}.json`, import.meta.url), 'utf8'));

test('native samples parse with their schemas', () => {
  const state = MediaLiveChannelStateChange.parse(sample('medialive-channel-state-change'));
  assert.equal(state.detail.state, 'RUNNING');
  assert.equal(channelIdFromArn(state.detail.channel_arn), '1234567');
  assert.equal(MediaLiveChannelAlert.parse(sample('medialive-channel-alert')).detail.alarm_state, 'SET');
  assert.equal(MediaConnectFlowStatusChange.parse(sample('mediaconnect-flow-status-change')).detail.currentStatus, 'STARTING');
  assert.equal(MediaConnectSourceHealth.parse(sample('mediaconnect-source-health')).detail.current.source_state, 'CONNECTED');
  assert.equal(CloudWatchAlarmStateChange.parse(sample('cloudwatch-alarm-state-change')).detail.state.value, 'ALARM');
});

test('a state outside MediaLive ChannelState is rejected', () => {
  const bad = structuredClone(sample('medialive-channel-state-change')) as { detail: { state: string } };
  bad.detail.state = 'SLEEPING';
  assert.equal(MediaLiveChannelStateChange.safeParse(bad).success, false);
  assert.throws(() => channelIdFromArn('arn:aws:medialive:eu-west-1:1:input:9'));
});
