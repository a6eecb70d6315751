/**
 * Playbook benchmark: run time of a 5-step playbook (search → expand depth 2 → filter → annotate → report) on the
 * 100,000-entity demo-scale graph, and the time to render a 1,000-row result as PDF and Markdown.
 *
 * 1. The seeded demo graph (100,000 entities, 3 relationships per entity: ~300,000 relationships) is loaded into a
 *    fresh store the way bench/read.ts does it (bench/graph-bench.ts): buildApp over the store, a tenant created
 *    through the API, ingest.ingestNow() per source bundle, then VACUUM ANALYZE of the graph tables. PostgreSQL: a
 *    new database summit_bench_playbooks_<pid>, dropped afterwards; PGlite: in memory.
 * 2. The playbook is checked by validateDefinition and its parameters by resolveParams, as the run service does, and
 *    run through the real engine (runPlaybook over createGraphReader, tenant-scoped transactions under row-level
 *    security, the run service's step timeout and row limit). Each measured run starts from a different campaign,
 *    intrusion set, malware family or threat actor of the graph (picked by a seeded PRNG), with its depth fixed at 2
 *    and the corroboration threshold varied, so the runs do not repeat one query. A few unmeasured warm-up runs
 *    come first. Time is the wall time of runPlaybook (all steps plus the provenance collection); the run service's
 *    own bookkeeping (claiming the job, storing the results) is not in it.
 * 3. Export: the run whose report section is largest (the section is capped at 1,000 rows); if none reached 1,000,
 *    one more run from the graph's busiest starting point with a wider expansion. Its results become an export
 *    model through exportModelOf (the code GET /runs/{id}/export uses, with the default branding, no logo and no
 *    annotations), pass through redact() with no rules, and are rendered by renderPdf and renderMarkdown several
 *    times each.
 *
 * Run: cd server && DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx ../bench/playbooks.ts
 *      cd server && npx tsx ../bench/playbooks.ts --stores=pglite
 *      BENCH_QUICK=1 …                     (10,000 entities, 10 runs)
 * Prints one JSON object to stdout; progress goes to stderr.
 *
 * Options (flag `--name=value` or env `BENCH_NAME`):
 *   quick=1            10,000 entities, 10 runs, 2 renders
 *   entities=100000    rels-per-entity=3   seed=20261128
 *   runs=30            measured playbook runs per store;  warmup-runs=3
 *   renders=5          measured renders per format
 *   stores=postgres,pglite
 *   admin-url=$DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres
 *   quiet-wait=30      before measuring, wait up to this many seconds for an idle second (the machine is shared)
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import pg from 'pg';
import type { SummitApp } from '../server/src/app.js';
import { validateDefinition, type PlaybookDefinition } from '../server/src/modules/playbooks/definition.js';
import { runPlaybook, type RunOutcome } from '../server/src/modules/playbooks/engine.js';
import { exportModelOf } from '../server/src/modules/playbooks/export-model.js';
import { createGraphReader } from '../server/src/modules/playbooks/graph-reader.js';
import { resolveParams, type ParamValues } from '../server/src/modules/playbooks/params.js';
import type { PlaybookRow, RunRow } from '../server/src/modules/playbooks/playbook.repo.js';
import { ROW_LIMIT, STEP_TIMEOUT_MS } from '../server/src/modules/playbooks/run.service.js';
import { redact, renderMarkdown, renderPdf } from '../server/src/modules/reports/index.js';
import {
  DEFAULT_ADMIN_URL, awaitQuiet, buildBenchApp, cpuMeter, createRandom, createTenant, generateGraph, isQuick, latencySummary, listOption,
  numberOption, openStore, option, progressFor, round, scopeOf, type BenchTenant, type Store,
} from './graph-bench.js';

const quick = isQuick();
const params = {
  quick,
  seed: numberOption('seed', 20_261_128),
  entities: numberOption('entities', quick ? 10_000 : 100_000),
  relationshipsPerEntity: numberOption('rels-per-entity', 3),
  runs: numberOption('runs', quick ? 10 : 30),
  warmupRuns: numberOption('warmup-runs', 3),
  renders: numberOption('renders', quick ? 2 : 5),
  stores: listOption('stores', ['postgres', 'pglite']),
  adminUrl: option('admin-url') ?? process.env.DATABASE_URL ?? DEFAULT_ADMIN_URL,
  quietWait: numberOption('quiet-wait', 30),
};
const progress = progressFor('playbooks');
const EXPORT_ROWS = 1_000;
const START_TYPES = ['campaign', 'intrusion-set', 'malware', 'threat-actor'];

/** The benchmarked playbook: five steps, the start entity and the thresholds as parameters. */
const playbook = {
  name: 'Bench: infrastructure around a threat',
  description: 'search → expand (depth 2) → filter → annotate → report',
  tags: ['bench'],
  parameters: [
    { name: 'start', type: 'string', required: true, description: 'Name of the campaign, intrusion set, malware or actor to start from.' },
    { name: 'depth', type: 'integer', min: 1, max: 3, default: 2 },
    { name: 'expandLimit', type: 'integer', min: 1, max: 10_000, default: 5_000 },
    { name: 'minSources', type: 'integer', min: 1, max: 10, default: 3 },
  ],
  steps: [
    { id: 'start', type: 'search', types: START_TYPES, q: { $param: 'start' }, limit: 5 },
    { id: 'around', type: 'expand', depth: { $param: 'depth' }, limit: { $param: 'expandLimit' } },
    { id: 'infra', type: 'filter', types: ['ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'indicator'] },
    {
      id: 'marked',
      type: 'annotate',
      rules: [
        { id: 'shared', when: { minSources: { $param: 'minSources' } }, severity: 'high', note: 'Asserted by several sources: shared infrastructure.' },
        { id: 'confident', when: { types: ['indicator'], minConfidence: 80 }, severity: 'medium', note: 'High-confidence indicator.' },
        { id: 'restricted', when: { tlp: ['amber+strict', 'red'] }, severity: 'info', note: 'Restricted marking.' },
      ],
    },
    {
      id: 'report',
      type: 'report',
      title: 'Infrastructure',
      sections: [{
        title: 'Addresses, domains, URLs and indicators',
        from: 'marked',
        columns: [{ key: 'type' }, { key: 'name', label: 'Value' }, { key: 'confidence' }, { key: 'sourceCount', label: 'Sources' }, { key: 'sources', label: 'Asserted by' }, { key: 'tlp' }, { key: 'highlight' }],
        orderBy: { field: 'sourceCount', direction: 'desc' },
        limit: EXPORT_ROWS,
      }],
    },
  ],
};

function checkedDefinition(): PlaybookDefinition {
  const result = validateDefinition(playbook);
  if (!result.ok) throw new Error(`the bench playbook is not valid: ${JSON.stringify(result.errors)}`);
  return result.definition;
}

function resolved(definition: PlaybookDefinition, given: Record<string, unknown>): ParamValues {
  const result = resolveParams(definition.parameters, given);
  if (!result.ok) throw new Error(`bad bench parameters: ${JSON.stringify(result.errors)}`);
  return result.values;
}

async function runOnce(store: Store, tenant: BenchTenant, definition: PlaybookDefinition, given: Record<string, unknown>) {
  const values = resolved(definition, given);
  const started = performance.now();
  const outcome = await runPlaybook(definition, values, createGraphReader(store.db, tenant.id), {
    signal: new AbortController().signal,
    stepTimeoutMs: STEP_TIMEOUT_MS,
    rowLimit: ROW_LIMIT,
    now: new Date(),
  });
  const ms = performance.now() - started;
  if (outcome.status !== 'succeeded') throw new Error(`run from "${String(given.start)}" ${outcome.status}: ${outcome.error?.message}`);
  return { ms, outcome, values };
}

const countsOf = (outcome: RunOutcome) => ({
  // Entities out of each step (the report step's count is its sections, not rows: reportRows says those).
  ...Object.fromEntries(outcome.trace.filter((t) => t.type !== 'report').map((t) => [t.stepId, t.outputCount])),
  reportRows: outcome.results.report.sections[0]?.rows.length ?? 0,
  highlights: outcome.results.highlights.length,
  entitiesWithProvenance: Object.keys(outcome.results.provenance).length,
});

/** Loads the graph through the ingest service, one run per source as the demo seeding (and bench/read.ts) does. */
async function loadGraph(summit: SummitApp, kind: string, tenant: BenchTenant, generated: ReturnType<typeof generateGraph>) {
  const started = performance.now();
  let objects = 0;
  for (const { source, bundle } of generated.bundles) {
    const run = await summit.modules.graph.ingest.ingestNow(scopeOf(tenant), bundle, source);
    if (run.status !== 'succeeded') throw new Error(`ingest of ${source}: ${run.status}`);
    objects += run.counts.received;
    progress(`${kind}: ingested ${source} (${run.counts.received} objects) at ${round((performance.now() - started) / 1000, 1)}s`);
  }
  return { objects, seconds: round((performance.now() - started) / 1000, 1) };
}

async function vacuumAnalyze(store: Store) {
  const started = performance.now();
  const vacuum = 'vacuum (analyze) entities, relationships, sightings, provenance';
  if (store.pglite) await store.pglite.exec(vacuum);
  else {
    const owner = new pg.Client({ connectionString: store.url! });
    owner.on('error', () => undefined);
    await owner.connect();
    try {
      await owner.query(vacuum);
    } finally {
      await owner.end();
    }
  }
  return round((performance.now() - started) / 1000, 1);
}

/** Distinct names of the starting types, with how many relationships touch entities of that name (busiest first). */
async function startingPoints(store: Store, tenant: BenchTenant) {
  return store.db.withTenant(tenant.id, async (tx) => (await tx.query<{ name: string; type: string; degree: number }>(
    `select e.name, min(e.type) as type,
            sum((select count(*) from relationships r where r.tenant_id = e.tenant_id and (r.source_id = e.id or r.target_id = e.id)))::int as degree
       from entities e where e.tenant_id = $1 and e.type = any($2::text[])
      group by e.name order by degree desc, e.name`,
    [tenant.id, START_TYPES],
  )).rows);
}

/** A RunRow/PlaybookRow as the run service would have stored them after `outcome`. */
function storedRun(tenant: BenchTenant, outcome: RunOutcome, values: ParamValues, ms: number): { run: RunRow; playbook: PlaybookRow } {
  const finishedAt = new Date();
  const now = new Date(finishedAt.getTime() - Math.round(ms));
  const playbookRow: PlaybookRow = {
    tenantId: tenant.id, id: randomUUID(), name: playbook.name, description: playbook.description, tags: playbook.tags,
    ownerId: tenant.adminUserId, currentVersion: 1, createdAt: now, updatedAt: now,
  };
  const run: RunRow = {
    tenantId: tenant.id, id: randomUUID(), playbookId: playbookRow.id, version: 1, status: 'succeeded', trigger: 'manual',
    requestedBy: tenant.adminUserId, linkId: null, scheduleId: null, params: values as Record<string, unknown>, trace: outcome.trace,
    // Stored as JSON, read back as JSON: the export sees what a stored run holds.
    results: JSON.parse(JSON.stringify(outcome.results)), error: null, cancelRequested: false,
    createdAt: now, startedAt: now, finishedAt,
  };
  return { run, playbook: playbookRow };
}

async function timeRenders(tenant: BenchTenant, chosen: { outcome: RunOutcome; values: ParamValues; ms: number }) {
  const { run, playbook: playbookRow } = storedRun(tenant, chosen.outcome, chosen.values, chosen.ms);
  const modelStarted = performance.now();
  const model = redact(exportModelOf({ run, playbook: playbookRow, tenantName: 'bench', branding: {}, logo: null, annotations: [] }), [], 'member').model;
  const modelMs = performance.now() - modelStarted;
  const rows = model.sections.reduce((n, s) => n + s.rows.length, 0);
  const pdfMs: number[] = [];
  const mdMs: number[] = [];
  let pdfBytes = 0;
  let mdBytes = 0;
  await renderPdf(model); // warm-up: fonts and pdfkit's lazy setup
  for (let i = 0; i < params.renders; i++) {
    let started = performance.now();
    const pdf = await renderPdf(model);
    pdfMs.push(performance.now() - started);
    pdfBytes = pdf.content.length;
    started = performance.now();
    const md = renderMarkdown(model);
    mdMs.push(performance.now() - started);
    mdBytes = Buffer.byteLength(md.content);
  }
  return {
    rows,
    highlightedRows: model.sections.reduce((n, s) => n + s.rows.filter((r) => r.highlight).length, 0),
    provenanceRows: model.provenance.length,
    exportModelMs: round(modelMs, 1),
    pdf: { ...latencySummary(pdfMs), bytes: pdfBytes },
    markdown: { ...latencySummary(mdMs), bytes: mdBytes },
  };
}

async function benchStore(kind: string, generated: ReturnType<typeof generateGraph>) {
  const store = await openStore(kind, { adminUrl: params.adminUrl, databaseName: `summit_bench_playbooks_${process.pid}` });
  progress(`${kind}: store ready in ${store.setupSeconds}s (${store.version})`);
  try {
    const summit = await buildBenchApp(store.db);
    try {
      const tenant = await createTenant(summit, `bench-playbooks-${randomUUID().slice(0, 8)}`);
      const load = await loadGraph(summit, kind, tenant, generated);
      const vacuumAnalyzeSeconds = await vacuumAnalyze(store);
      const counts = await store.db.withSystem(async (tx) => {
        const q = async (table: string) => Number((await tx.query<{ n: number }>(`select count(*)::int as n from ${table}`)).rows[0]!.n);
        return { entities: await q('entities'), relationships: await q('relationships'), provenance: await q('provenance') };
      });
      progress(`${kind}: ${counts.entities} entities, ${counts.relationships} relationships`);

      const definition = checkedDefinition();
      const points = await startingPoints(store, tenant);
      if (!points.length) throw new Error('the graph has no campaign, intrusion set, malware or threat actor to start from');
      const random = createRandom(params.seed);
      const pick = () => points[random.int(points.length)]!;
      const paramsOf = () => ({ start: pick().name, depth: 2, minSources: 2 + random.int(2) });

      for (let i = 0; i < params.warmupRuns; i++) await runOnce(store, tenant, definition, paramsOf());
      const quiet = await awaitQuiet(params.quietWait);
      const cpu = cpuMeter();
      const runs: Array<Awaited<ReturnType<typeof runOnce>> & { start: string }> = [];
      for (let i = 0; i < params.runs; i++) {
        const given = paramsOf();
        runs.push({ ...(await runOnce(store, tenant, definition, given)), start: given.start });
        if ((i + 1) % 10 === 0) progress(`${kind}: ${i + 1}/${params.runs} runs`);
      }
      const cpuUse = cpu();
      const stepIds = definition.steps.map((s) => s.id);
      const perStep = Object.fromEntries(stepIds.map((id) => [id, latencySummary(runs.map((r) => r.outcome.trace.find((t) => t.stepId === id)!.durationMs))]));
      const rowCounts = runs.map((r) => countsOf(r.outcome));
      const sum = (key: string) => rowCounts.map((c) => (c as Record<string, number>)[key] ?? 0);
      const rowSummary = Object.fromEntries(Object.keys(rowCounts[0]!).map((key) => {
        const values = sum(key).sort((a, b) => a - b);
        return [key, { min: values[0], median: values[Math.floor(values.length / 2)], max: values.at(-1) }];
      }));

      // The export: a real run with a full 1,000-row section.
      let chosen: { outcome: RunOutcome; values: ParamValues; ms: number; start: string } = runs.reduce((a, b) => (countsOf(b.outcome).reportRows > countsOf(a.outcome).reportRows ? b : a));
      if (countsOf(chosen.outcome).reportRows < EXPORT_ROWS) {
        const busiest = points[0]!.name;
        const wide = await runOnce(store, tenant, definition, { start: busiest, depth: 2, expandLimit: 10_000, minSources: 2 });
        if (countsOf(wide.outcome).reportRows > countsOf(chosen.outcome).reportRows) chosen = { ...wide, start: busiest };
      }
      progress(`${kind}: rendering a ${countsOf(chosen.outcome).reportRows}-row export`);
      const exportFigures = { fromRunStartingAt: chosen.start, runMs: round(chosen.ms, 1), ...(await timeRenders(tenant, chosen)) };

      return {
        store: store.version,
        graph: { ...counts, load, vacuumAnalyzeSeconds },
        startingPoints: points.length,
        run: {
          measuredRuns: runs.length,
          distinctStarts: new Set(runs.map((r) => r.start)).size,
          // Runs whose expansion stopped at its limit (5,000 nodes): hubs make a depth-2 walk reach that quickly.
          expandTruncatedRuns: runs.filter((r) => r.outcome.trace.find((t) => t.type === 'expand')!.warnings.length > 0).length,
          ...latencySummary(runs.map((r) => r.ms)),
          perStepMs: Object.fromEntries(Object.entries(perStep).map(([id, s]) => [id, { p50: s.p50Ms, p95: s.p95Ms, max: s.maxMs }])),
          rows: rowSummary,
          quiet,
          cpu: cpuUse,
        },
        export: exportFigures,
      };
    } finally {
      await summit.app.close();
    }
  } finally {
    await store.close();
  }
}

async function main() {
  progress(`generating ${params.entities} entities (seed ${params.seed})`);
  const generated = generateGraph(params.seed, params.entities, params.relationshipsPerEntity);
  const results: Record<string, unknown> = {};
  for (const kind of params.stores) {
    progress(`${kind}: start`);
    results[kind] = await benchStore(kind, generated);
  }
  const playbookShape = playbook.steps.map((s) => (s.type === 'expand' ? 'expand(depth 2)' : s.type)).join(' → ');
  process.stdout.write(`${JSON.stringify({
    bench: 'playbooks',
    at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memoryGb: round(os.totalmem() / 2 ** 30, 1), node: process.version },
    params: { ...params, adminUrl: params.adminUrl.replace(/\/\/[^@]*@/, '//…@') },
    playbook: playbookShape,
    generated: { ...generated.stats, seconds: generated.seconds },
    results,
  }, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
