import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { toIso, type Clock } from '../../platform/clock.js';
import type { TenantCtx } from '../../platform/context.js';
import { isUniqueViolation, type Database, type Sql } from '../../platform/db.js';
import { ConflictError, NotFoundError, QuotaExceededError, ValidationError, type FieldProblem } from '../../platform/errors.js';
import { fieldPath } from '../../platform/http.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import { decodeCursor, toPage } from '../../platform/pagination.js';
import type { AuditService } from '../audit/index.js';
import { scheduleRepo, type ScheduleRow, type ScheduleWrite } from './schedule.repo.js';
import { cronProblems, nextFires } from './schedule-time.js';

const cursorShape = z.object({ id: z.uuid() });

export type ScheduleInput = Omit<ScheduleWrite, 'nextFireAt'>;

export function toScheduleDto(row: ScheduleRow) {
  return {
    id: row.id,
    name: row.name,
    jobType: row.jobType,
    payload: row.payload,
    cron: row.cron,
    timezone: row.timezone,
    enabled: row.enabled,
    catchUp: row.catchUp,
    ownerId: row.ownerId,
    nextFireAt: toIso(row.nextFireAt),
    lastFiredAt: toIso(row.lastFiredAt),
    consecutiveFailures: row.consecutiveFailures,
    createdAt: toIso(row.createdAt)!,
    updatedAt: toIso(row.updatedAt)!,
  };
}

function summary(row: Pick<ScheduleRow, 'name' | 'jobType' | 'cron' | 'timezone' | 'enabled' | 'catchUp' | 'payload'>) {
  return { name: row.name, jobType: row.jobType, cron: row.cron, timezone: row.timezone, enabled: row.enabled, catchUp: row.catchUp, payload: row.payload };
}

export function createScheduleService(deps: {
  db: Database;
  clock: Clock;
  audit: Pick<AuditService, 'record'>;
  jobs: Pick<JobQueue, 'typeOf' | 'types' | 'cancelScheduled'>;
  maxPerTenant: number;
}) {
  const { db, clock, audit, jobs } = deps;

  function schedulableTypes(): string[] {
    return jobs.types().filter((t) => t.schedulable).map((t) => t.name).sort();
  }

  /** Checks everything about a schedule before any write, and reports every problem at once. */
  function validate(input: ScheduleInput): ScheduleWrite {
    const problems: FieldProblem[] = cronProblems(input.cron, input.timezone, { cron: 'body.cron', timezone: 'body.timezone' });
    const type = jobs.typeOf(input.jobType);
    let payload = input.payload;
    if (!type || !type.schedulable) {
      problems.push({ path: 'body.jobType', message: `"${input.jobType}" cannot be scheduled; choose one of: ${schedulableTypes().join(', ')}` });
    } else {
      const parsed = type.payload.safeParse(input.payload);
      if (parsed.success) payload = parsed.data as Record<string, unknown>;
      else problems.push(...parsed.error.issues.map((i) => ({ path: fieldPath('body.payload', i.path), message: i.message })));
    }
    if (problems.length) {
      throw new ValidationError(`The schedule is not valid: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);
    }
    const next = input.enabled ? (nextFires(input.cron, input.timezone, clock.now(), 1)[0] ?? null) : null;
    return { ...input, payload, nextFireAt: next };
  }

  function nameTaken(name: string) {
    return new ConflictError(`A schedule named "${name}" already exists in this tenant.`, { field: 'name' });
  }

  async function mustGet(tx: Sql, ctx: TenantCtx, id: string, forUpdate = false) {
    const row = await scheduleRepo.get(tx, ctx.tenantId, id, forUpdate);
    if (!row) throw new NotFoundError('Schedule', id);
    return row;
  }

  /** Schedules of job types that are not schedulable here (playbook runs) are managed by their own module's API. */
  function mustBeManagedHere(row: ScheduleRow) {
    if (jobs.typeOf(row.jobType)?.schedulable) return;
    const playbookId = typeof row.payload.playbookId === 'string' ? row.payload.playbookId : null;
    throw new ConflictError(
      playbookId
        ? `Schedule ${row.id} runs a playbook; change it through /api/v1/playbooks/${playbookId}/schedules/${row.id}, which checks the playbook's permissions.`
        : `Schedule ${row.id} runs ${row.jobType}, which is managed by its own API, not /api/v1/schedules.`,
    );
  }

  function detail(row: ScheduleRow) {
    const fires = row.enabled ? nextFires(row.cron, row.timezone, clock.now(), 5).map((d) => d.toISOString()) : [];
    return { ...toScheduleDto(row), nextFires: fires };
  }

  async function create(ctx: TenantCtx, input: ScheduleInput) {
    const write = validate(input);
    try {
      return await db.withTenant(ctx.tenantId, async (tx) => {
        const count = await scheduleRepo.count(tx, ctx.tenantId);
        if (count >= deps.maxPerTenant) {
          throw new QuotaExceededError(
            `This tenant has ${count} schedules, the most it may have (${deps.maxPerTenant}). Delete or reuse one.`,
            { limit: deps.maxPerTenant },
          );
        }
        const ownerId = ctx.principal.kind === 'user' ? ctx.principal.userId : null;
        const row = await scheduleRepo.insert(tx, { ...write, tenantId: ctx.tenantId, id: uuidv7(), ownerId });
        await audit.record(tx, ctx, { action: 'schedule.create', target: { type: 'schedule', id: row.id }, after: summary(row) });
        return detail(row);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken(input.name);
      throw error;
    }
  }

  async function update(ctx: TenantCtx, id: string, patch: Partial<ScheduleInput>) {
    try {
      return await db.withTenant(ctx.tenantId, async (tx) => {
        const before = await mustGet(tx, ctx, id, true);
        mustBeManagedHere(before);
        const write = validate({ ...before, ...patch });
        // Fire times already enqueued ahead belong to the old definition.
        await jobs.cancelScheduled(tx, before.jobType, id);
        const after = await scheduleRepo.update(tx, ctx.tenantId, id, write);
        await audit.record(tx, ctx, { action: 'schedule.update', target: { type: 'schedule', id }, before: summary(before), after: summary(after) });
        return detail(after);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken(patch.name ?? '');
      throw error;
    }
  }

  async function remove(ctx: TenantCtx, id: string) {
    await db.withTenant(ctx.tenantId, async (tx) => {
      const before = await mustGet(tx, ctx, id, true);
      mustBeManagedHere(before);
      await jobs.cancelScheduled(tx, before.jobType, id);
      await scheduleRepo.delete(tx, ctx.tenantId, id);
      await audit.record(tx, ctx, { action: 'schedule.delete', target: { type: 'schedule', id }, before: summary(before) });
    });
  }

  async function get(ctx: TenantCtx, id: string) {
    return db.withTenant(ctx.tenantId, async (tx) => detail(await mustGet(tx, ctx, id)));
  }

  async function list(ctx: TenantCtx, query: { limit: number; cursor?: string }) {
    const after = decodeCursor(query.cursor, cursorShape)?.id;
    const rows = await db.withTenant(ctx.tenantId, (tx) => scheduleRepo.list(tx, ctx.tenantId, after, query.limit + 1));
    const page = toPage(rows, query.limit, (last) => ({ id: last.id }));
    return { items: page.items.map(toScheduleDto), nextCursor: page.nextCursor };
  }

  function preview(query: { cron: string; timezone: string; count: number }) {
    const problems = cronProblems(query.cron, query.timezone, { cron: 'querystring.cron', timezone: 'querystring.timezone' });
    if (problems.length) {
      throw new ValidationError(`Cannot preview: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);
    }
    return { items: nextFires(query.cron, query.timezone, clock.now(), query.count).map((d) => d.toISOString()) };
  }

  function jobTypes() {
    return { items: jobs.types().filter((t) => t.schedulable).map((t) => ({ name: t.name, payload: z.toJSONSchema(t.payload) })) };
  }

  return { create, update, remove, get, list, preview, jobTypes };
}

export type ScheduleService = ReturnType<typeof createScheduleService>;
