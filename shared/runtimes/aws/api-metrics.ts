/**
 * Fanout's own metrics on Lambda, as CloudWatch embedded metric format (EMF) log lines through
 * Powertools Metrics: CloudWatch Logs turns each line into metric datapoints, with no API call
 * from the function. The api function emits, per request, namespace `Fanout`, dimensions
 * `service` (destination-api) and `deployment`:
 *
 *   ApiRequests (Count, 1), ApiLatency (Milliseconds), ApiServerErrors (Count, 1 for a 5xx)
 *
 * with the matched route pattern, the method and the status as metadata (searchable with Logs
 * Insights), not as dimensions: each dimension combination is a custom metric CloudWatch bills
 * monthly, and three metrics cost well under a dollar a month where per-route dimensions would
 * cost dozens. API Gateway's own `Latency`/`4xx`/`5xx` (the stack's dashboard) give the rest.
 *
 * WIRING (one place): the api Lambda entry (services/destination/src/handlers/api.ts) passes
 * `observeRequest` to the app and calls `publish()` after each invocation. Moves with
 * destination-readers.ts when the service locator goes (DEPS-CONVENTION.md).
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { RequestObserver } from '../../http/api-kit.ts';

export const METRICS_NAMESPACE = 'Fanout';

export interface ApiMetrics {
  observeRequest: RequestObserver;
  /** Writes what was observed since the last call as one EMF line (nothing when nothing was). */
  publish(): void;
}

export function createApiMetrics(o: { deployment?: string | undefined; serviceName?: string } = {}): ApiMetrics {
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: o.serviceName ?? 'destination-api', ...(o.deployment ? { defaultDimensions: { deployment: o.deployment } } : {}) });
  let observed = false;
  return {
    observeRequest: (r) => {
      observed = true;
      metrics.addMetric('ApiRequests', MetricUnit.Count, 1);
      metrics.addMetric('ApiLatency', MetricUnit.Milliseconds, Math.round(r.seconds * 100_000) / 100);
      if (r.status >= 500) metrics.addMetric('ApiServerErrors', MetricUnit.Count, 1);
      metrics.addMetadata('route', r.route);
      metrics.addMetadata('method', r.method);
      metrics.addMetadata('status', String(r.status));
    },
    publish: () => {
      if (!observed) return;
      observed = false;
      metrics.publishStoredMetrics();
    },
  };
}
