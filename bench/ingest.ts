/**
 * STIX ingest benchmark: objects/s through the ingest service, against the physical limit of the same rows loaded
 * with COPY into the same (emptied) tables.
 *
 * 1. The seeded demo generator's source bundles (about 25,000 entities with 3 relationships each, ~100,000 objects)
 *    concatenated into one bundle; marking-definitions that several sources define appear once.
 * 2. For each store, fresh: in-memory PGlite migrated from scratch, and a new PostgreSQL database
 *    summit_bench_ingest_<pid> (dropped afterwards). The app is built by buildApp, a tenant is created through the
 *    API (POST /api/v1/tenants), and the bundle is imported by ingest.ingestNow(), the path the API and the ingest
 *    job share (parse, chunks of entities/relationships/sightings, one transaction per chunk). The clock runs around
 *    ingestNow only. The statements the service issues are counted and timed from the caller's side.
 * 3. The physical limit: the rows the import produced (entities, relationships, sightings, provenance) are read back
 *    with COPY TO, the four tables truncated, a checkpoint taken, and the rows loaded again with COPY FROM in one
 *    transaction, with every index, constraint and foreign key of the real tables in place. PostgreSQL: server-side
 *    files (the server runs on this machine; pg-copy-streams is not installed, and pg cannot send COPY FROM STDIN
 *    without it); PGlite: COPY TO/FROM '/dev/blob' with the query's blob option. COPY runs as the owner, so
 *    row-level security is not evaluated for it (our import runs as summit_app under RLS).
 *
 * Run: npm run bench:ingest                  (~100,000 objects)
 *      BENCH_QUICK=1 npm run bench:ingest    (~10,000 objects)
 *      cd server && npx tsx ../bench/ingest.ts --stores=postgres --entities=5000
 * Prints one JSON object to stdout; progress goes to stderr.
 *
 * Options (flag `--name=value` or env `BENCH_NAME`):
 *   quick=1          ~10,000 objects
 *   entities=25000   entities to generate (objects ≈ 4 × entities with 3 relationships per entity)
 *   rels-per-entity=3
 *   seed=20261128
 *   stores=pglite,postgres
 *   admin-url=postgres://postgres@127.0.0.1:5432/postgres
 *   quiet-wait=60    before measuring, wait up to this many seconds for an idle second (the machine is shared)
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import pg from 'pg';
import type { PGlite } from '@electric-sql/pglite';
import {
  DEFAULT_ADMIN_URL, awaitQuiet, backendCpuMeter, buildBenchApp, concatenateBundles, cpuMeter, createTenant, generateGraph, isQuick, listOption,
  numberOption, openStore, option, progressFor, round, scopeOf, type Store,
} from './graph-bench.js';

const quick = isQuick();
const params = {
  quick,
  seed: numberOption('seed', 20_261_128),
  entities: numberOption('entities', quick ? 2_500 : 25_000),
  relationshipsPerEntity: numberOption('rels-per-entity', 3),
  stores: listOption('stores', ['pglite', 'postgres']),
  adminUrl: option('admin-url') ?? DEFAULT_ADMIN_URL,
  quietWaitSeconds: numberOption('quiet-wait', quick ? 10 : 60),
  source: 'bench-feed',
};
const TABLES = ['entities', 'relationships', 'sightings', 'provenance'] as const;
type Table = (typeof TABLES)[number];
const progress = progressFor('bench:ingest');

type RowCounts = Record<Table, number> & { total: number };

async function countRows(query: (sql: string) => Promise<{ rows: Array<Record<string, unknown>> }>): Promise<RowCounts> {
  const counts = { total: 0 } as RowCounts;
  for (const table of TABLES) {
    const { rows } = await query(`select count(*)::int as n from ${table}`);
    counts[table] = Number(rows[0]!.n);
    counts.total += counts[table];
  }
  return counts;
}

/** COPY the four tables out, empty them, and time COPY-ing the same rows back in (PostgreSQL: server-side files). */
async function copyLimitPostgres(store: Store, adminUrl: string) {
  const url = new URL(adminUrl);
  url.pathname = `/${store.database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  client.on('error', () => undefined);
  await client.connect();
  const fileOf = (t: Table) => `/tmp/summit_bench_ingest_${process.pid}_${t}.copy`;
  try {
    let bytes = 0;
    for (const table of TABLES) {
      await client.query(`copy ${table} to '${fileOf(table)}'`);
      bytes += Number((await client.query(`select (pg_stat_file('${fileOf(table)}')).size as s`)).rows[0].s);
    }
    await client.query(`truncate ${TABLES.join(', ')}`);
    await client.query('checkpoint');
    const perTable: Record<string, number> = {};
    const started = performance.now();
    await client.query('begin');
    for (const table of TABLES) {
      const t = performance.now();
      await client.query(`copy ${table} from '${fileOf(table)}'`);
      perTable[table] = round((performance.now() - t) / 1000, 3);
    }
    await client.query('commit');
    const seconds = (performance.now() - started) / 1000;
    const rows = await countRows((sql) => client.query(sql));
    return { method: 'COPY FROM server-side file (text format), one transaction, same tables emptied (indexes, constraints, FKs in place)', seconds, perTableSeconds: perTable, rows, bytes };
  } finally {
    await client.query(`copy (select 1) to program 'rm -f ${TABLES.map(fileOf).join(' ')}'`).catch(() => undefined);
    await client.end();
  }
}

/** The same on PGlite, through its /dev/blob device. */
async function copyLimitPglite(pglite: PGlite) {
  const blobs = new Map<Table, Blob>();
  let bytes = 0;
  for (const table of TABLES) {
    const result = await pglite.query(`copy ${table} to '/dev/blob'`);
    if (!result.blob) throw new Error(`COPY ${table} TO '/dev/blob' returned no blob`);
    blobs.set(table, result.blob);
    bytes += result.blob.size;
  }
  await pglite.exec(`truncate ${TABLES.join(', ')}; checkpoint;`);
  const perTable: Record<string, number> = {};
  const started = performance.now();
  await pglite.transaction(async (tx) => {
    for (const table of TABLES) {
      const t = performance.now();
      await tx.query(`copy ${table} from '/dev/blob'`, [], { blob: blobs.get(table)! });
      perTable[table] = round((performance.now() - t) / 1000, 3);
    }
  });
  const seconds = (performance.now() - started) / 1000;
  const rows = await countRows((sql) => pglite.query(sql));
  return { method: "COPY FROM '/dev/blob' (text format), one transaction, same tables emptied (indexes, constraints, FKs in place)", seconds, perTableSeconds: perTable, rows, bytes };
}

async function benchStore(kind: string, bundle: ReturnType<typeof concatenateBundles>) {
  const store = await openStore(kind, { adminUrl: params.adminUrl, databaseName: `summit_bench_ingest_${process.pid}` });
  progress(`${kind}: store ready in ${store.setupSeconds}s (${store.version})`);
  try {
    const summit = await buildBenchApp(store.db);
    try {
      const tenant = await createTenant(summit, `bench-ingest-${randomUUID().slice(0, 8)}`);
      progress(`${kind}: ingesting ${bundle.objects.length} objects`);
      const quiet = await awaitQuiet(params.quietWaitSeconds);
      const backends = store.url ? await backendCpuMeter(store.url) : null;
      store.profile.start();
      const cpu = cpuMeter();
      const started = performance.now();
      const run = await summit.modules.graph.ingest.ingestNow(scopeOf(tenant), bundle, params.source);
      const seconds = (performance.now() - started) / 1000;
      const usage = cpu();
      const postgresCpu = backends ? await backends.stop() : null;
      await backends?.close();
      const sql = store.profile.stop(8);
      progress(`${kind}: ingested in ${round(seconds, 1)}s (${run.status}, created ${run.counts.created}, merged ${run.counts.merged}, rejected ${run.counts.rejected})`);
      const rows = await store.db.withSystem((tx) => countRows((q) => tx.query(q)));

      progress(`${kind}: COPY limit`);
      const limit = store.pglite ? await copyLimitPglite(store.pglite) : await copyLimitPostgres(store, params.adminUrl);
      const sameRows = TABLES.every((t) => limit.rows[t] === rows[t]);
      progress(`${kind}: COPY loaded ${limit.rows.total} rows in ${round(limit.seconds, 2)}s`);

      const objects = run.counts.received;
      const ours = objects / seconds;
      const copy = objects / limit.seconds;
      return {
        store: store.version,
        setupSeconds: store.setupSeconds,
        objects,
        ours: {
          seconds: round(seconds, 2),
          objectsPerSecond: Math.round(ours),
          rowsPerSecond: Math.round(rows.total / seconds),
          run: { status: run.status, ...run.counts },
          rows,
          quietBefore: quiet,
          cpu: {
            ...usage,
            // The app's pool connections (PostgreSQL only; PGlite runs inside this process).
            postgresBackendsCpuSeconds: postgresCpu,
            // Cores the import kept busy on average (this process + its backends): about 1.0 means Node and
            // PostgreSQL took turns, each waiting for the other's answer, one statement at a time.
            coresBusy: round((usage.thisProcessCpuSeconds + (postgresCpu ?? 0)) / seconds, 2),
          },
          sql: {
            statements: sql.statements,
            statementsPerObject: round(sql.statements / objects, 2),
            transactions: sql.transactions,
            sqlWaitSeconds: sql.sqlWaitSeconds,
            sqlWaitShareOfWall: round(sql.sqlWaitSeconds / seconds, 2),
            top: sql.top,
          },
        },
        copyLimit: {
          method: limit.method,
          seconds: round(limit.seconds, 3),
          objectsPerSecond: Math.round(copy),
          rowsPerSecond: Math.round(limit.rows.total / limit.seconds),
          perTableSeconds: limit.perTableSeconds,
          bytes: limit.bytes,
          sameRowsAsOurs: sameRows,
        },
        oursOverCopy: round(ours / copy, 4),
        copyTimesFaster: round(seconds / limit.seconds, 1),
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
  const bundle = concatenateBundles(generated.bundles, 'bundle--00000000-0000-4000-8000-00000000b1e5');
  progress(`generated ${bundle.objects.length} objects in ${generated.seconds}s (${generated.stats.entities} entities, ${generated.stats.relationships} relationships, ${generated.stats.sightings} sightings)`);
  const results: Record<string, unknown> = {};
  for (const kind of params.stores) results[kind] = await benchStore(kind, bundle);
  const result = {
    bench: 'ingest',
    params: { ...params, adminUrl: undefined },
    bundle: { objects: bundle.objects.length, sources: generated.bundles.map((b) => b.source), generatorSeconds: generated.seconds, generated: generated.stats },
    stores: results,
    machine: { cpus: os.cpus().length, totalMemGb: round(os.totalmem() / 2 ** 30, 1) },
    node: process.version,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

await main();
