/**
 * Enrichment requests: `POST /ti/enrich` checks the provider and its budget, then enqueues one job per chunk of
 * entities in the transaction that audits the request. Waiting jobs (budget spent) are woken when an admin raises
 * the caps or grants an override.
 */
import type { Clock } from '../../platform/clock.js';
import type { Database, Sql } from '../../platform/db.js';
import { NotFoundError, ValidationError } from '../../platform/errors.js';
import type { EnqueueScope, JobQueue } from '../../platform/jobs/job-queue.js';
import type { UserCtx } from '../../platform/request-context.js';
import type { AuditService } from '../audit/index.js';
import type { BudgetService } from './budget.service.js';
import { enrichmentRepo, type EnrichmentJobRow } from './enrichment.repo.js';
import type { ProviderService } from './providers/provider.service.js';

export const ENRICH_JOB = 'ti.enrich';
/** Entities per job: small enough that a job finishes in seconds on a rate-limited provider, and retries are cheap. */
export const ENTITIES_PER_JOB = 50;
export const MAX_ENTITIES_PER_REQUEST = 1_000;

export type EnrichPayload = { provider: string; entityIds: string[] };
export type EnrichBody =
  | { provider: string; indicatorIds: string[] }
  | { provider: string; query: { types?: string[]; search?: string; limit: number } };

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

export function toEnrichmentJobDto(row: EnrichmentJobRow) {
  return {
    id: row.id,
    provider: row.provider,
    entityIds: row.entityIds,
    status: row.status,
    lookedUp: row.lookedUp,
    waitUntil: iso(row.waitUntil),
    waitReason: row.waitReason,
    error: row.error,
    requestedBy: row.requestedBy,
    createdAt: iso(row.createdAt)!,
    updatedAt: iso(row.updatedAt)!,
  };
}

export function createEnrichmentService(deps: {
  db: Database;
  clock: Clock;
  audit: Pick<AuditService, 'record'>;
  jobs: Pick<JobQueue, 'enqueue'>;
  providers: Pick<ProviderService, 'resolve'>;
  budgets: Pick<BudgetService, 'assertHeadroom'>;
}) {
  const { db, clock, audit, jobs, providers, budgets } = deps;

  async function entityIdsOf(tx: Sql, tenantId: string, body: EnrichBody): Promise<string[]> {
    if ('query' in body) return enrichmentRepo.findEntities(tx, tenantId, body.query);
    const ids = [...new Set(body.indicatorIds)];
    const found = await enrichmentRepo.existingEntities(tx, tenantId, ids);
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length) throw new NotFoundError('Indicators', missing.slice(0, 10).join(', '));
    return ids;
  }

  async function enrich(ctx: UserCtx, body: EnrichBody): Promise<{ jobIds: string[]; entities: number }> {
    return db.withTenant(ctx.tenantId, async (tx) => {
      const provider = await providers.resolve(tx, ctx.tenantId, body.provider);
      if (!provider) throw new NotFoundError('Enrichment provider', body.provider);
      await budgets.assertHeadroom(tx, ctx.tenantId, provider);
      const ids = await entityIdsOf(tx, ctx.tenantId, body);
      if (ids.length === 0) throw new ValidationError('The query matches no entities to enrich.', [{ path: 'body.query', message: 'matches nothing' }]);
      const jobIds: string[] = [];
      for (let i = 0; i < ids.length; i += ENTITIES_PER_JOB) {
        const payload: EnrichPayload = { provider: provider.name, entityIds: ids.slice(i, i + ENTITIES_PER_JOB) };
        const jobId = await jobs.enqueue(tx, ctx, ENRICH_JOB, payload);
        await enrichmentRepo.insertJob(tx, ctx.tenantId, { id: jobId, provider: provider.name, entityIds: payload.entityIds, requestedBy: ctx.actor.id, createdAt: clock.now() });
        jobIds.push(jobId);
      }
      await audit.record(tx, ctx, {
        action: 'ti.enrich',
        target: { type: 'ti-provider', id: provider.name },
        after: { provider: provider.name, entities: ids.length, jobIds, ...('query' in body ? { query: body.query } : {}) },
      });
      return { jobIds, entities: ids.length };
    });
  }

  /**
   * Re-enqueues the provider's waiting jobs to run now, in the caller's transaction (which raised the caps). A job
   * keeps its id; its queued copy that waited for the reset is withdrawn.
   */
  async function wakeWaiting(tx: Sql, scope: EnqueueScope, provider: string): Promise<string[]> {
    const woken: string[] = [];
    for (const id of await enrichmentRepo.waitingJobs(tx, scope.tenantId, provider)) {
      const payload = await enrichmentRepo.withdrawQueued(tx, scope.tenantId, ENRICH_JOB, id);
      if (payload === null) continue;
      await jobs.enqueue(tx, scope, ENRICH_JOB, payload, { replayOf: { jobId: id, idempotencyKey: `${ENRICH_JOB}:${id}`, errors: [], replays: 0 } });
      await enrichmentRepo.setJobState(tx, scope.tenantId, id, { status: 'queued', at: clock.now() });
      woken.push(id);
    }
    return woken;
  }

  async function job(ctx: UserCtx, id: string) {
    const row = await db.withTenant(ctx.tenantId, (tx) => enrichmentRepo.job(tx, ctx.tenantId, id));
    if (!row) throw new NotFoundError('Enrichment job', id);
    return toEnrichmentJobDto(row);
  }

  return { enrich, wakeWaiting, job };
}

export type EnrichmentService = ReturnType<typeof createEnrichmentService>;
