/**
 * ServiceNow connector benchmark (issue 6, "Benchmark"): read N incidents (50,000 by default) from the Table API
 * test server through the client's keyset pager (`client.pages()`), with the client limited to R requests/s (20)
 * and pages of P rows (500), while the test server enforces the same R per rolling second and answers anything
 * over it with 429 + Retry-After — so a client that overshoots shows up as 429s in the server's own request log.
 *
 * Both sides run on the real clock in this process. Reported, as one JSON object on stdout (progress on stderr):
 *   recordsPerSecond       records delivered ÷ wall time from the first request to the last page
 *   requestsPerSecond      the sending rate by the server's log: (requests − 1) ÷ (last arrival − first arrival),
 *                          so n requests span n − 1 intervals (goal ≥ 90% of the limit)
 *   busiest1sWindow        most requests the server saw inside any 1-second window [t, t+1 s) (must be ≤ limit)
 *   throttled              429s the server answered (0 when the client stayed inside the limit)
 *   duplicates             records delivered more than once by (sys_id, sys_mod_count) (must be 0)
 *   missing                generated incidents never delivered (must be 0)
 *   rereadsDropped         rows a `>=` page re-read at its watermark and the pager dropped (expected, not delivered)
 * The exit code is 1 when a "must" fails.
 *
 * Two modes (`--mode=`):
 *   client (default)  the client's pager alone, as above: the rate figures without any database in the way.
 *   sync              the real sync job (server/src/modules/connectors/servicenow/sync.ts) into a database: the app
 *                     is built over in-memory PGlite, or a fresh PostgreSQL database summit_bench_servicenow_<pid>
 *                     (dropped afterwards) when DATABASE_URL is set; a tenant and a connector (rate limit `rate`,
 *                     pages of `page-size`) are created through the API, `POST …/sync` starts the job on the jobs
 *                     module's workers, and the bench waits for the run to end. Reported as above, plus the run's
 *                     counts, and duplicates = incident entities in the graph − records (must be 0), missing = the
 *                     other way round. records/s is bounded by the graph's ingest, not the limiter.
 *
 * Why the sending rate stays a little under the limit: keyset pages are sequential (each query starts where the
 * last page ended), so a request goes out at max(1/rate, previous latency + parsing) after the one before.
 *
 * Run: cd /work/main/server && npx tsx ../bench/servicenow.ts [--mode=sync]
 * Options (flag `--name=value` or env `BENCH_NAME`):
 *   records=50000   incidents generated on the test server
 *   rate=20         requests per second: the client's limit and the server's
 *   page-size=500   sysparm_limit per request
 *   step-ms=250     time between generated incidents' sys_updated_on (<1000: several share a second, as in
 *                   real instances, which exercises the pager's `>=` re-reads and tie-break)
 *   burst=1         the client's token-bucket burst. Above 1, back-to-back requests after an idle moment can put
 *                   more than `rate` requests into one rolling second, which the server refuses with 429.
 */
import { randomUUID } from 'node:crypto';
import { buildBenchApp, createTenant, openStore } from './graph-bench.js';
import { busiestWindow } from '../server/src/modules/connectors/servicenow/contract-helpers.js';
import { createServiceNowClient, type RequestEvent } from '../server/src/modules/connectors/servicenow/client.js';
import { generateIncidents, loadFixtures } from '../server/src/modules/connectors/servicenow/fixtures.js';
import { startServiceNowTestServer, type RequestLogEntry } from '../server/src/modules/connectors/servicenow/test-server.js';

function option(name: string, fallback: number): number {
  const flag = process.argv.find((arg) => arg.startsWith(`--${name}=`));
  const raw = flag ? flag.slice(name.length + 3) : process.env[`BENCH_${name.toUpperCase().replaceAll('-', '_')}`];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got ${raw}`);
  return value;
}

const records = option('records', 50_000);
const rate = option('rate', 20);
const pageSize = option('page-size', 500);
const stepMs = option('step-ms', 250);
const burst = option('burst', 1);
const modeFlag = process.argv.find((arg) => arg.startsWith('--mode='))?.slice('--mode='.length) ?? process.env.BENCH_MODE ?? 'client';
if (modeFlag !== 'client' && modeFlag !== 'sync') throw new Error(`--mode must be client or sync, got ${modeFlag}`);

const round = (n: number, digits = 1) => Number(n.toFixed(digits));
const progress = (text: string) => process.stderr.write(`${text}\n`);

async function main(): Promise<number> {
  const incidents = generateIncidents(records, { stepMs, prefix: 'bench' });
  const server = await startServiceNowTestServer({
    fixtures: { ...loadFixtures(), incident: incidents },
    rateLimit: { limit: rate, windowMs: 1000 },
  });
  const statuses: Record<string, number> = {};
  const durationsMs: number[] = [];
  const client = createServiceNowClient(
    { instanceUrl: server.url, auth: { type: 'basic', username: 'admin', password: 'admin' }, rateLimit: { requestsPerSecond: rate, burst }, pageSize },
    {
      onRequest: (event: RequestEvent) => {
        statuses[event.status] = (statuses[event.status] ?? 0) + 1;
        durationsMs.push(event.durationMs);
      },
    },
  );
  try {
    progress(`servicenow bench: ${records} incidents, ${rate} requests/s, pages of ${pageSize}, ${server.url}`);
    const delivered = new Map<string, number>();
    let rereadsDropped = 0;
    let pages = 0;
    const started = performance.now();
    for await (const page of client.pages()) {
      pages++;
      rereadsDropped += page.duplicates;
      for (const record of page.records) {
        const key = `${record.sysId}:${record.modCount}`;
        delivered.set(key, (delivered.get(key) ?? 0) + 1);
      }
      if (pages % 20 === 0) progress(`  ${pages} pages, ${delivered.size} records, ${round((performance.now() - started) / 1000)} s`);
    }
    const elapsedS = (performance.now() - started) / 1000;

    const log = server.log;
    const deliveredCount = [...delivered.values()].reduce((a, b) => a + b, 0);
    const duplicates = deliveredCount - delivered.size;
    const missing = incidents.filter((row) => !delivered.has(`${row.sys_id as string}:${row.sys_mod_count as string}`)).length;
    const busiest = busiestWindow(log, 1000);
    const throttled = log.filter((e) => e.status === 429).length;
    const times = log.map((e) => e.time.getTime());
    const spanS = (Math.max(...times) - Math.min(...times)) / 1000;
    const requestsPerSecond = log.length > 1 && spanS > 0 ? (log.length - 1) / spanS : 0;
    const sorted = [...durationsMs].sort((a, b) => a - b);
    const pct = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0, 1);
    const checks = {
      neverOverLimit: busiest <= rate && throttled === 0,
      atLeast90PercentOfLimit: requestsPerSecond >= 0.9 * rate,
      noDuplicates: duplicates === 0,
      noneMissing: missing === 0,
    };
    const result = {
      bench: 'servicenow',
      mode: 'client.pages() against the Table API test server',
      config: { records, rateLimitPerSecond: rate, serverLimitPerRollingSecond: rate, pageSize, burst, stepMs },
      elapsedSeconds: round(elapsedS, 2),
      records: { delivered: deliveredCount, unique: delivered.size, duplicates, missing, rereadsDropped },
      recordsPerSecond: round(deliveredCount / elapsedS),
      requests: {
        sent: log.length,
        pages,
        byStatus: statuses,
        throttled,
        requestsPerSecond: round(requestsPerSecond, 2),
        shareOfLimit: round(requestsPerSecond / rate, 3),
        busiest1sWindow: busiest,
        latencyMs: { p50: pct(0.5), p95: pct(0.95), max: pct(1) },
      },
      checks,
      graphSync: 'not measured: this bench reads through the client only (see the note at the top of bench/servicenow.ts)',
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return checks.neverOverLimit && checks.noDuplicates && checks.noneMissing ? 0 : 1;
  } finally {
    await server.close();
  }
}

/** The server-side figures both modes report. */
function serverFigures(log: RequestLogEntry[]) {
  const busiest = busiestWindow(log, 1000);
  const throttled = log.filter((e) => e.status === 429).length;
  const times = log.map((e) => e.time.getTime());
  const spanS = (Math.max(...times) - Math.min(...times)) / 1000;
  const requestsPerSecond = log.length > 1 && spanS > 0 ? (log.length - 1) / spanS : 0;
  return { busiest, throttled, requestsPerSecond };
}

async function mainSync(): Promise<number> {
  const incidents = generateIncidents(records, { stepMs, prefix: 'bench' });
  const server = await startServiceNowTestServer({ fixtures: { ...loadFixtures(), incident: incidents }, rateLimit: { limit: rate, windowMs: 1000 } });
  const adminUrl = process.env.DATABASE_URL;
  const store = await openStore(adminUrl ? 'postgres' : 'pglite', { adminUrl: adminUrl ?? '', databaseName: `summit_bench_servicenow_${process.pid}` });
  const summit = await buildBenchApp(store.db);
  try {
    summit.modules.jobs.startWorkers();
    progress(`servicenow sync bench: ${records} incidents into ${store.version}, ${rate} requests/s, pages of ${pageSize}, ${server.url}`);
    const tenant = await createTenant(summit, `bench-sn-${randomUUID().slice(0, 8)}`);
    const call = async (method: 'GET' | 'POST', url: string, payload?: unknown) => {
      const res = await summit.app.inject({ method, url, headers: { authorization: `Bearer ${tenant.adminToken}` }, ...(payload === undefined ? {} : { payload: payload as object }) });
      if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
      return res.json();
    };
    const connector = await call('POST', '/api/v1/connectors', {
      kind: 'servicenow',
      name: 'bench',
      config: { instanceUrl: server.url, auth: { type: 'basic', username: 'admin', password: 'admin' }, rateLimit: { requestsPerSecond: rate, burst }, pageSize },
    });
    const started = performance.now();
    const { runId } = await call('POST', `/api/v1/connectors/${connector.id}/sync`, {});
    type Run = { id: string; status: string; counts: Record<string, number>; error: unknown };
    let run: Run | undefined;
    for (;;) {
      run = ((await call('GET', `/api/v1/connectors/${connector.id}/runs`)).items as Run[]).find((r) => r.id === runId);
      if (run && !['queued', 'running'].includes(run.status)) break;
      if (run) progress(`  ${run.status}: ${run.counts.pages} pages, ${run.counts.fetched} records, ${round((performance.now() - started) / 1000)} s`);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    const elapsedS = (performance.now() - started) / 1000;
    const incidentEntities = await store.db.withTenant(tenant.id, async (tx) => {
      const { rows } = await tx.query<{ n: string }>(`select count(*) as n from entities where tenant_id = $1 and type = 'incident'`, [tenant.id]);
      return Number(rows[0]!.n);
    });
    const { busiest, throttled, requestsPerSecond } = serverFigures(server.log);
    const duplicates = Math.max(0, incidentEntities - records);
    const missing = Math.max(0, records - incidentEntities);
    const checks = {
      succeeded: run.status === 'succeeded',
      neverOverLimit: busiest <= rate && throttled === 0,
      noDuplicates: duplicates === 0,
      noneMissing: missing === 0,
    };
    const result = {
      bench: 'servicenow',
      mode: 'sync job into the graph (connector.sync on the jobs workers)',
      store: store.version,
      config: { records, rateLimitPerSecond: rate, serverLimitPerRollingSecond: rate, pageSize, burst, stepMs },
      run: { status: run.status, counts: run.counts, error: run.error },
      elapsedSeconds: round(elapsedS, 2),
      recordsPerSecond: round((run.counts.fetched ?? 0) / elapsedS),
      graph: { incidentEntities, duplicates, missing },
      requests: {
        sent: server.log.length,
        throttled,
        requestsPerSecond: round(requestsPerSecond, 2),
        shareOfLimit: round(requestsPerSecond / rate, 3),
        busiest1sWindow: busiest,
      },
      checks,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return Object.values(checks).every(Boolean) ? 0 : 1;
  } finally {
    await summit.app.close();
    await store.close();
    await server.close();
  }
}

(modeFlag === 'sync' ? mainSync() : main()).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(2);
  },
);
