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
import type { Database } from '../../../platform/db.js';
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
export type SyncMetrics = { records(direction: 'inbound' | 'outbound', outcome: string, n: number): void; lag(connectorId: string, seconds: number): void };
type Scope = { tenantId: string; actor: JobContext['actor']; requestId: string | null };
type Ingest = (scope: Scope, bundle: unknown, source: string) => Promise<unknown>;

/** Builds clients that report every request (metrics, and the request log health reads). */
export function createClientFactory(deps: { onRequest: (tenantId: string, connectorId: string, event: RequestEvent) => void; fetch?: typeof fetch; clock?: Clock }): ServiceNowClientFactory {
  return (tenantId, connectorId, config) =>
    createServiceNowClient(config, { fetch: deps.fetch, clock: deps.clock, onRequest: (event) => deps.onRequest(tenantId, connectorId, event) });
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
  resolveEntityIds: (tenantId: string, stixIds: string[]) => Promise<Map<string, string>>;
}): JobType {
  const { db, clock } = deps;

  async function run(ctx: JobContext, payload: { connectorId: string; runId?: string }) {
    const runId = payload.runId ?? ctx.jobId;
    const scope: Scope = { tenantId: ctx.tenantId, actor: ctx.actor, requestId: null };
    const prepared = await db.withTenant(ctx.tenantId, async (tx) => {
      const row = await connectorRepo.get(tx, ctx.tenantId, payload.connectorId);
      if (!row) return null;
      await connectorRepo.insertRun(tx, ctx.tenantId, { id: runId, connectorId: row.id, trigger: payload.runId ? 'manual' : 'schedule', status: 'running', at: clock.now() });
      await connectorRepo.markRunning(tx, ctx.tenantId, runId, clock.now());
      const saved = await connectorRepo.getCursor(tx, ctx.tenantId, row.id);
      return { row, cursor: (saved?.cursor ?? null) as KeysetCursor | null };
    });
    if (!prepared) return; // deleted since the job was queued
    const { row } = prepared;
    const config = deps.clientConfigOf(ctx.tenantId, row);
    const client = deps.clientFor(ctx.tenantId, row.id, config);
    const source = `servicenow:${row.name}`;
    const totals: RunCounts = { fetched: 0, created: 0, updated: 0, unchanged: 0, failed: 0, pages: 0 };
    try {
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
        if (last) deps.metrics.lag(row.id, Math.max(0, (clock.now().getTime() - last.updatedAt.getTime()) / 1000));
      }
      await db.withTenant(ctx.tenantId, async (tx) => {
        await connectorRepo.finishRun(tx, ctx.tenantId, runId, 'succeeded', clock.now());
        await connectorRepo.markSuccess(tx, ctx.tenantId, row.id, clock.now());
        await connectorRepo.logRequests(tx, ctx.tenantId, row.id, deps.drainRequests(row.id));
      });
    } catch (error) {
      // Every failure ends the run with its reason; the cursor keeps what committed, so the next sync resumes there.
      // Credentials (401/403) and contract drift need a person: they alert. Outages and throttling retry next time.
      const kind = error instanceof ServiceNowError ? error.kind : error instanceof IncidentSchemaError ? 'schema_drift' : 'internal';
      const message = error instanceof Error ? error.message : String(error);
      const status = totals.fetched > 0 ? 'partial' : 'failed';
      const needsPerson = kind === 'auth' || kind === 'forbidden' || kind === 'schema_drift';
      await db.withTenant(ctx.tenantId, async (tx) => {
        await connectorRepo.finishRun(tx, ctx.tenantId, runId, needsPerson ? 'failed' : status, clock.now(), { kind, message });
        await connectorRepo.logRequests(tx, ctx.tenantId, row.id, deps.drainRequests(row.id));
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
      if (kind === 'internal') throw error;
    }
  }

  return {
    name: 'connector.sync',
    payload: z.object({ connectorId: z.uuid(), runId: z.uuid().optional() }),
    timeoutSeconds: 60 * 60,
    retry: { maxAttempts: 3 },
    perTenant: { concurrency: 2 },
    schedulable: true,
    handle: (ctx, payload) => run(ctx, payload as { connectorId: string; runId?: string }),
  };
}

export const newRequestId = () => uuidv7();
