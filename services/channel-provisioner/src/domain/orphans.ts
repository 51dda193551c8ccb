/**
 * Orphans and disagreements, as pure rules: what the engine holds for this deployment
 * (`listOwnedResources`) against what the store says (destinations, channel records).
 *
 *   orphan channel  its destination is not in the store (DESTINATION_MISSING), or the destination
 *                   exists but neither its channel record nor the destination names this channel
 *                   (NOT_REFERENCED; a channel still CREATING is never called that: its record may
 *                   not be written yet)
 *   orphan output   its destination is not in the store (DESTINATION_MISSING)
 *   mismatch        the destination's status and what the engine has disagree (ADR 0016):
 *                   idle, running,      the engine has no channel (CHANNEL_MISSING) or one in another
 *                   starting, stopping  state than IDLE / RUNNING / STARTING / STOPPING (STATE_DIFFERS)
 *                   creating            a channel past CREATING (STATE_DIFFERS: its report was not
 *                                       heard); no channel and no output (OUTPUT_MISSING); an output
 *                                       the destination does not show (OUTPUT_NOT_RECORDED: the
 *                                       channel is made only once it does); an output it shows and
 *                                       no channel (CHANNEL_MISSING)
 *                   deleting            nothing left in the engine, and the destination still there
 *                                       (NOTHING_DOWNSTREAM: the last step of the teardown was missed)
 *                   A destination in `error` is the operator's to act on and is not reported; a
 *                   reclaimed channel (ADR 0008) is not missing.
 *
 * A disagreement lasts one event hop in the normal course of a saga (the engine acts first, the
 * destination hears of it next); one still there after a reconcile (every minute) is a stuck
 * destination, which the reconciles repair. Resources already DELETING are going away and are not
 * reported as orphans. Mismatches are repaired by the reconcile, not by the cleanup: the report
 * says so.
 */
import type { ChannelState } from '../../../../events/channel-provisioner/common.ts';
import type { ChannelDescription, OwnedResources } from '../../../../shared/engines/port/ports.ts';
import type { DestinationReadModel } from '../../../../shared/store/destination-reader.ts';

export interface ChannelRecordView {
  destinationId: string;
  channelId: string;
  reclaimed?: boolean;
  reclaimPending?: boolean;
}

export type OrphanReason = 'DESTINATION_MISSING' | 'NOT_REFERENCED';

export interface OrphanChannel {
  kind: 'channel';
  id: string;
  arn: string;
  destinationId: string | null;
  state: ChannelState;
  reason: OrphanReason;
}

export interface OrphanOutput {
  kind: 'output';
  id: string;
  destinationId: string | null;
  state: string | null;
  attachedChannelIds: string[];
  flowOutputArn: string | null;
  reason: OrphanReason;
}

export type Orphan = OrphanChannel | OrphanOutput;

export type MismatchReason = 'CHANNEL_MISSING' | 'STATE_DIFFERS' | 'OUTPUT_MISSING' | 'OUTPUT_NOT_RECORDED' | 'NOTHING_DOWNSTREAM';

export interface Mismatch {
  destinationId: string;
  storeStatus: string;
  desired: 'running' | 'stopped';
  channelId: string | null;
  engineState: ChannelState | null;
  expectedState: ChannelState;
  reason: MismatchReason;
}

export interface ValidationReport {
  orphans: Orphan[];
  mismatches: Mismatch[];
}

/** The channel state each status stands for. */
const EXPECTED: Partial<Record<string, ChannelState>> = { creating: 'CREATING', idle: 'IDLE', starting: 'STARTING', running: 'RUNNING', stopping: 'STOPPING', deleting: 'DELETING' };

export function findOrphans(engine: OwnedResources, destinations: DestinationReadModel[], records: ChannelRecordView[]): ValidationReport {
  const destById = new Map(destinations.map((d) => [d.destinationId, d]));
  const recByDest = new Map(records.map((r) => [r.destinationId, r]));
  const orphans: Orphan[] = [];
  const known = (destinationId: string | null | undefined) => (destinationId ? destById.get(destinationId) : undefined);

  for (const c of engine.channels) {
    if (c.state === 'DELETING' || c.state === 'DELETED') continue;
    const destinationId = c.destinationId || null;
    const dest = known(destinationId);
    let reason: OrphanReason | null = null;
    if (!dest) reason = 'DESTINATION_MISSING';
    else if (c.state !== 'CREATING' && recByDest.get(dest.destinationId)?.channelId !== c.channelId && dest.mediaLiveChannelId !== c.channelId) reason = 'NOT_REFERENCED';
    if (reason) orphans.push({ kind: 'channel', id: c.channelId, arn: c.arn, destinationId, state: c.state, reason });
  }
  for (const o of engine.outputs) {
    if (o.state === 'DELETING' || o.state === 'DELETED') continue;
    if (!known(o.destinationId)) orphans.push({ kind: 'output', id: o.outputArn, destinationId: o.destinationId, state: o.state, attachedChannelIds: o.attachedChannelIds, flowOutputArn: o.flowOutputArn, reason: 'DESTINATION_MISSING' });
  }

  const byChannelId = new Map<string, ChannelDescription>(engine.channels.map((c) => [c.channelId, c]));
  const outputOf = new Set(engine.outputs.map((o) => o.destinationId));
  const mismatches: Mismatch[] = [];
  for (const d of destinations) {
    const expectedState = EXPECTED[d.status];
    if (!expectedState) continue;
    const rec = recByDest.get(d.destinationId);
    if (rec?.reclaimed || rec?.reclaimPending || d.channelReclaimed) continue;
    const named = rec?.channelId ?? d.mediaLiveChannelId ?? null;
    // Without a name (a creation not recorded yet), the channel the engine made for this destination.
    const inEngine = named ? byChannelId.get(named) : engine.channels.find((c) => c.destinationId === d.destinationId);
    const channelId = inEngine?.channelId ?? named;
    const report = (reason: MismatchReason) => mismatches.push({ destinationId: d.destinationId, storeStatus: d.status, desired: d.desired, channelId, engineState: inEngine?.state ?? null, expectedState, reason });
    if (d.status === 'deleting') {
      if (!inEngine && !outputOf.has(d.destinationId)) report('NOTHING_DOWNSTREAM');
    } else if (inEngine) {
      if (inEngine.state !== expectedState) report('STATE_DIFFERS');
    } else if (d.status !== 'creating') report('CHANNEL_MISSING');
    else if (!outputOf.has(d.destinationId)) report('OUTPUT_MISSING');
    else report(d.mediaConnectOutputArn ? 'CHANNEL_MISSING' : 'OUTPUT_NOT_RECORDED');
  }
  return { orphans, mismatches };
}
