/**
 * Playbook runs: requested through the API, a share link or a schedule; executed by the `playbook.run` job; traced,
 * stored with their results and provenance, audited at request and at finish, cancellable, annotated, exported.
 */
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import type { Clock } from '../../platform/clock.js';
import type { Actor } from '../../platform/context.js';
import type { Database, Sql } from '../../platform/db.js';
import { ConflictError, NotFoundError, QuotaExceededError, ValidationError } from '../../platform/errors.js';
import type { JobContext, JobType } from '../../platform/jobs/job-types.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import { decodeCursor, toPage } from '../../platform/pagination.js';
import type { UserCtx } from '../../platform/request-context.js';
import type { AuditService } from '../audit/index.js';
import type { NotificationsModule } from '../notifications/index.js';
import type { PlaybookAccess } from './access.js';
import { runPlaybook, StepFailure, type IncidentRequester, type RunOutcome } from './engine.js';
// The connectors module's outbound request (row + audit + job in one transaction). Imported from its file because
// the connectors module is built after this one; its index should re-export it (see the outbound report).
import { requestOutboundIncident } from '../connectors/index.js';
import { buildExport, type ExportFormat, type RenderedExport } from './export-model.js';
import { createGraphReader } from './graph-reader.js';
import { resolveParams } from './params.js';
import { playbookRepo, runRepo, settingsRepo, type PlaybookRow, type RunRow, type RunTrigger } from './playbook.repo.js';
import { isoOf } from './playbook.repo.js';
import type { PlaybookService } from './playbook.service.js';

export const RUN_JOB = 'playbook.run';
/** Each step may take this long before it is stopped and the run fails naming it. */
export const STEP_TIMEOUT_MS = 30_000;
/** A step's output is cut to this many entities, with a warning in the trace. */
export const ROW_LIMIT = 10_000;
/** How often a running run looks for a cancel request made through another process. */
const CANCEL_POLL_MS = 1_000;

const notifySchema = z.object({ export: z.enum(['md', 'pdf']).optional(), onFailure: z.boolean().default(true) });
export type Notify = z.output<typeof notifySchema>;
const runJobPayload = z.union([
  z.object({ runId: z.uuid() }).strict(),
  z.object({ playbookId: z.uuid(), scheduleId: z.uuid(), params: z.record(z.string(), z.unknown()), notify: notifySchema }).strict(),
]);

type Scope = { tenantId: string; actor: Actor; requestId: string | null };

export function toRunDto(row: RunRow) {
  return {
    id: row.id,
    playbookId: row.playbookId,
    version: row.version,
    status: row.status,
    trigger: row.trigger,
    requestedBy: row.requestedBy,
    scheduleId: row.scheduleId,
    params: row.params,
    trace: row.trace,
    error: row.error,
    createdAt: isoOf(row.createdAt),
    startedAt: row.startedAt ? isoOf(row.startedAt) : null,
    finishedAt: row.finishedAt ? isoOf(row.finishedAt) : null,
  };
}

function startOfUtcDay(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

export function createRunService(deps: {
  db: Database;
  clock: Clock;
  audit: Pick<AuditService, 'record'>;
  jobs: Pick<JobQueue, 'enqueue'>;
  access: PlaybookAccess;
  playbooks: PlaybookService;
  raise: NotificationsModule['raise'];
  stepTimeoutMs?: number;
  rowLimit?: number;
}) {
  const { db, clock, audit, jobs, access, playbooks } = deps;
  /** Runs executing in this process, so a cancel made here stops them at once. */
  const running = new Map<string, AbortController>();

  /** The tenant's run limits; the message says which and when it frees up. */
  async function checkLimits(tx: Sql, tenantId: string): Promise<string | null> {
    const settings = await settingsRepo.get(tx, tenantId);
    const active = await runRepo.countActive(tx, tenantId);
    if (active >= settings.maxConcurrentRuns) {
      return `This tenant already has ${active} playbook runs queued or running, its limit (${settings.maxConcurrentRuns}); wait for one to finish or cancel one.`;
    }
    const today = await runRepo.countSince(tx, tenantId, startOfUtcDay(clock.now()));
    if (today >= settings.maxRunsPerDay) {
      return `This tenant has started ${today} playbook runs today (UTC), its daily limit (${settings.maxRunsPerDay}); the count resets at 00:00 UTC.`;
    }
    return null;
  }

  async function definitionOf(tx: Sql, tenantId: string, playbook: PlaybookRow) {
    const version = await playbookRepo.getVersion(tx, tenantId, playbook.id, playbook.currentVersion);
    return version!.definition as { parameters?: unknown[] } & Record<string, unknown>;
  }

  function checkParams(definition: { parameters?: unknown[] }, given: Record<string, unknown>, base: string) {
    const resolved = resolveParams((definition.parameters ?? []) as never, given);
    if (resolved.ok) return resolved.values as Record<string, unknown>;
    const fields = resolved.errors.map((e) => ({ path: `${base}.${e.path.replace(/^params\./, '')}`, message: e.message }));
    throw new ValidationError(`The run parameters are not valid: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`, fields);
  }

  /** Records a run as queued and enqueues it, in the caller's transaction. */
  async function enqueueRun(tx: Sql, scope: Scope, playbook: PlaybookRow, given: Record<string, unknown>, trigger: RunTrigger, by: { userId: string | null; linkId?: string | null }) {
    const definition = await definitionOf(tx, scope.tenantId, playbook);
    const params = checkParams(definition, given, 'body.params');
    const limit = await checkLimits(tx, scope.tenantId);
    if (limit) throw new QuotaExceededError(limit);
    const run = await runRepo.insert(tx, {
      tenantId: scope.tenantId, id: uuidv7(), playbookId: playbook.id, version: playbook.currentVersion, status: 'queued', trigger,
      requestedBy: by.userId, linkId: by.linkId ?? null, scheduleId: null, params, createdAt: clock.now(),
    });
    await jobs.enqueue(tx, scope, RUN_JOB, { runId: run.id });
    await audit.record(tx, scope, {
      action: 'playbook.run.request', target: { type: 'playbook', id: playbook.id },
      after: { runId: run.id, version: run.version, params, trigger, ...(by.linkId ? { linkId: by.linkId } : {}) },
    });
    return run;
  }

  async function start(ctx: UserCtx, playbookId: string, given: Record<string, unknown>) {
    return db.withTenant(ctx.tenantId, async (tx) => {
      const { playbook } = await playbooks.load(tx, ctx, playbookId, 'playbook:run');
      return toRunDto(await enqueueRun(tx, ctx, playbook, given, 'manual', { userId: ctx.principal.userId }));
    });
  }

  /** Loads a run and checks the action on its playbook; another tenant's run or an invisible one is a 404. */
  async function loadRun(tx: Sql, ctx: UserCtx, runId: string, action: string, forUpdate = false) {
    const run = await runRepo.get(tx, ctx.tenantId, runId, forUpdate);
    if (!run) throw new NotFoundError('Run', runId);
    const playbook = await playbookRepo.get(tx, ctx.tenantId, run.playbookId);
    if (!playbook) throw new NotFoundError('Run', runId);
    const grants = await playbookRepo.grants(tx, ctx.tenantId, [playbook.id]);
    access.require(ctx, action, playbook, grants, 'Run');
    return { run, playbook };
  }

  async function annotationsOf(tx: Sql, tenantId: string, runId: string) {
    return (await runRepo.annotations(tx, tenantId, runId)).map((a) => ({
      id: a.id, entityId: a.entityId, text: a.text, authorId: a.authorId, createdAt: isoOf(a.createdAt),
    }));
  }

  async function get(ctx: UserCtx, runId: string) {
    return db.withTenant(ctx.tenantId, async (tx) => {
      const { run } = await loadRun(tx, ctx, runId, 'run:read');
      return { ...toRunDto(run), results: run.results, annotations: await annotationsOf(tx, ctx.tenantId, runId) };
    });
  }

  async function list(ctx: UserCtx, playbookId: string, query: { limit: number; cursor?: string }) {
    const after = decodeCursor(query.cursor, z.object({ id: z.uuid() }))?.id;
    return db.withTenant(ctx.tenantId, async (tx) => {
      await playbooks.load(tx, ctx, playbookId, 'playbook-run:list');
      const rows = await runRepo.list(tx, ctx.tenantId, playbookId, after, query.limit + 1);
      const page = toPage(rows, query.limit, (last) => ({ id: last.id }));
      return { ...page, items: page.items.map(toRunDto) };
    });
  }

  async function cancel(ctx: UserCtx, runId: string) {
    const result = await db.withTenant(ctx.tenantId, async (tx) => {
      const { run } = await loadRun(tx, ctx, runId, 'run:cancel', true);
      if (run.status === 'queued') {
        // The job finds the run cancelled and does nothing.
        const after = await runRepo.finish(tx, ctx.tenantId, runId, { status: 'cancelled', trace: [], results: null, error: null, at: clock.now() });
        await audit.record(tx, ctx, { action: 'playbook.run.cancel', target: { type: 'run', id: runId }, before: { status: run.status }, after: { status: 'cancelled' } });
        return after;
      }
      if (run.status === 'running') {
        await runRepo.requestCancel(tx, ctx.tenantId, runId);
        await audit.record(tx, ctx, { action: 'playbook.run.cancel', target: { type: 'run', id: runId }, before: { status: run.status }, after: { cancelRequested: true } });
        return { ...run, cancelRequested: true };
      }
      throw new ConflictError(`Run ${runId} has already finished (${run.status}); there is nothing to cancel.`);
    });
    running.get(runId)?.abort();
    return toRunDto(result);
  }

  async function annotate(ctx: UserCtx, runId: string, input: { text: string; entityId?: string }) {
    return db.withTenant(ctx.tenantId, async (tx) => {
      const { run } = await loadRun(tx, ctx, runId, 'run:annotate');
      if (run.status === 'queued' || run.status === 'running') {
        throw new ConflictError(`Run ${runId} is still ${run.status}; annotate it once it has finished.`);
      }
      const entities = (run.results?.entities ?? {}) as Record<string, unknown>;
      if (input.entityId && !(input.entityId in entities)) {
        throw new ValidationError(`Entity ${input.entityId} is not among this run's results.`, [{ path: 'body.entityId', message: 'not a finding of this run' }]);
      }
      const row = await runRepo.insertAnnotation(tx, ctx.tenantId, {
        id: uuidv7(), runId, entityId: input.entityId ?? null, text: input.text, authorId: ctx.principal.userId, createdAt: clock.now(),
      });
      await audit.record(tx, ctx, { action: 'playbook.run.annotate', target: { type: 'run', id: runId }, after: { annotationId: row.id, entityId: row.entityId } });
      return { id: row.id, entityId: row.entityId, text: row.text, authorId: row.authorId, createdAt: isoOf(row.createdAt) };
    });
  }

  /** The export of a finished run, redacted for the audience. */
  async function renderRun(tx: Sql, tenantId: string, run: RunRow, playbook: PlaybookRow, format: ExportFormat, audience: 'member' | 'share-link'): Promise<RenderedExport> {
    if (run.status === 'queued' || run.status === 'running') {
      throw new ConflictError(`Run ${run.id} is still ${run.status}; export it once it has finished.`);
    }
    return buildExport(tx, { tenantId, run, playbook, format, audience, now: clock.now() });
  }

  async function exportRun(ctx: UserCtx, runId: string, format: ExportFormat) {
    return db.withTenant(ctx.tenantId, async (tx) => {
      const { run, playbook } = await loadRun(tx, ctx, runId, 'run:export');
      const rendered = await renderRun(tx, ctx.tenantId, run, playbook, format, 'member');
      await audit.record(tx, ctx, {
        action: 'playbook.run.export', target: { type: 'run', id: runId },
        after: { format, sha256: rendered.sha256, redacted: rendered.redactedCount },
      });
      return rendered;
    });
  }

  // ---- execution ------------------------------------------------------------------------------------------------

  async function raiseFailure(tx: Sql, scope: Scope, playbook: Pick<PlaybookRow, 'id' | 'name'>, runId: string | null, error: { stepId: string | null; message: string }) {
    const where = error.stepId ? ` at step "${error.stepId}"` : '';
    await deps.raise(tx, scope, {
      kind: 'playbook.run.failed',
      groupKey: `playbook:${playbook.id}`,
      severity: 'warning',
      title: `Scheduled playbook "${playbook.name}" failed${where}`,
      detail: error.message,
      data: { playbookId: playbook.id, runId, stepId: error.stepId },
    });
  }

  /** A schedule fired: the run is created here, under the job's id, so a retried job finds its run. */
  async function createScheduledRun(ctx: JobContext, payload: { playbookId: string; scheduleId: string; params: Record<string, unknown>; notify: Notify }): Promise<string | null> {
    return db.withTenant(ctx.tenantId, async (tx) => {
      if (await runRepo.get(tx, ctx.tenantId, ctx.jobId)) return ctx.jobId;
      const playbook = await playbookRepo.get(tx, ctx.tenantId, payload.playbookId);
      if (!playbook) return null;
      const definition = await definitionOf(tx, ctx.tenantId, playbook);
      const scope: Scope = { tenantId: ctx.tenantId, actor: ctx.actor, requestId: null };
      const resolved = resolveParams((definition.parameters ?? []) as never, payload.params);
      const limit = await checkLimits(tx, ctx.tenantId);
      const problem = !resolved.ok
        ? `the schedule's parameters no longer fit version ${playbook.currentVersion}: ${resolved.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`
        : limit;
      if (problem) {
        // Not run at all: nothing to record as a run, but the tenant hears about it.
        await audit.record(tx, scope, { action: 'playbook.run.skip', target: { type: 'playbook', id: playbook.id }, after: { scheduleId: payload.scheduleId, reason: problem } });
        if (payload.notify.onFailure) await raiseFailure(tx, scope, playbook, null, { stepId: null, message: `The scheduled run was not started: ${problem}` });
        return null;
      }
      const run = await runRepo.insert(tx, {
        tenantId: ctx.tenantId, id: ctx.jobId, playbookId: playbook.id, version: playbook.currentVersion, status: 'queued',
        trigger: 'schedule', requestedBy: null, linkId: null, scheduleId: payload.scheduleId, params: resolved.ok ? resolved.values as Record<string, unknown> : {},
        createdAt: clock.now(),
      });
      await audit.record(tx, scope, {
        action: 'playbook.run.request', target: { type: 'playbook', id: playbook.id },
        after: { runId: run.id, version: run.version, params: run.params, trigger: 'schedule', scheduleId: payload.scheduleId },
      });
      return run.id;
    });
  }

  /** create-incident steps: enqueue the outbound push for the run's tenant; the finding key keeps it idempotent. */
  function incidentRequester(scope: Scope, playbookId: string, runId: string): IncidentRequester {
    return {
      async create(request) {
        const { stepId, connectorId, entityIds, ...fields } = request;
        try {
          return await db.withTenant(scope.tenantId, (tx) =>
            requestOutboundIncident(tx, { clock, audit, jobs }, scope, connectorId, { ...fields, entityIds }, { type: 'playbook', playbookId, runId, stepId }),
          );
        } catch (error) {
          if (error instanceof NotFoundError) throw new StepFailure(`step "${stepId}" (create-incident) names connector ${connectorId}, which does not exist in this tenant: pick one from GET /api/v1/connectors`);
          throw error;
        }
      },
    };
  }

  async function execute(ctx: JobContext, runId: string, notify: Notify | null) {
    const scope: Scope = { tenantId: ctx.tenantId, actor: ctx.actor, requestId: null };
    const prepared = await db.withTenant(ctx.tenantId, async (tx) => {
      const run = await runRepo.get(tx, ctx.tenantId, runId, true);
      // Cancelled while queued, or finished by an earlier attempt: nothing to do.
      if (!run || (run.status !== 'queued' && run.status !== 'running')) return null;
      const version = await playbookRepo.getVersion(tx, ctx.tenantId, run.playbookId, run.version);
      const playbook = await playbookRepo.get(tx, ctx.tenantId, run.playbookId);
      if (!version || !playbook) return null;
      await runRepo.markRunning(tx, ctx.tenantId, runId, clock.now());
      return { run, definition: version.definition, playbook };
    });
    if (!prepared) return;

    const controller = new AbortController();
    // Cancelled while a worker that had started it was lost: the retry stops at once.
    if (prepared.run.cancelRequested) controller.abort();
    running.set(runId, controller);
    const poll = setInterval(() => {
      db.withTenant(ctx.tenantId, (tx) => runRepo.cancelRequested(tx, ctx.tenantId, runId))
        .then((requested) => requested && controller.abort())
        .catch(() => undefined);
    }, CANCEL_POLL_MS);
    let outcome: RunOutcome;
    try {
      outcome = await runPlaybook(prepared.definition as never, prepared.run.params as never, createGraphReader(db, ctx.tenantId, { statementTimeoutMs: deps.stepTimeoutMs ?? STEP_TIMEOUT_MS, now: clock.now() }), {
        signal: controller.signal,
        stepTimeoutMs: deps.stepTimeoutMs ?? STEP_TIMEOUT_MS,
        rowLimit: deps.rowLimit ?? ROW_LIMIT,
        now: clock.now(),
        playbookId: prepared.run.playbookId,
        incidents: incidentRequester(scope, prepared.run.playbookId, runId),
      });
    } finally {
      clearInterval(poll);
      running.delete(runId);
    }

    await db.withTenant(ctx.tenantId, async (tx) => {
      const error = outcome.error ? { stepId: outcome.error.stepId ?? null, message: outcome.error.message } : null;
      const run = await runRepo.finish(tx, ctx.tenantId, runId, {
        status: outcome.status, trace: outcome.trace, results: outcome.status === 'succeeded' ? outcome.results : null, error, at: clock.now(),
      });
      await audit.record(tx, scope, {
        action: 'playbook.run.finish', target: { type: 'run', id: runId },
        after: {
          playbookId: run.playbookId, version: run.version, status: run.status, trigger: run.trigger, params: run.params,
          requestedBy: run.requestedBy, error, steps: outcome.trace.length,
        },
      });
      if (run.trigger !== 'schedule' || !notify) return;
      if (run.status === 'failed' && notify.onFailure && error) await raiseFailure(tx, scope, prepared.playbook, runId, error);
      if (run.status === 'succeeded' && notify.export) {
        const rendered = await renderRun(tx, ctx.tenantId, run, prepared.playbook, notify.export, 'member');
        await runRepo.saveExport(tx, ctx.tenantId, runId, notify.export, rendered.content, rendered.sha256, clock.now());
        await deps.raise(tx, scope, {
          kind: 'playbook.run.delivered',
          groupKey: `playbook:${run.playbookId}:run:${runId}`,
          severity: 'info',
          title: `Playbook "${prepared.playbook.name}" ran: export ready`,
          detail: `GET /api/v1/runs/${runId}/export?format=${notify.export} (SHA-256 ${rendered.sha256})`,
          data: { playbookId: run.playbookId, runId, format: notify.export, sha256: rendered.sha256, bytes: rendered.content.length },
        });
      }
    });
  }

  const runJob: JobType<typeof runJobPayload> = {
    name: RUN_JOB,
    payload: runJobPayload,
    // Runs are scheduled through /playbooks/{id}/schedules, which checks the playbook's ACL and the tenant's limits.
    schedulable: false,
    timeoutSeconds: 15 * 60,
    concurrency: 2,
    perTenant: { concurrency: 4 },
    retry: { maxAttempts: 3 },
    handle: async (ctx, payload) => {
      if ('runId' in payload) return execute(ctx, payload.runId, null);
      const runId = await createScheduledRun(ctx, payload);
      if (runId) await execute(ctx, runId, payload.notify);
    },
  };

  return { start, enqueueRun, loadRun, get, list, cancel, annotate, exportRun, renderRun, annotationsOf, runJob, checkLimits };
}

export type RunService = ReturnType<typeof createRunService>;
