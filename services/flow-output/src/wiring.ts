/** flow-output's composition root (Lambda handlers and the local runtime). */
import { config } from '../../../shared/config/index.ts';
import { createLogger } from '../../../shared/logging/logger.ts';
import { engines, infrastructure } from '../../../shared/runtimes/aws/infrastructure.ts';
import { DestinationReader } from '../../../shared/store/destination-reader.ts';
import { RecordStore } from '../../../shared/store/record-store.ts';
import { FlowOutputService, type OutputRecord } from './app/flow-output-service.ts';

export const SERVICE_NAME = 'flow-output';

let cached: { service: FlowOutputService; infra: unknown } | undefined;

export function flowOutputService(): FlowOutputService {
  const infra = infrastructure();
  if (cached?.infra === infra) return cached.service;
  const cfg = config();
  const logger = createLogger(SERVICE_NAME);
  const service = new FlowOutputService({
    engine: () => engines().flow,
    // Output records carry their events (the outbox, ADR 0016); the reconcile sweeps them.
    outputs: new RecordStore<OutputRecord>(infra.doc, cfg.tableFlowOutputs, 'destinationId', { publisher: infra.publisher, log: logger }),
    destinations: new DestinationReader(infra.doc, cfg.tableDestinations, cfg.tablePresets),
    publisher: infra.publisher,
    logger,
    primaryAlwaysOn: cfg.primaryHls,
  });
  cached = { service, infra };
  return service;
}
