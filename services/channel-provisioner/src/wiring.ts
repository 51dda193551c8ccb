/** channel-provisioner's composition root (Lambda handlers and the local runtime). */
import { apiAuth, type ApiAuth } from '../../../shared/auth/api-auth.ts';
import { config } from '../../../shared/config/index.ts';
import { createLogger } from '../../../shared/logging/logger.ts';
import type { RequestObserver } from '../../../shared/http/api-kit.ts';
import { engines, infrastructure } from '../../../shared/runtimes/aws/infrastructure.ts';
import { DestinationReader } from '../../../shared/store/destination-reader.ts';
import { RecordStore } from '../../../shared/store/record-store.ts';
import { OrphanCleanup } from './app/orphan-cleanup.ts';
import { Provisioner, type ChannelRecord } from './app/provisioner.ts';
import { createChannelApp } from './http/app.ts';

export const SERVICE_NAME = 'channel-provisioner';
export const VERSION = '0.1.0';

let cached: { service: Provisioner; orphans: OrphanCleanup; infra: unknown } | undefined;

function build(): NonNullable<typeof cached> {
  const infra = infrastructure();
  if (cached?.infra === infra) return cached;
  const cfg = config();
  const logger = createLogger(SERVICE_NAME);
  // Channel records carry their events (the outbox, ADR 0016); the reconcile sweeps them.
  const channels = new RecordStore<ChannelRecord>(infra.doc, cfg.tableChannels, 'destinationId', { publisher: infra.publisher, log: logger });
  const destinations = new DestinationReader(infra.doc, cfg.tableDestinations, cfg.tablePresets);
  const service = new Provisioner({
    engine: () => engines().channel,
    channels,
    destinations,
    cipher: infra.cipher,
    publisher: infra.publisher,
    logger,
    reclaimAfterMs: cfg.idleChannelReclaimMinutes * 60_000,
  });
  const orphans = new OrphanCleanup({ channelEngine: () => engines().channel, flowEngine: () => engines().flow, channels, destinations, publisher: infra.publisher, logger });
  cached = { service, orphans, infra };
  return cached;
}

export function provisioner(): Provisioner {
  return build().service;
}

export function orphanCleanup(): OrphanCleanup {
  return build().orphans;
}

/**
 * channel-provisioner's HTTP API (GET /api/channels/validate, POST /api/channels/cleanup), checking
 * tokens with the process's one ApiAuth (the destination API's too: one token store, one budget).
 */
export function createChannelApi(o: { auth?: ApiAuth; observeRequest?: RequestObserver } = {}) {
  return createChannelApp({
    orphans: orphanCleanup(),
    auth: o.auth ?? apiAuth(),
    logger: createLogger(SERVICE_NAME),
    ...(o.observeRequest ? { observeRequest: o.observeRequest } : {}),
  });
}
