/**
 * Outbound ServiceNow incidents as jobs (issue 6 "Outbound"). A request is a row of `connector_outbound_requests`
 * written with its audit and a `connector.incident` job in one transaction; the push itself is the client's
 * `upsertByCorrelationId`, which looks the finding's correlation_id up before creating, so a retry, a DLQ replay or
 * a second request for the same finding updates the one incident instead of creating another.
 *
 * The HTTP route tries the push inline first (short deadline). The job is enqueued in the request's transaction
 * with a start delay longer than that deadline, so a crash after the commit still pushes, and the two never run at
 * once; when the inline try settles the request, its delayed job is withdrawn (and, after a retryable failure,
 * replaced by one that starts now).
 */
import { createHash } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import type { Clock } from '../../platform/clock.js';
import type { Actor } from '../../platform/context.js';
import type { Database, Sql } from '../../platform/db.js';
import { NotFoundError } from '../../platform/errors.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import { PermanentJobError, type JobContext, type JobType } from '../../platform/jobs/job-types.js';
import type { AuditService } from '../audit/index.js';
import { connectorRepo, type ConnectorRow } from './connector.repo.js';
import { ServiceNowError } from './servicenow/errors.js';
import type { ConnectorClientConfig, ServiceNowClientFactory } from './servicenow/sync.js';

export const OUTBOUND_JOB = 'connector.incident';
/** Attempts of the job (the inline try is not counted), with the jobs module's exponential backoff and jitter. */
export const OUTBOUND_RETRY = { maxAttempts: 4, baseDelayMs: 1_000, maxDelayMs: 5 * 60_000 };
/** The inline try's per-request deadline; the delayed job starts after INLINE_GRACE_MS, well after it. */
export const INLINE_TIMEOUT_MS = 5_000;
const INLINE_GRACE_MS = 30_000;

export const outboundPayload = z.object({ connectorId: z.uuid(), requestId: z.uuid() }).strict();

export type IncidentInput = { findingKey: string; shortDescription: string; description?: string; priority?: number; entityIds?: string[] };
export type OutboundSource = { type: 'api' } | { type: 'playbook'; playbookId: string; runId: string; stepId: string };
type Scope = { tenantId: string; actor: Actor; requestId: string | null };

export type OutboundRow = {
  id: string;
  connectorId: string;
  findingKey: string;
  correlationId: string;
  fields: IncidentInput;
  source: OutboundSource;
  status: 'queued' | 'pushed' | 'failed';
  jobId: string;
  attempts: number;
  sysId: string | null;
  number: string | null;
  created: boolean | null;
  error: { kind: string; message: string } | null;
  createdAt: Date;
  updatedAt: Date;
};
const COLS = `id, connector_id as "connectorId", finding_key as "findingKey", correlation_id as "correlationId", fields, source, status,
  job_id as "jobId", attempts, sys_id as "sysId", number, created, error, created_at as "createdAt", updated_at as "updatedAt"`;

export const outboundRepo = {
  async insert(tx: Sql, tenantId: string, r: { id: string; connectorId: string; findingKey: string; correlationId: string; fields: IncidentInput; source: OutboundSource; jobId: string; at: Date }) {
    await tx.query(
      `insert into connector_outbound_requests (tenant_id, id, connector_id, finding_key, correlation_id, fields, source, status, job_id, created_at, updated_at)
       values ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, 'queued', $8, $9, $9)`,
      [tenantId, r.id, r.connectorId, r.findingKey, r.correlationId, JSON.stringify(r.fields), JSON.stringify(r.source), r.jobId, r.at],
    );
  },
  async get(tx: Sql, tenantId: string, connectorId: string, id: string): Promise<OutboundRow | null> {
    const { rows } = await tx.query<OutboundRow>(`select ${COLS} from connector_outbound_requests where tenant_id = $1 and connector_id = $2 and id = $3`, [tenantId, connectorId, id]);
    return rows[0] ?? null;
  },
  async settle(tx: Sql, tenantId: string, id: string, s: { status: OutboundRow['status']; sysId?: string; number?: string; created?: boolean; error?: OutboundRow['error']; jobId?: string; at: Date }) {
    await tx.query(
      `update connector_outbound_requests set status = $3, attempts = attempts + 1, sys_id = coalesce($4, sys_id), number = coalesce($5, number),
         created = coalesce($6, created), error = $7::jsonb, job_id = coalesce($8, job_id), updated_at = $9
       where tenant_id = $1 and id = $2`,
      [tenantId, id, s.status, s.sysId ?? null, s.number ?? null, s.created ?? null, s.error ? JSON.stringify(s.error) : null, s.jobId ?? null, s.at],
    );
  },
};

export function toOutboundDto(row: OutboundRow) {
  return {
    requestId: row.id,
    connectorId: row.connectorId,
    findingKey: row.findingKey,
    status: row.status,
    jobId: row.jobId,
    attempts: row.attempts,
    sysId: row.sysId,
    number: row.number,
    created: row.created,
    error: row.error,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The correlation_id of a finding: stable per tenant and finding key, opaque, and safe in an encoded query. */
export function correlationIdFor(tenantId: string, findingKey: string): string {
  return `summit-${createHash('sha256').update(`${tenantId}\u0000${findingKey}`).digest('hex').slice(0, 40)}`;
}

/**
 * Requests a push in the caller's transaction: the request row, its audit (`connector.incident.request`) and the
 * `connector.incident` job. Throws NotFoundError when the connector does not exist in the tenant (a playbook step
 * names it, and is only checked at run time). The job type is registered by the connectors module.
 */
export async function requestOutboundIncident(
  tx: Sql,
  deps: { clock: Clock; audit: Pick<AuditService, 'record'>; jobs: Pick<JobQueue, 'enqueue'> },
  scope: Scope,
  connectorId: string,
  input: IncidentInput,
  source: OutboundSource,
  options: { startAfter?: Date } = {},
) {
  if (!(await connectorRepo.get(tx, scope.tenantId, connectorId))) throw new NotFoundError('Connector', connectorId);
  const id = uuidv7();
  const correlationId = correlationIdFor(scope.tenantId, input.findingKey);
  const jobId = await deps.jobs.enqueue(tx, scope, OUTBOUND_JOB, { connectorId, requestId: id }, { idempotencyKey: `${OUTBOUND_JOB}:${id}`, startAfter: options.startAfter });
  await outboundRepo.insert(tx, scope.tenantId, { id, connectorId, findingKey: input.findingKey, correlationId, fields: input, source, jobId, at: deps.clock.now() });
  await deps.audit.record(tx, scope, { action: 'connector.incident.request', target: { type: 'connector', id: connectorId }, after: { requestId: id, jobId, findingKey: input.findingKey, correlationId, source } });
  return { requestId: id, jobId, correlationId };
}

/** 401/403 and refusals of the request itself cannot be fixed by trying again; outages, 429 and network errors can. */
export function isPermanentPushError(error: unknown): boolean {
  return error instanceof ServiceNowError && !error.retryable;
}

export function createOutbound(deps: {
  db: Database;
  clock: Clock;
  audit: Pick<AuditService, 'record'>;
  jobs: Pick<JobQueue, 'enqueue'>;
  clientFor: ServiceNowClientFactory;
  clientConfigOf: (tenantId: string, row: ConnectorRow) => ConnectorClientConfig;
  onOutcome?: (outcome: 'created' | 'updated' | 'failed') => void;
}) {
  const { db, clock, audit } = deps;

  const request = (tx: Sql, scope: Scope, connectorId: string, input: IncidentInput, source: OutboundSource, options: { startAfter?: Date } = {}) =>
    requestOutboundIncident(tx, deps, scope, connectorId, input, source, options);

  type PushResult = { ok: true; sysId: string; number: string; created: boolean } | { ok: false; permanent: boolean; error: unknown };

  /** One push of a request; settles and audits the row on success and on a permanent (or final) failure. */
  async function push(scope: Scope, connectorId: string, requestId: string, mode: { inline: boolean; final: boolean }): Promise<PushResult | null> {
    const loaded = await db.withTenant(scope.tenantId, async (tx) => ({
      row: await outboundRepo.get(tx, scope.tenantId, connectorId, requestId),
      connector: await connectorRepo.get(tx, scope.tenantId, connectorId),
    }));
    if (!loaded.row || !loaded.connector) return { ok: false, permanent: true, error: new PermanentJobError(`the connector or outbound request ${requestId} no longer exists`) };
    const { row, connector } = loaded;
    if (row.status === 'pushed') return null;
    // The job's backoff does the retrying; the client tries each request once (twice for the job).
    // Inline: no client retries and no waiting out a 429, so the HTTP answer comes within the deadline. Job: a short
    // Retry-After is waited out, a long one fails the attempt (the job's backoff then spaces the next one).
    const config = {
      ...deps.clientConfigOf(scope.tenantId, connector),
      ...(mode.inline
        ? { timeoutMs: INLINE_TIMEOUT_MS, retry: { maxAttempts: 1, maxRateLimitWaits: 0 } }
        : { retry: { maxAttempts: 2, baseDelayMs: 200, maxRetryAfterMs: 60_000 } }),
    };
    const client = deps.clientFor(scope.tenantId, connector.id, config);
    const f = row.fields;
    const entities = f.entityIds?.length ? `\n\nSummit entities: ${f.entityIds.join(', ')}` : '';
    const target = { type: 'connector', id: connectorId };
    try {
      const result = await client.upsertByCorrelationId(row.correlationId, {
        shortDescription: f.shortDescription,
        description: `${f.description ?? ''}${entities}`.trim(),
        priority: f.priority,
        correlationDisplay: 'Summit',
      });
      const out = { sysId: result.record.sysId, number: result.record.number, created: result.created };
      await db.withTenant(scope.tenantId, async (tx) => {
        await outboundRepo.settle(tx, scope.tenantId, requestId, { status: 'pushed', ...out, error: null, at: clock.now() });
        await audit.record(tx, scope, { action: 'connector.incident.pushed', target, after: { requestId, ...out, findingKey: row.findingKey, correlationId: row.correlationId, inline: mode.inline } });
      });
      deps.onOutcome?.(result.created ? 'created' : 'updated');
      return { ok: true, ...out };
    } catch (error) {
      const permanent = isPermanentPushError(error);
      const failure = { kind: error instanceof ServiceNowError ? error.kind : 'internal', message: error instanceof Error ? error.message : String(error) };
      const settled = permanent || mode.final;
      await db.withTenant(scope.tenantId, async (tx) => {
        await outboundRepo.settle(tx, scope.tenantId, requestId, { status: settled ? 'failed' : 'queued', error: failure, at: clock.now() });
        if (settled) await audit.record(tx, scope, { action: 'connector.incident.failed', target, outcome: 'failure', after: { requestId, findingKey: row.findingKey, ...failure, permanent, inline: mode.inline } });
      });
      deps.onOutcome?.('failed');
      return { ok: false, permanent, error };
    }
  }

  const job: JobType<typeof outboundPayload> = {
    name: OUTBOUND_JOB,
    payload: outboundPayload,
    retry: OUTBOUND_RETRY,
    timeoutSeconds: 120,
    perTenant: { concurrency: 4 },
    isRetryable: (error) => !(error instanceof PermanentJobError),
    async handle(ctx: JobContext, payload) {
      const scope = { tenantId: ctx.tenantId, actor: ctx.actor, requestId: ctx.requestId };
      const result = await push(scope, payload.connectorId, payload.requestId, { inline: false, final: ctx.attempt >= OUTBOUND_RETRY.maxAttempts });
      if (!result || result.ok) return;
      const message = result.error instanceof Error ? result.error.message : String(result.error);
      if (result.permanent) throw new PermanentJobError(message, { cause: result.error });
      throw result.error;
    },
  };

  /** Withdraws a request's delayed job (not yet started) in the caller's transaction. */
  async function withdrawJob(tx: Sql, jobId: string) {
    await tx.query(`delete from pgboss.job where name = $1 and id = $2 and state = 'created'`, [OUTBOUND_JOB, jobId]);
  }

  /**
   * The HTTP path: request (row + audit + delayed job) then an inline try. Success or a permanent failure withdraws
   * the delayed job; a retryable failure replaces it with one that starts now.
   */
  async function requestAndTry(scope: Scope, connectorId: string, input: IncidentInput) {
    const req = await db.withTenant(scope.tenantId, (tx) => request(tx, scope, connectorId, input, { type: 'api' }, { startAfter: new Date(clock.now().getTime() + INLINE_GRACE_MS) }));
    const result = await push(scope, connectorId, req.requestId, { inline: true, final: false });
    if (result === null) return { kind: 'queued' as const, requestId: req.requestId, jobId: req.jobId };
    if (result.ok || result.permanent) {
      await db.withTenant(scope.tenantId, (tx) => withdrawJob(tx, req.jobId));
      return result.ok ? { kind: 'pushed' as const, requestId: req.requestId, ...result } : { kind: 'failed' as const, requestId: req.requestId, error: result.error };
    }
    const jobId = await db.withTenant(scope.tenantId, async (tx) => {
      await withdrawJob(tx, req.jobId);
      const { rowCount } = await tx.query(`select 1 from pgboss.job where name = $1 and id = $2`, [OUTBOUND_JOB, req.jobId]);
      if (rowCount) return req.jobId; // it already started: leave it
      const next = await deps.jobs.enqueue(tx, scope, OUTBOUND_JOB, { connectorId, requestId: req.requestId }, { idempotencyKey: `${OUTBOUND_JOB}:${req.requestId}` });
      await tx.query('update connector_outbound_requests set job_id = $3 where tenant_id = $1 and id = $2', [scope.tenantId, req.requestId, next]);
      return next;
    });
    return { kind: 'queued' as const, requestId: req.requestId, jobId };
  }

  async function get(tenantId: string, connectorId: string, requestId: string) {
    return db.withTenant(tenantId, async (tx) => {
      if (!(await connectorRepo.get(tx, tenantId, connectorId))) throw new NotFoundError('Connector', connectorId);
      const row = await outboundRepo.get(tx, tenantId, connectorId, requestId);
      if (!row) throw new NotFoundError('Outbound request', requestId);
      return toOutboundDto(row);
    });
  }

  return { job, request, requestAndTry, get };
}

export type Outbound = ReturnType<typeof createOutbound>;
