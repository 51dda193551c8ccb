/**
 * The human message a "MediaLive Channel State Change" event carries for each state. Shared by
 * every engine that emits native-shaped events (the local engine, the AWS fake, the memory engine).
 */
import type { ChannelState } from '../../../events/channel-provisioner/common.ts';

export const CHANNEL_STATE_MESSAGES: Readonly<Record<ChannelState, string>> = {
  CREATING: 'Channel is being created',
  CREATE_FAILED: 'Channel creation failed',
  IDLE: 'Channel is idle',
  STARTING: 'Channel is starting',
  RUNNING: 'Channel is running',
  RECOVERING: 'Channel is recovering',
  STOPPING: 'Channel is stopping',
  DELETING: 'Channel is being deleted',
  DELETED: 'Channel has been deleted',
  UPDATING: 'Channel is being updated',
  UPDATE_FAILED: 'Channel update failed',
};
