/**
 * The definitions of channel-provisioner's routes (path, access, request and response schemas):
 * what app.ts serves and what openapi.ts describes, so the two cannot disagree.
 */
import { apiRoute, problemResponse, problemResponses } from '../../../../shared/http/api-kit.ts';
import * as s from './schemas.ts';

const json = <T>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });

export const validateRoute = apiRoute({
  access: 'operator',
  method: 'get',
  path: '/api/channels/validate',
  tags: ['channels'],
  summary: "Orphans (this deployment's channels and inputs/outputs that belong to no destination) and channels whose engine state disagrees with the store. The dry run of cleanup: changes nothing.",
  responses: { 200: json(s.ValidationReportSchema, 'What cleanup would remove, and what reconcile repairs'), ...problemResponses, 503: problemResponse('No media engine') },
});

export const cleanupRoute = apiRoute({
  access: 'admin',
  method: 'post',
  path: '/api/channels/cleanup',
  tags: ['channels'],
  summary: 'Admins: remove the orphans validate lists (stop if running → delete channel → delete input / remove output). Each resource is listed with its outcome; OrphanResourcesCleanedUp is published. Idempotent.',
  request: { body: { required: false, content: { 'application/json': { schema: s.CleanupRequestSchema } } } },
  responses: { 200: json(s.CleanupResultSchema, 'What was done to each orphan'), ...problemResponses, 409: problemResponse('An id in `only` is not an orphan (nothing was changed)'), 503: problemResponse('No media engine') },
});

/** Every route of this API, in the order of the document. */
export const channelRoutes = [validateRoute, cleanupRoute] as const;
