/**
 * The sync job: reads incidents updated since the saved keyset cursor, page by page, maps each page to STIX and
 * writes it through the graph's ingest, then saves the cursor.
 *
 * Why the cursor is not in the page's transaction: the graph's ingestNow opens its own transactions (a run row,
 * then one per chunk), and it is the graph's only public write path. So each page is ingested first and the
 * cursor, the record versions (sys_id + sys_mod_count) and the run's progress commit together right after. A crash
 * between the two re-delivers that page on resume: its objects carry deterministic STIX ids and stable names, so
 * the graph merges them into the same entities and relationships (nothing duplicated), and the version table then
 * records them. Versions already recorded are skipped before ingest, which also absorbs the inclusive `>=`
 * watermark that makes every sync re-read the last second.
 */
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import type { Clock } from '../../../platform/clock.js';
import { isUniqueViolation, type Database } from '../../../platform/db.js';
import type { JobContext, JobType } from '../../../platform/jobs/job-types.js';
import type { NotificationsModule } from '../../notifications/index.js';
import { connectorRepo, type RunCounts } from '../connector.repo.js';
import { createServiceNowClient, type RequestEvent, type ServiceNowClient, type ServiceNowClientConfig } from './client.js';
import { ServiceNowError } from './errors.js';
import { IncidentSchemaError } from './incident-record.js';
import type { KeysetCursor } from './keyset-pager.js';
import { bundleOf, mapIncident, type ChoiceLabels, type StixObject } from './mapping.js';

export type ConnectorClientConfig = ServiceNowClientConfig & { table: string; query?: string; fieldMap?: Record<string, string> };
export type ServiceNowClientFactory = (tenantId: string, connectorId: string, config: ConnectorClientConfig) => ServiceNowClient;
export type SyncMetrics = {
  records(direction: 'inbound' | 'outbound', outcome: string, n: number): void;
  /** The connector is caught up with the instance as of `at`; the lag gauge reads now − at. */
  caughtUp(connectorId: string, at: Date): void;
};
/** Fault injection for tests: called after a page's ingest and before its cursor commits. */
export type SyncHooks = { afterPageIngest?: (info: { connectorId: string; runId: string; page: number }) => void | Promise<void> };
type Scope = { tenantId: string; actor: JobContext['actor']; requestId: string | null };
type Ingest = (scope: Scope, bundle: unknown, source: string) => Promise<unknown>;

const HOUR_MS = 3_600_000;
/** Attempts of one sync job (the first included); the last one settles the run instead of leaving it queued. */
export const SYNC_MAX_ATTEMPTS = 3;
const SYNC_TIMEOUT_SECONDS = 60 * 60;
/** An active run older than every attempt's time limit together has lost its worker. */
export const STALE_RUN_MS = (SYNC_MAX_ATTEMPTS + 1) * SYNC_TIMEOUT_SECONDS * 1000;
/** Request log rows are kept this long (health reads the last hour). */
export const REQUEST_LOG_RETENTION_MS = 24 * HOUR_MS;

/** Builds clients that report every request (metrics, and the request log health reads). */
export function createClientFactory(deps: { onRequest: (tenantId: string, connectorId: string, event: RequestEvent) => void; fetch?: typeof fetch; clock?: Clock }): ServiceNowClientFactory {
  return (tenantId, connectorId, config) =>
    createServiceNowClient(config, { fetch: deps.fetch, clock: deps.clock, onRequest: (event) => deps.onRequest(tenantId, connectorId, event) });
}

/**
 * Pure: the hourly budget a new client may spend, given the requests already sent in the last hour. A client's
 * limiter starts with an empty window, so without this each run could spend the whole budget again. It is
 * conservative: requests leaving the window during the run do not return to this client's budget.
 */
export function remainingHourlyBudget(requestsPerHour: number | undefined, sentInLastHour: number): number | undefined {
  if (!requestsPerHour) return undefined;
  return Math.max(0, requestsPerHour - sentInLastHour);
}

export function createSyncJob(deps: {
  db: Database;
  clock: Clock;
  ingest: Ingest;
  raise: NotificationsModule['raise'];
  metrics: SyncMetrics;
  clientConfigOf: (tenantId: string, row: NonNullable<Awaited<ReturnType<typeof connectorRepo.get>>>) => ConnectorClientConfig;
  clientFor: ServiceNowClientFactory;
  /** Requests seen since the last flush, per connector; written with each page. */
  drainRequests: (connectorId: string) => Array<{ id: string; at: Date; status: number | null; durationMs: number }>;
  /** Requests seen and not yet flushed (they count against the hourly budget too). */
  pendingRequests?: (connectorId: string) => number;
  resolveEntityIds: (tenantId: string, stixIds: string[]) => Promise<Map<string, string>>;
  hooks?: SyncHooks;
}): JobType {
  const { db, clock } = deps;

  /** Claims the run (see connectorRepo.claimRun); null when there is nothing to do. */
  async function prepare(ctx: JobContext, payload: { connectorId: string; runId?: string }, runId: string) {
    try {
      return await db.withTenant(ctx.tenantId, async (tx) => {
        const row = await connectorRepo.get(tx, ctx.tenantId, payload.connectorId);
        if (!row) return null; // deleted since the job was queued
        const now = clock.now();
        await connectorRepo.abandonStale(tx, ctx.tenantId, row.id, new Date(now.getTime() - STALE_RUN_MS), now);
        if (!payload.runId) await connectorRepo.insertScheduledRun(tx, ctx.tenantId, { id: runId, connectorId: row.id, at: now });
        if (!(await connectorRepo.claimRun(tx, ctx.tenantId, runId, now))) return null;
        const saved = await connectorRepo.getCursor(tx, ctx.tenantId, row.id);
        const sent = await connectorRepo.countRequests(tx, ctx.tenantId, row.id, new Date(now.getTime() - HOUR_MS));
        return { row, cursor: (saved?.cursor ?? null) as KeysetCursor | null, sentInLastHour: sent + (deps.pendingRequests?.(row.id) ?? 0) };
      });
    } catch (error) {
      if (isUniqueViolation(error)) return null; // another run of this connector claimed first
      throw error;
    }
  }

  async function run(ctx: JobContext, payload: { connectorId: string; runId?: string }) {
    const runId = payload.runId ?? ctx.jobId;
    const scope: Scope = { tenantId: ctx.tenantId, actor: ctx.actor, requestId: null };
    const prepared = await prepare(ctx, payload, runId);
    if (!prepared) {
      ctx.log.info({ connectorId: payload.connectorId, runId }, 'connector sync skipped: deleted, already done, or another run is active');
      return;
    }
    const { row } = prepared;
    const base = deps.clientConfigOf(ctx.tenantId, row);
    const perHour = remainingHourlyBudget(base.rateLimit?.requestsPerHour, prepared.sentInLastHour);
    const config: ConnectorClientConfig = perHour === undefined ? base : { ...base, rateLimit: { ...base.rateLimit, requestsPerHour: Math.max(1, perHour) } };
    const source = `servicenow:${row.name}`;
    const totals: RunCounts = { fetched: 0, created: 0, updated: 0, unchanged: 0, failed: 0, pages: 0 };
    let newest: Date | null = null;
    const prune = (tx: Parameters<typeof connectorRepo.pruneRequests>[0]) => connectorRepo.pruneRequests(tx, ctx.tenantId, row.id, new Date(clock.now().getTime() - REQUEST_LOG_RETENTION_MS));
    try {
      if (perHour === 0) {
        throw new ServiceNowError('rate_limited', `The hourly budget of ${base.rateLimit!.requestsPerHour} requests is spent (${prepared.sentInLastHour} sent in the last hour)`, { retryable: true });
      }
      const client = deps.clientFor(ctx.tenantId, row.id, config);
      const labels = {} as ChoiceLabels;
      for (const field of ['state', 'priority', 'impact', 'urgency'] as const) labels[field] = await client.choiceLabels(field);
      for await (const page of client.pages({ from: prepared.cursor, query: config.query })) {
        const counts: RunCounts = { fetched: page.records.length, created: 0, updated: 0, unchanged: 0, failed: 0, pages: 1 };
        const known = await db.withTenant(ctx.tenantId, (tx) => connectorRepo.recordVersions(tx, ctx.tenantId, row.id, page.records.map((r) => r.sysId)));
        const fresh = page.records.filter((r) => {
          const seen = known.get(r.sysId);
          if (seen !== undefined && seen >= r.modCount) counts.unchanged++;
          else if (seen === undefined) counts.created++;
          else counts.updated++;
          return seen === undefined || seen < r.modCount;
        });
        const incidentIds = new Map<string, string>();
        if (fresh.length) {
          const objects: StixObject[] = [];
          for (const record of fresh) {
            const mapped = mapIncident(record, { source, instanceUrl: config.instanceUrl, table: config.table, labels, fieldMap: config.fieldMap });
            incidentIds.set(record.sysId, mapped[0]!.id);
            objects.push(...mapped);
          }
          await deps.ingest(scope, bundleOf(objects, `${runId}:${totals.pages}`), source);
        }
        await deps.hooks?.afterPageIngest?.({ connectorId: row.id, runId, page: totals.pages });
        const entityIds = await deps.resolveEntityIds(ctx.tenantId, [...incidentIds.values()]);
        const last = page.records[page.records.length - 1];
        await db.withTenant(ctx.tenantId, async (tx) => {
          await connectorRepo.saveRecords(tx, ctx.tenantId, row.id, fresh.map((r) => ({ sysId: r.sysId, modCount: r.modCount, entityId: entityIds.get(incidentIds.get(r.sysId)!) ?? null })), clock.now());
          await connectorRepo.saveCursor(tx, ctx.tenantId, row.id, page.cursor, last?.updatedAt ?? null, fresh.length, clock.now());
          await connectorRepo.addProgress(tx, ctx.tenantId, runId, counts);
          await connectorRepo.logRequests(tx, ctx.tenantId, row.id, deps.drainRequests(row.id));
        });
        for (const k of Object.keys(totals) as Array<keyof RunCounts>) totals[k] += counts[k];
        deps.metrics.records('inbound', 'created', counts.created);
        deps.metrics.records('inbound', 'updated', counts.updated);
        deps.metrics.records('inbound', 'unchanged', counts.unchanged);
        if (fresh.length && last && (!newest || last.updatedAt > newest)) newest = last.updatedAt;
      }
      const finishedAt = clock.now();
      await db.withTenant(ctx.tenantId, async (tx) => {
        await connectorRepo.finishRun(tx, ctx.tenantId, runId, 'succeeded', finishedAt);
        await connectorRepo.markSuccess(tx, ctx.tenantId, row.id, finishedAt);
        await connectorRepo.logRequests(tx, ctx.tenantId, row.id, deps.drainRequests(row.id));
        await prune(tx);
      });
      // Lag is measured from the newest record this sync wrote; a sync that found nothing new shows the instance
      // caught up as of its own finish. A sync that stops finishing lets the gauge grow (it reads now − at).
      deps.metrics.caughtUp(row.id, newest ?? finishedAt);
    } catch (error) {
      // The cursor keeps what committed, so any later attempt resumes there.
      // - Credentials (401/403) and contract drift need a person: the run fails, an alert is raised, no retry.
      // - Throttling past the client's cap, exhausted 5xx/network retries and our own faults throw, so the jobs
      //   module retries the job with backoff (the run waits as `queued`) and dead-letters it when retries are
      //   spent; the last attempt settles the run as partial or failed.
      // - Other refusals (a 400/404 from the instance, a paging contract break) end the run without retry.
      const kind = error instanceof ServiceNowError ? error.kind : error instanceof IncidentSchemaError ? 'schema_drift' : 'internal';
      const message = error instanceof Error ? error.message : String(error);
      const needsPerson = kind === 'auth' || kind === 'forbidden' || kind === 'schema_drift';
      const retryable = !needsPerson && (error instanceof ServiceNowError ? error.retryable : kind === 'internal');
      const willRetry = retryable && ctx.attempt < SYNC_MAX_ATTEMPTS;
      await db.withTenant(ctx.tenantId, async (tx) => {
        if (willRetry) {
          await connectorRepo.requeueRun(tx, ctx.tenantId, runId, { kind, message });
        } else {
          const run = await connectorRepo.getRun(tx, ctx.tenantId, runId);
          const status = needsPerson ? 'failed' : (run?.fetched ?? 0) > 0 ? 'partial' : 'failed';
          await connectorRepo.finishRun(tx, ctx.tenantId, runId, status, clock.now(), { kind, message });
        }
        await connectorRepo.logRequests(tx, ctx.tenantId, row.id, deps.drainRequests(row.id));
        await prune(tx);
        if (needsPerson) {
          await deps.raise(tx, scope, {
            kind: 'connector.failed',
            groupKey: `connector:${row.id}`,
            severity: 'critical',
            title: `Connector "${row.name}" stopped: ${kind === 'schema_drift' ? 'records do not match the Table API contract' : 'ServiceNow refused the credentials'}`,
            detail: message,
            data: { connectorId: row.id, runId, kind },
          });
        }
      });
      if (retryable) throw error;
    }
  }

  return {
    name: 'connector.sync',
    payload: z.object({ connectorId: z.uuid(), runId: z.uuid().optional() }),
    timeoutSeconds: SYNC_TIMEOUT_SECONDS,
    retry: { maxAttempts: SYNC_MAX_ATTEMPTS },
    perTenant: { concurrency: 2 },
    schedulable: true,
    handle: (ctx, payload) => run(ctx, payload as { connectorId: string; runId?: string }),
  };
}

export const newRequestId = () => uuidv7();
