/**
 * Lambda entry of the destination API (API Gateway HTTP API, payload v2). The same Hono app runs
 * in the local runtime. Built-in platforms and presets are seeded on the first request of a
 * container (idempotent, conditional writes).
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { handle } from 'hono/aws-lambda';
import { awsDestinationReaders } from '../../../../shared/runtimes/aws/destination-readers.ts';
import { createDestinationApi, destinationModule } from '../wiring.ts';

let app: ReturnType<typeof createDestinationApi> | undefined;
let lambdaHandler: ReturnType<typeof handle> | undefined;

export const handler = async (event: APIGatewayProxyEventV2, context: Context) => {
  if (!app) {
    await destinationModule().seed();
    // WIRING (AWS): input health and destination metrics from MediaConnect and CloudWatch.
    app = createDestinationApi({ ...awsDestinationReaders() });
    lambdaHandler = handle(app);
  }
  // hono types the v2 body as `string | null`; API Gateway omits it for GET requests.
  return lambdaHandler!({ ...event, body: event.body ?? null } as unknown as Parameters<ReturnType<typeof handle>>[0], context);
};
