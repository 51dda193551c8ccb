/** flow-output put together from its dependencies (deps.ts); one per deps object, shared by its handlers. */
import { DestinationReader } from '../../../shared/store/destination-reader.ts';
import { RecordStore } from '../../../shared/store/record-store.ts';
import { FlowOutputService, type OutputRecord } from './app/flow-output-service.ts';
import type { FlowOutputDeps } from './deps.ts';

export const SERVICE_NAME = 'flow-output';

const services = new WeakMap<FlowOutputDeps, FlowOutputService>();

export function flowOutputService(deps: FlowOutputDeps): FlowOutputService {
  let service = services.get(deps);
  if (service) return service;
  const cfg = deps.config;
  service = new FlowOutputService({
    engine: () => deps.flow,
    // Output records carry their events (the outbox, ADR 0016); the reconcile sweeps them.
    outputs: new RecordStore<OutputRecord>(deps.doc, cfg.tableFlowOutputs, 'destinationId', { publisher: deps.publisher, log: deps.log }),
    destinations: new DestinationReader(deps.doc, cfg.tableDestinations, cfg.tablePresets),
    publisher: deps.publisher,
    logger: deps.log,
    primaryAlwaysOn: cfg.primaryHls,
  });
  services.set(deps, service);
  return service;
}
