/**
 * The ServiceNow inbound sync under pressure (issue 6): one sync per connector at a time, retryable failures
 * retried as jobs and dead-lettered, the hourly budget held across runs, the lag gauge, a crash between a page's
 * ingest and its cursor, and request-log pruning. Runs on both stores.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectorRepo } from '../src/modules/connectors/connector.repo.js';
import { generateIncidents, loadFixtures } from '../src/modules/connectors/servicenow/fixtures.js';
import { startServiceNowTestServer, type ServiceNowTestServer } from '../src/modules/connectors/servicenow/test-server.js';
import { createTestApp, waitFor, type TestApp, type TestTenant } from './harness.js';
import { entityNamesOf } from './graph-fixtures.js';

let t: TestApp;
const servers: ServiceNowTestServer[] = [];

beforeAll(async () => {
  t = await createTestApp();
  t.summit.modules.jobs.startWorkers();
});
afterEach(() => {
  delete t.summit.modules.connectors.syncHooks.afterPageIngest;
});
afterAll(async () => {
  for (const s of servers) await s.close();
  await t.close();
});

async function server(count: number, prefix: string) {
  const s = await startServiceNowTestServer({ fixtures: { ...loadFixtures(), incident: generateIncidents(count, { prefix, stepMs: 1000 }) } });
  servers.push(s);
  return s;
}

async function createConnector(tenant: TestTenant, url: string, name: string, extra: Record<string, unknown> = {}) {
  const res = await tenant.admin.post('/api/v1/connectors', { kind: 'servicenow', name, config: { instanceUrl: url, auth: { type: 'basic', username: 'admin', password: 'admin' }, pageSize: 2, ...extra } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}

type Run = { id: string; status: string; counts: Record<string, number>; error: { kind: string; message: string } | null };

async function runOf(tenant: TestTenant, id: string, runId: string): Promise<Run | undefined> {
  return (await tenant.admin.get(`/api/v1/connectors/${id}/runs`)).json().items.find((r: Run) => r.id === runId);
}

async function finished(tenant: TestTenant, id: string, runId: string, timeoutMs = 60_000): Promise<Run> {
  return waitFor(`run ${runId}`, async () => {
    const run = await runOf(tenant, id, runId);
    return run && !['queued', 'running'].includes(run.status) ? run : undefined;
  }, timeoutMs);
}

async function sync(tenant: TestTenant, id: string) {
  const res = await tenant.admin.post(`/api/v1/connectors/${id}/sync`, {});
  expect(res.statusCode, res.body).toBe(202);
  return res.json() as { runId: string; alreadyActive: boolean };
}

async function syncAndWait(tenant: TestTenant, id: string) {
  return finished(tenant, id, (await sync(tenant, id)).runId);
}

async function graphOf(tenant: TestTenant) {
  return entityNamesOf(tenant.admin);
}

/** A gate the sync hook waits on, so a run can be held mid-flight. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  let reached!: () => void;
  const arrived = new Promise<void>((resolve) => (reached = resolve));
  return { open, opened, arrived, reached };
}

describe('one sync per connector at a time', () => {
  it('returns the active run to a second "sync now", and a scheduled fire during it claims nothing', async () => {
    const tenant = await t.createTenant('one-at-a-time');
    const s = await server(4, 'single');
    const id = await createConnector(tenant, s.url, 'single');
    const g = gate();
    t.summit.modules.connectors.syncHooks.afterPageIngest = async (info) => {
      if (info.connectorId !== id) return;
      g.reached();
      await g.opened;
    };
    const first = await sync(tenant, id);
    expect(first.alreadyActive).toBe(false);
    await g.arrived; // the run is mid-page now
    const [second, third] = await Promise.all([sync(tenant, id), sync(tenant, id)]);
    expect(second).toEqual({ runId: first.runId, alreadyActive: true });
    expect(third).toEqual({ runId: first.runId, alreadyActive: true });

    // A scheduled fire (run id = its job id) finds the connector busy: no run row, no claim.
    const scheduledRunId = '01930000-0000-7000-8000-000000000001';
    const claimed = await t.db.withTenant(tenant.id, async (tx) => {
      await connectorRepo.insertScheduledRun(tx, tenant.id, { id: scheduledRunId, connectorId: id, at: t.clock.now() });
      return connectorRepo.claimRun(tx, tenant.id, scheduledRunId, t.clock.now());
    });
    expect(claimed).toBe(false);

    g.open();
    const run = await finished(tenant, id, first.runId);
    expect(run.status).toBe('succeeded');
    const runs = (await tenant.admin.get(`/api/v1/connectors/${id}/runs`)).json().items as Run[];
    expect(runs.map((r) => r.id)).toEqual([first.runId]);
    expect((await graphOf(tenant)).filter((n) => n.startsWith('incident:'))).toHaveLength(4);
    // Once it is over, "sync now" starts a new run.
    const next = await sync(tenant, id);
    expect(next).toMatchObject({ alreadyActive: false });
    expect(next.runId).not.toBe(first.runId);
    await finished(tenant, id, next.runId);
  });
});

describe('retryable failures retry as jobs', () => {
  it('retries a run cut off by throttling past the cap and completes it in the same run', async () => {
    const tenant = await t.createTenant('retry-429');
    const s = await server(5, 'retry');
    const id = await createConnector(tenant, s.url, 'retry');
    s.setFault({ kind: 'rate_limit', count: 1, retryAfterSeconds: 3600 }); // past the client's 15-minute cap
    const { runId } = await sync(tenant, id);
    const run = await finished(tenant, id, runId);
    expect(run).toMatchObject({ status: 'succeeded', counts: { created: 5 } });
    expect(s.log.filter((e) => e.status === 429)).toHaveLength(1);
    expect((await graphOf(tenant)).filter((n) => n.startsWith('incident:'))).toHaveLength(5);
  });

  it('dead-letters a run that stays throttled through every attempt, and settles the run', async () => {
    const tenant = await t.createTenant('retry-dlq');
    const s = await server(3, 'dlq');
    const id = await createConnector(tenant, s.url, 'dlq');
    s.setFault({ kind: 'rate_limit', count: 1000, retryAfterSeconds: 3600 });
    const { runId } = await sync(tenant, id);
    const run = await finished(tenant, id, runId);
    expect(run).toMatchObject({ status: 'failed', error: { kind: 'rate_limited' } });
    // Three job attempts, each stopped by its first 429.
    expect(s.log.filter((e) => e.status === 429)).toHaveLength(3);
    const dead = await waitFor('dead letter', async () => {
      const items = (await tenant.admin.get('/api/v1/dlq?queue=connector.sync')).json().items as Array<{ id: string; attempts: number }>;
      return items.length ? items : undefined;
    });
    expect(dead).toHaveLength(1);
    const detail = (await tenant.admin.get(`/api/v1/dlq/${dead[0]!.id}`)).json();
    expect(detail.errors.at(-1).class).toBe('ServiceNowError');
    // No alert: throttling is not a person's problem.
    expect(JSON.stringify((await tenant.admin.get('/api/v1/notifications')).json())).not.toContain('connector.failed');
  });

  it('does not retry refused credentials', async () => {
    const tenant = await t.createTenant('no-retry-401');
    const s = await server(2, 'refused');
    const id = await createConnector(tenant, s.url, 'refused', { auth: { type: 'basic', username: 'admin', password: 'wrong' } });
    const run = await syncAndWait(tenant, id);
    expect(run).toMatchObject({ status: 'failed', error: { kind: 'auth' } });
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // longer than the first job retry's shortest backoff
    expect(s.log.filter((e) => e.status === 401)).toHaveLength(1);
    expect((await tenant.admin.get('/api/v1/dlq?queue=connector.sync')).json().items).toEqual([]);
  });
});

describe('the hourly budget holds across runs', () => {
  it('never lets two consecutive syncs exceed requestsPerHour together, by the test server\'s own log', async () => {
    const probe = await server(2, 'spent');
    const probeTenant = await t.createTenant('spent-probe');
    expect((await syncAndWait(probeTenant, await createConnector(probeTenant, probe.url, 'probe'))).status).toBe('succeeded');
    const perSync = probe.log.length;

    const tenant = await t.createTenant('spent');
    const s = await server(2, 'spent');
    const id = await createConnector(tenant, s.url, 'spent', { rateLimit: { requestsPerHour: perSync } });
    expect((await syncAndWait(tenant, id)).status).toBe('succeeded');
    const second = await syncAndWait(tenant, id);
    expect(second).toMatchObject({ status: 'failed', error: { kind: 'rate_limited' } });
    expect(second.error!.message).toContain('hourly budget');
    expect(s.log).toHaveLength(perSync);
  });
});

describe('a crash between a page\'s ingest and its cursor', () => {
  it('resumes (as the job\'s retry) to the same graph as a clean sync, with no duplicate incident', async () => {
    const cleanTenant = await t.createTenant('crash-clean');
    const clean = await server(7, 'crash');
    expect((await syncAndWait(cleanTenant, await createConnector(cleanTenant, clean.url, 'crash'))).status).toBe('succeeded');

    const tenant = await t.createTenant('crash-killed');
    const s = await server(7, 'crash');
    const id = await createConnector(tenant, s.url, 'crash');
    let crashes = 0;
    t.summit.modules.connectors.syncHooks.afterPageIngest = (info) => {
      if (info.connectorId === id && info.page === 1 && crashes === 0) {
        crashes++;
        throw new Error('worker killed after ingest, before the cursor commit');
      }
    };
    const run = await syncAndWait(tenant, id);
    expect(crashes).toBe(1);
    expect(run.status).toBe('succeeded');
    const graph = await graphOf(tenant);
    expect(graph).toEqual(await graphOf(cleanTenant));
    const incidents = graph.filter((n) => n.startsWith('incident:'));
    expect(incidents).toHaveLength(7);
    expect(new Set(incidents).size).toBe(7);
    expect((await tenant.admin.get(`/api/v1/connectors/${id}/health`)).json().recordsSynced).toBe(7);
  });
});

// Advances the app clock: keep after the tests that wait on job retries (their backoff is set by this clock).
describe('lag gauge', () => {
  async function lagOf(id: string) {
    const metric = t.summit.metrics.registry.getSingleMetric('connector_sync_lag_seconds')!;
    const { values } = await metric.get();
    return values.find((v) => v.labels.connector === id)?.value;
  }

  it('measures from the watermark, reads caught up after a sync that found nothing new, and grows while syncs stop', async () => {
    const tenant = await t.createTenant('lag');
    const s = await server(3, 'lag');
    const id = await createConnector(tenant, s.url, 'lag');
    expect((await syncAndWait(tenant, id)).status).toBe('succeeded');
    const newest = new Date(`${String(s.records.at(-1)!.sys_updated_on).replace(' ', 'T')}Z`).getTime();
    expect(await lagOf(id)).toBeCloseTo((t.clock.now().getTime() - newest) / 1000, 0);
    expect(await lagOf(id)).toBeGreaterThan(3600);
    // Nothing new on the instance: caught up as of this sync's finish.
    expect((await syncAndWait(tenant, id)).status).toBe('succeeded');
    expect(await lagOf(id)).toBe(0);
    // No sync for ten minutes: the lag shows it.
    t.clock.advance(600_000);
    expect(await lagOf(id)).toBe(600);
  });
});

// Advances the app clock a day: last.
describe('request log pruning', () => {
  it('deletes request rows older than 24 hours at the end of a sync', async () => {
    const tenant = await t.createTenant('prune');
    const s = await server(2, 'prune');
    const id = await createConnector(tenant, s.url, 'prune');
    expect((await syncAndWait(tenant, id)).status).toBe('succeeded');
    const count = (olderThan: Date | null) =>
      t.db.withTenant(tenant.id, async (tx) => {
        const { rows } = await tx.query<{ n: string }>(
          `select count(*) as n from connector_requests where tenant_id = $1 and connector_id = $2${olderThan ? ' and at < $3' : ''}`,
          olderThan ? [tenant.id, id, olderThan] : [tenant.id, id],
        );
        return Number(rows[0]!.n);
      });
    const firstRows = await count(null);
    expect(firstRows).toBeGreaterThan(0);
    t.clock.advance(25 * 3_600_000);
    expect((await syncAndWait(tenant, id)).status).toBe('succeeded');
    expect(await count(new Date(t.clock.now().getTime() - 24 * 3_600_000))).toBe(0);
    expect(await count(null)).toBeGreaterThan(0); // the second sync's own requests stay
  });
});
