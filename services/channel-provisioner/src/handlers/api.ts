/**
 * Lambda entry of channel-provisioner's API (API Gateway HTTP API, payload v2): the routes
 * GET /api/channels/validate and POST /api/channels/cleanup (serverless.yml `channelProvisionerApi`).
 * The same Hono app runs in the local runtime.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { handle } from 'hono/aws-lambda';
import { createChannelApi } from '../wiring.ts';

let lambdaHandler: ReturnType<typeof handle> | undefined;

export const handler = async (event: APIGatewayProxyEventV2, context: Context) => {
  lambdaHandler ??= handle(createChannelApi());
  // hono types the v2 body as `string | null`; API Gateway omits it for GET requests.
  return lambdaHandler({ ...event, body: event.body ?? null } as unknown as Parameters<ReturnType<typeof handle>>[0], context);
};
