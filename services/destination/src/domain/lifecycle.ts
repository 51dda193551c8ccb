/**
 * The destination lifecycle: one transition table for the observed `status`, and the rules that
 * turn operator commands (start, stop, delete, update) into a wanted state (`desired`) plus, where
 * the engine has work to do, a status move and an event.
 *
 * Legal moves of `status` (every other move is rejected):
 *
 *   creating → idle       channel created (engine reports IDLE)
 *   creating → error      flow output or channel creation failed
 *   creating → deleting   removed before it was ready
 *   idle     → starting   start requested
 *   idle     → deleting   removed
 *   idle     → error      engine reported a failure while idle
 *   starting → running    engine reports RUNNING and media is being pushed
 *   starting → stopping   stop requested while starting
 *   starting → idle       start aborted (engine fell back to IDLE)
 *   starting → error      start failed
 *   starting → deleting
 *   running  → stopping   stop requested
 *   running  → idle       channel stopped outside Fanout
 *   running  → error      push failing (retrying with backoff) or channel failed
 *   running  → deleting
 *   stopping → idle       engine reports IDLE
 *   stopping → starting   engine reports STARTING again (start requested while stopping)
 *   stopping → error
 *   stopping → deleting
 *   error    → creating | idle | starting | running | stopping | deleting   (recovery, retry, removal)
 *   deleting → error      teardown failed; delete may be requested again
 *
 * A destination in `deleting` leaves the table when its last resource is gone: the record is
 * removed after `DestinationDeleted` is published.
 *
 * An observation (what the engine reports) may also skip statuses of a start it did not hear of:
 * the engine went through them, but their reports were lost and are made up for by a reconcile, or
 * are still queued behind a later one (ADR 0016). So an observed move is legal when the table
 * leads from one status to the other through `idle` and `starting` only: creating → running
 * (the channel became idle and started, as a destination started while creating does), idle →
 * running, running → starting (stopped and started again: an update), stopping → running.
 * Commands never skip.
 */
import type { DesiredState, DestinationStatus } from '../../../../events/destination/common.ts';
import { AppError } from '../../../../shared/errors/index.ts';

export type { DesiredState, DestinationStatus } from '../../../../events/destination/common.ts';

export const TRANSITIONS: Readonly<Record<DestinationStatus, readonly DestinationStatus[]>> = {
  creating: ['idle', 'error', 'deleting'],
  idle: ['starting', 'deleting', 'error'],
  starting: ['running', 'stopping', 'idle', 'error', 'deleting'],
  running: ['stopping', 'idle', 'error', 'deleting'],
  stopping: ['idle', 'starting', 'error', 'deleting'],
  error: ['creating', 'idle', 'starting', 'running', 'stopping', 'deleting'],
  deleting: ['error'],
};

export function canTransition(from: DestinationStatus, to: DestinationStatus): boolean {
  return from === to || TRANSITIONS[from].includes(to);
}

export type Command = 'start' | 'stop' | 'delete' | 'update';

/** What a command does to a destination: the new wanted state, the new status, and whether the engine must act. */
export interface CommandOutcome {
  desired: DesiredState;
  status: DestinationStatus;
  /** False when the command changes nothing (start while running): answered 202, no event. */
  changed: boolean;
}

/**
 * Applies an operator command to the current status. Throws ILLEGAL_TRANSITION (409) for the
 * moves the lifecycle forbids, with the current status in the problem document.
 */
export function applyCommand(command: Command, status: DestinationStatus, desired: DesiredState): CommandOutcome {
  const illegal = (): never => {
    throw new AppError('ILLEGAL_TRANSITION', `Cannot ${command} a destination that is ${status}.`, {
      currentStatus: status,
      command,
    });
  };
  if (status === 'deleting') return illegal();
  switch (command) {
    case 'start':
      if (status === 'starting' || status === 'running') return { desired: 'running', status, changed: desired !== 'running' };
      // While the channel is still being created or is stopping, only the wanted state changes:
      // the provisioner starts it as soon as it is idle.
      if (status === 'creating' || status === 'stopping') return { desired: 'running', status, changed: desired !== 'running' };
      return { desired: 'running', status: 'starting', changed: true };
    case 'stop':
      if (status === 'idle' || status === 'stopping') return { desired: 'stopped', status, changed: desired !== 'stopped' };
      if (status === 'creating') return { desired: 'stopped', status, changed: desired !== 'stopped' };
      return { desired: 'stopped', status: 'stopping', changed: true };
    case 'delete':
      return { desired: 'stopped', status: 'deleting', changed: true };
    case 'update':
      return { desired, status, changed: true };
  }
}

/** The statuses an observation may pass through unheard: the steps of a start. */
const UNHEARD_STEPS: readonly DestinationStatus[] = ['idle', 'starting'];

/**
 * Guards an observed move: a legal move, or one through statuses a start passes unheard (see the
 * header). Returns false (and the caller logs and drops the event) when neither.
 */
export function isLegalObservedMove(from: DestinationStatus, to: DestinationStatus): boolean {
  if (canTransition(from, to)) return true;
  const seen = new Set<DestinationStatus>([from]);
  let frontier: DestinationStatus[] = [from];
  while (frontier.length > 0) {
    const next: DestinationStatus[] = [];
    for (const s of frontier) {
      for (const t of TRANSITIONS[s]) {
        if (t === to) return true;
        if (UNHEARD_STEPS.includes(t) && !seen.has(t)) {
          seen.add(t);
          next.push(t);
        }
      }
    }
    frontier = next;
  }
  return false;
}
