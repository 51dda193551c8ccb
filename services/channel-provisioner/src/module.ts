/** channel-provisioner put together from its dependencies (deps.ts); one per deps object, shared by its handlers. */
import { DestinationReader } from '../../../shared/store/destination-reader.ts';
import { RecordStore } from '../../../shared/store/record-store.ts';
import { OrphanCleanup } from './app/orphan-cleanup.ts';
import { Provisioner, type ChannelRecord } from './app/provisioner.ts';
import type { ChannelProvisionerDeps } from './deps.ts';

export const SERVICE_NAME = 'channel-provisioner';
export const VERSION = '0.1.0';

export interface ChannelProvisionerModule {
  service: Provisioner;
  orphans: OrphanCleanup;
}

const modules = new WeakMap<ChannelProvisionerDeps, ChannelProvisionerModule>();

export function channelProvisionerModule(deps: ChannelProvisionerDeps): ChannelProvisionerModule {
  const known = modules.get(deps);
  if (known) return known;
  const cfg = deps.config;
  const logger = deps.log;
  // Channel records carry their events (the outbox, ADR 0016); the reconcile sweeps them.
  const channels = new RecordStore<ChannelRecord>(deps.doc, cfg.tableChannels, 'destinationId', { publisher: deps.publisher, log: logger });
  const destinations = new DestinationReader(deps.doc, cfg.tableDestinations, cfg.tablePresets);
  const service = new Provisioner({
    engine: () => deps.channel,
    channels,
    destinations,
    cipher: deps.cipher,
    publisher: deps.publisher,
    logger,
    reclaimAfterMs: cfg.idleChannelReclaimMinutes * 60_000,
  });
  const orphans = new OrphanCleanup({ channelEngine: () => deps.channel, flowEngine: () => deps.flow, channels, destinations, publisher: deps.publisher, logger });
  const m = { service, orphans };
  modules.set(deps, m);
  return m;
}
