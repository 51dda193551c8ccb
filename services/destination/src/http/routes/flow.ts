/**
 * The contribution flow: its status as flow-output reported it, the inputs' health from the engine,
 * and (issue 15, ADR 0024) the main/backup inputs: switch, backup test, failover settings, each a
 * direct call on the engine's InputRedundancy port.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { isEngineError } from '../../../../../shared/engines/port/errors.ts';
import type { InputRedundancy } from '../../../../../shared/engines/port/ports.ts';
import { AppError } from '../../../../../shared/errors/index.ts';
import { apiRoute, problemResponse, problemResponses } from '../../../../../shared/http/api-kit.ts';
import type { ApiDeps } from '../api-deps.ts';
import { inputHealthBody } from '../input-health.ts';
import * as s from '../schemas.ts';
import { body, json, p409, type Env } from './common.ts';

const p501 = { 501: problemResponse('The engine has no backup input (INPUT_REDUNDANCY_UNSUPPORTED)') } as const;
const p503 = { 503: problemResponse('No engine, or the engine cannot answer now (ENGINE_UNAVAILABLE)') } as const;

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
    summary:
      'Health of the contribution input (the active one): connected, source address, since, bitrate in, loss, retransmits, RTT; with a backup input also both inputs, which is active, the failover settings, the last switch and the slate',
    responses: { 200: json(s.InputHealthSchema, 'Input health'), ...problemResponses, ...p503 },
  }),
  switchInput: apiRoute({
    access: 'operator',
    method: 'post',
    path: '/api/mediaconnect/inputs/switch',
    tags: ['flow'],
    summary: 'Makes the main or the backup input the active one now (also in automatic mode); InputSwitched follows',
    request: body(s.InputSwitchRequestSchema),
    responses: { 200: json(s.InputSwitchSchema, 'The switch'), ...problemResponses, ...p409, ...p501, ...p503 },
  }),
  testBackup: apiRoute({
    access: 'operator',
    method: 'post',
    path: '/api/mediaconnect/inputs/backup/test',
    tags: ['flow'],
    summary: 'Checks that the backup input is connected and decodable, without switching to it',
    responses: { 200: json(s.BackupTestResultSchema, 'The test'), ...problemResponses, ...p501, ...p503 },
  }),
  setFailover: apiRoute({
    access: 'admin',
    method: 'put',
    path: '/api/mediaconnect/inputs/failover',
    tags: ['flow'],
    summary: 'Replaces the failover settings (mode, input-loss threshold, revert time, slate timeout); admin only',
    request: body(s.FailoverSettingsSchema),
    responses: { 200: json(s.FailoverSettingsSchema, 'The settings as stored'), ...problemResponses, ...p501, ...p503 },
  }),
};

/** The engine's input redundancy, or the stable reason there is none. */
function redundancy(deps: ApiDeps): InputRedundancy {
  if (deps.inputs) return deps.inputs;
  if (!deps.inputHealth) throw new AppError('ENGINE_UNAVAILABLE', 'No media engine runs in this process.');
  throw new AppError('INPUT_REDUNDANCY_UNSUPPORTED', 'The media engine of this runtime has no backup input.');
}

/** An engine's refusal as the API's problem: a dead input is 409, anything else transient 503. */
async function onEngine<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (isEngineError(err)) throw new AppError(err.code === 'INPUT_NOT_CONNECTED' ? 'INPUT_NOT_CONNECTED' : 'ENGINE_UNAVAILABLE', err.message);
    throw err;
  }
}

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
    return c.json(await inputHealthBody(deps.inputHealth, deps.inputs), 200);
  });

  app.openapi(flowRoutes.switchInput, async (c) => {
    const { to } = c.req.valid('json');
    const inputs = redundancy(deps);
    const sw = await onEngine(() => inputs.switchInput(to));
    deps.logger.info('input switched by request', { to, principal: c.get('principal').tokenId, correlationId: c.get('correlationId') });
    return c.json(sw, 200);
  });

  app.openapi(flowRoutes.testBackup, async (c) => {
    const inputs = redundancy(deps);
    return c.json(await onEngine(() => inputs.testBackupInput()), 200);
  });

  app.openapi(flowRoutes.setFailover, async (c) => {
    const settings = c.req.valid('json');
    const inputs = redundancy(deps);
    const stored = await onEngine(() => inputs.setFailover(settings));
    deps.logger.info('failover settings replaced', { ...stored, principal: c.get('principal').tokenId });
    return c.json(stored, 200);
  });
}
