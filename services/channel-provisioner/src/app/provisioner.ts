/**
 * channel-provisioner: one channel per destination, driven by events, resumable at every step.
 *
 *   FlowOutputAdded           → create the channel (CREATING → IDLE)
 *   DestinationStartRequested → start it when IDLE (else when it becomes IDLE)
 *   DestinationStopRequested  → stop it
 *   DestinationUpdated        → stop → update → start again if wanted (MediaLive updates only while IDLE)
 *   DestinationDeleteRequested→ stop → delete (channel and input) → ChannelDeleted
 *   native state change       → ChannelStateChanged, then the pending step for that state
 *   native alert              → ChannelStateChanged with the typed error (or cleared)
 *   reconcile                 → wanted state (destinations) vs records vs what the engine has,
 *                               and the idle reclaim: a stopped destination's channel idle for
 *                               longer than `reclaimAfterMs` is deleted (record kept, `reclaimed`),
 *                               ChannelReclaimed lets flow-output remove its output; the next start
 *                               re-adds the output and FlowOutputAdded re-creates the channel
 *                               (docs/adr/0008-idle-channel-reclaim.md)
 *
 * Every step reads the current records and the engine before acting, so a redelivered or
 * reordered event, a crash between steps or a Lambda timeout leaves nothing half-done that the
 * next event or reconcile would not finish.
 */
import { ChannelDeletedV1, ChannelFailedV1, ChannelReclaimedV1, ChannelStateChangedV1 } from '../../../../events/catalogue.ts';
import type { ChannelState } from '../../../../events/channel-provisioner/common.ts';
import type { LastError } from '../../../../events/envelope.ts';
import { AppError } from '../../../../shared/errors/index.ts';
import { buildEntry, type EventPublisher } from '../../../../shared/events/publisher.ts';
import type { Logger } from '../../../../shared/logging/logger.ts';
import type { ChannelEngine } from '../../../../shared/media-engine/ports.ts';
import type { SecretCipher } from '../../../../shared/secrets/cipher.ts';
import type { DestinationReader, DestinationReadModel } from '../../../../shared/store/destination-reader.ts';
import type { RecordStore } from '../../../../shared/store/record-store.ts';
import { channelSpec } from '../domain/channel-spec.ts';

export interface ChannelRecord {
  destinationId: string;
  channelId: string;
  arn: string;
  outputArn: string;
  presetId: string;
  state: ChannelState;
  error: LastError | null;
  observedAt: string;
  pendingUpdate: boolean;
  pendingDelete: boolean;
  /** Idle reclaim under way: the channel is being deleted, the destination stays (ADR 0008). */
  reclaimPending?: boolean;
  /** The channel (and, by flow-output, its input/output) was reclaimed; `channelId` names the deleted one. */
  reclaimed?: boolean;
  /** Whole minutes the channel had been idle when its reclaim began. */
  reclaimIdleMinutes?: number;
  createdAt: string;
  version: number;
}

export interface ProvisionerDeps {
  engine: () => ChannelEngine;
  channels: RecordStore<ChannelRecord>;
  destinations: DestinationReader;
  cipher: SecretCipher;
  publisher: EventPublisher;
  logger: Logger;
  /** Idle time after which a stopped destination's channel is reclaimed; 0 = never (FANOUT_IDLE_CHANNEL_RECLAIM_MINUTES). */
  reclaimAfterMs?: number;
  /** The clock the reclaim measures idle time with (tests inject one). */
  now?: () => number;
}

const ACTIVE: readonly ChannelState[] = ['STARTING', 'RUNNING', 'RECOVERING'];
const DELETABLE: readonly ChannelState[] = ['IDLE', 'CREATE_FAILED', 'UPDATE_FAILED'];

export class Provisioner {
  constructor(private readonly d: ProvisionerDeps) {}

  private async spec(dest: DestinationReadModel, outputArn: string) {
    const preset = await this.d.destinations.preset(dest.preset);
    if (!preset) throw new AppError('INTERNAL', `preset ${dest.preset} of destination ${dest.destinationId} does not exist`);
    const key = await this.d.cipher.decrypt(dest.streamKeyCiphertext, dest.destinationId);
    return channelSpec(dest, preset, key, outputArn);
  }

  private async save(rec: ChannelRecord, patch: Partial<ChannelRecord>): Promise<ChannelRecord> {
    const next = { ...rec, ...patch, version: rec.version + 1 };
    await this.d.channels.put(next);
    return next;
  }

  private async failed(destinationId: string, operation: 'create' | 'start' | 'stop' | 'update' | 'delete', err: unknown, correlationId: string): Promise<void> {
    if (err instanceof AppError && (err.code === 'ENGINE_UNAVAILABLE' || err.code === 'VERSION_CONFLICT')) throw err; // retried
    const message = (err instanceof Error ? err.message : String(err)).slice(0, 500);
    this.d.logger.error('channel operation failed', { destinationId, operation, error: message });
    await this.d.publisher.publish([
      buildEntry(ChannelFailedV1, { destinationId, operation, error: { code: `CHANNEL_${operation.toUpperCase()}_FAILED`, message, hint: 'Fanout will retry on the next reconcile; check the engine logs if it persists.' } }, { correlationId }),
    ]);
  }

  private async channelDeleted(destinationId: string, channelId: string | null, correlationId: string): Promise<void> {
    await this.d.publisher.publish([buildEntry(ChannelDeletedV1, { destinationId, channelId }, { correlationId })]);
  }

  /** FlowOutputAdded: create the destination's channel (idempotent). */
  async provision(destinationId: string, outputArn: string, correlationId: string): Promise<void> {
    const dest = await this.d.destinations.get(destinationId);
    if (!dest || dest.status === 'deleting') {
      // Removed before its channel existed: let flow-output take the output away.
      await this.channelDeleted(destinationId, null, correlationId);
      return;
    }
    const engine = this.d.engine();
    const existing = await this.d.channels.get(destinationId);
    if (existing && (await engine.describeChannel(existing.channelId))) return; // already made
    try {
      const { channelId, arn } = await engine.createChannel(await this.spec(dest, outputArn));
      const base = { channelId, arn, outputArn, presetId: dest.preset, state: 'CREATING' as const, error: null, pendingUpdate: false, pendingDelete: false, reclaimPending: false, reclaimed: false };
      if (existing) {
        await this.save(existing, existing.reclaimed ? { ...base, observedAt: new Date(0).toISOString() } : base);
        if (existing.reclaimed) this.d.logger.info('reclaimed channel re-created for a start', { destinationId, channelId, correlationId });
      }
      else await this.d.channels.put({ destinationId, ...base, observedAt: new Date(0).toISOString(), createdAt: new Date().toISOString(), version: 1 });
      // A channel found rather than made (an earlier attempt was cut short right after CreateChannel)
      // may have reported CREATING → IDLE while no record existed, and those native events were
      // dropped as untracked: observe its state now so the saga goes on without waiting for the
      // reconcile. Stamped to the second, like EventBridge's `time`, so a native event of the same
      // second is not taken for an older one.
      const now = await engine.describeChannel(channelId);
      if (now && now.state !== 'CREATING') await this.onState(channelId, now.state, new Date(Math.floor(Date.now() / 1000) * 1000).toISOString(), correlationId);
    } catch (err) {
      await this.failed(destinationId, 'create', err, correlationId);
    }
  }

  async start(destinationId: string, correlationId: string): Promise<void> {
    let rec = await this.d.channels.get(destinationId);
    if (!rec) return; // not created yet: it starts when it becomes IDLE
    // Reclaimed: flow-output re-adds the output on this same event, FlowOutputAdded re-creates the
    // channel, and it starts when it is IDLE.
    if (rec.reclaimed) return;
    const engine = this.d.engine();
    const desc = await engine.describeChannel(rec.channelId);
    if (rec.reclaimPending && desc?.state === 'IDLE') rec = await this.cancelReclaim(rec); // the delete did not go through yet
    if (desc?.state === 'IDLE' && !rec.reclaimPending) {
      try {
        await engine.startChannel(rec.channelId);
      } catch (err) {
        await this.failed(destinationId, 'start', err, correlationId);
      }
    }
  }

  async stop(destinationId: string, correlationId: string): Promise<void> {
    const rec = await this.d.channels.get(destinationId);
    if (!rec) return;
    const engine = this.d.engine();
    const desc = await engine.describeChannel(rec.channelId);
    if (desc && ACTIVE.includes(desc.state)) {
      try {
        await engine.stopChannel(rec.channelId);
      } catch (err) {
        await this.failed(destinationId, 'stop', err, correlationId);
      }
    }
  }

  /** DestinationUpdated: settings change only while IDLE, so a running channel is stopped first. */
  async update(destinationId: string, changed: string[], correlationId: string): Promise<void> {
    if (changed.every((c) => c === 'name')) return;
    let rec = await this.d.channels.get(destinationId);
    if (!rec) return; // created later from the current record
    if (rec.reclaimed) return; // re-created at the next start from the current record
    rec = await this.save(rec, { pendingUpdate: true });
    const desc = await this.d.engine().describeChannel(rec.channelId);
    if (!desc) return; // reconcile re-creates it with the new settings
    if (desc.state === 'IDLE') await this.applyUpdate(rec, correlationId);
    else if (ACTIVE.includes(desc.state)) await this.d.engine().stopChannel(rec.channelId);
  }

  private async applyUpdate(rec: ChannelRecord, correlationId: string): Promise<void> {
    const dest = await this.d.destinations.get(rec.destinationId);
    if (!dest) return;
    try {
      await this.d.engine().updateChannel(rec.channelId, await this.spec(dest, rec.outputArn));
      await this.save(rec, { pendingUpdate: false, presetId: dest.preset });
      if (dest.desired === 'running') await this.d.engine().startChannel(rec.channelId);
    } catch (err) {
      await this.failed(rec.destinationId, 'update', err, correlationId);
    }
  }

  /** DestinationDeleteRequested: stop, then delete; ChannelDeleted once it is gone. */
  async remove(destinationId: string, correlationId: string): Promise<void> {
    let rec = await this.d.channels.get(destinationId);
    if (!rec) {
      await this.channelDeleted(destinationId, null, correlationId);
      return;
    }
    if (!rec.pendingDelete) rec = await this.save(rec, { pendingDelete: true });
    const engine = this.d.engine();
    const desc = await engine.describeChannel(rec.channelId);
    try {
      if (!desc) await this.finishDelete(rec, correlationId);
      else if (DELETABLE.includes(desc.state)) await engine.deleteChannel(rec.channelId);
      else if (ACTIVE.includes(desc.state)) await engine.stopChannel(rec.channelId);
      // CREATING / STOPPING / DELETING: the next state change continues.
    } catch (err) {
      await this.failed(destinationId, 'delete', err, correlationId);
    }
  }

  private async finishDelete(rec: ChannelRecord, correlationId: string): Promise<void> {
    await this.d.channels.delete(rec.destinationId);
    await this.channelDeleted(rec.destinationId, rec.channelId, correlationId);
  }

  /** A native "MediaLive Channel State Change": record it, report it, continue the pending step. */
  async onState(channelId: string, state: ChannelState, observedAt: string, correlationId: string): Promise<void> {
    let rec = (await this.d.channels.queryIndex('channelId-index', 'channelId', channelId))[0];
    if (!rec) {
      this.d.logger.info('state change for a channel Fanout does not track; ignored', { channelId, state });
      return;
    }
    if (rec.reclaimed) return; // the deleted channel's late events: nothing left to do
    if (observedAt < rec.observedAt) return; // stale, reordered
    // A channel that is starting or running can be failing to push (an alert is set): keep it.
    const error = state === 'RUNNING' || state === 'STARTING' ? rec.error : null;
    rec = await this.save(rec, { state, observedAt, error });
    await this.d.publisher.publish([
      buildEntry(ChannelStateChangedV1, { destinationId: rec.destinationId, channelId, state, error, observedAt }, { correlationId }),
    ]);
    const engine = this.d.engine();
    if (state === 'DELETED') return rec.reclaimPending && !rec.pendingDelete ? this.finishReclaim(rec, correlationId) : this.finishDelete(rec, correlationId);
    if (state === 'IDLE') {
      if (rec.pendingDelete) return engine.deleteChannel(channelId);
      if (rec.reclaimPending) {
        const dest = await this.d.destinations.get(rec.destinationId);
        if (dest?.desired !== 'running') return engine.deleteChannel(channelId);
        rec = await this.cancelReclaim(rec);
      }
      if (rec.pendingUpdate) return this.applyUpdate(rec, correlationId);
      const dest = await this.d.destinations.get(rec.destinationId);
      if (dest?.desired === 'running' && dest.status !== 'deleting') await engine.startChannel(channelId);
      return;
    }
    if (state === 'RUNNING') {
      const dest = await this.d.destinations.get(rec.destinationId);
      if (!dest || dest.desired === 'stopped' || rec.pendingDelete || rec.pendingUpdate) await engine.stopChannel(channelId);
    }
  }

  // ---- idle reclaim (ADR 0008) ---------------------------------------------------------------

  /** Stopped, idle (in the store and the engine), nothing pending, and idle for at least `reclaimAfterMs`. */
  private reclaimable(rec: ChannelRecord, desired: string, status: string, engineState: ChannelState): boolean {
    const after = this.d.reclaimAfterMs ?? 0;
    if (after <= 0 || desired !== 'stopped' || status !== 'idle' || engineState !== 'IDLE' || rec.state !== 'IDLE') return false;
    if (rec.pendingDelete || rec.pendingUpdate || rec.reclaimPending || rec.reclaimed) return false;
    return this.now() - Date.parse(rec.observedAt) >= after;
  }

  private now(): number {
    return this.d.now?.() ?? Date.now();
  }

  /** Records the intent first, then deletes: a crash in between is finished by the next reconcile. */
  private async beginReclaim(rec: ChannelRecord): Promise<void> {
    const idleMinutes = Math.max(0, Math.floor((this.now() - Date.parse(rec.observedAt)) / 60_000));
    const next = await this.save(rec, { reclaimPending: true, reclaimIdleMinutes: idleMinutes });
    this.d.logger.info('reclaiming an idle channel (stopped destination, idle time reached)', { destinationId: rec.destinationId, channelId: rec.channelId, idleMinutes });
    await this.d.engine().deleteChannel(next.channelId);
  }

  /** A start arrived before the channel was gone: keep it. */
  private async cancelReclaim(rec: ChannelRecord): Promise<ChannelRecord> {
    this.d.logger.info('idle reclaim cancelled by a start', { destinationId: rec.destinationId, channelId: rec.channelId });
    return this.save(rec, { reclaimPending: false });
  }

  /**
   * The channel is DELETED: publish ChannelReclaimed (flow-output removes the output, the
   * destination shows `channelReclaimed`), then mark the record. Published before the write, so a
   * crash in between repeats the publication (consumers are idempotent), never loses it.
   */
  private async finishReclaim(rec: ChannelRecord, correlationId: string): Promise<void> {
    await this.d.publisher.publish([
      buildEntry(ChannelReclaimedV1, { destinationId: rec.destinationId, channelId: rec.channelId, idleMinutes: rec.reclaimIdleMinutes ?? 0 }, { correlationId }),
    ]);
    await this.save(rec, { reclaimPending: false, reclaimed: true, state: 'DELETED', error: null, pendingUpdate: false });
    this.d.logger.info('channel reclaimed; it is re-created at the next start', { destinationId: rec.destinationId, channelId: rec.channelId });
  }

  /** A native "MediaLive Channel Alert": the channel is (or stops being) in trouble. */
  async onAlert(channelId: string, set: boolean, error: LastError, correlationId: string): Promise<void> {
    let rec = (await this.d.channels.queryIndex('channelId-index', 'channelId', channelId))[0];
    if (!rec) return;
    const next = set ? error : null;
    if (JSON.stringify(next) === JSON.stringify(rec.error)) return;
    rec = await this.save(rec, { error: next });
    if (rec.state !== 'RUNNING' && rec.state !== 'STARTING') return;
    await this.d.publisher.publish([
      buildEntry(ChannelStateChangedV1, { destinationId: rec.destinationId, channelId, state: rec.state, error: next, observedAt: new Date().toISOString() }, { correlationId }),
    ]);
  }

  /**
   * Compares what is wanted (destinations), what is recorded (channels table) and what exists
   * (the engine), and acts on the difference: re-creates channels the engine lost (the local
   * engine after a restart), finishes interrupted deletes, starts and stops to match `desired`,
   * creates channels whose creation was interrupted, and removes channels nobody owns.
   */
  async reconcile(correlationId: string): Promise<{ created: number; started: number; stopped: number; deleted: number; reclaimed: number }> {
    const engine = this.d.engine();
    const counts = { created: 0, started: 0, stopped: 0, deleted: 0, reclaimed: 0 };
    const [records, destinations, inEngine] = await Promise.all([this.d.channels.list(), this.d.destinations.list(), engine.listChannels()]);
    const destById = new Map(destinations.map((d) => [d.destinationId, d]));
    for (const rec of records) {
      const dest = destById.get(rec.destinationId);
      const desc = inEngine.find((c) => c.channelId === rec.channelId);
      const deleting = rec.pendingDelete || !dest || dest.status === 'deleting';
      try {
        if (rec.reclaimed && !deleting) {
          // Normally FlowOutputAdded re-creates it; this repairs a lost event once the output is back.
          if (dest.desired === 'running' && dest.mediaConnectOutputArn) {
            await this.provision(dest.destinationId, dest.mediaConnectOutputArn, correlationId);
            counts.created++;
          }
          continue;
        }
        if (rec.reclaimPending && !deleting) {
          if (!desc) {
            await this.finishReclaim(rec, correlationId); // the DELETED event was missed or its handling cut short
            counts.reclaimed++;
            continue;
          }
          if (dest.desired !== 'running') {
            if (DELETABLE.includes(desc.state)) await engine.deleteChannel(rec.channelId);
            continue;
          }
          if (desc.state !== 'IDLE') continue; // DELETING: reclaimed after all, and the start re-creates it
          await this.cancelReclaim(rec);
          await engine.startChannel(rec.channelId);
          counts.started++;
          continue;
        }
        if (!desc) {
          if (deleting) {
            await this.finishDelete(rec, correlationId);
            counts.deleted++;
          } else {
            const { channelId, arn } = await engine.createChannel(await this.spec(dest, rec.outputArn));
            await this.save(rec, { channelId, arn, state: 'CREATING', error: null, pendingUpdate: false, observedAt: new Date(0).toISOString(), presetId: dest.preset });
            counts.created++;
          }
        } else if (deleting) {
          if (!rec.pendingDelete) await this.save(rec, { pendingDelete: true });
          if (DELETABLE.includes(desc.state)) await engine.deleteChannel(rec.channelId);
          else if (ACTIVE.includes(desc.state)) await engine.stopChannel(rec.channelId);
          counts.deleted++;
        } else if (dest.desired === 'running' && desc.state === 'IDLE') {
          if (rec.pendingUpdate) await this.applyUpdate(rec, correlationId);
          else await engine.startChannel(rec.channelId);
          counts.started++;
        } else if (dest.desired === 'stopped' && ACTIVE.includes(desc.state)) {
          await engine.stopChannel(rec.channelId);
          counts.stopped++;
        } else if (this.reclaimable(rec, dest.desired, dest.status, desc.state)) {
          await this.beginReclaim(rec);
          counts.reclaimed++;
        }
      } catch (err) {
        this.d.logger.warn('reconcile step failed; the next run retries', { destinationId: rec.destinationId, error: err instanceof Error ? err.message : String(err) });
      }
    }
    const recorded = new Set(records.map((r) => r.destinationId));
    for (const dest of destinations) {
      if (recorded.has(dest.destinationId)) continue;
      if (dest.status === 'deleting') {
        await this.channelDeleted(dest.destinationId, null, correlationId); // lets flow-output and destination finish
      } else if (dest.mediaConnectOutputArn) {
        await this.provision(dest.destinationId, dest.mediaConnectOutputArn, correlationId);
        counts.created++;
      }
    }
    const tracked = new Set(records.map((r) => r.channelId));
    for (const c of inEngine) {
      if (tracked.has(c.channelId)) continue;
      try {
        if (ACTIVE.includes(c.state)) await engine.stopChannel(c.channelId);
        else if (DELETABLE.includes(c.state)) await engine.deleteChannel(c.channelId);
        counts.deleted++;
      } catch (err) {
        this.d.logger.warn('could not remove an orphaned channel; the next run retries', { channelId: c.channelId, error: err instanceof Error ? err.message : String(err) });
      }
    }
    if (counts.created + counts.started + counts.stopped + counts.deleted + counts.reclaimed > 0) this.d.logger.info('channels reconciled', counts);
    return counts;
  }
}
