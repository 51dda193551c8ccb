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
 * next event or reconcile would not finish. Every event that announces a write of a channel record
 * (ChannelStateChanged, ChannelDeleted, ChannelReclaimed) is in that write (the record's outbox,
 * ADR 0016); ChannelFailed and a ChannelDeleted with no record to remove are reports. The
 * reconcile says again what a destination has not heard of.
 */
import { ChannelDeletedV1, ChannelFailedV1, ChannelReclaimedV1, ChannelStateChangedV1 } from '../../../../events/catalogue.ts';
import type { ChannelState } from '../../../../events/channel-provisioner/common.ts';
import type { LastError } from '../../../../events/envelope.ts';
import { AppError } from '../../../../shared/errors/index.ts';
import { buildEntry, type BusEntry, type EventPublisher } from '../../../../shared/events/publisher.ts';
import type { Logger } from '../../../../shared/logging/logger.ts';
import { ACTIVE_STATES, DELETABLE_STATES } from '../../../../shared/engines/port/channel-machine.ts';
import { isEngineError, isRetryable } from '../../../../shared/engines/port/errors.ts';
import type { ChannelEngine } from '../../../../shared/engines/port/ports.ts';
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

/** What a stop acts on, and what can be deleted: the port's MediaLive channel machine. */
const ACTIVE = ACTIVE_STATES;
const DELETABLE = DELETABLE_STATES;
/** States a channel stays in until asked to move: no further native event will report them. */
const SETTLED: readonly ChannelState[] = ['IDLE', 'RUNNING', 'CREATE_FAILED', 'UPDATE_FAILED'];
/** The channel operations whose failure a destination hears of (ChannelFailed.operation). */
export const CHANNEL_OPERATIONS = ['create', 'start', 'stop', 'update', 'delete'] as const;
export type ChannelOperation = (typeof CHANNEL_OPERATIONS)[number];

/** The code of a failed operation whose error is not the engine's (a missing preset, a bug): CHANNEL_CREATE_FAILED, ... */
export const channelFailureCode = (operation: ChannelOperation): string => `CHANNEL_${operation.toUpperCase()}_FAILED`;

/** What the destination shows for a failed channel operation: the engine's error unchanged, else CHANNEL_<OP>_FAILED. */
export function channelFailure(operation: ChannelOperation, err: unknown): LastError {
  if (isEngineError(err)) return err.toLastError();
  return {
    code: channelFailureCode(operation),
    message: (err instanceof Error ? err.message : String(err)).slice(0, 500),
    hint: 'Fanout will retry on the next reconcile; check the engine logs if it persists.',
  };
}

/** `observedAt` of a record whose channel has reported nothing yet. */
const NEVER_OBSERVED = new Date(0).toISOString();

/**
 * Observations the provisioner makes itself are stamped to the second, like EventBridge's `time`,
 * so a native event of the same second is not taken for an older one.
 */
function toTheSecond(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString();
}

export class Provisioner {
  constructor(private readonly d: ProvisionerDeps) {}

  private async spec(dest: DestinationReadModel, outputArn: string) {
    const preset = await this.d.destinations.preset(dest.preset);
    if (!preset) throw new AppError('INTERNAL', `preset ${dest.preset} of destination ${dest.destinationId} does not exist`);
    const key = await this.d.cipher.decrypt(dest.streamKeyCiphertext, dest.destinationId);
    return channelSpec(dest, preset, key, outputArn);
  }

  /** Writes the record changed by `patch`, with the events that change produced in the same write (the outbox). */
  private async save(rec: ChannelRecord, patch: Partial<ChannelRecord>, events: BusEntry[] = []): Promise<ChannelRecord> {
    const next = { ...rec, ...patch, version: rec.version + 1 };
    await this.d.channels.put(next, events);
    return next;
  }

  /**
   * A channel operation failed. A retryable engine error (or a store conflict) is thrown, so the
   * queue delivers the step again. Any other engine error reaches the destination's `lastError` as
   * the engine said it (code, message, hint: AWS's "raise this quota", the local engine's
   * classification); only a failure that is not the engine's gets CHANNEL_<OP>_FAILED.
   */
  private async failed(destinationId: string, operation: ChannelOperation, err: unknown, correlationId: string): Promise<void> {
    if (isRetryable(err) || (err instanceof AppError && (err.code === 'ENGINE_UNAVAILABLE' || err.code === 'VERSION_CONFLICT'))) throw err; // retried
    const error = channelFailure(operation, err);
    this.d.logger.error('channel operation failed', { destinationId, operation, code: error.code, error: error.message });
    // A report of the engine's refusal, with no write behind it: if it is lost, the reconcile tries
    // the operation again (and fails again, and says so).
    await this.d.publisher.publish([buildEntry(ChannelFailedV1, { destinationId, operation, error }, { correlationId })]);
  }

  /** "This destination has no channel (any more)", when there is no record to remove: a report, said again by the reconcile while the destination is deleting. */
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
    // A reclaimed channel is made again for a start only (a FlowOutputAdded said again by a
    // reconcile while the destination is stopped must not undo the reclaim).
    if (existing?.reclaimed && dest.desired !== 'running') return;
    try {
      const { channelId, arn } = await engine.createChannel(await this.spec(dest, outputArn));
      const base = { channelId, arn, outputArn, presetId: dest.preset, state: 'CREATING' as const, error: null, pendingUpdate: false, pendingDelete: false, reclaimPending: false, reclaimed: false };
      if (existing) {
        await this.save(existing, existing.reclaimed ? { ...base, observedAt: NEVER_OBSERVED } : base);
        if (existing.reclaimed) this.d.logger.info('reclaimed channel re-created for a start', { destinationId, channelId, correlationId });
      } else await this.d.channels.put({ destinationId, ...base, observedAt: NEVER_OBSERVED, createdAt: new Date().toISOString(), version: 1 });
      // A channel found rather than made (an earlier attempt was cut short right after CreateChannel)
      // may have reported CREATING → IDLE while no record existed, and those native events were
      // dropped as untracked: observe its state now so the saga goes on without waiting for the
      // reconcile.
      const now = await engine.describeChannel(channelId);
      if (now && now.state !== 'CREATING') await this.onState(channelId, now.state, toTheSecond(Date.now()), correlationId);
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

  /** The record goes, and ChannelDeleted with it (one write: a tombstone holding the event until it is out). */
  private async finishDelete(rec: ChannelRecord, correlationId: string): Promise<void> {
    await this.d.channels.remove(rec, [buildEntry(ChannelDeletedV1, { destinationId: rec.destinationId, channelId: rec.channelId }, { correlationId })]);
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
    rec = await this.save(rec, { state, observedAt, error }, [this.stateEvent(rec, { state, error, observedAt }, correlationId)]);
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
   * The channel is DELETED: mark the record, with ChannelReclaimed in the same write (flow-output
   * removes the output, the destination shows `channelReclaimed`).
   */
  private async finishReclaim(rec: ChannelRecord, correlationId: string): Promise<void> {
    await this.save(rec, { reclaimPending: false, reclaimed: true, state: 'DELETED', error: null, pendingUpdate: false }, [this.reclaimedEvent(rec, correlationId)]);
    this.d.logger.info('channel reclaimed; it is re-created at the next start', { destinationId: rec.destinationId, channelId: rec.channelId });
  }

  /** A native "MediaLive Channel Alert": the channel is (or stops being) in trouble. */
  async onAlert(channelId: string, set: boolean, error: LastError, correlationId: string): Promise<void> {
    let rec = (await this.d.channels.queryIndex('channelId-index', 'channelId', channelId))[0];
    if (!rec) return;
    const next = set ? error : null;
    if (JSON.stringify(next) === JSON.stringify(rec.error)) return;
    // Only a starting or running channel's destination shows the alert.
    const shown = rec.state === 'RUNNING' || rec.state === 'STARTING';
    await this.save(rec, { error: next }, shown ? [this.stateEvent(rec, { state: rec.state, error: next, observedAt: new Date().toISOString() }, correlationId)] : []);
  }

  private stateEvent(rec: ChannelRecord, o: { state: ChannelState; error: LastError | null; observedAt: string }, correlationId: string): BusEntry {
    return buildEntry(ChannelStateChangedV1, { destinationId: rec.destinationId, channelId: rec.channelId, ...o }, { correlationId });
  }

  private reclaimedEvent(rec: ChannelRecord, correlationId: string): BusEntry {
    return buildEntry(ChannelReclaimedV1, { destinationId: rec.destinationId, channelId: rec.channelId, idleMinutes: rec.reclaimIdleMinutes ?? 0 }, { correlationId });
  }

  /**
   * Compares what is wanted (destinations), what is recorded (channels table) and what exists
   * (the engine), and acts on the difference:
   *   - publishes what a crash left in a channel record's outbox (first: it is older than the rest);
   *   - records an engine state the record missed (a native event lost) as an observation;
   *   - says ChannelStateChanged / ChannelReclaimed again when the destination has not heard of the
   *     record's latest observation (the event was lost after its publication: the local runtime's
   *     queues die with the process, an AWS message can end in a dead-letter queue);
   *   - re-creates channels the engine lost (the local engine after a restart), finishes
   *     interrupted deletes, starts and stops to match `desired`, creates channels whose creation
   *     was interrupted, removes channels nobody owns, and reclaims idle ones.
   */
  async reconcile(correlationId: string): Promise<{ created: number; started: number; stopped: number; deleted: number; reclaimed: number; observed: number; announced: number; published: number }> {
    const published = await this.d.channels.sweepOutbox();
    const engine = this.d.engine();
    const counts = { created: 0, started: 0, stopped: 0, deleted: 0, reclaimed: 0, observed: 0, announced: 0, published };
    const [records, destinations, inEngine] = await Promise.all([this.d.channels.list(), this.d.destinations.list(), engine.listChannels()]);
    const destById = new Map(destinations.map((d) => [d.destinationId, d]));
    const inEngineById = new Map(inEngine.map((c) => [c.channelId, c]));
    const wants = (id: string): boolean => destById.get(id)?.desired === 'running';
    // Destinations that want to run first: after a restart of the local engine every channel is
    // created again, and the running ones should not wait behind a thousand stopped ones (ADR 0025).
    const ordered = [...records.filter((r) => wants(r.destinationId)), ...records.filter((r) => !wants(r.destinationId))];
    for (const rec of ordered) {
      const dest = destById.get(rec.destinationId);
      const desc = inEngineById.get(rec.channelId);
      const deleting = rec.pendingDelete || !dest || dest.status === 'deleting';
      try {
        if (rec.reclaimed && !deleting) {
          if (!dest.channelReclaimed && (!dest.mediaLiveChannelId || dest.mediaLiveChannelId === rec.channelId)) {
            // The destination never heard of the reclaim (nor, maybe, flow-output): say it again.
            await this.d.publisher.publish([this.reclaimedEvent(rec, correlationId)]);
            counts.announced++;
          }
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
        if (desc && desc.state !== rec.state && SETTLED.includes(desc.state) && (await this.catchUp(rec.channelId, correlationId))) {
          counts.observed++;
          continue;
        }
        if (desc && !deleting && this.unheard(rec, dest)) {
          await this.d.publisher.publish([this.stateEvent(rec, { state: rec.state, error: rec.error, observedAt: rec.observedAt }, correlationId)]);
          counts.announced++;
        }
        if (!desc) {
          if (deleting) {
            await this.finishDelete(rec, correlationId);
            counts.deleted++;
          } else {
            const { channelId, arn } = await engine.createChannel(await this.spec(dest, rec.outputArn));
            await this.save(rec, { channelId, arn, state: 'CREATING', error: null, pendingUpdate: false, observedAt: NEVER_OBSERVED, presetId: dest.preset });
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
    for (const dest of [...destinations.filter((d) => wants(d.destinationId)), ...destinations.filter((d) => !wants(d.destinationId))]) {
      if (recorded.has(dest.destinationId)) continue;
      try {
        if (dest.status === 'deleting') {
          await this.channelDeleted(dest.destinationId, null, correlationId); // lets flow-output and destination finish
        } else if (dest.mediaConnectOutputArn) {
          await this.provision(dest.destinationId, dest.mediaConnectOutputArn, correlationId);
          counts.created++;
        }
      } catch (err) {
        // A race with the event path (it provisioned the same destination meanwhile) or an engine error.
        this.d.logger.warn('reconcile step failed; the next run retries', { destinationId: dest.destinationId, error: err instanceof Error ? err.message : String(err) });
      }
    }
    // Read again: channels recorded meanwhile (by this run's provisioning too) are not orphans.
    const now = await this.d.channels.list();
    const tracked = new Set(now.map((r) => r.channelId));
    const withRecord = new Set(now.map((r) => r.destinationId));
    for (const c of inEngine) {
      if (tracked.has(c.channelId)) continue;
      // A destination that wants a channel and has no record yet: a provisioning under way (its
      // record follows the engine's channel) or cut short (the provisioning above finds and records it).
      const owner = destById.get(c.destinationId);
      if (owner && owner.status !== 'deleting' && !withRecord.has(owner.destinationId)) continue;
      try {
        if (ACTIVE.includes(c.state)) await engine.stopChannel(c.channelId);
        else if (DELETABLE.includes(c.state)) await engine.deleteChannel(c.channelId);
        counts.deleted++;
      } catch (err) {
        this.d.logger.warn('could not remove an orphaned channel; the next run retries', { channelId: c.channelId, error: err instanceof Error ? err.message : String(err) });
      }
    }
    if (Object.values(counts).some((n) => n > 0)) this.d.logger.info('channels reconciled', counts);
    return counts;
  }

  /**
   * The engine's channel has settled in another state than its record says: its native event was
   * lost (or is still queued behind others: then this observation comes first and the event is
   * dropped as older, or applied and followed by the later ones). Observes it now, as the event
   * would have, which also takes the step pending for that state. A channel still moving is left
   * alone: the event of the state it moves to will come. Both are read again first, so a change
   * handled meanwhile is not observed twice.
   */
  private async catchUp(channelId: string, correlationId: string): Promise<boolean> {
    const [desc, rec] = await Promise.all([this.d.engine().describeChannel(channelId), this.d.channels.queryIndex('channelId-index', 'channelId', channelId).then((r) => r[0])]);
    if (!desc || !rec || desc.state === rec.state) return false;
    this.d.logger.info('the channel record is behind the engine; its state is observed now', { destinationId: rec.destinationId, channelId, recorded: rec.state, engine: desc.state });
    await this.onState(channelId, desc.state, toTheSecond(Date.now()), correlationId);
    return true;
  }

  /**
   * The destination has not heard of the record's latest observation, and the observation is one
   * it should hear: not one the reconcile is about to change (an idle channel wanted running is
   * started, a running one wanted stopped is stopped: the states that follow carry the news).
   */
  private unheard(rec: ChannelRecord, dest: DestinationReadModel): boolean {
    if (rec.observedAt <= NEVER_OBSERVED) return false; // nothing observed yet: nothing to tell
    if (dest.mediaLiveChannelId === rec.channelId && (dest.lastObservedAt ?? '') >= rec.observedAt) return false;
    if (dest.desired === 'running' && rec.state === 'IDLE') return false;
    if (dest.desired === 'stopped' && ACTIVE.includes(rec.state)) return false;
    return true;
  }
}
