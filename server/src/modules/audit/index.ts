import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../platform/clock.js';
import { deriveSigningKey } from '../../platform/crypto.js';
import type { Database } from '../../platform/db.js';
import { auditCheckpointJob } from './audit.jobs.js';
import { registerAuditRoutes } from './audit.routes.js';
import { createAuditService } from './audit.service.js';

export { createAuditService, type AuditService, type AuditEntry, type AuditScope, type VerifyResult } from './audit.service.js';
export { GENESIS_HASH, hashEvent, createChainVerifier, type AuditEvent } from './hash-chain.js';

/**
 * The hash-chained audit log. The module is the audit service itself (other modules record through it, in their
 * own transactions), plus its routes and the schedulable checkpoint job.
 */
export function createAuditModule(deps: { db: Database; clock: Clock; secret: string }) {
  const audit = createAuditService({ db: deps.db, clock: deps.clock, signingKey: deriveSigningKey(deps.secret, 'audit-checkpoint') });
  return {
    ...audit,
    jobs: [{ ...auditCheckpointJob(audit), schedulable: true }],
    routes: (app: FastifyInstance) => registerAuditRoutes(app, { audit }),
  };
}

export type AuditModule = ReturnType<typeof createAuditModule>;
