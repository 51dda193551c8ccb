/**
 * Orphans and disagreements, as pure rules: what the engine holds for this deployment
 * (`listOwnedResources`) against what the store says (destinations, channel records).
 *
 *   orphan channel  its destination is not in the store (DESTINATION_MISSING), or the destination
 *                   exists but neither its channel record nor the destination names this channel
 *                   (NOT_REFERENCED; a channel still CREATING is never called that: its record may
 *                   not be written yet)
 *   orphan output   its destination is not in the store (DESTINATION_MISSING)
 *   mismatch        a destination the store calls `idle` or `running` whose channel the engine does
 *                   not have (CHANNEL_MISSING) or has in another state than IDLE / RUNNING
 *                   (STATE_DIFFERS). Moving statuses (creating, starting, stopping, error, deleting)
 *                   are in flight and never reported; a reclaimed channel (ADR 0008) is not missing.
 *
 * Resources already DELETING are going away and are not reported. Mismatches are repaired by the
 * reconcile, not by the cleanup: the report says so.
 */
import type { ChannelState } from '../../../../events/channel-provisioner/common.ts';
import type { ChannelDescription, OwnedResources } from '../../../../shared/media-engine/ports.ts';
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

export interface Mismatch {
  destinationId: string;
  storeStatus: string;
  desired: 'running' | 'stopped';
  channelId: string | null;
  engineState: ChannelState | null;
  expectedState: ChannelState;
  reason: 'CHANNEL_MISSING' | 'STATE_DIFFERS';
}

export interface ValidationReport {
  orphans: Orphan[];
  mismatches: Mismatch[];
}

const EXPECTED: Partial<Record<string, ChannelState>> = { idle: 'IDLE', running: 'RUNNING' };

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
    if (!known(o.destinationId))
      orphans.push({ kind: 'output', id: o.outputArn, destinationId: o.destinationId, state: o.state, attachedChannelIds: o.attachedChannelIds, flowOutputArn: o.flowOutputArn, reason: 'DESTINATION_MISSING' });
  }

  const byChannelId = new Map<string, ChannelDescription>(engine.channels.map((c) => [c.channelId, c]));
  const mismatches: Mismatch[] = [];
  for (const d of destinations) {
    const expectedState = EXPECTED[d.status];
    if (!expectedState) continue;
    const rec = recByDest.get(d.destinationId);
    if (rec?.reclaimed || rec?.reclaimPending || d.channelReclaimed) continue;
    const channelId = rec?.channelId ?? d.mediaLiveChannelId ?? null;
    const inEngine = channelId ? byChannelId.get(channelId) : undefined;
    if (!inEngine) mismatches.push({ destinationId: d.destinationId, storeStatus: d.status, desired: d.desired, channelId, engineState: null, expectedState, reason: 'CHANNEL_MISSING' });
    else if (inEngine.state !== expectedState)
      mismatches.push({ destinationId: d.destinationId, storeStatus: d.status, desired: d.desired, channelId, engineState: inEngine.state, expectedState, reason: 'STATE_DIFFERS' });
  }
  return { orphans, mismatches };
}
