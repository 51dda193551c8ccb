/**
 * The destination API's OpenAPI 3.1 document (served at /api/openapi.json, written to
 * contracts/openapi.json), from the route definitions of routes/*.ts alone (no app, no
 * dependencies: shared/http/openapi-doc.ts), plus the two routes zod-openapi cannot describe (the
 * document itself, the event stream), plus other services' fragments on the same HTTP API
 * (channel-provisioner's), merged by whoever composes them: this service never imports another.
 */
import { openApiFromRoutes, type OpenApiDocument, type OpenApiFragment } from '../../../../shared/http/openapi-doc.ts';
import { adminRoutes } from './routes/admin.ts';
import { catalogRoutes } from './routes/catalog.ts';
import { destinationRoutes } from './routes/destinations.ts';
import { flowRoutes } from './routes/flow.ts';
import { systemRoutes } from './routes/system.ts';

export type { OpenApiFragment } from '../../../../shared/http/openapi-doc.ts';

/** Every described route, in the order of the document (the order app.ts mounts them). */
export const API_ROUTES = [...Object.values(destinationRoutes), ...Object.values(flowRoutes), ...Object.values(catalogRoutes), ...Object.values(adminRoutes), ...Object.values(systemRoutes)];

/** The OpenAPI 3.1 document of the API (also written to contracts/openapi.json). */
export function openApiDocument(version: string, extra: OpenApiFragment[] = []): OpenApiDocument {
  const doc = openApiFromRoutes(API_ROUTES, {
    openapi: '3.1.0',
    info: {
      title: 'Fanout destination API',
      version,
      description:
        'One live feed in, every platform out. Errors are application/problem+json with a stable `code` (docs/errors.md). ' +
        'GET /api/events is a server-sent event stream (status changes, with ids, Last-Event-ID resume and pings). ' +
        'Each operation\'s `security` names who may call it: `bearer: ["admin"]` admins only, `bearer: []` any valid token (operators and admins), none: anyone (docs/security.md).',
    },
    servers: [{ url: '/' }],
  });
  doc.paths ??= {};
  doc.paths['/api/openapi.json'] = { get: { tags: ['system'], summary: 'This document', security: [], responses: { '200': { description: 'OpenAPI 3.1 document' } } } };
  doc.paths['/api/events'] = {
    get: {
      tags: ['system'],
      summary:
        'Server-sent events: destination.created/updated/status/deleted, flow.status and input.switched, with ids; destination.metrics and input.health live; resume with Last-Event-ID; ping every 15 s; `reset` when resuming is not possible',
      security: [{ bearer: [] }],
      description: [
        'Events (the `event:` field; `data:` is JSON):',
        '- `ready` first, on every connection: the stream is open (read the lists now).',
        '- `destination.created`, `destination.updated`, `destination.status` (`from`, `to`, `desired`, `lastError`, `aggregateVersion`), `destination.deleted`: from the destination events, with ids (resumable).',
        '- `flow.status`: the contribution flow changed state or its source connected/disconnected (FlowStateChanged: `state`, `sourceConnected`, `sourceAddress`, `connectedSince`, `outputs`, `primary`), with an id.',
        '- `input.switched`: the active input changed, the slate went on air, or its time ran out (InputSwitched: `from`, `to`, `reason`, `switchedAt`, `mode`, `slateStopsAt`), with an id.',
        '- `destination.metrics`: every 2 s per running channel (`destinationId` and the fields of GET /api/destinations/{id}/metrics); no id, not replayed.',
        '- `input.health`: every 2 s, the contribution input (the body of GET /api/mediaconnect/inputs/health); no id, not replayed.',
        '- `ping` every 15 s; `reset` when Last-Event-ID cannot be resumed (another process, or too old): read the lists again.',
        'Send the token as `Authorization: Bearer` (fetch-based clients; it stays out of URLs and logs) or, for EventSource, as `?access_token=`.',
      ].join('\n'),
      parameters: [
        { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' } },
        { name: 'access_token', in: 'query', required: false, description: 'For EventSource clients, which cannot send headers', schema: { type: 'string' } },
      ],
      responses: {
        '200': { description: 'An event stream; `closed` (with a reason) when the server ends it, e.g. because the token was revoked', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        '401': { description: 'Missing or invalid token', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
        '429': { description: 'Rate limited, or the token already holds the most open streams (TOO_MANY_STREAMS)', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
      },
    },
  };
  for (const fragment of extra) {
    Object.assign(doc.paths, fragment.paths ?? {});
    doc.components ??= {};
    doc.components.schemas = { ...(fragment.components?.schemas as object), ...doc.components.schemas } as typeof doc.components.schemas;
  }
  return doc;
}
