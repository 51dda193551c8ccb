/**
 * A local channel's lifecycle in MediaLive's states, and the engine's typed errors.
 *
 * The state is what the channel reports (observed); what the owner asked for is kept apart as
 * `desired` in the engine. A failing pusher does not change the state: like MediaLive, a channel
 * that cannot reach its destination stays STARTING or RUNNING and raises a "MediaLive Channel
 * Alert" (and `describeChannel().error`) until it recovers.
 */
import type { ChannelState } from '../../../../events/channel-provisioner/common.ts';

/*
 * Every legal transition; `assertTransition` rejects any other.
 *
 *   CREATING → IDLE       createChannel (the local engine has nothing to provision)
 *   IDLE     → STARTING   startChannel
 *   IDLE     → UPDATING   updateChannel
 *   IDLE     → DELETING   deleteChannel
 *   UPDATING → IDLE       the new settings are in place
 *   STARTING → RUNNING    the pusher is really publishing (its output keeps growing)
 *   STARTING → STOPPING   stopChannel before it ever published
 *   RUNNING  → STOPPING   stopChannel
 *   STOPPING → IDLE       every process of the channel has exited
 *   DELETING → DELETED    the channel is forgotten
 */
export const CHANNEL_TRANSITIONS: Readonly<Partial<Record<ChannelState, readonly ChannelState[]>>> = Object.freeze({
  CREATING: ['IDLE'],
  IDLE: ['STARTING', 'UPDATING', 'DELETING'],
  UPDATING: ['IDLE'],
  STARTING: ['RUNNING', 'STOPPING'],
  RUNNING: ['STOPPING'],
  STOPPING: ['IDLE'],
  DELETING: ['DELETED'],
});

export function isLegalTransition(from: ChannelState, to: ChannelState): boolean {
  return CHANNEL_TRANSITIONS[from]?.includes(to) ?? false;
}

/** Stable codes of the engine's own errors (what a caller did wrong, or asked too early). */
export type MediaEngineErrorCode =
  | 'CHANNEL_NOT_FOUND'
  | 'CHANNEL_NOT_IDLE'
  | 'OUTPUT_NOT_FOUND'
  | 'ILLEGAL_TRANSITION'
  | 'INVALID_CHANNEL_SPEC'
  | 'INVALID_ENGINE_OPTIONS'
  | 'ENGINE_CLOSED';

export class MediaEngineError extends Error {
  constructor(
    readonly code: MediaEngineErrorCode,
    message: string,
    readonly hint: string = '',
  ) {
    super(message);
    this.name = 'MediaEngineError';
  }
}

export function assertTransition(channelId: string, from: ChannelState, to: ChannelState): void {
  if (!isLegalTransition(from, to)) {
    throw new MediaEngineError('ILLEGAL_TRANSITION', `channel ${channelId}: illegal transition ${from} → ${to}`, 'This is a bug in the local engine.');
  }
}
