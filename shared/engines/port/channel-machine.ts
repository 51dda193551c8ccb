/**
 * The MediaLive channel state machine (AWS-FACTS §4.2), written once. What MediaLive accepts in
 * which state, where each call moves a channel and where each passing state settles on its own:
 * the in-memory AWS (aws/aws-fake.ts) answers MediaLive's API with it, the memory engine
 * (memory/memory-engine.ts) is an engine over it, and the AWS engine (aws/aws-engine.ts) reads it
 * to say CHANNEL_NOT_IDLE before MediaLive would answer 409. The local engine keeps its own
 * lifecycle table (local/engine/channel-lifecycle.ts: the transitions its processes make, with a
 * passing UPDATING), which a test checks against this one.
 *
 *   create                                          → CREATING ⇒ IDLE
 *   start   IDLE                                    → STARTING ⇒ RUNNING        (no-op: STARTING, RUNNING)
 *   stop    STARTING | RUNNING | RECOVERING         → STOPPING ⇒ IDLE           (no-op: IDLE, STOPPING)
 *   update  IDLE | UPDATE_FAILED                    → IDLE (settings replaced)
 *   delete  IDLE | CREATE_FAILED | UPDATE_FAILED    → DELETING ⇒ DELETED        (no-op: DELETING)
 *   any other state                                 → 409 ConflictException (the port: CHANNEL_NOT_IDLE)
 *
 * `→` is the call's own move, `⇒` what MediaLive finishes while nobody watches (SETTLES_TO).
 * `accepts` is MediaLive's; `noop` is the port's (ports.ts: start, stop and delete are idempotent,
 * so an engine answers them without calling MediaLive in those states).
 */
import type { ChannelState } from '../../../events/channel-provisioner/common.ts';

export type ChannelOperation = 'start' | 'stop' | 'update' | 'delete';

export interface ChannelOperationRule {
  /** The states in which MediaLive accepts the call (else 409 ConflictException). */
  accepts: readonly ChannelState[];
  /** Where the call moves the channel at once. */
  enters: ChannelState;
  /** The states in which an engine treats the call as already done (the port's idempotency). */
  noop: readonly ChannelState[];
}

export const CHANNEL_OPERATIONS: Readonly<Record<ChannelOperation, ChannelOperationRule>> = Object.freeze({
  start: { accepts: ['IDLE'], enters: 'STARTING', noop: ['STARTING', 'RUNNING'] },
  stop: { accepts: ['STARTING', 'RUNNING', 'RECOVERING'], enters: 'STOPPING', noop: ['IDLE', 'STOPPING'] },
  update: { accepts: ['IDLE', 'UPDATE_FAILED'], enters: 'IDLE', noop: [] },
  delete: { accepts: ['IDLE', 'CREATE_FAILED', 'UPDATE_FAILED'], enters: 'DELETING', noop: ['DELETING'] },
});

/** Where each passing state goes on its own (after the service's own delay). */
export const SETTLES_TO: Readonly<Partial<Record<ChannelState, ChannelState>>> = Object.freeze({
  CREATING: 'IDLE',
  STARTING: 'RUNNING',
  STOPPING: 'IDLE',
  DELETING: 'DELETED',
});

/** Whether MediaLive accepts `op` on a channel in `state`. */
export function accepts(op: ChannelOperation, state: ChannelState): boolean {
  return CHANNEL_OPERATIONS[op].accepts.includes(state);
}

/** Whether `op` on a channel in `state` is already done (an engine answers without acting). */
export function isNoop(op: ChannelOperation, state: ChannelState): boolean {
  return CHANNEL_OPERATIONS[op].noop.includes(state);
}

/** States in which a channel is (or is getting) on air: what a stop acts on. */
export const ACTIVE_STATES: readonly ChannelState[] = CHANNEL_OPERATIONS.stop.accepts;
/** States in which a channel can be deleted. */
export const DELETABLE_STATES: readonly ChannelState[] = CHANNEL_OPERATIONS.delete.accepts;
