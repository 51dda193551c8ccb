/** zod with the `.openapi()` extension, for schemas that appear in the HTTP API and its OpenAPI document. */
export { z } from '@hono/zod-openapi';
