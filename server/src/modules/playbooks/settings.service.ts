/**
 * Schedules of playbooks (rows of the jobs module's `schedules`, job type playbook.run, fired by its scheduler) and
 * the tenant's playbook settings: run and schedule limits, export branding and redaction rules.
 */
import { v7 as uuidv7 } from 'uuid';
import type { Clock } from '../../platform/clock.js';
import { isUniqueViolation, type Database, type Sql } from '../../platform/db.js';
import { ConflictError, NotFoundError, QuotaExceededError, ValidationError, type FieldProblem } from '../../platform/errors.js';
import type { UserCtx } from '../../platform/request-context.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import type { AuditService } from '../audit/index.js';
import { cronProblems, nextFires, scheduleRepo, type ScheduleRow } from '../jobs/index.js';
import { redactionRuleSchema as ruleSchema, validateRedactionPattern } from '../reports/index.js';
import { resolveParams } from './params.js';
import { playbookRepo, settingsRepo, type SettingsRow } from './playbook.repo.js';
import { isoOf } from './playbook.repo.js';
import type { PlaybookService } from './playbook.service.js';
import { RUN_JOB, type Notify } from './run.service.js';
import { DEFAULT_ACCENT } from './export-model.js';

type ScheduleInput = {
  name?: string;
  cron: string;
  timezone: string;
  params: Record<string, unknown>;
  enabled: boolean;
  catchUp: 'skip' | 'run-once';
  notify: Notify;
};
type Payload = { playbookId: string; scheduleId: string; params: Record<string, unknown>; notify: Notify };

/** Fire times looked at when checking a cron against the tenant's minimum interval (a week of a 5-minute cron). */
const INTERVAL_SAMPLE = 2_100;

export function toPlaybookScheduleDto(row: ScheduleRow, now: Date) {
  const payload = row.payload as Payload;
  return {
    id: row.id, playbookId: payload.playbookId, name: row.name, cron: row.cron, timezone: row.timezone, params: payload.params,
    enabled: row.enabled, catchUp: row.catchUp, notify: payload.notify, ownerId: row.ownerId,
    nextFires: row.enabled ? nextFires(row.cron, row.timezone, now, 5).map((d) => d.toISOString()) : [],
    lastFiredAt: row.lastFiredAt ? isoOf(row.lastFiredAt) : null, createdAt: isoOf(row.createdAt), updatedAt: isoOf(row.updatedAt),
  };
}

/** The shortest gap between consecutive fire times over the next sample, in seconds. */
export function shortestInterval(cron: string, timezone: string, from: Date): number {
  const fires = nextFires(cron, timezone, from, INTERVAL_SAMPLE);
  let shortest = Infinity;
  for (let i = 1; i < fires.length; i++) shortest = Math.min(shortest, (fires[i]!.getTime() - fires[i - 1]!.getTime()) / 1000);
  return shortest;
}

export function createPlaybookSettingsService(deps: {
  db: Database;
  clock: Clock;
  audit: Pick<AuditService, 'record'>;
  playbooks: PlaybookService;
  jobs: Pick<JobQueue, 'cancelScheduled'>;
}) {
  const { db, clock, audit, playbooks } = deps;

  // ---- schedules ---------------------------------------------------------------------------------------------

  async function schedulesOf(tx: Sql, tenantId: string, playbookId: string): Promise<ScheduleRow[]> {
    const { rows } = await tx.query<{ id: string }>(
      `select id from schedules where tenant_id = $1 and job_type = $2 and payload ->> 'playbookId' = $3 order by id`,
      [tenantId, RUN_JOB, playbookId],
    );
    const out: ScheduleRow[] = [];
    for (const { id } of rows) out.push((await scheduleRepo.get(tx, tenantId, id))!);
    return out;
  }

  async function mustSchedule(tx: Sql, tenantId: string, playbookId: string, scheduleId: string, forUpdate = false) {
    const row = await scheduleRepo.get(tx, tenantId, scheduleId, forUpdate);
    if (!row || row.jobType !== RUN_JOB || (row.payload as Payload).playbookId !== playbookId) throw new NotFoundError('Schedule', scheduleId);
    return row;
  }

  /** Every problem with a schedule at once: the cron and zone, the tenant's minimum interval, the parameters. */
  function checkSchedule(input: ScheduleInput, definition: { parameters?: unknown[] }, settings: SettingsRow): Record<string, unknown> {
    const problems: FieldProblem[] = cronProblems(input.cron, input.timezone, { cron: 'body.cron', timezone: 'body.timezone' });
    if (problems.length === 0) {
      const gap = shortestInterval(input.cron, input.timezone, clock.now());
      if (gap < settings.minScheduleIntervalSeconds) {
        problems.push({
          path: 'body.cron',
          message: `fires every ${gap} s at times, more often than this tenant allows (at most once per ${settings.minScheduleIntervalSeconds} s); choose a sparser expression`,
        });
      }
    }
    const resolved = resolveParams((definition.parameters ?? []) as never, input.params);
    if (!resolved.ok) problems.push(...resolved.errors.map((e) => ({ path: `body.params.${e.path.replace(/^params\./, '')}`, message: e.message })));
    if (problems.length) throw new ValidationError(`The schedule is not valid: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);
    return resolved.ok ? (resolved.values as Record<string, unknown>) : {};
  }

  function summary(row: ScheduleRow) {
    return { name: row.name, cron: row.cron, timezone: row.timezone, enabled: row.enabled, catchUp: row.catchUp, payload: row.payload };
  }

  async function createSchedule(ctx: UserCtx, playbookId: string, input: ScheduleInput) {
    try {
      return await db.withTenant(ctx.tenantId, async (tx) => {
        const { playbook } = await playbooks.load(tx, ctx, playbookId, 'playbook-schedule:create', true);
        const settings = await settingsRepo.get(tx, ctx.tenantId);
        const version = await playbookRepo.getVersion(tx, ctx.tenantId, playbookId, playbook.currentVersion);
        const params = checkSchedule(input, version!.definition, settings);
        const { rows } = await tx.query<{ n: number }>(`select count(*)::int as n from schedules where tenant_id = $1 and job_type = $2`, [ctx.tenantId, RUN_JOB]);
        if (rows[0]!.n >= settings.maxSchedules) {
          throw new QuotaExceededError(`This tenant has ${rows[0]!.n} playbook schedules, the most it may have (${settings.maxSchedules}); delete one or ask an admin to raise the limit.`, { limit: settings.maxSchedules });
        }
        const id = uuidv7();
        const payload: Payload = { playbookId, scheduleId: id, params, notify: input.notify };
        const row = await scheduleRepo.insert(tx, {
          tenantId: ctx.tenantId, id, ownerId: ctx.principal.userId, name: input.name ?? `${playbook.name} (${input.cron} ${input.timezone})`.slice(0, 100),
          jobType: RUN_JOB, payload, cron: input.cron, timezone: input.timezone, enabled: input.enabled, catchUp: input.catchUp,
          nextFireAt: input.enabled ? (nextFires(input.cron, input.timezone, clock.now(), 1)[0] ?? null) : null,
        });
        await audit.record(tx, ctx, { action: 'playbook.schedule.create', target: { type: 'schedule', id }, after: summary(row) });
        return toPlaybookScheduleDto(row, clock.now());
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`A schedule named "${input.name}" already exists in this tenant.`, { field: 'name' });
      throw error;
    }
  }

  async function updateSchedule(ctx: UserCtx, playbookId: string, scheduleId: string, patch: Partial<ScheduleInput>) {
    try {
      return await db.withTenant(ctx.tenantId, async (tx) => {
        const { playbook } = await playbooks.load(tx, ctx, playbookId, 'playbook-schedule:update');
        const before = await mustSchedule(tx, ctx.tenantId, playbookId, scheduleId, true);
        const old = before.payload as Payload;
        const input: ScheduleInput = {
          name: patch.name ?? before.name, cron: patch.cron ?? before.cron, timezone: patch.timezone ?? before.timezone,
          params: patch.params ?? old.params, enabled: patch.enabled ?? before.enabled, catchUp: patch.catchUp ?? before.catchUp,
          notify: patch.notify ?? old.notify,
        };
        const settings = await settingsRepo.get(tx, ctx.tenantId);
        const version = await playbookRepo.getVersion(tx, ctx.tenantId, playbookId, playbook.currentVersion);
        const params = checkSchedule(input, version!.definition, settings);
        // Fire times already enqueued ahead belong to the old definition.
        await deps.jobs.cancelScheduled(tx, RUN_JOB, scheduleId);
        const after = await scheduleRepo.update(tx, ctx.tenantId, scheduleId, {
          name: input.name!, jobType: RUN_JOB, payload: { playbookId, scheduleId, params, notify: input.notify }, cron: input.cron,
          timezone: input.timezone, enabled: input.enabled, catchUp: input.catchUp,
          nextFireAt: input.enabled ? (nextFires(input.cron, input.timezone, clock.now(), 1)[0] ?? null) : null,
        });
        await audit.record(tx, ctx, { action: 'playbook.schedule.update', target: { type: 'schedule', id: scheduleId }, before: summary(before), after: summary(after) });
        return toPlaybookScheduleDto(after, clock.now());
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`A schedule named "${patch.name}" already exists in this tenant.`, { field: 'name' });
      throw error;
    }
  }

  async function deleteSchedule(ctx: UserCtx, playbookId: string, scheduleId: string) {
    await db.withTenant(ctx.tenantId, async (tx) => {
      await playbooks.load(tx, ctx, playbookId, 'playbook-schedule:delete');
      const before = await mustSchedule(tx, ctx.tenantId, playbookId, scheduleId, true);
      await deps.jobs.cancelScheduled(tx, RUN_JOB, scheduleId);
      await scheduleRepo.delete(tx, ctx.tenantId, scheduleId);
      await audit.record(tx, ctx, { action: 'playbook.schedule.delete', target: { type: 'schedule', id: scheduleId }, before: summary(before) });
    });
  }

  async function listSchedules(ctx: UserCtx, playbookId: string) {
    return db.withTenant(ctx.tenantId, async (tx) => {
      await playbooks.load(tx, ctx, playbookId, 'playbook-schedule:list');
      return { items: (await schedulesOf(tx, ctx.tenantId, playbookId)).map((r) => toPlaybookScheduleDto(r, clock.now())) };
    });
  }

  // ---- settings ---------------------------------------------------------------------------------------------------

  function toSettingsDto(row: SettingsRow) {
    return {
      limits: { maxConcurrentRuns: row.maxConcurrentRuns, maxRunsPerDay: row.maxRunsPerDay, minScheduleIntervalSeconds: row.minScheduleIntervalSeconds, maxSchedules: row.maxSchedules },
      branding: {
        name: row.branding.name ?? null, accentColor: row.branding.accentColor ?? DEFAULT_ACCENT, footerText: row.branding.footerText ?? null,
        logo: row.logo && row.logoMediaType ? { mediaType: row.logoMediaType, bytes: row.logo.length } : null,
      },
      updatedAt: row.updatedAt ? isoOf(row.updatedAt) : null,
    };
  }

  async function getSettings(ctx: UserCtx) {
    return db.withTenant(ctx.tenantId, async (tx) => toSettingsDto(await settingsRepo.get(tx, ctx.tenantId)));
  }

  /** The image really is the PNG or JPEG it claims to be (magic bytes), and at most 256 KB. */
  function checkLogo(mediaType: 'image/png' | 'image/jpeg', data: Buffer): void {
    const png = data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const jpeg = data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff;
    if (data.length > 256 * 1024) throw new ValidationError('The logo is larger than 256 KB.', [{ path: 'body.branding.logo.data', message: 'at most 256 KB' }]);
    if ((mediaType === 'image/png' && !png) || (mediaType === 'image/jpeg' && !jpeg)) {
      throw new ValidationError(`The logo's bytes are not a ${mediaType === 'image/png' ? 'PNG' : 'JPEG'} image.`, [{ path: 'body.branding.logo.data', message: `not a ${mediaType} image` }]);
    }
  }

  async function updateSettings(ctx: UserCtx, input: {
    limits?: Partial<Pick<SettingsRow, 'maxConcurrentRuns' | 'maxRunsPerDay' | 'minScheduleIntervalSeconds' | 'maxSchedules'>>;
    branding?: { name?: string | null; accentColor?: string; footerText?: string | null; logo?: { mediaType: 'image/png' | 'image/jpeg'; data: string } | null };
  }) {
    const logoInput = input.branding?.logo;
    const logo = logoInput ? { mediaType: logoInput.mediaType, data: Buffer.from(logoInput.data, 'base64') } : logoInput;
    if (logo) checkLogo(logo.mediaType, logo.data);
    return db.withTenant(ctx.tenantId, async (tx) => {
      const before = await settingsRepo.get(tx, ctx.tenantId);
      const { logo: _logo, ...brandingPatch } = input.branding ?? {};
      const after: SettingsRow = {
        ...before,
        ...input.limits,
        branding: { ...before.branding, ...brandingPatch },
        ...(logo === undefined ? {} : logo === null ? { logo: null, logoMediaType: null } : { logo: logo.data, logoMediaType: logo.mediaType }),
        updatedAt: clock.now(),
      };
      await settingsRepo.put(tx, ctx.tenantId, after, ctx.principal.userId);
      const dto = toSettingsDto(after);
      await audit.record(tx, ctx, { action: 'playbook.settings.update', target: { type: 'tenant', id: ctx.tenantId }, before: toSettingsDto(before), after: dto });
      return dto;
    });
  }

  // ---- redaction rules ----------------------------------------------------------------------------------------

  function toRuleDto(row: { id: string; name: string; rule: Record<string, unknown>; createdBy: string; createdAt: Date }) {
    return { id: row.id, name: row.name, rule: row.rule, createdBy: row.createdBy, createdAt: isoOf(row.createdAt) };
  }

  async function listRedactionRules(ctx: UserCtx) {
    return db.withTenant(ctx.tenantId, async (tx) => ({ items: (await settingsRepo.redactionRules(tx, ctx.tenantId)).map(toRuleDto) }));
  }

  async function createRedactionRule(ctx: UserCtx, input: { name: string; rule: Record<string, unknown> }) {
    const id = uuidv7();
    const parsed = ruleSchema.safeParse({ ...input.rule, id });
    if (!parsed.success) {
      const fields = parsed.error.issues.map((i) => ({ path: ['body', 'rule', ...i.path.map(String)].join('.'), message: i.message }));
      throw new ValidationError(`The redaction rule is not valid: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`, fields);
    }
    const rule = parsed.data as { kind: string; pattern?: string; flags?: string } & Record<string, unknown>;
    if (rule.kind === 'regex') {
      const check = validateRedactionPattern(rule.pattern!, rule.flags);
      if (!check.ok) throw new ValidationError(`The redaction pattern cannot be used: ${check.message}`, [{ path: 'body.rule.pattern', message: check.message }]);
    }
    const { id: _id, ...stored } = rule;
    try {
      return await db.withTenant(ctx.tenantId, async (tx) => {
        const row = await settingsRepo.insertRedactionRule(tx, ctx.tenantId, { id, name: input.name, rule: stored, createdBy: ctx.principal.userId, createdAt: clock.now() });
        await audit.record(tx, ctx, { action: 'redaction-rule.create', target: { type: 'redaction-rule', id }, after: toRuleDto(row) });
        return toRuleDto(row);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`A redaction rule named "${input.name}" already exists.`, { field: 'name' });
      throw error;
    }
  }

  async function deleteRedactionRule(ctx: UserCtx, id: string) {
    await db.withTenant(ctx.tenantId, async (tx) => {
      const before = await settingsRepo.deleteRedactionRule(tx, ctx.tenantId, id);
      if (!before) throw new NotFoundError('Redaction rule', id);
      await audit.record(tx, ctx, { action: 'redaction-rule.delete', target: { type: 'redaction-rule', id }, before: toRuleDto(before) });
    });
  }

  return {
    createSchedule, updateSchedule, deleteSchedule, listSchedules, getSettings, updateSettings,
    listRedactionRules, createRedactionRule, deleteRedactionRule,
  };
}

export type PlaybookSettingsService = ReturnType<typeof createPlaybookSettingsService>;
