import { z } from 'zod';
import type { Actor, TenantCtx } from '../../platform/context.js';
import type { Database, Sql } from '../../platform/db.js';
import { ConflictError, NotFoundError } from '../../platform/errors.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import { decodeCursor, toPage } from '../../platform/pagination.js';
import type { AuditService } from '../audit/index.js';
import { dlqRepo, type DlqRow, type DlqStatus } from './dlq.repo.js';

const cursorShape = z.object({ id: z.uuid() });
export const MAX_BULK_REPLAY = 500;

export function toDlqSummary(row: DlqRow) {
  return {
    id: row.id,
    queue: row.queue,
    jobId: row.jobId,
    attempts: row.attempts,
    status: row.status,
    replayCount: row.replayCount,
    deadAt: new Date(row.deadAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
    lastError: row.errors.at(-1) ?? null,
  };
}

export function toDlqDetail(row: DlqRow) {
  return { ...toDlqSummary(row), payload: row.payload, errors: row.errors, idempotencyKey: row.idempotencyKey };
}

export type ReplayScope = { tenantId: string; actor: Actor; requestId: string | null };

/**
 * Browse, replay and discard dead letters. A replay enqueues the job again with its original job id, idempotency
 * key and error history, so an effect it already committed (recorded under that key) is not applied twice.
 */
export function createDlqService(deps: { db: Database; audit: Pick<AuditService, 'record'>; jobs: Pick<JobQueue, 'enqueue' | 'typeOf'> }) {
  const { db, audit, jobs } = deps;

  async function mustGet(tx: Sql, tenantId: string, id: string) {
    const row = await dlqRepo.get(tx, tenantId, id, true);
    if (!row) throw new NotFoundError('Dead-letter item', id);
    return row;
  }

  /** Replays one item inside the caller's transaction; throws ConflictError when it cannot be replayed. */
  async function replayIn(tx: Sql, scope: ReplayScope, row: DlqRow, trigger: 'manual' | 'auto') {
    if (row.status !== 'dead') {
      throw new ConflictError(`Dead-letter item ${row.id} was ${row.status}; only items still dead can be replayed.`);
    }
    if (!jobs.typeOf(row.queue)) throw new ConflictError(`No job type "${row.queue}" exists in this version; the item cannot run.`);
    await jobs.enqueue(tx, scope, row.queue, row.payload, {
      replayOf: { jobId: row.jobId, idempotencyKey: row.idempotencyKey, errors: row.errors, replays: row.replayCount + 1 },
    });
    const after = await dlqRepo.setStatus(tx, scope.tenantId, row.id, 'replayed', true);
    await audit.record(tx, scope, {
      action: 'dlq.replay',
      target: { type: 'dlq-item', id: row.id },
      before: { status: row.status, replayCount: row.replayCount },
      after: { status: after.status, replayCount: after.replayCount, queue: row.queue, jobId: row.jobId, trigger },
    });
    return after;
  }

  async function list(ctx: TenantCtx, query: { limit: number; cursor?: string; queue?: string; status?: DlqStatus }) {
    const afterId = decodeCursor(query.cursor, cursorShape)?.id;
    const rows = await db.withTenant(ctx.tenantId, (tx) => dlqRepo.list(tx, ctx.tenantId, { ...query, afterId, limit: query.limit + 1 }));
    const page = toPage(rows, query.limit, (last) => ({ id: last.id }));
    return { items: page.items.map(toDlqSummary), nextCursor: page.nextCursor };
  }

  async function get(ctx: TenantCtx, id: string) {
    return db.withTenant(ctx.tenantId, async (tx) => {
      const row = await dlqRepo.get(tx, ctx.tenantId, id);
      if (!row) throw new NotFoundError('Dead-letter item', id);
      return toDlqDetail(row);
    });
  }

  async function replay(ctx: TenantCtx, id: string) {
    return db.withTenant(ctx.tenantId, async (tx) => toDlqSummary(await replayIn(tx, ctx, await mustGet(tx, ctx.tenantId, id), 'manual')));
  }

  /** Replays the listed items of a queue, or all its dead ones (up to the bulk limit); reports what it skipped. */
  async function replayMany(ctx: TenantCtx, input: { queue: string; ids?: string[] }) {
    return db.withTenant(ctx.tenantId, async (tx) => {
      const rows = await dlqRepo.list(tx, ctx.tenantId, {
        queue: input.queue,
        ids: input.ids,
        status: input.ids ? undefined : 'dead',
        limit: MAX_BULK_REPLAY,
      });
      const found = new Set(rows.map((r) => r.id));
      const skipped = (input.ids ?? []).filter((id) => !found.has(id)).map((id) => ({ id, reason: `not a dead-letter item of ${input.queue}` }));
      const replayed: string[] = [];
      for (const row of rows) {
        if (row.status !== 'dead') {
          skipped.push({ id: row.id, reason: `was ${row.status}` });
          continue;
        }
        await replayIn(tx, ctx, row, 'manual');
        replayed.push(row.id);
      }
      return { replayed, skipped };
    });
  }

  async function discard(ctx: TenantCtx, id: string, reason: string) {
    await db.withTenant(ctx.tenantId, async (tx) => {
      const row = await mustGet(tx, ctx.tenantId, id);
      if (row.status !== 'dead') throw new ConflictError(`Dead-letter item ${id} was already ${row.status}.`);
      await dlqRepo.setStatus(tx, ctx.tenantId, id, 'discarded', false);
      await audit.record(tx, ctx, {
        action: 'dlq.discard',
        target: { type: 'dlq-item', id },
        before: { status: row.status },
        after: { status: 'discarded', reason, queue: row.queue, jobId: row.jobId },
      });
    });
  }

  return { list, get, replay, replayMany, discard, replayIn };
}

export type DlqService = ReturnType<typeof createDlqService>;
