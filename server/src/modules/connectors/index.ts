import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { v7 as uuidv7 } from 'uuid';
import type { Clock } from '../../platform/clock.js';
import { deriveKey } from '../../platform/crypto.js';
import { isUniqueViolation, type Database } from '../../platform/db.js';
import { createOutboundHttp } from '../../platform/outbound-fetch.js';
import type { OutboundPolicy } from '../../platform/outbound-url.js';
import type { UserCtx } from '../../platform/request-context.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import type { AuditService } from '../audit/index.js';
import type { GraphModule } from '../graph/index.js';
import type { NotificationsModule } from '../notifications/index.js';
// The sealing box of the notifications module (channel secrets), reused rather than copied; see the report.
import { createSecretBox } from '../../platform/secret-box.js';
import { createConnectorService, SYNC_JOB } from './connector.service.js';
import { registerConnectorRoutes } from './connectors.routes.js';
import type { ServiceNowClient } from './servicenow/client.js';
import { createClientFactory, createSyncJob, STALE_RUN_MS, type SyncHooks } from './servicenow/sync.js';
import { connectorRepo } from './connector.repo.js';

export { SYNC_JOB } from './connector.service.js';
export { requestOutboundIncident } from './outbound.job.js';

/** Connectors (ServiceNow): configuration, scheduled incremental sync into the graph, health, outbound incidents. */
export function createConnectorsModule(deps: {
  db: Database;
  clock: Clock;
  audit: AuditService;
  jobs: JobQueue;
  registry: Registry;
  raise: NotificationsModule['raise'];
  secret: string;
  graph: Pick<GraphModule, 'ingest'>;
  /** Where instances may be, checked when a connector is configured and as each connection opens. */
  outboundPolicy: OutboundPolicy;
  /** The outbound fetch (platform/outbound-fetch.ts); tests may route ServiceNow traffic through their own. */
  fetch?: typeof fetch;
}) {
  const requests = new Counter({ name: 'servicenow_requests_total', help: 'Requests to ServiceNow instances by HTTP status.', labelNames: ['status'] as const, registers: [deps.registry] });
  const duration = new Histogram({ name: 'servicenow_request_duration_seconds', help: 'ServiceNow request latency.', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [deps.registry] });
  // Each finished sync says up to when the connector is caught up (the newest record it wrote, or its own finish
  // when it found nothing new); the gauge is computed at scrape time, so a sync that stops finishing shows growing lag.
  const caughtUpAt = new Map<string, number>();
  new Gauge({
    name: 'connector_sync_lag_seconds',
    help: 'Now minus the time the connector was last caught up with its instance (newest record synced, or the finish of a sync that found nothing new).',
    labelNames: ['connector'] as const,
    registers: [deps.registry],
    collect() {
      const now = deps.clock.now().getTime();
      for (const [connector, at] of caughtUpAt) this.set({ connector }, Math.max(0, (now - at) / 1000));
    },
  });
  const records = new Counter({ name: 'connector_records_total', help: 'Records through connectors by direction and outcome.', labelNames: ['direction', 'outcome'] as const, registers: [deps.registry] });

  // Requests are buffered per connector and written with the next page (health reads them); bounded so a
  // connector whose writes fail cannot grow memory without limit.
  const pending = new Map<string, Array<{ id: string; at: Date; status: number | null; durationMs: number }>>();
  const clients = new Map<string, ServiceNowClient>();
  const factory = createClientFactory({
    fetch: deps.fetch ?? createOutboundHttp({ policy: deps.outboundPolicy }).fetch,
    onRequest: (_tenantId, connectorId, event) => {
      requests.inc({ status: String(event.status) });
      duration.observe(event.durationMs / 1000);
      const list = pending.get(connectorId) ?? [];
      if (list.length < 10_000) list.push({ id: uuidv7(), at: deps.clock.now(), status: typeof event.status === 'number' ? event.status : null, durationMs: event.durationMs });
      pending.set(connectorId, list);
    },
  });
  const clientFor: typeof factory = (tenantId, connectorId, config) => {
    const client = factory(tenantId, connectorId, config);
    clients.set(connectorId, client);
    return client;
  };
  const drainRequests = (connectorId: string) => {
    const list = pending.get(connectorId) ?? [];
    pending.delete(connectorId);
    return list;
  };

  const syncHooks: SyncHooks = {};
  const connectors = createConnectorService({
    ...deps,
    secrets: createSecretBox(deriveKey(deps.secret, 'connector-secrets')),
    clientFor,
    // Inline pushes and the connector.incident job's outcomes alike.
    onOutbound: (outcome) => records.inc({ direction: 'outbound', outcome }),
  });
  const syncJob = createSyncJob({
    db: deps.db,
    clock: deps.clock,
    ingest: (scope, bundle, source) => deps.graph.ingest.ingestNow(scope, bundle, source),
    raise: deps.raise,
    clientConfigOf: connectors.clientConfigOf,
    clientFor,
    drainRequests,
    pendingRequests: (connectorId) => pending.get(connectorId)?.length ?? 0,
    hooks: syncHooks,
    metrics: { records: (direction, outcome, n) => n > 0 && records.inc({ direction, outcome }, n), caughtUp: (connector, at) => caughtUpAt.set(connector, at.getTime()) },
    // The graph keeps the first STIX id an entity was written with; connector ids are deterministic, so this finds
    // the incident entity each record became.
    resolveEntityIds: (tenantId, stixIds) =>
      deps.db.withTenant(tenantId, async (tx) => {
        if (!stixIds.length) return new Map();
        const { rows } = await tx.query<{ stixId: string; id: string }>('select stix_id as "stixId", id from entities where tenant_id = $1 and stix_id = any($2::text[])', [tenantId, stixIds]);
        return new Map(rows.map((r) => [r.stixId, r.id]));
      }),
  });

  /**
   * "Sync now", one run per connector at a time: while a run is queued or running, asking again returns that run.
   * The unique index of migration 0015 settles two requests racing past the first check: the loser's transaction
   * (run, audit and job together) rolls back, and it returns the winner's run.
   */
  async function startSync(ctx: UserCtx, id: string): Promise<{ runId: string; alreadyActive: boolean }> {
    const active = () =>
      deps.db.withTenant(ctx.tenantId, async (tx) => {
        const now = deps.clock.now();
        await connectorRepo.abandonStale(tx, ctx.tenantId, id, new Date(now.getTime() - STALE_RUN_MS), now);
        return connectorRepo.activeRun(tx, ctx.tenantId, id);
      });
    const existing = await active();
    if (existing) return { runId: existing.id, alreadyActive: true };
    try {
      return { ...(await connectors.startSync(ctx, id)), alreadyActive: false };
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const winner = await active();
      if (!winner) throw error;
      return { runId: winner.id, alreadyActive: true };
    }
  }

  return {
    service: connectors,
    syncJobName: SYNC_JOB,
    startSync,
    /** Fault injection for tests (see SyncHooks); empty in production. */
    syncHooks,
    jobs: [syncJob, connectors.outboundJob],
    routes: (app: FastifyInstance) =>
      registerConnectorRoutes(app, {
        connectors,
        startSync,
        isThrottled: (id) => clients.get(id)?.isThrottled() ?? false,
      }),
  };
}

export type ConnectorsModule = ReturnType<typeof createConnectorsModule>;
