/**
 * Orphan validation and cleanup (GET /api/channels/validate, POST /api/channels/cleanup).
 *
 * validate = the dry run: what the engine holds for this deployment compared with the store
 * (domain/orphans.ts), changing nothing. cleanup = the same comparison made again at the moment of
 * acting, then for each orphan (or each of `only`): a running channel is stopped (its deletion
 * follows at the next cleanup or the scheduled reconcile, which removes channels no record
 * tracks), an idle one deleted, channels before outputs (an input can go only once its channel is
 * gone). Never silently: every action is logged, the response lists each resource with its outcome
 * (`removed`, `removing`, or `failed` with the engine's typed error code), and when anything was
 * found an `OrphanResourcesCleanedUp` event is published. A second cleanup finds nothing more to do:
 * resources already DELETING are not orphans any more.
 */
import { OrphanResourcesCleanedUpV1 } from '../../../../events/catalogue.ts';
import type { z } from 'zod';
import type { CleanedResourceSchema } from '../../../../events/channel-provisioner/orphan-resources-cleaned-up.v1.ts';
import { AppError } from '../../../../shared/errors/index.ts';
import { buildEntry, type EventPublisher } from '../../../../shared/events/publisher.ts';
import type { Logger } from '../../../../shared/logging/logger.ts';
import type { ChannelEngine, FlowEngine } from '../../../../shared/engines/port/ports.ts';
import type { DestinationReader } from '../../../../shared/store/destination-reader.ts';
import type { RecordStore } from '../../../../shared/store/record-store.ts';
import { findOrphans, type Orphan, type ValidationReport } from '../domain/orphans.ts';
import type { ChannelRecord } from './provisioner.ts';

export type CleanedResource = z.output<typeof CleanedResourceSchema>;

export interface CleanupResult {
  cleanedAt: string;
  resources: (CleanedResource & { reason: Orphan['reason'] })[];
  removed: number;
  removing: number;
  failed: number;
  /** Left to the reconcile (listed for information: cleanup removes orphans only). */
  mismatches: ValidationReport['mismatches'];
}

export interface OrphanCleanupDeps {
  channelEngine: () => ChannelEngine;
  /** Only to remove orphaned outputs (on AWS: delete orphaned MEDIACONNECT inputs). */
  flowEngine: () => Pick<FlowEngine, 'removeOutput'>;
  channels: RecordStore<ChannelRecord>;
  destinations: DestinationReader;
  publisher: EventPublisher;
  logger: Logger;
}

const ACTIVE = new Set(['STARTING', 'RUNNING', 'RECOVERING']);
const DELETABLE = new Set(['IDLE', 'CREATE_FAILED', 'UPDATE_FAILED']);

function typed(err: unknown): { code: string; message: string } {
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'INTERNAL';
  const message = err instanceof Error ? err.message : String(err);
  return { code: code.slice(0, 64), message: message.slice(0, 500) };
}

export class OrphanCleanup {
  constructor(private readonly d: OrphanCleanupDeps) {}

  /** The dry run: orphans and mismatches, nothing changed. */
  async validate(): Promise<ValidationReport & { checkedAt: string }> {
    const [inventory, destinations, records] = await Promise.all([this.d.channelEngine().listOwnedResources(), this.d.destinations.list(), this.d.channels.list()]);
    return { checkedAt: new Date().toISOString(), ...findOrphans(inventory, destinations, records) };
  }

  /**
   * Removes the orphans found now (all of them, or those whose id is in `only`: an id that is not
   * an orphan now is NOT_AN_ORPHAN and nothing is touched).
   */
  async cleanup(opts: { only?: string[]; requestedBy: string; correlationId: string }): Promise<CleanupResult> {
    const report = await this.validate();
    let targets = report.orphans;
    if (opts.only) {
      const ids = new Set(report.orphans.map((o) => o.id));
      const notOrphans = opts.only.filter((id) => !ids.has(id));
      if (notOrphans.length > 0) throw new AppError('NOT_AN_ORPHAN', `${notOrphans.length} of the ids given is not an orphan now.`, { notOrphans });
      const wanted = new Set(opts.only);
      targets = targets.filter((o) => wanted.has(o.id));
    }
    const resources: CleanupResult['resources'] = [];
    for (const o of [...targets.filter((t) => t.kind === 'channel'), ...targets.filter((t) => t.kind === 'output')]) {
      resources.push(await this.remove(o, opts.correlationId));
    }
    const count = (outcome: CleanedResource['outcome']) => resources.filter((r) => r.outcome === outcome).length;
    const result: CleanupResult = { cleanedAt: new Date().toISOString(), resources, removed: count('removed'), removing: count('removing'), failed: count('failed'), mismatches: report.mismatches };
    if (resources.length > 0) {
      await this.d.publisher.publish([
        buildEntry(
          OrphanResourcesCleanedUpV1,
          { requestedBy: opts.requestedBy, resources: resources.map(({ reason: _r, ...r }) => r), removed: result.removed + result.removing, failed: result.failed },
          { correlationId: opts.correlationId },
        ),
      ]);
    }
    this.d.logger.info('orphan cleanup done', { requestedBy: opts.requestedBy, removed: result.removed, removing: result.removing, failed: result.failed, correlationId: opts.correlationId });
    return result;
  }

  private async remove(o: Orphan, correlationId: string): Promise<CleanupResult['resources'][number]> {
    const base = { kind: o.kind, id: o.id, destinationId: o.destinationId, reason: o.reason };
    const attrs = { kind: o.kind, id: o.id, destinationId: o.destinationId, reason: o.reason, correlationId };
    try {
      if (o.kind === 'channel') {
        const engine = this.d.channelEngine();
        if (ACTIVE.has(o.state)) {
          await engine.stopChannel(o.id);
          this.d.logger.info('orphaned channel stopping; it is deleted once idle (next cleanup or reconcile)', attrs);
          return { ...base, outcome: 'removing', error: null };
        }
        if (DELETABLE.has(o.state)) {
          await engine.deleteChannel(o.id);
          this.d.logger.info('orphaned channel deleted', attrs);
          return { ...base, outcome: 'removed', error: null };
        }
        this.d.logger.info(`orphaned channel is ${o.state}; the next cleanup or reconcile removes it`, attrs);
        return { ...base, outcome: 'removing', error: null };
      }
      await this.d.flowEngine().removeOutput(o.id);
      this.d.logger.info('orphaned output removed', attrs);
      return { ...base, outcome: 'removed', error: null };
    } catch (err) {
      const error = typed(err);
      this.d.logger.warn('orphan could not be removed', { ...attrs, error });
      return { ...base, outcome: 'failed', error };
    }
  }
}
