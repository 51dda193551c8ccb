/**
 * The validation's disagreements (ADR 0016), table-driven: each status against what the engine
 * has. Before, only `idle` and `running` were compared, so a destination stuck in `creating`
 * (its output made, never recorded) was reported as fine.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChannelState } from '../../../../events/channel-provisioner/common.ts';
import type { OwnedResources } from '../../../../shared/engines/port/ports.ts';
import type { DestinationReadModel } from '../../../../shared/store/destination-reader.ts';
import { findOrphans, type MismatchReason } from './orphans.ts';

const ID = '00000000-0000-4000-8000-00000000000a';

function dest(status: DestinationReadModel['status'], over: Partial<DestinationReadModel> = {}): DestinationReadModel {
  return {
    destinationId: ID,
    name: 'd',
    platform: 'youtube',
    rtmpUrl: 'rtmp://h/app',
    streamKeyCiphertext: 'x',
    preset: 'passthrough',
    status,
    desired: status === 'running' || status === 'starting' ? 'running' : 'stopped',
    mediaConnectOutputArn: null,
    ...over,
  };
}

function engine(channel: ChannelState | null, output: boolean): OwnedResources {
  return {
    channels: channel ? [{ channelId: '1234567', arn: 'arn:ch', destinationId: ID, state: channel, error: null }] : [],
    outputs: output ? [{ outputArn: 'arn:out', destinationId: ID, state: null, attachedChannelIds: [], flowOutputArn: null }] : [],
  };
}

const cases: [what: string, d: DestinationReadModel, channel: ChannelState | null, output: boolean, recorded: boolean, want: MismatchReason | null][] = [
  ['creating, nothing yet', dest('creating'), null, false, false, 'OUTPUT_MISSING'],
  ['creating, an output it does not show (FlowOutputAdded lost: the reported stuck case)', dest('creating'), null, true, false, 'OUTPUT_NOT_RECORDED'],
  ['creating, its output shown, no channel', dest('creating', { mediaConnectOutputArn: 'arn:out' }), null, true, false, 'CHANNEL_MISSING'],
  ['creating, channel CREATING', dest('creating', { mediaConnectOutputArn: 'arn:out' }), 'CREATING', true, true, null],
  ['creating, channel IDLE (its report not heard)', dest('creating', { mediaConnectOutputArn: 'arn:out' }), 'IDLE', true, true, 'STATE_DIFFERS'],
  ['idle, channel IDLE', dest('idle'), 'IDLE', true, true, null],
  ['idle, no channel', dest('idle'), null, true, true, 'CHANNEL_MISSING'],
  ['starting, channel STARTING', dest('starting'), 'STARTING', true, true, null],
  ['starting, channel IDLE (start lost)', dest('starting'), 'IDLE', true, true, 'STATE_DIFFERS'],
  ['starting, channel RUNNING (RUNNING not heard)', dest('starting'), 'RUNNING', true, true, 'STATE_DIFFERS'],
  ['starting, no channel', dest('starting'), null, true, true, 'CHANNEL_MISSING'],
  ['running, channel RUNNING', dest('running'), 'RUNNING', true, true, null],
  ['stopping, channel IDLE (IDLE not heard)', dest('stopping'), 'IDLE', true, true, 'STATE_DIFFERS'],
  ['deleting, channel still there (teardown under way)', dest('deleting'), 'IDLE', true, true, null],
  ['deleting, output still there', dest('deleting'), null, true, false, null],
  ['deleting, nothing left (the last step missed)', dest('deleting'), null, false, false, 'NOTHING_DOWNSTREAM'],
  ['error: the operator acts', dest('error'), null, false, false, null],
  ['reclaimed: not missing', dest('idle', { channelReclaimed: true }), null, false, true, null],
];

for (const [what, d, channel, output, recorded, want] of cases) {
  test(`${what}: ${want ?? 'agrees'}`, () => {
    const records = recorded ? [{ destinationId: ID, channelId: '1234567', ...(d.channelReclaimed ? { reclaimed: true } : {}) }] : [];
    const { mismatches, orphans } = findOrphans(engine(channel, output), [d], records);
    assert.deepEqual(orphans, [], 'none of these is an orphan');
    assert.deepEqual(
      mismatches.map((m) => m.reason),
      want ? [want] : [],
    );
    if (want) assert.equal(mismatches[0]!.engineState, channel);
  });
}
