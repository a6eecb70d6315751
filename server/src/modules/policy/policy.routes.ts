import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { CoverageReport } from './coverage.js';

const coverageSchema = z.object({
  total: z.number().int(),
  covered: z.number().int(),
  percent: z.number(),
  routes: z.array(
    z.object({
      method: z.string(),
      path: z.string(),
      action: z.string().nullable(),
      public: z.boolean(),
      covered: z.boolean(),
      policies: z.array(z.string()),
    }),
  ),
  actionsWithoutPolicy: z.array(z.string()),
});

export function registerPolicyRoutes(app: FastifyInstance, deps: { coverage: () => CoverageReport }) {
  app.withTypeProvider<ZodTypeProvider>().get('/api/v1/policy/coverage', {
    config: { action: 'policy:coverage' },
    schema: {
      operationId: 'getPolicyCoverage',
      tags: ['policy'],
      summary: 'Which routes a policy covers, and which actions no policy grants.',
      response: { 200: coverageSchema },
    },
    handler: async () => deps.coverage(),
  });
}
