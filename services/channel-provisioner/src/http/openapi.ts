/**
 * channel-provisioner's part of the HTTP API's OpenAPI document, from its route definitions
 * (routes.ts) alone: merged into the destination API's document (contracts/openapi.json, and
 * /api/openapi.json in the local runtime) by whoever composes the two.
 */
import { openApiFromRoutes, type OpenApiDocument } from '../../../../shared/http/openapi-doc.ts';
import { VERSION } from '../module.ts';
import { channelRoutes } from './routes.ts';

export function channelOpenApiFragment(version: string = VERSION): OpenApiDocument {
  return openApiFromRoutes(channelRoutes, { openapi: '3.1.0', info: { title: 'Fanout channel-provisioner API', version } });
}
