import { z } from 'zod';
import { providerName } from './providers/provider.schemas.js';
import { MAX_ENTITIES_PER_REQUEST } from './enrichment.service.js';

export const enrichBody = z.union([
  z.strictObject({
    provider: providerName,
    indicatorIds: z.array(z.uuid()).min(1).max(MAX_ENTITIES_PER_REQUEST).describe('Indicators or observables to look up.'),
  }),
  z.strictObject({
    provider: providerName,
    query: z.strictObject({
      types: z.array(z.string().min(1).max(50)).min(1).max(20).optional(),
      search: z.string().min(1).max(200).optional().describe('Name prefix, case-insensitive.'),
      limit: z.number().int().min(1).max(MAX_ENTITIES_PER_REQUEST).default(100),
    }),
  }),
]);

export const enrichResponse = z.object({ jobIds: z.array(z.uuid()), entities: z.number().int() });

export const enrichmentJobSchema = z.object({
  id: z.uuid(),
  provider: z.string(),
  entityIds: z.array(z.uuid()),
  status: z.enum(['queued', 'running', 'waiting', 'succeeded', 'failed']),
  lookedUp: z.number().int(),
  waitUntil: z.iso.datetime().nullable(),
  waitReason: z.string().nullable(),
  error: z.string().nullable(),
  requestedBy: z.string(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
