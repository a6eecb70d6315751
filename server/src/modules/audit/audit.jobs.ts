import { z } from 'zod';
import type { JobType } from '../../platform/jobs/job-types.js';
import type { AuditService } from './audit.service.js';

/**
 * Signs a checkpoint of the tenant's audit chain. Scheduled (say hourly), it bounds how much of the log's tail could
 * be cut without `verify` noticing to what happened since the last run.
 */
export function auditCheckpointJob(audit: Pick<AuditService, 'checkpoint'>): JobType {
  return {
    name: 'audit.checkpoint',
    payload: z.object({}).strict(),
    timeoutSeconds: 60,
    handle: async (ctx) => {
      const checkpoint = await audit.checkpoint(ctx);
      ctx.log.info({ tenantId: ctx.tenantId, sequence: checkpoint.sequence }, 'signed an audit checkpoint');
    },
  };
}
