import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { pageOf, pageQuerySchema } from '../../platform/pagination.js';
import { userCtxOf } from '../../platform/request-context.js';
import type { AuditService } from './audit.service.js';

const eventSchema = z.object({
  tenantId: z.uuid(),
  sequence: z.number().int(),
  id: z.uuid(),
  time: z.iso.datetime(),
  actor: z.object({ type: z.enum(['user', 'operator', 'system']), id: z.string() }),
  action: z.string(),
  target: z.object({ type: z.string(), id: z.string() }).nullable(),
  requestId: z.string().nullable(),
  outcome: z.enum(['success', 'denied', 'failure']),
  before: z.record(z.string(), z.unknown()).nullable(),
  after: z.record(z.string(), z.unknown()).nullable(),
  prevHash: z.string(),
  hash: z.string(),
});

const listQuery = pageQuerySchema.extend({
  action: z.string().max(100).optional().describe('Only events of this action, e.g. user.create.'),
  actor: z.string().max(100).optional().describe('Only events by this actor id (a user id, or "operator").'),
  since: z.iso.datetime({ offset: true }).optional().describe('Only events at or after this instant.'),
});

const verifySchema = z.object({
  ok: z.boolean(),
  checked: z.number().int(),
  lastSequence: z.number().int(),
  firstBadSequence: z.number().int().optional(),
  reason: z.string().optional(),
  checkpoint: z.object({ sequence: z.number().int(), signatureValid: z.boolean() }).optional(),
});

const checkpointSchema = z.object({
  sequence: z.number().int(),
  hash: z.string(),
  signedAt: z.iso.datetime(),
  keyId: z.string(),
  signature: z.string().describe('Ed25519 signature (base64url) of the RFC 8785 JSON {tenantId, sequence, hash, signedAt}.'),
  publicKey: z.string().describe('The server\'s public key (PEM) to verify the signature with.'),
});

export function registerAuditRoutes(app: FastifyInstance, deps: { audit: AuditService }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get('/api/v1/audit', {
    config: { action: 'audit:read' },
    schema: {
      operationId: 'listAuditEvents',
      tags: ['audit'],
      summary: 'The tenant\'s audit events, oldest first.',
      querystring: listQuery,
      response: { 200: pageOf(eventSchema) },
    },
    handler: async (request) => {
      const { since, ...query } = request.query;
      return deps.audit.list(userCtxOf(request), { ...query, since: since ? new Date(since) : undefined });
    },
  });
  r.get('/api/v1/audit/verify', {
    config: { action: 'audit:verify' },
    schema: {
      operationId: 'verifyAuditChain',
      tags: ['audit'],
      summary: 'Recomputes the hash chain and checks it against the head and the latest signed checkpoint.',
      response: { 200: verifySchema },
    },
    handler: async (request) => deps.audit.verify(userCtxOf(request)),
  });
  r.get('/api/v1/audit/checkpoint', {
    config: { action: 'audit:checkpoint' },
    schema: {
      operationId: 'getAuditCheckpoint',
      tags: ['audit'],
      summary: 'A signed checkpoint of the chain head; keep it to detect later truncation.',
      response: { 200: checkpointSchema },
    },
    handler: async (request) => deps.audit.checkpoint(userCtxOf(request)),
  });
}
