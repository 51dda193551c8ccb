/**
 * An OpenAPI 3.1 document from route definitions alone (the `apiRoute` objects an app serves), with
 * no app and no dependencies: the contract is generated from what declares the routes, not by
 * building the service with fake collaborators. @hono/zod-openapi's own registry and generator
 * do the work, so the document is the one the app itself would describe.
 */
import { OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';

export type OpenApiDocument = ReturnType<OpenAPIHono['getOpenAPI31Document']>;
/** The parts of another OpenAPI document that are merged into one (paths, component schemas). */
export interface OpenApiFragment {
  paths?: Record<string, unknown>;
  components?: { schemas?: Record<string, unknown> };
}

type ObjectConfig = Parameters<OpenAPIHono['getOpenAPI31Document']>[0];

export function openApiFromRoutes(routes: readonly RouteConfig[], config: ObjectConfig): OpenApiDocument {
  // Used for its registry and generator only: no route is mounted, no handler exists.
  const holder = new OpenAPIHono();
  holder.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  // As OpenAPIHono.openapi() registers a route: without its middleware, unless hidden.
  for (const { middleware: _middleware, hide, ...route } of routes as (RouteConfig & { hide?: boolean })[]) if (!hide) holder.openAPIRegistry.registerPath(route);
  return holder.getOpenAPI31Document(config);
}
