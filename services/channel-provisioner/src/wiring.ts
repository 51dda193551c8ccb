/** channel-provisioner's composition root (Lambda handlers and the local runtime). */
import { config } from '../../../shared/config/index.ts';
import { createLogger } from '../../../shared/logging/logger.ts';
import { engines, infrastructure } from '../../../shared/runtime/infrastructure.ts';
import { DestinationReader } from '../../../shared/store/destination-reader.ts';
import { RecordStore } from '../../../shared/store/record-store.ts';
import { Provisioner, type ChannelRecord } from './app/provisioner.ts';

export const SERVICE_NAME = 'channel-provisioner';

let cached: { service: Provisioner; infra: unknown } | undefined;

export function provisioner(): Provisioner {
  const infra = infrastructure();
  if (cached?.infra === infra) return cached.service;
  const cfg = config();
  const service = new Provisioner({
    engine: () => engines().channel,
    channels: new RecordStore<ChannelRecord>(infra.doc, cfg.tableChannels, 'destinationId'),
    destinations: new DestinationReader(infra.doc, cfg.tableDestinations, cfg.tablePresets),
    cipher: infra.cipher,
    publisher: infra.publisher,
    logger: createLogger(SERVICE_NAME),
  });
  cached = { service, infra };
  return service;
}
