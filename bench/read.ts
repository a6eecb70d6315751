/**
 * Graph read benchmark: latency of GET /api/v1/entities/{id} and GET /api/v1/entities/{id}/neighbors?depth=2 under
 * 32 concurrent HTTP clients, against the same SQL issued directly through pg.
 *
 * 1. The seeded demo graph (100,000 entities, 3 relationships per entity: ~300,000 relationships) is loaded into a
 *    fresh store through the API's own path: buildApp over the store (logger off), listening on 127.0.0.1 port 0, a
 *    tenant and its admin token created over HTTP (POST /api/v1/tenants), then ingest.ingestNow() for each source's
 *    bundle (as the demo seeding does). Then VACUUM ANALYZE of the graph tables, as autovacuum would do shortly
 *    after such a load. PostgreSQL: a new database summit_bench_read_<pid>, dropped afterwards; the app's pool has
 *    the size main.ts gives it (10) unless --app-pool says otherwise.
 * 2. HTTP: 32 keep-alive clients in a child process (bench/read-client.ts, so their CPU is not the server's event
 *    loop) for a warm-up and then the measured duration per endpoint, a random entity id per request from a seeded
 *    PRNG. Latency is request start to the last byte of the response. The SQL the app issues during the measured
 *    window is counted and timed from the app's side (the wait for a pool connection is not in it). Then the same
 *    with one client, for the latency of a request that never queues behind another.
 * 3. Direct SQL (PostgreSQL): the statements each endpoint runs, framed as db.ts frames them (the token lookup as
 *    one statement outside a transaction; then one script of begin, set_config and set local role summit_app, the
 *    repository queries, commit), issued through a pg Pool by 32 concurrent loops for the same duration, with the
 *    same ids. The statements are the repositories' own (entityRepo.getDetail, neighbourhoodJson(),
 *    credentialRepo), called over a bare pg client; a probe
 *    checks they match what the app sent for one request. EXPLAIN (ANALYZE, BUFFERS) of each statement is kept for a
 *    typical id and for the slowest id seen.
 * 4. The HTTP part again on in-memory PGlite (one connection: every transaction of every request is serialised).
 *
 * Each run says where the machine's CPU went while it measured: this process (the server, or the pg client of the
 * direct runs), the load generator, the PostgreSQL backends of the bench database (from /proc), and `other`, the
 * rest of the machine's busy time (other sessions' work: the machine is shared). The windows differ by a few hundred
 * ms, so `other` near zero, or slightly negative, means nothing else ran.
 *
 * Run: npm run bench:read                 (100,000 entities, 20 s per endpoint; ~20 minutes with PGlite)
 *      BENCH_QUICK=1 npm run bench:read   (10,000 entities, 5 s per endpoint)
 *      cd server && npx tsx ../bench/read.ts --stores=postgres --sql-pools=10,32
 * Prints one JSON object to stdout; progress goes to stderr.
 *
 * Options (flag `--name=value` or env `BENCH_NAME`):
 *   quick=1           10,000 entities, 5 s per endpoint
 *   entities=100000   rels-per-entity=3   seed=20261128
 *   seconds=20        measured seconds per endpoint and mode; warmup-seconds=2
 *   baseline-seconds=5   the one-client HTTP run per endpoint (latency without queueing)
 *   concurrency=32
 *   stores=postgres,pglite
 *   app-pool=10       the app's pg pool size (main.ts uses the default, 10)
 *   sql-pools=10,32   pool sizes for the direct-SQL runs
 *   admin-url=postgres://postgres@127.0.0.1:5432/postgres
 *   quiet-wait=60     before each measured run, wait up to this many seconds for an idle second (the machine is
 *                     shared); each run reports the wait, its load average and the CPU others used meanwhile
 *   keep-database=NAME   PostgreSQL: load into database NAME and keep it; a later run with the same NAME reuses the
 *                     loaded graph (migrations still run; a new token for the bench tenant's admin), so changes to the
 *                     read path can be measured without reloading. Drop it by hand when done. Figures of a reused
 *                     database have no load section.
 */
import { fork } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { tenantScopeScript, type Sql } from '../server/src/platform/db.js';
import { entityRepo } from '../server/src/modules/graph/entity.repo.js';
import { neighbourhoodJson } from '../server/src/modules/graph/traversal.js';
import { issueApiToken, parseApiToken } from '../server/src/modules/tenancy/api-token.js';
import { credentialRepo, tokenRepo } from '../server/src/modules/tenancy/tenancy.repo.js';
import type { SummitApp } from '../server/src/app.js';
import type { ClientJob, ClientMessage, ClientReport } from './read-client.js';
import {
  DEFAULT_ADMIN_URL, awaitQuiet, backendCpuMeter, buildBenchApp, cpuMeter, createRandom, createTenant, generateGraph, isQuick, latencySummary,
  listOption, numberOption, openStore, option, progressFor, round, scopeOf, statementKey, type BenchTenant, type Store,
} from './graph-bench.js';

const quick = isQuick();
const params = {
  quick,
  seed: numberOption('seed', 20_261_128),
  entities: numberOption('entities', quick ? 10_000 : 100_000),
  relationshipsPerEntity: numberOption('rels-per-entity', 3),
  seconds: numberOption('seconds', quick ? 5 : 20),
  warmupSeconds: numberOption('warmup-seconds', quick ? 1 : 2),
  baselineSeconds: numberOption('baseline-seconds', quick ? 2 : 5),
  concurrency: numberOption('concurrency', 32),
  stores: listOption('stores', ['postgres', 'pglite']),
  appPool: numberOption('app-pool', 10),
  sqlPools: listOption('sql-pools', ['10', '32']).map(Number),
  neighborsDepth: 2,
  adminUrl: option('admin-url') ?? DEFAULT_ADMIN_URL,
  quietWaitSeconds: numberOption('quiet-wait', quick ? 10 : 60),
  keepDatabase: option('keep-database'),
};
if (params.keepDatabase !== undefined && !/^[a-z0-9_]+$/.test(params.keepDatabase)) throw new Error('--keep-database takes a name of lower-case letters, digits and _');
const SEED_SLO_P95_MS = 220;
const GOAL_P95_MS = 20;
const FORBIDDEN_PORTS = new Set([8080, 5432, 6379, 4222, 5672, 1883, 3306]);
const ENDPOINTS = {
  entity: { path: '/api/v1/entities/{id}', label: 'GET /api/v1/entities/{id}' },
  neighbors: { path: `/api/v1/entities/{id}/neighbors?depth=${params.neighborsDepth}`, label: `GET /api/v1/entities/{id}/neighbors?depth=${params.neighborsDepth}` },
} as const;
type Endpoint = keyof typeof ENDPOINTS;

const here = path.dirname(fileURLToPath(import.meta.url));
const progress = progressFor('bench:read');

// ---------------------------------------------------------------------------------------------------------------
// HTTP load (child process)

function runClients(job: ClientJob, onMeasuring: () => void): Promise<ClientReport> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(here, 'read-client.ts'), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, BENCH_READ_CLIENT: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let report: ClientReport | null = null;
    // Bounded: the child stops by itself; this only guards against a hung child.
    const guard = setTimeout(() => child.kill('SIGKILL'), job.warmupMs + job.durationMs + job.timeoutMs + 60_000);
    child.on('message', (message: ClientMessage) => {
      if (message.type === 'measuring') onMeasuring();
      else report = message;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(guard);
      if (report) resolve(report);
      else reject(new Error(`the load generator exited with ${code} and no report`));
    });
    child.send(job);
  });
}

type Usage = ReturnType<ReturnType<typeof cpuMeter>>;

/** Where the machine's CPU went while measuring, in seconds and in ms per request. */
function cpuBreakdown(usage: Usage, parts: { server?: number; loadGenerator?: number; sqlClient?: number; postgres: number | null }, requests: number) {
  const ours = (parts.server ?? 0) + (parts.loadGenerator ?? 0) + (parts.sqlClient ?? 0) + (parts.postgres ?? 0);
  const perRequest = (v: number | undefined | null) => (v === undefined || v === null || !requests ? undefined : round((v * 1000) / requests, 2));
  return {
    machineBusyShare: usage.machineBusyShare,
    loadAverage1mBefore: usage.loadAverage1mBefore,
    seconds: {
      machineBusy: usage.machineBusyCpuSeconds,
      ...(parts.server !== undefined ? { server: round(parts.server, 2) } : {}),
      ...(parts.loadGenerator !== undefined ? { loadGenerator: round(parts.loadGenerator, 2) } : {}),
      ...(parts.sqlClient !== undefined ? { sqlClient: round(parts.sqlClient, 2) } : {}),
      postgresBackends: parts.postgres,
      // Everything else on the machine (other processes, kernel work not charged to these).
      other: parts.postgres === null ? null : round(usage.machineBusyCpuSeconds - ours, 2),
    },
    msPerRequest: { server: perRequest(parts.server), sqlClient: perRequest(parts.sqlClient), postgresBackends: perRequest(parts.postgres) },
  };
}

async function httpRun(store: Store, baseUrl: string, token: string, ids: string[], endpoint: Endpoint, concurrency = params.concurrency, seconds = params.seconds) {
  let meter: (() => Usage) | null = null;
  let backends: ReturnType<typeof backendCpuMeter> | null = null;
  const quiet = await awaitQuiet(params.quietWaitSeconds);
  const report = await runClients(
    {
      baseUrl, token, ids, path: ENDPOINTS[endpoint].path, concurrency,
      warmupMs: params.warmupSeconds * 1000, durationMs: seconds * 1000, seed: params.seed + (endpoint === 'entity' ? 1 : 2),
      timeoutMs: 30_000,
    },
    () => {
      store.profile.start();
      meter = cpuMeter();
      if (store.url) backends = backendCpuMeter(store.url);
    },
  );
  const usage = meter ? (meter as () => Usage)() : null;
  const sql = store.profile.stop(6);
  let postgres: number | null = null;
  if (backends) {
    const b = await (backends as ReturnType<typeof backendCpuMeter>);
    postgres = await b.stop();
    await b.close();
  }
  const requests = report.latenciesMs.length;
  const latency = latencySummary(report.latenciesMs);
  return {
    ...latency,
    requestsPerSecond: round(requests / (report.elapsedMs / 1000), 1),
    errors: report.errors,
    ...(report.errorSamples.length ? { errorSamples: report.errorSamples } : {}),
    statuses: report.statuses,
    meanResponseBytes: requests ? Math.round(report.responseBytes / (requests + report.errors)) : 0,
    quietBefore: quiet,
    cpu: usage ? cpuBreakdown(usage, { server: usage.thisProcessCpuSeconds, loadGenerator: report.cpuSeconds, postgres }, requests) : null,
    appSql: {
      statementsPerRequest: requests ? round(sql.statements / requests, 2) : null,
      sqlWaitMsPerRequest: requests ? round((sql.sqlWaitSeconds * 1000) / requests, 2) : null,
      top: sql.top.slice(0, 4).map((s) => ({ sql: s.sql, meanMs: s.meanMs, shareOfSqlTime: s.shareOfSqlTime })),
    },
    meetsSeedSlo: latency.p95Ms <= SEED_SLO_P95_MS,
    meetsGoal: latency.p95Ms <= GOAL_P95_MS,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Direct SQL through pg

type Recorder = { statements: Array<{ scope: 'tenant' | 'system'; sql: string }> | null; times: Map<string, { count: number; ms: number }> | null };

/** The Sql handle the repositories take, over a bare pg client; optionally records and times what goes through. */
function sqlOver(client: pg.PoolClient | pg.Client, scope: 'tenant' | 'system', recorder: Recorder, explain?: Array<{ sql: string; plan: string[] }>): Sql {
  return {
    async query(text, values, options) {
      const key = statementKey(text);
      recorder.statements?.push({ scope, sql: key });
      if (explain && /^\s*(select|with)\b/i.test(text)) {
        const plan = await client.query(`explain (analyze, buffers, costs off) ${text}`, values ? [...values] : undefined);
        explain.push({ sql: key, plan: plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']!) });
      }
      const started = performance.now();
      // Named as the app names it (a statement prepared once per connection), so both plan alike.
      const params = values ? [...values] : undefined;
      const result = options?.name ? await client.query({ name: options.name, text, values: params }) : await client.query(text, params);
      if (recorder.times) {
        const t = recorder.times.get(key) ?? { count: 0, ms: 0 };
        t.count++;
        t.ms += performance.now() - started;
        recorder.times.set(key, t);
      }
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    },
    async exec(script) {
      await client.query(script);
    },
  };
}

/**
 * The framing of db.ts: a tenant transaction opens with one script (begin, set_config, set local role summit_app:
 * tenantScopeScript) and ends with commit; the token lookup runs outside a transaction (autocommit), as one statement.
 */
async function inTransaction<T>(pool: pg.Pool, tenantId: string | null, recorder: Recorder, fn: (tx: Sql) => Promise<T>, explain?: Array<{ sql: string; plan: string[] }>): Promise<T> {
  const client = await pool.connect();
  try {
    if (!tenantId) return await fn(sqlOver(client, 'system', recorder, explain));
    await client.query(`begin; ${tenantScopeScript(tenantId)}`);
    const result = await fn(sqlOver(client, 'tenant', recorder, explain));
    await client.query('commit');
    return result;
  } catch (error) {
    if (tenantId) await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** What the endpoint's request costs the database: the token lookup, then the service's tenant transaction. */
async function directRequest(pool: pg.Pool, tenant: BenchTenant, tokenId: string, endpoint: Endpoint, id: string, recorder: Recorder, explain?: Array<{ sql: string; plan: string[] }>) {
  await inTransaction(pool, null, recorder, (tx) => credentialRepo.findByTokenId(tx, tokenId), explain);
  return inTransaction(pool, tenant.id, recorder, async (tx) => {
    if (endpoint === 'entity') {
      await entityRepo.getDetail(tx, tenant.id, id, 20);
      return { nodes: 1, edges: 0 };
    }
    // The response text, as the app sends it; parsed here only to count (outside the timed statement).
    const body = await neighbourhoodJson(tx, tenant.id, id, { depth: params.neighborsDepth, limit: 200 });
    const shape = JSON.parse(body!) as { nodes: unknown[]; edges: unknown[]; truncated: boolean };
    return { nodes: shape.nodes.length, edges: shape.edges.length, truncated: shape.truncated };
  }, explain);
}

async function sqlRun(url: string, poolMax: number, tenant: BenchTenant, tokenId: string, ids: string[], endpoint: Endpoint) {
  const pool = new pg.Pool({ connectionString: url, max: poolMax });
  pool.on('error', () => undefined);
  const random = createRandom(params.seed + (endpoint === 'entity' ? 1 : 2));
  const idle: Recorder = { statements: null, times: null };
  const timed: Recorder = { statements: null, times: new Map() };
  const latencies: number[] = [];
  let errors = 0;
  let slowest = { id: '', ms: 0 };
  let nodes = 0;
  let truncated = 0;
  const phase = async (ms: number, record: boolean) => {
    const deadline = performance.now() + ms;
    const loop = async () => {
      while (performance.now() < deadline) {
        const id = ids[random.int(ids.length)]!;
        const started = performance.now();
        try {
          const shape = await directRequest(pool, tenant, tokenId, endpoint, id, record ? timed : idle);
          const elapsed = performance.now() - started;
          if (!record) continue;
          latencies.push(elapsed);
          nodes += shape.nodes;
          if ('truncated' in shape && shape.truncated) truncated++;
          if (elapsed > slowest.ms) slowest = { id, ms: elapsed };
        } catch {
          if (record) errors++;
        }
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: params.concurrency }, loop));
    return performance.now() - started;
  };
  try {
    const quiet = await awaitQuiet(params.quietWaitSeconds);
    await phase(params.warmupSeconds * 1000, false);
    const backends = await backendCpuMeter(url);
    const meter = cpuMeter();
    const elapsedMs = await phase(params.seconds * 1000, true);
    const usage = meter();
    const postgres = await backends.stop();
    await backends.close();
    const requests = latencies.length;
    const totalMs = [...timed.times!.values()].reduce((s, t) => s + t.ms, 0);
    return {
      poolMax,
      ...latencySummary(latencies),
      requestsPerSecond: round(requests / (elapsedMs / 1000), 1),
      errors,
      quietBefore: quiet,
      cpu: cpuBreakdown(usage, { sqlClient: usage.thisProcessCpuSeconds, postgres }, requests),
      statements: [...timed.times!.entries()]
        .sort((a, b) => b[1].ms - a[1].ms)
        .map(([sql, t]) => ({ sql, perRequest: round(t.count / requests, 2), meanMs: round(t.ms / t.count, 3), shareOfSqlTime: round(t.ms / totalMs, 3) })),
      slowest: { id: slowest.id, ms: round(slowest.ms, 1) },
      ...(endpoint === 'neighbors' ? { meanNodesReturned: round(nodes / requests, 1), truncatedShare: round(truncated / requests, 3) } : {}),
    };
  } finally {
    await pool.end();
  }
}

// ---------------------------------------------------------------------------------------------------------------

async function statementsOfHttp(store: Store, baseUrl: string, token: string, endpoint: Endpoint, id: string) {
  const url = `${baseUrl}${ENDPOINTS[endpoint].path.replace('{id}', id)}`;
  let status = 0;
  let body = '';
  const statements = await store.profile.record(async () => {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    status = res.status;
    body = await res.text();
  });
  if (status !== 200) throw new Error(`probe ${url}: ${status} ${body.slice(0, 300)}`);
  return { statements, bytes: body.length, body: JSON.parse(body) as { nodes?: unknown[]; edges?: unknown[]; truncated?: boolean } };
}

async function explainRequest(url: string, tenant: BenchTenant, tokenId: string, endpoint: Endpoint, id: string) {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  pool.on('error', () => undefined);
  try {
    // Once without EXPLAIN on the same connection, so the plans show a warm backend (catalog caches filled).
    await directRequest(pool, tenant, tokenId, endpoint, id, { statements: null, times: null });
    const plans: Array<{ sql: string; plan: string[] }> = [];
    const shape = await directRequest(pool, tenant, tokenId, endpoint, id, { statements: null, times: null }, plans);
    // The plan's nodes and timings; filters and conditions (long id arrays) are left out.
    const keep = (line: string, i: number) => i === 0 || /->|Heap Blocks|Planning Time|Execution Time/.test(line);
    const clip = (line: string) => (line.length > 160 ? `${line.slice(0, 160)}…` : line);
    // Plans without the token lookup; long plans keep their head and the execution time.
    return {
      id,
      ...shape,
      statements: plans
        .filter((p) => !p.sql.includes('api_tokens'))
        .map((p) => ({ sql: p.sql, plan: p.plan.filter(keep).map(clip) })),
    };
  } finally {
    await pool.end();
  }
}

/** Loads the graph through the ingest service, one run per source as the demo seeding does. */
async function loadGraph(summit: SummitApp, kind: string, tenant: BenchTenant, generated: ReturnType<typeof generateGraph>) {
  const loadStarted = performance.now();
  let objects = 0;
  const runs = [];
  for (const { source, bundle } of generated.bundles) {
    const started = performance.now();
    const run = await summit.modules.graph.ingest.ingestNow(scopeOf(tenant), bundle, source);
    objects += run.counts.received;
    runs.push({ source, status: run.status, received: run.counts.received, created: run.counts.created, merged: run.counts.merged, rejected: run.counts.rejected, seconds: round((performance.now() - started) / 1000, 1) });
    progress(`${kind}: ingested ${source} (${run.counts.received} objects, ${run.status}) in ${round((performance.now() - started) / 1000, 1)}s`);
  }
  return { objects, runs, seconds: (performance.now() - loadStarted) / 1000 };
}

/**
 * A kept database's bench tenant, with a new token for its admin (the first run's token was not kept). Issued in
 * system scope as the tenant service would, since the bench already owns the database.
 */
async function reuseTenant(store: Store): Promise<BenchTenant> {
  return store.db.withSystem(async (tx) => {
    const { rows } = await tx.query<{ tenantId: string; userId: string }>(
      `select t.id as "tenantId", u.id as "userId" from tenants t join users u on u.tenant_id = t.id
        where t.name like 'bench-read-%' and 'admin' = any(u.roles) order by t.created_at, u.created_at limit 1`,
    );
    const found = rows[0];
    if (!found) throw new Error(`the kept database ${store.database} has no bench tenant: drop it and run again`);
    const issued = issueApiToken();
    await tokenRepo.insert(tx, { tenantId: found.tenantId, id: issued.id, userId: found.userId, name: `bench-read-${issued.id.slice(-8)}`, secretHash: issued.secretHash, createdBy: null, expiresAt: null });
    return { id: found.tenantId, adminUserId: found.userId, adminToken: issued.token };
  });
}

async function benchStore(kind: string, generated: ReturnType<typeof generateGraph>) {
  const databaseName = params.keepDatabase ?? `summit_bench_read_${process.pid}`;
  const store = await openStore(kind, { adminUrl: params.adminUrl, databaseName, poolMax: params.appPool, keep: params.keepDatabase !== undefined });
  progress(`${kind}: store ready in ${store.setupSeconds}s (${store.version})${store.reused ? `, reusing the loaded database ${databaseName}` : ''}`);
  try {
    const summit = await buildBenchApp(store.db);
    try {
      await summit.app.listen({ host: '127.0.0.1', port: 0 });
      const address = summit.app.server.address();
      if (!address || typeof address === 'string') throw new Error('the app is not listening on a TCP port');
      if (FORBIDDEN_PORTS.has(address.port)) throw new Error(`refusing to use port ${address.port}`);
      const baseUrl = `http://127.0.0.1:${address.port}`;
      const tenant = store.reused ? await reuseTenant(store) : await createTenant(summit, `bench-read-${randomUUID().slice(0, 8)}`, baseUrl);
      const tokenId = parseApiToken(tenant.adminToken)?.id;
      if (!tokenId) throw new Error('the admin token does not parse');

      const { objects, runs, seconds: loadSeconds } = store.reused ? { objects: 0, runs: [], seconds: 0 } : await loadGraph(summit, kind, tenant, generated);
      const analyzeStarted = performance.now();
      const vacuum = 'vacuum (analyze) entities, relationships, sightings, provenance';
      if (store.pglite) await store.pglite.exec(vacuum);
      else {
        const owner = new pg.Client({ connectionString: store.url! });
        owner.on('error', () => undefined);
        await owner.connect();
        await owner.query(vacuum);
        await owner.end();
      }
      const analyzeSeconds = round((performance.now() - analyzeStarted) / 1000, 1);
      const counts = await store.db.withSystem(async (tx) => {
        const q = async (table: string) => Number((await tx.query<{ n: number }>(`select count(*)::int as n from ${table}`)).rows[0]!.n);
        return { entities: await q('entities'), relationships: await q('relationships'), sightings: await q('sightings'), provenance: await q('provenance') };
      });
      const ids = (await store.db.withSystem((tx) => tx.query<{ id: string }>('select id from entities order by id'))).rows.map((r) => r.id);
      progress(`${kind}: ${store.reused ? 'reused' : `loaded ${objects} objects in ${round(loadSeconds, 1)}s;`} ${counts.entities} entities, ${counts.relationships} relationships`);

      // What the app sends for one request of each endpoint (after one request, so the token's touch is done).
      const probeId = ids[Math.floor(ids.length / 2)]!;
      await statementsOfHttp(store, baseUrl, tenant.adminToken, 'entity', probeId);
      const probes = {
        entity: await statementsOfHttp(store, baseUrl, tenant.adminToken, 'entity', probeId),
        neighbors: await statementsOfHttp(store, baseUrl, tenant.adminToken, 'neighbors', probeId),
      };

      const http: Record<string, unknown> = {};
      for (const endpoint of Object.keys(ENDPOINTS) as Endpoint[]) {
        progress(`${kind}: HTTP ${ENDPOINTS[endpoint].label}, ${params.concurrency} clients, ${params.seconds}s`);
        http[endpoint] = await httpRun(store, baseUrl, tenant.adminToken, ids, endpoint);
        const h = http[endpoint] as { p50Ms: number; p95Ms: number; p99Ms: number; requestsPerSecond: number; errors: number };
        progress(`${kind}:   p50 ${h.p50Ms} ms, p95 ${h.p95Ms} ms, p99 ${h.p99Ms} ms, ${h.requestsPerSecond} req/s, ${h.errors} errors`);
      }

      // The same with one client: the latency of a request that never queues behind another.
      const oneClient: Record<string, unknown> = {};
      for (const endpoint of Object.keys(ENDPOINTS) as Endpoint[]) {
        progress(`${kind}: HTTP ${ENDPOINTS[endpoint].label}, 1 client, ${params.baselineSeconds}s`);
        const r = await httpRun(store, baseUrl, tenant.adminToken, ids, endpoint, 1, params.baselineSeconds);
        oneClient[endpoint] = { p50Ms: r.p50Ms, p95Ms: r.p95Ms, p99Ms: r.p99Ms, maxMs: r.maxMs, requestsPerSecond: r.requestsPerSecond, errors: r.errors, quietBefore: r.quietBefore, cpu: r.cpu, appSql: r.appSql };
        progress(`${kind}:   p50 ${r.p50Ms} ms, p95 ${r.p95Ms} ms, ${r.requestsPerSecond} req/s`);
      }

      let direct: Record<string, unknown> | null = null;
      if (store.kind === 'postgres') {
        direct = {};
        for (const endpoint of Object.keys(ENDPOINTS) as Endpoint[]) {
          const recorder: Recorder = { statements: [], times: null };
          const pool = new pg.Pool({ connectionString: store.url!, max: 1 });
          pool.on('error', () => undefined);
          await directRequest(pool, tenant, tokenId, endpoint, probeId, recorder);
          await pool.end();
          const same = JSON.stringify(recorder.statements) === JSON.stringify(probes[endpoint].statements);
          const runs: unknown[] = [];
          for (const poolMax of params.sqlPools) {
            progress(`${kind}: direct SQL for ${ENDPOINTS[endpoint].label}, pool ${poolMax}, ${params.concurrency} loops, ${params.seconds}s`);
            const r = await sqlRun(store.url!, poolMax, tenant, tokenId, ids, endpoint);
            progress(`${kind}:   p50 ${r.p50Ms} ms, p95 ${r.p95Ms} ms, p99 ${r.p99Ms} ms, ${r.requestsPerSecond} req/s`);
            runs.push(r);
          }
          const h = http[endpoint] as { p50Ms: number; p95Ms: number; p99Ms: number };
          const matching = runs.find((r) => (r as { poolMax: number }).poolMax === params.appPool) as { p50Ms: number; p95Ms: number; p99Ms: number; slowest: { id: string } } | undefined;
          const slowestId = (runs.at(-1) as { slowest: { id: string } }).slowest.id;
          direct[endpoint] = {
            sameStatementsAsApp: same,
            roundTripsPerRequest: { repositoryStatements: probes[endpoint].statements.length, transactionFraming: 2, note: 'framing: one script (begin, set_config, set local role) opening the tenant transaction, and its commit; the token lookup runs outside a transaction' },
            runs,
            httpOverSql: matching
              ? { poolMax: params.appPool, p50: round(h.p50Ms / matching.p50Ms, 2), p95: round(h.p95Ms / matching.p95Ms, 2), p99: round(h.p99Ms / matching.p99Ms, 2), withinTwoTimesAtP95: h.p95Ms <= 2 * matching.p95Ms }
              : null,
            explain: {
              typical: await explainRequest(store.url!, tenant, tokenId, endpoint, probeId),
              slowest: slowestId ? await explainRequest(store.url!, tenant, tokenId, endpoint, slowestId) : null,
            },
          };
        }
      }

      return {
        store: store.version,
        appPoolMax: store.kind === 'postgres' ? params.appPool : 'one connection (PGlite): transactions are serialised',
        load: store.reused
          ? { reusedDatabase: store.database, vacuumAnalyzeSeconds: analyzeSeconds, rows: counts }
          : { objects, seconds: round(loadSeconds, 1), objectsPerSecond: Math.round(objects / loadSeconds), runs, vacuumAnalyzeSeconds: analyzeSeconds, rows: counts },
        probe: {
          id: probeId,
          entity: { bytes: probes.entity.bytes, statements: probes.entity.statements },
          neighbors: { bytes: probes.neighbors.bytes, nodes: probes.neighbors.body.nodes?.length, edges: probes.neighbors.body.edges?.length, truncated: probes.neighbors.body.truncated, statements: probes.neighbors.statements },
        },
        http,
        httpOneClient: oneClient,
        directSql: direct,
      };
    } finally {
      await summit.app.close();
    }
  } finally {
    await store.close();
  }
}

async function main() {
  const generated = generateGraph(params.seed, params.entities, params.relationshipsPerEntity);
  progress(`generated ${generated.stats.entities} entities, ${generated.stats.relationships} relationships, ${generated.stats.sightings} sightings in ${generated.seconds}s`);
  const stores: Record<string, unknown> = {};
  for (const kind of params.stores) stores[kind] = await benchStore(kind, generated);
  const result = {
    bench: 'read',
    params: { ...params, adminUrl: undefined, client: 'node:http keep-alive Agent in a child process' },
    slo: { seedP95Ms: SEED_SLO_P95_MS, goalP95Ms: GOAL_P95_MS, goalHttpOverSqlP95: 2 },
    generated: { ...generated.stats, byType: undefined, generatorSeconds: generated.seconds },
    stores,
    machine: { cpus: os.cpus().length, totalMemGb: round(os.totalmem() / 2 ** 30, 1) },
    node: process.version,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

await main();
