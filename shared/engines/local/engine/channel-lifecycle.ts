/**
 * A local channel's lifecycle in MediaLive's states, and the engine's typed errors.
 *
 * The state is what the channel reports (observed); what the owner asked for is kept apart as
 * `desired` in the engine. A failing pusher does not change the state: like MediaLive, a channel
 * that cannot reach its destination stays STARTING or RUNNING and raises a "MediaLive Channel
 * Alert" (and `describeChannel().error`) until it recovers.
 */
import type { ChannelState } from '../../../../events/channel-provisioner/common.ts';
import { EngineError } from '../../port/errors.ts';

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

/**
 * Stable codes of the engine's own errors (what a caller did wrong, or asked too early), thrown as
 * the port's EngineError. What a channel's processes fail with is PROCESS_ERROR_CATALOG's
 * (process/stderr-classifier.ts), reported through alerts and `describeChannel().error`.
 */
export const LOCAL_ENGINE_ERRORS = {
  CHANNEL_NOT_FOUND: { summary: 'No such channel in the local engine', hint: 'Reconcile re-creates the channel of a destination that still wants one.', retryable: false },
  CHANNEL_NOT_IDLE: { summary: 'The channel is not IDLE (update and delete need IDLE)', hint: 'Stop the channel first, or wait for its state change.', retryable: false },
  OUTPUT_NOT_FOUND: { summary: "The channel's flow output does not exist", hint: 'flow-output adds it again on its next reconcile (every minute); the channel starts once it is there.', retryable: false },
  ILLEGAL_TRANSITION: { summary: 'A channel state change the lifecycle does not allow (an engine bug)', hint: 'This is a bug in the local engine; please report it with the message.', retryable: false },
  INVALID_CHANNEL_SPEC: { summary: 'The channel spec cannot be run (URL, encode, output)', hint: "Fix the destination's ingest URL or preset and save it again.", retryable: false },
  INVALID_ENGINE_OPTIONS: { summary: 'The local engine was configured wrong', hint: 'Fix the FANOUT_* settings the message names and restart Fanout.', retryable: false },
  ENGINE_CLOSED: { summary: 'The local engine is not running (not started yet, or shutting down)', hint: 'Fanout is starting or stopping; the next reconcile after a start repeats the step.', retryable: false },
} as const satisfies Record<string, { summary: string; hint: string; retryable: boolean }>;

export type MediaEngineErrorCode = keyof typeof LOCAL_ENGINE_ERRORS;

/** The local engine's EngineError (one of LOCAL_ENGINE_ERRORS). */
export class MediaEngineError extends EngineError {
  override name = 'MediaEngineError';
  declare readonly code: MediaEngineErrorCode;
  constructor(code: MediaEngineErrorCode, message: string, hint: string = LOCAL_ENGINE_ERRORS[code].hint) {
    super(code, message, hint, LOCAL_ENGINE_ERRORS[code].retryable);
  }
}

export function assertTransition(channelId: string, from: ChannelState, to: ChannelState): void {
  if (!isLegalTransition(from, to)) {
    throw new MediaEngineError('ILLEGAL_TRANSITION', `channel ${channelId}: illegal transition ${from} → ${to}`);
  }
}
