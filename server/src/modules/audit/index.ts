export { createAuditService, type AuditService, type AuditEntry, type AuditScope, type VerifyResult } from './audit.service.js';
export { registerAuditRoutes } from './audit.routes.js';
export { GENESIS_HASH, hashEvent, createChainVerifier, type AuditEvent } from './hash-chain.js';
export { auditCheckpointJob } from './audit.jobs.js';
