/** The contribution flow: its status as flow-output reported it, and the input's health from the engine. */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { AppError } from '../../../../../shared/errors/index.ts';
import { apiRoute, problemResponses } from '../../../../../shared/http/api-kit.ts';
import type { ApiDeps } from '../api-deps.ts';
import * as s from '../schemas.ts';
import { json, type Env } from './common.ts';

export const flowRoutes = {
  status: apiRoute({
    access: 'operator',
    method: 'get',
    path: '/api/mediaconnect/flow/status',
    tags: ['flow'],
    summary: 'The contribution flow as flow-output last reported it (UNKNOWN until it has)',
    responses: { 200: json(s.FlowStatusSchema, 'Flow status'), ...problemResponses },
  }),
  inputHealth: apiRoute({
    access: 'operator',
    method: 'get',
    path: '/api/mediaconnect/inputs/health',
    tags: ['flow'],
    summary: 'Health of the contribution input: connected, source address, since, bitrate in, loss, retransmits, RTT',
    responses: { 200: json(s.InputHealthSchema, 'Input health'), ...problemResponses, 503: { description: 'No engine', content: { 'application/problem+json': { schema: s.ProblemSchema } } } },
  }),
};

export function mountFlowRoutes(app: OpenAPIHono<Env>, deps: ApiDeps): void {
  app.openapi(flowRoutes.status, async (c) => {
    const f = await deps.system.getFlowStatus();
    return c.json(
      f
        ? { state: f.state, flowArn: f.flowArn, sourceConnected: f.sourceConnected, sourceAddress: f.sourceAddress, connectedSince: f.connectedSince, outputs: f.outputs, primary: f.primary ?? null, updatedAt: f.updatedAt }
        : { state: 'UNKNOWN', flowArn: null, sourceConnected: null, sourceAddress: null, connectedSince: null, outputs: null, primary: null, updatedAt: null },
      200,
    );
  });

  app.openapi(flowRoutes.inputHealth, async (c) => {
    if (!deps.inputHealth) throw new AppError('ENGINE_UNAVAILABLE', 'No media engine runs in this process.');
    return c.json(await deps.inputHealth(), 200);
  });
}
