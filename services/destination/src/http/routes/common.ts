/** Helpers every route group of the destination API shares: response and body shapes, the request context. */
import type { Context } from 'hono';
import { problemResponse, type ApiEnv } from '../../../../../shared/http/api-kit.ts';
import type { RequestContext } from '../../app/destination-service.ts';

export type Env = ApiEnv;

export const p404 = { 404: problemResponse('Not found') } as const;
export const p409 = { 409: problemResponse('Conflict') } as const;
export const p422 = { 422: problemResponse('Semantically invalid') } as const;
export const json = <T>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
export const body = <T>(schema: T) => ({ body: { required: true, content: { 'application/json': { schema } } } });

/** Who asked, and the correlation id their request's events carry. */
export const ctx = (c: Context<Env>): RequestContext => ({ correlationId: c.get('correlationId'), principalId: c.get('principal').tokenId });
