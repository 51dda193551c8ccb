/**
 * flow-output: owns the contribution flow and one output per destination.
 *
 *   DestinationCreated     → add the destination's output            → FlowOutputAdded
 *   ChannelDeleted         → remove it (the channel no longer reads)  → FlowOutputRemoved
 *   ChannelReclaimed       → remove it, keep the record as `reclaimed` (idle reclaim, ADR 0008)
 *   StartRequested (reclaimed) → add it again                        → FlowOutputAdded
 *   Start/StopRequested    → flow ACTIVE when anything needs the feed, STANDBY when nothing does
 *   native flow events     → FlowStateChanged (with the primary channel's state)
 *   reconcile (start-up, schedule) → the engine's outputs and flow state match the records, the
 *                            primary channel runs, FlowStateChanged (a once-a-minute heartbeat),
 *                            and FlowOutputAdded again for an output its destination does not show
 *
 * Crash safety (ADR 0016): an output record and the FlowOutputAdded / FlowOutputRemoved it
 * announces are one write (the record's outbox); the reconcile sweeps what a crash left first.
 * FlowOutputFailed and FlowStateChanged report the engine and follow no write.
 *
 * The always-on primary (FANOUT_PRIMARY_HLS, `primaryAlwaysOn`): flow-output owns it because it
 * already owns "the flow is ACTIVE whenever the primary needs it". Where the engine runs the
 * primary as a channel of its own (AWS: the stack's PrimaryChannel, FANOUT_PRIMARY_CHANNEL_ID),
 * flow-output starts it whenever the flow is ACTIVE and the channel IDLE: when the flow reports
 * ACTIVE and at every reconcile. It never stops it (turning the primary off is an operator's
 * decision, docs/deploy-aws.md). Where the primary follows the flow (local engine), there is
 * nothing to start and the reported `primary` is null.
 *
 * The records (table FlowOutputsTable) are the memory: the local engine loses its outputs when the
 * process stops, and reconcile re-creates them (output ARNs are derived from the destination id,
 * so channels keep pointing at the right output).
 */
import type { z } from 'zod';
import { FlowOutputAddedV1, FlowOutputFailedV1, FlowOutputRemovedV1, FlowStateChangedV1, InputSwitchedV1 } from '../../../../events/catalogue.ts';
import type { MediaConnectSourceFailoverSwitch } from '../../../../events/native/schemas.ts';
import type { EventPublisher } from '../../../../shared/events/publisher.ts';
import { buildEntry } from '../../../../shared/events/publisher.ts';
import type { Logger } from '../../../../shared/logging/logger.ts';
import type { FlowDescription, FlowEngine } from '../../../../shared/engines/port/ports.ts';
import type { EventData, LastError } from '../../../../events/envelope.ts';
import type { DestinationReader } from '../../../../shared/store/destination-reader.ts';
import type { RecordStore } from '../../../../shared/store/record-store.ts';
import { AppError } from '../../../../shared/errors/index.ts';
import { isEngineError, isRetryable } from '../../../../shared/engines/port/errors.ts';

/** The code of an output that could not be added, when the engine's error does not say more. */
export const FLOW_OUTPUT_FAILED = 'FLOW_OUTPUT_FAILED';

/** What the destination shows when its output could not be added: the engine's error unchanged, else FLOW_OUTPUT_FAILED. */
export function outputFailure(err: unknown): LastError {
  if (isEngineError(err)) return err.toLastError();
  return {
    code: FLOW_OUTPUT_FAILED,
    message: (err instanceof Error ? err.message : String(err)).slice(0, 500),
    hint: 'The output could not be added to the flow; check the engine logs (on AWS: the 50-outputs-per-flow limit).',
  };
}

export interface OutputRecord {
  destinationId: string;
  outputArn: string;
  /** Removed by an idle reclaim (ADR 0008): added again at the destination's next start. */
  reclaimed?: boolean;
  createdAt: string;
  version: number;
}

export interface FlowOutputServiceParts {
  engine: () => FlowEngine;
  outputs: RecordStore<OutputRecord>;
  destinations: DestinationReader;
  publisher: EventPublisher;
  logger: Logger;
  /** The always-on primary HLS output needs the flow whenever Fanout runs. */
  primaryAlwaysOn: boolean;
}

export class FlowOutputService {
  constructor(private readonly d: FlowOutputServiceParts) {}

  async addOutput(destinationId: string, correlationId: string): Promise<void> {
    const destination = await this.d.destinations.get(destinationId);
    if (!destination || destination.status === 'deleting') {
      this.d.logger.info('not adding an output for a destination that is gone or being deleted', { destinationId });
      return;
    }
    const engine = this.d.engine();
    let outputArn: string;
    try {
      ({ outputArn } = await engine.addOutput(destinationId));
    } catch (err) {
      if (isRetryable(err) || (err instanceof AppError && err.code === 'ENGINE_UNAVAILABLE')) throw err; // retried by SQS
      // A report with no write behind it: if it is lost, the reconcile tries the add again.
      await this.d.publisher.publish([buildEntry(FlowOutputFailedV1, { destinationId, operation: 'add', error: outputFailure(err) }, { correlationId })]);
      return;
    }
    await this.ensureFlowState(correlationId);
    const flowArn = (await engine.describeFlow()).flowArn;
    const added = buildEntry(FlowOutputAddedV1, { destinationId, flowArn, outputArn }, { correlationId });
    // FlowOutputAdded travels in the write that records the output (the outbox, ADR 0016): a crash
    // between the two cannot leave a recorded output its destination and channel never hear of.
    const existing = await this.d.outputs.get(destinationId);
    if (!existing) await this.d.outputs.put({ destinationId, outputArn, createdAt: new Date().toISOString(), version: 1 }, [added]);
    else if (existing.outputArn !== outputArn || existing.reclaimed) await this.d.outputs.put({ ...existing, outputArn, reclaimed: false, version: existing.version + 1 }, [added]);
    // Already recorded as it is (a redelivery): nothing to write, the event is said again. If it is
    // lost, the reconcile says it again while the destination does not show this output.
    else await this.d.publisher.publish([added]);
  }

  async removeOutput(destinationId: string, correlationId: string): Promise<void> {
    const engine = this.d.engine();
    const record = await this.d.outputs.get(destinationId);
    const flowArn = (await engine.describeFlow()).flowArn;
    const removed = buildEntry(FlowOutputRemovedV1, { destinationId, flowArn, outputArn: record?.outputArn ?? null }, { correlationId });
    if (record) {
      await engine.removeOutput(record.outputArn);
      await this.d.outputs.remove(record, [removed]); // the removal and its event in one write
    } else {
      // Nothing recorded (a redelivery, or the channel-provisioner's reconcile repeating ChannelDeleted): say it again.
      await this.d.publisher.publish([removed]);
    }
    await this.ensureFlowState(correlationId);
  }

  /**
   * ChannelReclaimed: the destination's channel was deleted after its idle time. Its output goes
   * too (on AWS the input, and the managed flow output that keeps sending to a stopped channel);
   * the record stays, marked, so reconcile does not add it back. The mark is written before the
   * removal, so a crash in between is finished by reconcile. If the destination was started
   * meanwhile, the output is kept (added again, idempotent) and FlowOutputAdded re-creates the channel.
   */
  async reclaimOutput(destinationId: string, correlationId: string): Promise<void> {
    const dest = await this.d.destinations.get(destinationId);
    if (!dest || dest.status === 'deleting') return; // the delete saga owns it
    if (dest.desired === 'running') return this.addOutput(destinationId, correlationId);
    const record = await this.d.outputs.get(destinationId);
    if (!record) return;
    if (!record.reclaimed) await this.d.outputs.put({ ...record, reclaimed: true, version: record.version + 1 });
    await this.d.engine().removeOutput(record.outputArn);
    this.d.logger.info('output of an idle destination removed (reclaim)', { destinationId, correlationId });
  }

  /** DestinationStartRequested: the flow state, and the output again if an idle reclaim removed it. */
  async onStartRequested(destinationId: string, correlationId: string): Promise<void> {
    const record = await this.d.outputs.get(destinationId);
    if (record?.reclaimed) await this.addOutput(destinationId, correlationId);
    else await this.ensureFlowState(correlationId);
  }

  /** ACTIVE when the primary output or any destination wants the feed; STANDBY otherwise. */
  async ensureFlowState(correlationId: string): Promise<void> {
    const engine = this.d.engine();
    const wanted = this.d.primaryAlwaysOn || (await this.d.destinations.list()).some((d) => d.desired === 'running');
    const flow = await engine.describeFlow();
    if (wanted && (flow.state === 'STANDBY' || flow.state === 'ERROR')) await engine.startFlow();
    if (!wanted && (flow.state === 'ACTIVE' || flow.state === 'STARTING')) await engine.stopFlow();
    void correlationId;
  }

  /**
   * The primary channel's state, after starting it when it should run and does not: the primary
   * output is on, the flow is ACTIVE (the channel reads from it) and the channel is IDLE. Null
   * where the engine has no primary channel. A failure is reported in `error`, never thrown: the
   * primary must not hold up the destinations' outputs.
   */
  async ensurePrimary(flow: FlowDescription): Promise<EventData<typeof FlowStateChangedV1>['primary']> {
    const engine = this.d.engine();
    if (!engine.describePrimary) return null;
    let channelId: string | null = null;
    try {
      let primary = await engine.describePrimary();
      channelId = primary.channelId;
      if (this.d.primaryAlwaysOn && flow.state === 'ACTIVE' && primary.state === 'IDLE' && engine.startPrimary) {
        await engine.startPrimary();
        primary = await engine.describePrimary();
        this.d.logger.info('primary channel started (always-on primary output)', { channelId, state: primary.state });
      }
      return { channelId, state: primary.state, error: null };
    } catch (err) {
      // The engine's error as it said it; anything else as ENGINE_UNAVAILABLE (or its registry code).
      const error = isEngineError(err)
        ? err.toLastError()
        : {
            code: err instanceof AppError ? err.code : 'ENGINE_UNAVAILABLE',
            message: (err instanceof Error ? err.message : String(err)).slice(0, 500),
            hint: 'The primary output is retried at the next reconcile (every minute); see the engine logs.',
          };
      this.d.logger.warn('primary channel could not be read or started', { channelId, code: error.code, message: error.message });
      return { channelId, state: null, error };
    }
  }

  /**
   * Publishes InputSwitched from the engine's native switch event (ADR 0024). The consumer is
   * idempotent per native event id; the correlation id is derived from it, so a redelivery that got
   * past the idempotency store still carries the same correlation.
   */
  async reportInputSwitch(e: z.infer<typeof MediaConnectSourceFailoverSwitch>, correlationId: string): Promise<void> {
    const d = e.detail;
    await this.d.publisher.publish([
      buildEntry(
        InputSwitchedV1,
        {
          flowArn: e.resources[0] ?? '',
          from: d.previous_source,
          to: d.current_source,
          reason: d.reason,
          switchedAt: d.switched_at,
          mode: d.failover_mode,
          slateStopsAt: d.slate_stops_at ?? null,
        },
        { correlationId },
      ),
    ]);
    this.d.logger.info('input switched', { from: d.previous_source, to: d.current_source, reason: d.reason });
  }

  /** Reports the flow's state as a domain event (from a native MediaConnect event or a reconcile). */
  async reportFlowState(correlationId: string): Promise<void> {
    const flow = await this.d.engine().describeFlow();
    const primary = await this.ensurePrimary(flow);
    await this.d.publisher.publish([
      buildEntry(
        FlowStateChangedV1,
        {
          flowArn: flow.flowArn,
          state: flow.state,
          sourceConnected: flow.source.connected,
          sourceAddress: flow.source.sourceAddress,
          connectedSince: flow.source.connectedSince,
          outputs: flow.outputs.length,
          primary,
        },
        { correlationId },
      ),
    ]);
  }

  /**
   * Makes the engine match the records and the destinations hear what the records say:
   *   - publishes what a crash left in an output record's outbox (first: it is older than the rest);
   *   - re-creates outputs the engine lost (local engine after a restart), finishes reclaims cut short;
   *   - says FlowOutputAdded again for a recorded output its destination does not show (the event was
   *     lost after its publication: the local runtime's queues die with the process, an AWS message
   *     can end in a dead-letter queue), without which the destination stays `creating` for good;
   *   - adds outputs for destinations that have none (a DestinationCreated never handled), removes
   *     records and outputs no destination explains, and sets the flow state.
   */
  async reconcile(correlationId: string): Promise<{ added: number; removed: number; announced: number; published: number }> {
    const published = await this.d.outputs.sweepOutbox();
    const engine = this.d.engine();
    // Read in the opposite order of addOutput's writes (it reads the destination, adds the engine
    // output, then writes the record): whatever the engine or a record holds belongs to a
    // destination the later read still finds unless it was deleted, so "no destination" below is
    // never "a destination too new to have been seen".
    const flow = await engine.describeFlow();
    const records = await this.d.outputs.list();
    const destinations = await this.d.destinations.list();
    const inEngine = new Map(flow.outputs.map((o) => [o.outputArn, o]));
    const destById = new Map(destinations.map((d) => [d.destinationId, d]));
    let added = 0;
    let removed = 0;
    let announced = 0;
    // Destinations that want to run first: after a restart of the local engine every output is
    // added again, and those the running channels wait for should not queue behind the rest (ADR 0025).
    for (const r of wantedFirst(records, destById)) {
      const dest = destById.get(r.destinationId);
      try {
        if (!dest) {
          // Its destination is gone: nothing may outlive it.
          if (inEngine.has(r.outputArn)) await engine.removeOutput(r.outputArn);
          await this.d.outputs.remove(r);
          removed++;
          continue;
        }
        if (dest.status === 'deleting') continue; // ChannelDeleted removes it (channel-provisioner's reconcile repeats it)
        if (r.reclaimed) {
          if (dest.desired === 'running') {
            await this.addOutput(r.destinationId, correlationId); // a start whose event was lost
            added++;
          } else if (inEngine.has(r.outputArn)) {
            await engine.removeOutput(r.outputArn); // a reclaim cut short
            removed++;
          }
          continue;
        }
        let outputArn = r.outputArn;
        const announcement = () => buildEntry(FlowOutputAddedV1, { destinationId: r.destinationId, flowArn: flow.flowArn, outputArn }, { correlationId });
        if (!inEngine.has(r.outputArn)) {
          ({ outputArn } = await engine.addOutput(r.destinationId));
          added++;
          if (outputArn !== r.outputArn) {
            await this.d.outputs.put({ ...r, outputArn, version: r.version + 1 }, [announcement()]); // a new output: recorded and announced together
            continue;
          }
        }
        // The destination does not show the output the record holds: FlowOutputAdded was lost. Not
        // while a reclaim the destination knows of is in force (it cleared the output on purpose;
        // the next start adds it again).
        if (dest.mediaConnectOutputArn !== outputArn && !(dest.channelReclaimed && dest.desired === 'stopped')) {
          await this.d.publisher.publish([announcement()]);
          announced++;
        }
      } catch (err) {
        this.d.logger.warn('output reconcile step failed; the next run retries', { destinationId: r.destinationId, error: err instanceof Error ? err.message : String(err) });
      }
    }
    const recorded = new Set(records.map((r) => r.destinationId));
    const known = new Set(records.map((r) => r.outputArn));
    // Each step on its own: one that fails (a race with the event path doing the same, an engine
    // error) is retried by the next run and holds up none of the others.
    const attempt = async (destinationId: string | null, step: () => Promise<unknown>): Promise<boolean> => {
      try {
        await step();
        return true;
      } catch (err) {
        this.d.logger.warn('output reconcile step failed; the next run retries', { destinationId, error: err instanceof Error ? err.message : String(err) });
        return false;
      }
    };
    for (const d of destinations) {
      if (d.status !== 'deleting' && !recorded.has(d.destinationId) && (await attempt(d.destinationId, () => this.addOutput(d.destinationId, correlationId)))) added++;
    }
    for (const o of flow.outputs) {
      if (!known.has(o.outputArn) && !(o.destinationId && destById.has(o.destinationId)) && (await attempt(o.destinationId, () => engine.removeOutput(o.outputArn)))) removed++;
    }
    await this.ensureFlowState(correlationId);
    await this.reportFlowState(correlationId);
    if (added + removed + announced + published > 0) this.d.logger.info('flow reconciled', { added, removed, announced, published });
    return { added, removed, announced, published };
  }
}

/** `records` with those whose destination wants to run first, each group in its own order. */
export function wantedFirst<R extends { destinationId: string }>(records: readonly R[], destById: ReadonlyMap<string, { desired: string }>): R[] {
  const wants = (r: R): boolean => destById.get(r.destinationId)?.desired === 'running';
  return [...records.filter(wants), ...records.filter((r) => !wants(r))];
}
