/**
 * Lambda entry of the destination API (API Gateway HTTP API, payload v2). The same Hono app runs
 * in the local runtime. Built-in platforms and presets are seeded on the first request of a
 * container (idempotent, conditional writes). On AWS the app gets input health and destination
 * metrics from MediaConnect and CloudWatch, and each request is counted as an EMF metric line.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { handle } from 'hono/aws-lambda';
import { config } from '../../../../shared/config/index.ts';
import { createApiMetrics, type ApiMetrics } from '../../../../shared/runtimes/aws/api-metrics.ts';
import { awsDestinationReaders } from '../../../../shared/runtimes/aws/destination-readers.ts';
import { createDestinationApi, destinationModule } from '../wiring.ts';

let app: ReturnType<typeof createDestinationApi> | undefined;
let lambdaHandler: ReturnType<typeof handle> | undefined;
let apiMetrics: ApiMetrics | undefined;

export const handler = async (event: APIGatewayProxyEventV2, context: Context) => {
  if (!app) {
    await destinationModule().seed();
    // WIRING (AWS): input health and destination metrics from MediaConnect and CloudWatch
    // (destination-readers.ts); Fanout's own request metrics as EMF (api-metrics.ts).
    apiMetrics = createApiMetrics({ deployment: config().deployment });
    app = createDestinationApi({ ...awsDestinationReaders(), observeRequest: apiMetrics.observeRequest });
    lambdaHandler = handle(app);
  }
  // hono types the v2 body as `string | null`; API Gateway omits it for GET requests.
  try {
    return await lambdaHandler!({ ...event, body: event.body ?? null } as unknown as Parameters<ReturnType<typeof handle>>[0], context);
  } finally {
    apiMetrics?.publish();
  }
};
