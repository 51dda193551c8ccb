/**
 * cost-tracker's API as a Hono app (served by the local runtime and, through Hono's Lambda adapter,
 * by the `costTrackerApi` function). Needs `deps.auth`: the process's one ApiAuth.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { handle } from 'hono/aws-lambda';
import { costTrackerFor, SERVICE_NAME } from '../app/build.ts';
import type { CostTrackerDeps } from '../deps.ts';
import { createCostApp } from '../http/app.ts';

export function createCostApi(deps: CostTrackerDeps) {
  if (!deps.auth) throw new Error(`${SERVICE_NAME}: the API needs deps.auth (the process's ApiAuth)`);
  return createCostApp({ tracker: costTrackerFor(deps), auth: deps.auth, logger: deps.log });
}

/** The Lambda handler (API Gateway HTTP API, payload v2) over the same app. */
export function createApiHandler(deps: CostTrackerDeps) {
  let lambdaHandler: ReturnType<typeof handle> | undefined;
  return async (event: APIGatewayProxyEventV2, context: Context) => {
    lambdaHandler ??= handle(createCostApi(deps));
    // hono types the v2 body as `string | null`; API Gateway omits it for GET requests.
    return lambdaHandler({ ...event, body: event.body ?? null } as unknown as Parameters<ReturnType<typeof handle>>[0], context);
  };
}
