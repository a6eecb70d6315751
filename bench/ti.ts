/**
 * Threat-intel benchmark: the bulk path (score + evaluate suppression) over 1,000,000 indicators, and the latency of
 * GET /api/v1/indicators?minScore=80 over 100,000.
 *
 * 1. A fresh store (PostgreSQL by default: a new database summit_bench_ti_<pid>, dropped afterwards; PGlite in
 *    memory with --stores=pglite) migrated from scratch; the app built by buildApp; two tenants created through the
 *    API. The first gets warninglists (all four) and three suppression rules (a CIDR, a domain suffix, a score
 *    range) through the API while still empty, and source ratings.
 * 2. Rows are generated directly in SQL with generate_series (as the owner): entities (60% indicators whose simple
 *    STIX pattern names an IPv4 address, domain, URL or file hash, 40% bare observables; ~4% private addresses and
 *    ~2% benign domains that the warninglists catch), 1–2 provenance rows each (25% corroborated), sightings on 3%.
 *    Then ANALYZE.
 * 3. Bulk path: the daily ti.rescore job's loop — one transaction per batch of `batch` entities, each running the
 *    scoring statement and the suppression statement (set-based, no row-by-row JS) — timed end to end;
 *    indicators/s = scored rows / seconds.
 * 4. Latency: the second tenant gets `list-indicators` rows the same way and one bulk pass; then `requests`
 *    sequential GET /api/v1/indicators?minScore=80 (limit 50, the default page) through app.inject — the full stack:
 *    token lookup, Cedar decision, tenant transaction, the list query — after 20 warm-up requests.
 *
 * Run: cd server && DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx ../bench/ti.ts
 *      cd server && npx tsx ../bench/ti.ts --quick=1          (100,000 / 20,000)
 * Options (flag `--name=value` or env `BENCH_NAME`): indicators=1000000, list-indicators=100000, batch=20000,
 * requests=300, stores=postgres, admin-url=$DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres.
 * Prints one JSON object to stdout; progress goes to stderr.
 */
import { randomUUID } from 'node:crypto';
import type { Sql } from '../server/src/platform/db.js';
import {
  buildBenchApp, createTenant, DEFAULT_ADMIN_URL, isQuick, latencySummary, listOption, numberOption, openStore, option, progressFor, round,
  type BenchTenant,
} from './graph-bench.js';

const quick = isQuick();
const params = {
  indicators: numberOption('indicators', quick ? 100_000 : 1_000_000),
  listIndicators: numberOption('list-indicators', quick ? 20_000 : 100_000),
  batch: numberOption('batch', 20_000),
  requests: numberOption('requests', 300),
  stores: listOption('stores', ['postgres']),
  adminUrl: option('admin-url') ?? process.env.DATABASE_URL ?? DEFAULT_ADMIN_URL,
};
const progress = progressFor('ti');

/** n entities of scored types for the tenant, with provenance and some sightings; ids are md5-derived, so stable. */
async function generate(tx: Sql, tenantId: string, n: number, salt: string) {
  // Deterministic ids shaped as version-4 UUIDs (the API's schemas check the version and variant nibbles).
  await tx.query(`create or replace function pg_temp.ti_bench_uuid(t text) returns uuid language sql immutable as
    $f$ select overlay(overlay(md5(t) placing '4' from 13) placing '8' from 17)::uuid $f$`);
  await tx.query(
    `insert into entities (tenant_id, id, stix_id, type, key, name, properties, confidence, first_seen, last_seen)
     select $1, v.id, x.type || '--' || v.id, x.type, x.key, x.key, x.props, 50 + (g % 50), null, null
       from generate_series(1, $2::int) g
       cross join lateral (select pg_temp.ti_bench_uuid($3 || g) as id, g % 10 as kind,
                                  (11 + g / 65536) || '.' || (g / 256 % 256) || '.' || (g % 256) || '.' || (1 + g % 7) as ip) v
       cross join lateral (select
         case when v.kind < 6 then 'indicator' when v.kind < 8 then 'ipv4-addr' when v.kind < 9 then 'domain-name' else 'file' end as type,
         case when v.kind = 0 then format('[ipv4-addr:value=''%s'']', case when g % 25 = 0 then '10.' || (g / 65536) || '.' || (g / 256 % 256) || '.' || (g % 256) else v.ip end)
              when v.kind = 1 then format('[domain-name:value=''%s'']', case when g % 50 = 1 then 'host' || g || '.windowsupdate.com' else 'd' || g || '.bad' || (g % 97) || '.example' end)
              when v.kind = 2 then format('[url:value=''http://d%s.bad%s.example/p/%s'']', g, g % 97, g)
              when v.kind = 3 then format('[file:hashes.''SHA-256''=''%s'']', encode(sha256(($3 || g)::bytea), 'hex'))
              when v.kind < 6 then format('[ipv4-addr:value=''%s'']', v.ip)
              when v.kind < 8 then case when g % 25 = 7 then '172.' || (16 + g / 65536 % 16) || '.' || (g / 256 % 256) || '.' || (g % 256) else v.ip end
              when v.kind = 8 then 'o' || g || '.evil' || (g % 89) || '.example'
              else encode(sha256(($3 || 'f' || g)::bytea), 'hex') end as key,
         case when v.kind < 6 then jsonb_build_object('pattern_type', 'stix', 'valid_from', to_char(now() - make_interval(days => g % 400), 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                                       'labels', case when g % 40 = 0 then jsonb_build_array('benign') else '[]'::jsonb end)
              when v.kind = 9 then jsonb_build_object('hashes', jsonb_build_object('SHA-256', encode(sha256(($3 || 'f' || g)::bytea), 'hex')))
              else '{}'::jsonb end as props) x`,
    [tenantId, n, salt],
  );
  await tx.query(
    `insert into provenance (tenant_id, id, subject_kind, subject_id, source, confidence, asserted_at)
     select $1::uuid, gen_random_uuid(), 'entity', pg_temp.ti_bench_uuid($3 || g), 'feed-' || (g % 4), 40 + (g % 60), now() - make_interval(days => g % 120)
       from generate_series(1, $2::int) g
     union all
     select $1::uuid, gen_random_uuid(), 'entity', pg_temp.ti_bench_uuid($3 || g), 'feed-' || ((g + 1) % 4), 30 + (g % 70), now() - make_interval(days => g % 90)
       from generate_series(1, $2::int) g where g % 4 = 0`,
    [tenantId, n, salt],
  );
  await tx.query(
    `insert into sightings (tenant_id, id, stix_id, entity_id, count, first_seen, last_seen, true_positive)
     select $1, x.id, 'sighting--' || x.id, pg_temp.ti_bench_uuid($3 || g), 1 + g % 3, now() - make_interval(days => g % 30), now() - make_interval(days => g % 20),
            case when g % 7 = 0 then false when g % 2 = 0 then true end
       from generate_series(1, $2::int) g cross join lateral (select pg_temp.ti_bench_uuid('s' || $3 || g) as id) x where g % 33 = 0`,
    [tenantId, n, salt],
  );
}

async function configure(summit: Awaited<ReturnType<typeof buildBenchApp>>, tenant: BenchTenant) {
  const headers = { authorization: `Bearer ${tenant.adminToken}` };
  const call = async (method: 'PUT' | 'POST', url: string, payload: Record<string, unknown>) => {
    const res = await summit.app.inject({ method, url, headers, payload });
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  };
  for (const name of ['special-purpose-ipv4', 'special-purpose-ipv6', 'public-dns-resolvers', 'benign-domains']) await call('PUT', `/api/v1/ti/warninglists/${name}`, { enabled: true });
  await call('PUT', '/api/v1/ti/scoring', { sourceRatings: [{ source: 'feed-0', reliability: 'A' }, { source: 'feed-1', reliability: 'B' }, { source: 'feed-2', reliability: 'C' }] });
  await call('POST', '/api/v1/ti/suppression-rules', { name: 'tor', action: 'suppress', reason: 'bench', match: { value: { kind: 'cidr', pattern: '185.220.0.0/16' } } });
  await call('POST', '/api/v1/ti/suppression-rules', { name: 'bad17', action: 'inform', reason: 'bench', match: { value: { kind: 'domain-suffix', pattern: 'bad17.example' } } });
  await call('POST', '/api/v1/ti/suppression-rules', { name: 'noise', action: 'suppress', reason: 'bench', match: { maxScore: 29 } });
}

type BenchApp = Awaited<ReturnType<typeof buildBenchApp>>;

let explainPass = 0;
/** With --explain=targets (scoring) or --explain=wl_cidr (suppression), on the second pass, the plans (EXPLAIN ANALYZE) of the scoring and suppression statements go to stderr. */
function explaining(tx: Sql): Sql {
  if (!option('explain')) return tx;
  return {
    exec: (script) => tx.exec(script),
    async query(text, values, options) {
      if (explainPass === 2 && new RegExp(`^\\s*with ${option('explain')}`).test(text)) {
        const plan = await tx.query<{ 'QUERY PLAN': string }>(`explain (analyze, costs off) ${text}`, values);
        progress(plan.rows.map((r) => r['QUERY PLAN']).join('\n'));
        throw new Error('explained');
      }
      return tx.query(text, values, options);
    },
  } as Sql;
}

/** The ti.rescore job's loop (scoring.service.ts): one transaction per batch, scoring then suppression. */
async function bulkPass(summit: BenchApp, db: Parameters<typeof buildBenchApp>[0], tenantId: string) {
  explainPass += 1;
  let after: string | null = null;
  const totals = { scored: 0, suppressionsAdded: 0, suppressionsCleared: 0, batches: 0 };
  const started = performance.now();
  for (;;) {
    const from: string | null = after;
    type Batch = { scored: number; added: number; cleared: number; next: string | null } | null;
    const batch: Batch = await db.withTenant(tenantId, (tx): Promise<Batch> => summit.modules.ti.scoring.rescoreBatch(explaining(tx), tenantId, from, params.batch));
    if (!batch) break;
    totals.scored += batch.scored;
    totals.suppressionsAdded += batch.added;
    totals.suppressionsCleared += batch.cleared;
    totals.batches += 1;
    if (!batch.next) break;
    after = batch.next;
  }
  return { seconds: (performance.now() - started) / 1000, ...totals };
}

async function benchStore(kind: string) {
  const store = await openStore(kind, { adminUrl: params.adminUrl, databaseName: `summit_bench_ti_${process.pid}` });
  progress(`${kind}: store ready in ${store.setupSeconds}s (${store.version})`);
  try {
    // --explain=list: the plan of one GET /indicators list query goes to stderr.
    let explainList = false;
    const db: Parameters<typeof buildBenchApp>[0] = {
      ...store.db,
      withTenant: (t, fn) => store.db.withTenant(t, (tx) => fn({
        exec: (script) => tx.exec(script),
        async query(text, values, options) {
          if (explainList && /^select s\.entity_id/.test(text.trim())) {
            explainList = false;
            const plan = await tx.query<{ 'QUERY PLAN': string }>(`explain (analyze, costs off) ${text}`, values);
            progress(plan.rows.map((r) => r['QUERY PLAN']).join('\n'));
          }
          return tx.query(text, values, options);
        },
      })),
    };
    const summit = await buildBenchApp(db);
    try {
      const bulkTenant = await createTenant(summit, `bench-ti-${randomUUID().slice(0, 8)}`);
      await configure(summit, bulkTenant);
      progress(`${kind}: generating ${params.indicators} entities`);
      let t0 = performance.now();
      await store.db.withSystem((tx) => generate(tx, bulkTenant.id, params.indicators, 'bulk'));
      await store.db.withSystem((tx) => tx.query('analyze'));
      const generateSeconds = (performance.now() - t0) / 1000;
      progress(`${kind}: generated in ${round(generateSeconds, 1)}s; bulk pass`);
      store.profile.start();
      const first = await bulkPass(summit, store.db, bulkTenant.id);
      const firstSql = store.profile.stop(6);
      progress(`${kind}: first pass ${round(first.seconds, 1)}s (${first.scored} scored, ${first.suppressionsAdded} suppressions)`);
      // The daily case: every row exists already (updates, not inserts) and the ledger is mostly unchanged.
      store.profile.start();
      const daily = await bulkPass(summit, store.db, bulkTenant.id);
      const dailySql = store.profile.stop(6);
      progress(`${kind}: daily pass ${round(daily.seconds, 1)}s`);
      const counts = await store.db.withTenant(bulkTenant.id, async (tx) => (await tx.query<{ band: string; n: number }>(
        `select band, count(*)::int as n from ti_scores where tenant_id = $1 group by band order by band`, [bulkTenant.id])).rows);

      const listTenant = await createTenant(summit, `bench-ti-list-${randomUUID().slice(0, 8)}`);
      await configure(summit, listTenant);
      t0 = performance.now();
      await store.db.withSystem((tx) => generate(tx, listTenant.id, params.listIndicators, 'list'));
      await store.db.withSystem((tx) => tx.query('analyze'));
      await bulkPass(summit, store.db, listTenant.id);
      progress(`${kind}: list tenant ready in ${round((performance.now() - t0) / 1000, 1)}s; ${params.requests} requests`);
      const headers = { authorization: `Bearer ${listTenant.adminToken}` };
      let returned = 0;
      for (let i = 0; i < 20; i++) await summit.app.inject({ method: 'GET', url: '/api/v1/indicators?minScore=80', headers });
      explainList = option('explain') === 'list';
      const latencies: number[] = [];
      for (let i = 0; i < params.requests; i++) {
        const s = performance.now();
        const res = await summit.app.inject({ method: 'GET', url: '/api/v1/indicators?minScore=80', headers });
        latencies.push(performance.now() - s);
        if (res.statusCode !== 200) throw new Error(`GET /api/v1/indicators: ${res.statusCode} ${res.body}`);
        returned = res.json().items.length;
      }
      const above80 = (await store.db.withTenant(listTenant.id, (tx) => tx.query<{ n: number }>(
        `select count(*)::int as n from ti_scores where tenant_id = $1 and score >= 80`, [listTenant.id]))).rows[0]!.n;
      return {
        store: store.version,
        bulk: {
          indicators: params.indicators,
          batch: params.batch,
          generateSeconds: round(generateSeconds, 1),
          firstPass: { ...first, seconds: round(first.seconds, 2), indicatorsPerSecond: Math.round(first.scored / first.seconds), sql: firstSql.top },
          dailyPass: { ...daily, seconds: round(daily.seconds, 2), indicatorsPerSecond: Math.round(daily.scored / daily.seconds), sql: dailySql.top },
          bands: Object.fromEntries(counts.map((c) => [c.band, c.n])),
        },
        list: {
          indicators: params.listIndicators,
          scoredAtLeast80: above80,
          itemsPerPage: returned,
          requests: params.requests,
          latencyMs: latencySummary(latencies.sort((a, b) => a - b)),
        },
      };
    } finally {
      await summit.app.close();
    }
  } finally {
    await store.close();
  }
}

async function main() {
  const results: Record<string, unknown> = {};
  for (const kind of params.stores) results[kind] = await benchStore(kind);
  process.stdout.write(`${JSON.stringify({ benchmark: 'ti', params: { ...params, adminUrl: undefined }, results }, null, 2)}\n`);
}

await main();
