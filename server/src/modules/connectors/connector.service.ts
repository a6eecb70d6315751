/**
 * Connector use cases: configuration (secrets sealed, never returned), a sync schedule kept as a row of the jobs
 * module's `schedules`, starting a sync (run row, audit and job in one transaction), runs, health, the connection
 * test and outbound incidents. No HTTP here; errors are AppErrors.
 */
import { checkOutboundUrl, type OutboundPolicy } from '../../platform/outbound-url.js';
import { v7 as uuidv7 } from 'uuid';
import { toIso, type Clock } from '../../platform/clock.js';
import type { TenantCtx } from '../../platform/context.js';
import { isUniqueViolation, type Database, type Sql } from '../../platform/db.js';
import { ConflictError, NotFoundError, UpstreamError, ValidationError } from '../../platform/errors.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import type { UserCtx } from '../../platform/request-context.js';
import type { AuditService } from '../audit/index.js';
import { cronProblems, nextFires, scheduleRepo } from '../jobs/index.js';
import type { SecretBox } from '../../platform/secret-box.js';
import { connectorRepo, type ConnectorRow, type RunRow } from './connector.repo.js';
import type { ConnectorConfigInput } from './connector.schemas.js';
import { ServiceNowError } from './servicenow/errors.js';
import { validateExtraQuery } from './servicenow/keyset-pager.js';
import type { ServiceNowClientFactory } from './servicenow/sync.js';
import { createOutbound, type IncidentInput } from './outbound.job.js';

export const SYNC_JOB = 'connector.sync';
type Secrets = { password?: string; clientSecret?: string };
type StoredConfig = Omit<ConnectorConfigInput, 'auth'> & { auth: { type: 'basic' | 'oauth'; username?: string; clientId?: string } };

function splitSecrets(auth: ConnectorConfigInput['auth']): { publicAuth: StoredConfig['auth']; secrets: Secrets } {
  if (auth.type === 'basic') return { publicAuth: { type: 'basic', username: auth.username }, secrets: { password: auth.password } };
  return { publicAuth: { type: 'oauth', clientId: auth.clientId, username: auth.username }, secrets: { clientSecret: auth.clientSecret, password: auth.password } };
}

export function toConnectorDto(row: ConnectorRow) {
  const c = row.config as StoredConfig;
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    config: {
      instanceUrl: c.instanceUrl,
      table: c.table,
      auth: { type: c.auth.type, username: c.auth.username ?? null, clientId: c.auth.clientId ?? null, hasSecret: true },
      query: c.query ?? null,
      schedule: c.schedule ?? null,
      rateLimit: row.rateLimit,
      pageSize: row.pageSize,
      fieldMap: c.fieldMap ?? null,
    },
    scheduleId: row.scheduleId,
    createdAt: toIso(row.createdAt)!,
    updatedAt: toIso(row.updatedAt)!,
  };
}

export function toRunDto(run: RunRow) {
  const { fetched, created, updated, unchanged, failed, pages } = run;
  return {
    id: run.id,
    connectorId: run.connectorId,
    status: run.status,
    trigger: run.trigger,
    counts: { fetched, created, updated, unchanged, failed, pages },
    error: run.error,
    startedAt: toIso(run.startedAt),
    finishedAt: toIso(run.finishedAt),
  };
}

export { correlationIdFor } from './outbound.job.js';

export function createConnectorService(deps: {
  db: Database;
  clock: Clock;
  audit: Pick<AuditService, 'record'>;
  jobs: Pick<JobQueue, 'enqueue' | 'cancelScheduled'>;
  secrets: SecretBox;
  clientFor: ServiceNowClientFactory;
  /** Counts outbound outcomes (created, updated, failed) of inline and job pushes. */
  onOutbound?: (outcome: string) => void;
  /** Where instances may be (platform/outbound-url.ts): in prod, https to public addresses only. */
  outboundPolicy: OutboundPolicy;
}) {
  const { db, clock, audit, secrets } = deps;
  const sealContext = (tenantId: string, id: string) => `connector:${tenantId}:${id}`;

  async function mustGet(tx: Sql, tenantId: string, id: string, forUpdate = false): Promise<ConnectorRow> {
    const row = await connectorRepo.get(tx, tenantId, id, forUpdate);
    if (!row) throw new NotFoundError('Connector', id);
    return row;
  }

  function checkConfig(config: Pick<ConnectorConfigInput, 'query' | 'schedule' | 'instanceUrl'>) {
    const problems = config.schedule ? cronProblems(config.schedule.cron, config.schedule.timezone, { cron: 'body.config.schedule.cron', timezone: 'body.config.schedule.timezone' }) : [];
    const url = checkOutboundUrl(config.instanceUrl, deps.outboundPolicy, { allowQuery: false });
    if (!url.ok) problems.push({ path: 'body.config.instanceUrl', message: url.problem });
    if (config.query) {
      try {
        validateExtraQuery(config.query);
      } catch (error) {
        problems.push({ path: 'body.config.query', message: (error as Error).message });
      }
    }
    if (problems.length) throw new ValidationError(`The connector configuration is not valid: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);
  }

  /** Creates, updates or removes the sync schedule so it matches config.schedule. */
  async function syncSchedule(tx: Sql, ctx: UserCtx, connectorId: string, name: string, current: string | null, schedule: ConnectorConfigInput['schedule']): Promise<string | null> {
    if (current) await deps.jobs.cancelScheduled(tx, SYNC_JOB, current);
    if (!schedule) {
      if (current) await scheduleRepo.delete(tx, ctx.tenantId, current);
      return null;
    }
    const write = {
      name: `Connector "${name}" sync`.slice(0, 100),
      jobType: SYNC_JOB,
      payload: { connectorId },
      cron: schedule.cron,
      timezone: schedule.timezone,
      enabled: true,
      catchUp: 'run-once' as const,
      nextFireAt: nextFires(schedule.cron, schedule.timezone, clock.now(), 1)[0] ?? null,
    };
    if (current) return (await scheduleRepo.update(tx, ctx.tenantId, current, write)).id;
    return (await scheduleRepo.insert(tx, { ...write, tenantId: ctx.tenantId, id: uuidv7(), ownerId: ctx.principal.userId })).id;
  }

  function nameConflict(error: unknown, name: string | undefined): never {
    if (isUniqueViolation(error)) throw new ConflictError(`A connector named "${name}" already exists in this tenant.`, { field: 'name' });
    throw error;
  }

  async function create(ctx: UserCtx, input: { kind: 'servicenow'; name: string; config: ConnectorConfigInput }) {
    checkConfig(input.config);
    const id = uuidv7();
    const { publicAuth, secrets: plain } = splitSecrets(input.config.auth);
    const { rateLimit, pageSize, ...rest } = input.config;
    try {
      return await db.withTenant(ctx.tenantId, async (tx) => {
        const scheduleId = await syncSchedule(tx, ctx, id, input.name, null, input.config.schedule);
        const row = await connectorRepo.insert(tx, ctx.tenantId, {
          id, kind: input.kind, name: input.name, config: { ...rest, auth: publicAuth }, secretSealed: secrets.seal(JSON.stringify(plain), sealContext(ctx.tenantId, id)),
          scheduleId, rateLimit, pageSize, createdBy: ctx.principal.userId, at: clock.now(),
        });
        const dto = toConnectorDto(row);
        await audit.record(tx, ctx, { action: 'connector.create', target: { type: 'connector', id }, after: dto });
        return dto;
      });
    } catch (error) {
      nameConflict(error, input.name);
    }
  }

  async function update(ctx: UserCtx, id: string, patch: { name?: string; config?: Partial<Omit<ConnectorConfigInput, 'auth' | 'schedule'>> & { auth?: ConnectorConfigInput['auth']; schedule?: ConnectorConfigInput['schedule'] | null } }) {
    try {
      return await db.withTenant(ctx.tenantId, async (tx) => {
        const before = await mustGet(tx, ctx.tenantId, id, true);
        const stored = before.config as StoredConfig;
        const name = patch.name ?? before.name;
        const given = Object.fromEntries(Object.entries(patch.config ?? {}).filter(([, v]) => v !== undefined));
        const next = { ...stored, rateLimit: before.rateLimit, pageSize: before.pageSize, ...given } as StoredConfig & Pick<ConnectorConfigInput, 'rateLimit' | 'pageSize'>;
        // schedule: null removes the schedule; left out keeps it.
        if (patch.config?.schedule === null) delete next.schedule;
        checkConfig(next);
        let secretSealed = before.secretSealed;
        let auth = stored.auth;
        if (patch.config?.auth) {
          const split = splitSecrets(patch.config.auth);
          auth = split.publicAuth;
          secretSealed = secrets.seal(JSON.stringify(split.secrets), sealContext(ctx.tenantId, id));
        }
        const { rateLimit, pageSize, auth: _auth, ...rest } = next;
        const scheduleId = await syncSchedule(tx, ctx, id, name, before.scheduleId, next.schedule);
        const row = await connectorRepo.update(tx, ctx.tenantId, id, { name, config: { ...rest, auth }, secretSealed, scheduleId, rateLimit: rateLimit as Record<string, number>, pageSize: pageSize as number, at: clock.now() });
        const dto = toConnectorDto(row);
        await audit.record(tx, ctx, { action: 'connector.update', target: { type: 'connector', id }, before: toConnectorDto(before), after: { ...dto, credentialsChanged: Boolean(patch.config?.auth) } });
        return dto;
      });
    } catch (error) {
      nameConflict(error, patch.name);
    }
  }

  async function remove(ctx: UserCtx, id: string) {
    await db.withTenant(ctx.tenantId, async (tx) => {
      const before = await mustGet(tx, ctx.tenantId, id, true);
      if (before.scheduleId) {
        await deps.jobs.cancelScheduled(tx, SYNC_JOB, before.scheduleId);
        await scheduleRepo.delete(tx, ctx.tenantId, before.scheduleId);
      }
      await connectorRepo.delete(tx, ctx.tenantId, id);
      await audit.record(tx, ctx, { action: 'connector.delete', target: { type: 'connector', id }, before: toConnectorDto(before) });
    });
  }

  /** The connector's client configuration with its secrets opened. */
  function clientConfigOf(tenantId: string, row: ConnectorRow) {
    const c = row.config as StoredConfig;
    const s = JSON.parse(secrets.open(row.secretSealed, sealContext(tenantId, row.id))) as Secrets;
    const auth =
      c.auth.type === 'basic'
        ? { type: 'basic' as const, username: c.auth.username!, password: s.password! }
        : c.auth.username && s.password
          ? { type: 'oauth' as const, grant: 'password' as const, clientId: c.auth.clientId!, clientSecret: s.clientSecret!, username: c.auth.username, password: s.password }
          : { type: 'oauth' as const, grant: 'client_credentials' as const, clientId: c.auth.clientId!, clientSecret: s.clientSecret! };
    return { instanceUrl: c.instanceUrl, table: c.table, auth, rateLimit: row.rateLimit, pageSize: row.pageSize, query: c.query, fieldMap: c.fieldMap };
  }

  // The outbound job lives with the service that owns its table; the module hands it to the composition root.
  const outbound = createOutbound({ db, clock, audit, jobs: deps.jobs, clientFor: deps.clientFor, clientConfigOf, onOutcome: deps.onOutbound });

  async function test(ctx: UserCtx, id: string) {
    const row = await db.withTenant(ctx.tenantId, (tx) => mustGet(tx, ctx.tenantId, id));
    const client = deps.clientFor(ctx.tenantId, row.id, clientConfigOf(ctx.tenantId, row));
    const result = await client.checkConnection();
    await db.withTenant(ctx.tenantId, (tx) =>
      audit.record(tx, ctx, { action: 'connector.test', target: { type: 'connector', id }, outcome: result.ok ? 'success' : 'failure', after: result.ok ? { ok: true } : { ok: false, kind: result.kind } }),
    );
    return result.ok ? { ok: true, kind: null, message: 'Reached the instance and read the table with these credentials.' } : { ok: false, kind: result.kind, message: result.message };
  }

  async function startSync(ctx: UserCtx, id: string) {
    return db.withTenant(ctx.tenantId, async (tx) => {
      await mustGet(tx, ctx.tenantId, id);
      const runId = uuidv7();
      await connectorRepo.insertRun(tx, ctx.tenantId, { id: runId, connectorId: id, trigger: 'manual', status: 'queued', at: clock.now() });
      await audit.record(tx, ctx, { action: 'connector.sync', target: { type: 'connector', id }, after: { runId } });
      await deps.jobs.enqueue(tx, ctx, SYNC_JOB, { connectorId: id, runId }, { idempotencyKey: `${SYNC_JOB}:${runId}` });
      return { runId };
    });
  }

  async function listRuns(ctx: TenantCtx, id: string, limit = 50) {
    return db.withTenant(ctx.tenantId, async (tx) => {
      await mustGet(tx, ctx.tenantId, id);
      return { items: (await connectorRepo.listRuns(tx, ctx.tenantId, id, limit)).map(toRunDto) };
    });
  }

  async function health(ctx: TenantCtx, id: string, throttled: boolean) {
    const now = clock.now();
    return db.withTenant(ctx.tenantId, async (tx) => {
      await mustGet(tx, ctx.tenantId, id);
      const cursor = await connectorRepo.getCursor(tx, ctx.tenantId, id);
      const stats = await connectorRepo.requestStats(tx, ctx.tenantId, id, new Date(now.getTime() - 3_600_000));
      const lastRun = await connectorRepo.lastRun(tx, ctx.tenantId, id);
      const errorRate = stats.total ? stats.errors / stats.total : 0;
      const status = !lastRun && !cursor?.lastSuccessAt ? 'never_synced' : lastRun?.status === 'failed' ? 'failing' : lastRun?.status === 'partial' || errorRate > 0.05 ? 'degraded' : 'healthy';
      return {
        status: status as 'healthy' | 'degraded' | 'failing' | 'never_synced',
        lastSuccessAt: toIso(cursor?.lastSuccessAt ?? null),
        watermark: toIso(cursor?.watermark ?? null),
        lagSeconds: cursor?.watermark ? Math.max(0, Math.round((now.getTime() - new Date(cursor.watermark).getTime()) / 1000)) : null,
        lastHour: { requests: stats.total, errorRate, p95LatencyMs: stats.p95Ms },
        throttled,
        recordsSynced: Number(cursor?.recordsSynced ?? 0),
        lastRun: lastRun ? toRunDto(lastRun) : null,
      };
    });
  }

  /**
   * Creates or updates the ServiceNow incident of a finding through the `connector.incident` job (see
   * outbound.job.ts): the request, its audit and the job commit together, then the push is tried inline. The
   * correlation_id makes a retry, a replay or a second request update, never duplicate.
   */
  async function pushIncident(ctx: UserCtx, id: string, input: IncidentInput) {
    const result = await outbound.requestAndTry(ctx, id, input);
    if (result.kind === 'failed') {
      const error = result.error;
      if (error instanceof ServiceNowError) throw new UpstreamError(`ServiceNow refused the incident: ${error.message}`, { cause: error });
      throw error;
    }
    return result;
  }

  return {
    create,
    update,
    remove,
    test,
    startSync,
    listRuns,
    health,
    pushIncident,
    /** For other modules (a playbook's create-incident step): request a push in the caller's transaction. */
    requestIncident: outbound.request,
    getIncidentRequest: (ctx: TenantCtx, id: string, requestId: string) => outbound.get(ctx.tenantId, id, requestId),
    clientConfigOf,
    outboundJob: outbound.job,
    list: (ctx: TenantCtx) => db.withTenant(ctx.tenantId, async (tx) => ({ items: (await connectorRepo.list(tx, ctx.tenantId)).map(toConnectorDto) })),
    get: (ctx: TenantCtx, id: string) => db.withTenant(ctx.tenantId, async (tx) => toConnectorDto(await mustGet(tx, ctx.tenantId, id))),
  };
}

export type ConnectorService = ReturnType<typeof createConnectorService>;
