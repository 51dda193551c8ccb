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
 *                            primary channel runs, FlowStateChanged (a once-a-minute heartbeat)
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
import { FlowOutputAddedV1, FlowOutputFailedV1, FlowOutputRemovedV1, FlowStateChangedV1 } from '../../../../events/catalogue.ts';
import type { EventPublisher } from '../../../../shared/events/publisher.ts';
import { buildEntry } from '../../../../shared/events/publisher.ts';
import type { Logger } from '../../../../shared/logging/logger.ts';
import type { FlowDescription, FlowEngine } from '../../../../shared/media-engine/ports.ts';
import type { EventData } from '../../../../events/envelope.ts';
import type { DestinationReader } from '../../../../shared/store/destination-reader.ts';
import type { RecordStore } from '../../../../shared/store/record-store.ts';
import { AppError } from '../../../../shared/errors/index.ts';

export interface OutputRecord {
  destinationId: string;
  outputArn: string;
  /** Removed by an idle reclaim (ADR 0008): added again at the destination's next start. */
  reclaimed?: boolean;
  createdAt: string;
  version: number;
}

export interface FlowOutputDeps {
  engine: () => FlowEngine;
  outputs: RecordStore<OutputRecord>;
  destinations: DestinationReader;
  publisher: EventPublisher;
  logger: Logger;
  /** The always-on primary HLS output needs the flow whenever Fanout runs. */
  primaryAlwaysOn: boolean;
}

export class FlowOutputService {
  constructor(private readonly d: FlowOutputDeps) {}

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
      if (err instanceof AppError && err.code === 'ENGINE_UNAVAILABLE') throw err; // retried by SQS
      const message = err instanceof Error ? err.message : String(err);
      await this.d.publisher.publish([
        buildEntry(FlowOutputFailedV1, { destinationId, operation: 'add', error: { code: 'FLOW_OUTPUT_FAILED', message: message.slice(0, 500), hint: 'The output could not be added to the flow; check the engine logs (on AWS: the 50-outputs-per-flow limit).' } }, { correlationId }),
      ]);
      return;
    }
    const existing = await this.d.outputs.get(destinationId);
    if (!existing) await this.d.outputs.put({ destinationId, outputArn, createdAt: new Date().toISOString(), version: 1 });
    else if (existing.outputArn !== outputArn || existing.reclaimed) await this.d.outputs.put({ ...existing, outputArn, reclaimed: false, version: existing.version + 1 });
    await this.ensureFlowState(correlationId);
    const flowArn = (await engine.describeFlow()).flowArn;
    await this.d.publisher.publish([buildEntry(FlowOutputAddedV1, { destinationId, flowArn, outputArn }, { correlationId })]);
  }

  async removeOutput(destinationId: string, correlationId: string): Promise<void> {
    const engine = this.d.engine();
    const record = await this.d.outputs.get(destinationId);
    if (record) {
      await engine.removeOutput(record.outputArn);
      await this.d.outputs.delete(destinationId);
    }
    const flowArn = (await engine.describeFlow()).flowArn;
    await this.d.publisher.publish([buildEntry(FlowOutputRemovedV1, { destinationId, flowArn, outputArn: record?.outputArn ?? null }, { correlationId })]);
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
      const code = err instanceof AppError ? err.code : 'ENGINE_UNAVAILABLE';
      const message = (err instanceof Error ? err.message : String(err)).slice(0, 500);
      this.d.logger.warn('primary channel could not be read or started', { channelId, code, message });
      return { channelId, state: null, error: { code: code.slice(0, 64), message, hint: 'The primary output is retried at the next reconcile (every minute); see the engine logs.' } };
    }
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
   * Makes the engine match the records: re-creates outputs the engine lost (local engine after a
   * restart), removes outputs no record or destination explains, adds outputs for destinations
   * whose DestinationCreated was handled before a crash could record it, and sets the flow state.
   */
  async reconcile(correlationId: string): Promise<{ added: number; removed: number }> {
    const engine = this.d.engine();
    const [records, destinations, flow] = await Promise.all([this.d.outputs.list(), this.d.destinations.list(), engine.describeFlow()]);
    const inEngine = new Map(flow.outputs.map((o) => [o.outputArn, o]));
    const alive = new Set(destinations.map((d) => d.destinationId));
    let added = 0;
    let removed = 0;
    const destById = new Map(destinations.map((d) => [d.destinationId, d]));
    for (const r of records) {
      const dest = destById.get(r.destinationId);
      if (r.reclaimed && dest && dest.status !== 'deleting') {
        if (dest.desired === 'running') {
          await this.addOutput(r.destinationId, correlationId); // a start whose event was lost
          added++;
        } else if (inEngine.has(r.outputArn)) {
          await engine.removeOutput(r.outputArn); // a reclaim cut short
          removed++;
        }
        continue;
      }
      if (!inEngine.has(r.outputArn) && alive.has(r.destinationId)) {
        const { outputArn } = await engine.addOutput(r.destinationId);
        if (outputArn !== r.outputArn) await this.d.outputs.put({ ...r, outputArn, version: r.version + 1 });
        added++;
      }
    }
    for (const d of destinations) {
      if (d.status !== 'deleting' && !records.some((r) => r.destinationId === d.destinationId)) {
        await this.addOutput(d.destinationId, correlationId);
        added++;
      }
    }
    const known = new Set(records.map((r) => r.outputArn));
    for (const o of flow.outputs) {
      if (!known.has(o.outputArn) && !(o.destinationId && alive.has(o.destinationId))) {
        await engine.removeOutput(o.outputArn);
        removed++;
      }
    }
    await this.ensureFlowState(correlationId);
    await this.reportFlowState(correlationId);
    if (added + removed > 0) this.d.logger.info('flow reconciled', { added, removed });
    return { added, removed };
  }
}
