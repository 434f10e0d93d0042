import { createRoute, z } from '@hono/zod-openapi';
import { errorResponses, jsonResponse, publicSecurity } from '../../lib/openapi.ts';

const HealthSchema = z.object({ status: z.literal('ok') }).openapi('Health');
const ReadySchema = z.object({ status: z.literal('ready'), database: z.literal('ok') }).openapi('Readiness');

export const health = createRoute({
  method: 'get',
  path: '/health',
  operationId: 'checkLiveness',
  security: publicSecurity,
  tags: ['health'],
  summary: 'Liveness: the worker answers (no database access)',
  responses: { 200: jsonResponse(HealthSchema, 'The worker is alive'), ...errorResponses() },
});

export const ready = createRoute({
  method: 'get',
  path: '/health/ready',
  operationId: 'checkReadiness',
  security: publicSecurity,
  tags: ['health'],
  summary: 'Readiness: the database answers a trivial query',
  responses: { 200: jsonResponse(ReadySchema, 'The database is reachable'), ...errorResponses() },
});
