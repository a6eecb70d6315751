/**
 * The enrichment job: for each entity, reserve a call in the budget, call the provider outside any transaction,
 * then in one transaction settle the reservation, write the verdict and rescore the entity. When the budget is
 * spent the job waits: it re-enqueues itself (same job id, the entities not yet done) for the budget's reset, and
 * an override or a raised cap wakes it earlier.
 */
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import type { Clock } from '../../platform/clock.js';
import type { Database, Sql } from '../../platform/db.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import { PermanentJobError, type JobContext, type JobType } from '../../platform/jobs/job-types.js';
import type { BudgetService } from './budget.service.js';
import { enrichmentRepo } from './enrichment.repo.js';
import { ENRICH_JOB, type EnrichPayload } from './enrichment.service.js';
import { LookupError, type EnrichmentProvider } from './providers/provider.js';
import type { ProviderService } from './providers/provider.service.js';

export type Rescore = (tx: Sql, tenantId: string, entityIds?: string[]) => Promise<unknown>;

const payloadSchema = z.object({ provider: z.string().min(1).max(40), entityIds: z.array(z.uuid()).min(1).max(1_000) });
const MAX_ATTEMPTS = 5;

export function createEnrichmentJob(deps: {
  db: Database;
  clock: Clock;
  jobs: Pick<JobQueue, 'enqueue'>;
  providers: Pick<ProviderService, 'resolve'>;
  budgets: Pick<BudgetService, 'reserve' | 'settle' | 'statusFor' | 'lockCurrentUsage'>;
  rescore: Rescore;
}): JobType<typeof payloadSchema> {
  const { db, clock, jobs, budgets } = deps;

  const setState = (ctx: JobContext, state: Parameters<typeof enrichmentRepo.setJobState>[3]) =>
    db.withTenant(ctx.tenantId, (tx) => enrichmentRepo.setJobState(tx, ctx.tenantId, ctx.jobId, state));

  /**
   * Puts the job to sleep until wakeAt with the entities still to do. Decided under the usage row's lock (the one
   * overrides take), re-checking the budget: an override that committed meanwhile means carrying on instead.
   */
  async function sleepUntil(
    ctx: JobContext,
    provider: EnrichmentProvider,
    wait: { remaining: string[]; wakeAt: Date; reason: string; budgetBlocked: boolean; lookedUp: number },
  ): Promise<boolean> {
    const { remaining, wakeAt, reason, budgetBlocked } = wait;
    return db.withTenant(ctx.tenantId, async (tx) => {
      if (budgetBlocked) {
        await budgets.lockCurrentUsage(tx, ctx.tenantId, provider.name);
        const status = await budgets.statusFor(tx, ctx.tenantId, provider);
        if (status.state !== 'exhausted') return false;
      }
      const payload: EnrichPayload = { provider: provider.name, entityIds: remaining };
      await jobs.enqueue(tx, ctx, ENRICH_JOB, payload, {
        startAfter: wakeAt,
        replayOf: { jobId: ctx.jobId, idempotencyKey: ctx.idempotencyKey, errors: [], replays: 0 },
      });
      await enrichmentRepo.setJobState(tx, ctx.tenantId, ctx.jobId, { status: 'waiting', at: clock.now(), waitUntil: wakeAt, waitReason: reason, lookedUp: wait.lookedUp });
      return true;
    });
  }

  async function handle(ctx: JobContext, payload: EnrichPayload): Promise<void> {
    const resolved = await db.withTenant(ctx.tenantId, async (tx) => ({
      provider: await deps.providers.resolve(tx, ctx.tenantId, payload.provider),
      indicators: await enrichmentRepo.indicators(tx, ctx.tenantId, payload.entityIds),
    }));
    const { provider, indicators } = resolved;
    if (!provider) {
      await setState(ctx, { status: 'failed', at: clock.now(), error: `provider ${payload.provider} no longer exists or is disabled` });
      throw new PermanentJobError(`enrichment provider ${payload.provider} no longer exists or is disabled`);
    }
    await setState(ctx, { status: 'running', at: clock.now() });
    let done = 0;
    for (let i = 0; i < indicators.length; i++) {
      const indicator = indicators[i]!;
      const reservation = await budgets.reserve(ctx, provider, { jobId: ctx.jobId, entityId: indicator.entityId });
      if (reservation.kind === 'settled') continue;
      if (reservation.kind === 'blocked') {
        const remaining = indicators.slice(i).map((x) => x.entityId);
        if (await sleepUntil(ctx, provider, { remaining, wakeAt: reservation.wakeAt, reason: 'budget_exhausted', budgetBlocked: true, lookedUp: done })) return;
        i--; // an override arrived between the refusal and the decision to wait: try this entity again
        continue;
      }
      let result;
      try {
        result = await provider.lookup(ctx, indicator);
      } catch (error) {
        const charged = error instanceof LookupError && error.charged;
        const message = error instanceof Error ? error.message : String(error);
        await db.withTenant(ctx.tenantId, (tx) => budgets.settle(tx, ctx.tenantId, reservation.ledgerId, { charged, verdict: null, error: message }));
        if (charged) continue; // the provider refused this one lookup for good; the others go on
        if (error instanceof LookupError && error.retryAfterMs !== null) {
          const remaining = indicators.slice(i).map((x) => x.entityId);
          const wakeAt = new Date(clock.now().getTime() + error.retryAfterMs);
          await sleepUntil(ctx, provider, { remaining, wakeAt, reason: 'rate_limited', budgetBlocked: false, lookedUp: done });
          return;
        }
        await bump(ctx, done);
        if (ctx.attempt >= MAX_ATTEMPTS) await setState(ctx, { status: 'failed', at: clock.now(), error: message });
        throw error; // retried with backoff; entities already settled are skipped next time
      }
      await db.withTenant(ctx.tenantId, async (tx) => {
        await budgets.settle(tx, ctx.tenantId, reservation.ledgerId, { charged: true, verdict: result.verdict, error: null });
        await enrichmentRepo.insertVerdict(tx, ctx.tenantId, { id: uuidv7(), entityId: indicator.entityId, provider: provider.name, result, at: clock.now() });
        await deps.rescore(tx, ctx.tenantId, [indicator.entityId]);
      });
      done++;
    }
    await setState(ctx, { status: 'succeeded', at: clock.now(), lookedUp: done });
  }

  async function bump(ctx: JobContext, done: number) {
    if (done > 0) {
      await db.withTenant(ctx.tenantId, (tx) => enrichmentRepo.addLookedUp(tx, ctx.tenantId, ctx.jobId, done));
    }
  }

  return {
    name: ENRICH_JOB,
    payload: payloadSchema,
    handle,
    retry: { maxAttempts: MAX_ATTEMPTS, baseDelayMs: 5_000 },
    timeoutSeconds: 600,
    concurrency: 2,
  };
}
