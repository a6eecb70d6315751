/**
 * The playbook engine over the real graph reader, on the demo tenant's data (the same seed and size `summit` seeds a
 * new data dir with). Runs on both stores. Checks the shipped examples, the benchmark's five-step shape, and the
 * reader's SQL against direct queries.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateDefinition, type PlaybookDefinition } from '../src/modules/playbooks/definition.js';
import { runPlaybook, type RunOptions } from '../src/modules/playbooks/engine.js';
import { createGraphReader, type GraphReader } from '../src/modules/playbooks/graph-reader.js';
import { resolveParams } from '../src/modules/playbooks/params.js';
import type { Sql } from '../src/platform/db.js';
import { campaignBundle } from './graph-fixtures.js';
import { createTestApp, type TestApp, type TestTenant } from './harness.js';

const EXAMPLES_DIR = path.resolve(import.meta.dirname, '../../examples/playbooks');
const NOW = new Date('2025-06-01T12:00:00.000Z');

let t: TestApp;
let demo: TestTenant;
let other: TestTenant;
let reader: GraphReader;
let demoRunIds: string[];
let otherCampaign: ReturnType<typeof campaignBundle>;

beforeAll(async () => {
  t = await createTestApp();
  demo = await t.createTenant('demo');
  other = await t.createTenant('other');
  const seeded = await t.summit.modules.graph.seedDemo({ tenantId: demo.id, actor: { type: 'system', id: 'test' }, requestId: null }, { seed: 20_261_128, entities: 3_000 });
  demoRunIds = seeded.runs.map((r) => r.id);
  otherCampaign = campaignBundle();
  const res = await other.admin.post('/api/v1/ingest/stix?source=feed-x', otherCampaign.bundle);
  expect(res.statusCode, res.body).toBe(202);
  reader = createGraphReader(t.db, demo.id, { statementTimeoutMs: 30_000 });
}, 240_000);
afterAll(() => t?.close());

const options = (extra: Partial<RunOptions> = {}): RunOptions => ({ signal: new AbortController().signal, stepTimeoutMs: 30_000, rowLimit: 10_000, now: NOW, ...extra });
const query = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) => t.db.withTenant(demo.id, async (tx: Sql) => (await tx.query<T>(sql, params)).rows);

function parsed(input: unknown): PlaybookDefinition {
  const result = validateDefinition(input);
  if (!result.ok) throw new Error(`invalid: ${JSON.stringify(result.errors)}`);
  return result.definition;
}
async function runWithDefaults(definition: PlaybookDefinition) {
  const params = resolveParams(definition.parameters, {});
  if (!params.ok) throw new Error(JSON.stringify(params.errors));
  return runPlaybook(definition, params.values, reader, options());
}

describe('examples/playbooks', () => {
  const files = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.json')).sort();

  it('ships at least three examples, one with an annotate step', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
    const annotated = files.filter((f) => JSON.parse(readFileSync(path.join(EXAMPLES_DIR, f), 'utf8')).steps.some((s: { type: string }) => s.type === 'annotate'));
    expect(annotated.length).toBeGreaterThanOrEqual(1);
  });

  for (const file of files) {
    it(`${file} validates and finds something on the demo data with its defaults`, async () => {
      const definition = parsed(JSON.parse(readFileSync(path.join(EXAMPLES_DIR, file), 'utf8')));
      const outcome = await runWithDefaults(definition);
      expect(outcome.error).toBeUndefined();
      expect(outcome.status).toBe('succeeded');
      // Every section has findings, not just the report as a whole.
      for (const section of outcome.results.report.sections) expect(section.rows.length, `${file}: section ${section.title}`).toBeGreaterThan(0);
      if (definition.steps.some((s) => s.type === 'annotate')) expect(outcome.results.highlights.length).toBeGreaterThan(0);
      // Provenance for every entity in the results, pointing at the demo's ingest runs.
      const ids = Object.keys(outcome.results.entities);
      expect(ids.length).toBeGreaterThan(0);
      for (const id of ids) {
        const records = outcome.results.provenance[id];
        expect(records?.length, `provenance of ${id}`).toBeGreaterThan(0);
        for (const record of records!) expect(demoRunIds).toContain(record.runId);
      }
    });
  }

  it('c2-infrastructure highlights the hubs all sources assert', async () => {
    const outcome = await runWithDefaults(parsed(JSON.parse(readFileSync(path.join(EXAMPLES_DIR, 'c2-infrastructure.json'), 'utf8'))));
    const hubs = outcome.results.highlights.filter((h) => h.rule === 'hubs/shared-hub');
    expect(hubs.length).toBeGreaterThan(0);
    for (const h of hubs) expect(outcome.results.entities[h.entityId]!.sources.length).toBeGreaterThanOrEqual(3);
    const rows = outcome.results.report.sections[1]!.rows;
    expect(rows[0]!.cells.highlight).toBe('high');
  });
});

describe('the five-step benchmark shape', () => {
  it('runs search → expand depth 2 → filter → annotate → report on the demo data', async () => {
    const definition = parsed({
      name: 'Benchmark shape',
      steps: [
        { id: 'seed', type: 'search', types: ['campaign'], limit: 3 },
        { id: 'grow', type: 'expand', depth: 2, limit: 5000 },
        { id: 'keep', type: 'filter', types: ['indicator', 'ipv4-addr', 'domain-name'], where: [{ path: 'type', op: 'neq', value: 'campaign' }] },
        { id: 'mark', type: 'annotate', rules: [{ id: 'confident', when: { minConfidence: 80 }, severity: 'high', note: 'confident' }, { id: 'multi', when: { minSources: 2 }, severity: 'medium', note: 'corroborated' }] },
        { id: 'out', type: 'report', sections: [{ title: 'Findings', from: 'mark', columns: [{ key: 'type' }, { key: 'name' }, { key: 'confidence' }, { key: 'highlight' }], orderBy: { field: 'confidence', direction: 'desc' } }] },
      ],
    });
    const outcome = await runPlaybook(definition, {}, reader, options());
    expect(outcome.status).toBe('succeeded');
    expect(outcome.trace.map((s) => s.type)).toEqual(['search', 'expand', 'filter', 'annotate', 'report']);
    const [search, expand, filter] = outcome.trace;
    expect(search!.outputCount).toBe(3);
    expect(expand!.outputCount).toBeGreaterThan(search!.outputCount);
    expect(filter!.outputCount).toBeGreaterThan(0);
    expect(filter!.outputCount).toBeLessThan(expand!.outputCount);
    // The section shows at most its default 1,000 rows and says when there were more.
    const section = outcome.results.report.sections[0]!;
    expect(section.rows.length).toBe(Math.min(filter!.outputCount, 1_000));
    expect(section.truncated).toBe(filter!.outputCount > 1_000);
    if (process.env.PLAYBOOK_TRACE) console.log(JSON.stringify(outcome.trace.map((s) => [s.stepId, s.inputCount, s.outputCount, s.durationMs, s.warnings])));
    expect(outcome.results.highlights.some((h) => h.severity === 'high')).toBe(true);
  });
});

describe('createGraphReader', () => {
  const signal = () => new AbortController().signal;

  it('searches with the entity filters, highest confidence first, with sources', async () => {
    const { entities, truncated } = await reader.search({ types: ['indicator'], minConfidence: 90, tlp: ['clear', 'green'], source: 'abuse.ch' }, 10_000, signal());
    const expected = await query<{ id: string }>(
      `select e.id from entities e where e.tenant_id = $1 and e.type = 'indicator' and e.confidence >= 90 and e.tlp in ('clear', 'green')
         and exists (select 1 from provenance p where p.tenant_id = e.tenant_id and p.subject_kind = 'entity' and p.subject_id = e.id and p.source = 'abuse.ch')`,
      [demo.id],
    );
    expect(truncated).toBe(false);
    expect(entities.length).toBeGreaterThan(0);
    expect(entities.map((e) => e.id).sort()).toEqual(expected.map((r) => r.id).sort());
    const confidences = entities.map((e) => e.confidence!);
    expect(confidences).toEqual([...confidences].sort((a, b) => b - a));
    for (const e of entities) expect(e.sources).toContain('abuse.ch');
    expect(entities[0]!.sources).toEqual([...entities[0]!.sources].sort());
  });

  it('finds by name or value and by id, and reports truncation at the limit', async () => {
    const byName = await reader.search({ q: 'wandering monsoon', types: ['campaign'] }, 10, signal());
    expect(byName.entities.map((e) => e.name)).toEqual(['Operation Wandering Monsoon']);
    const byId = await reader.search({ ids: [byName.entities[0]!.id] }, 10, signal());
    expect(byId.entities).toEqual(byName.entities);
    const limited = await reader.search({ types: ['indicator'] }, 5, signal());
    expect(limited).toMatchObject({ truncated: true });
    expect(limited.entities).toHaveLength(5);
    const since = await reader.search({ types: ['campaign'], since: new Date(Date.now() + 86_400_000) }, 10, signal());
    expect(since.entities).toEqual([]);
  });

  it('expands by depth, relationship and entity type, bounded by the limit', async () => {
    const [campaign] = (await reader.search({ q: 'wandering monsoon', types: ['campaign'] }, 1, signal())).entities;
    const direct = await query<{ id: string }>(
      `select target_id as id from relationships where tenant_id = $1 and source_id = $2 union select source_id from relationships where tenant_id = $1 and target_id = $2`,
      [demo.id, campaign!.id],
    );
    const one = await reader.expand([campaign!.id], { depth: 1, limit: 10_000 }, signal());
    expect(one.truncated).toBe(false);
    expect(one.ids.sort()).toEqual(direct.map((r) => r.id).sort());
    const two = await reader.expand([campaign!.id], { depth: 2, limit: 10_000 }, signal());
    expect(two.ids.length).toBeGreaterThan(one.ids.length);
    expect(two.ids).not.toContain(campaign!.id);
    expect(new Set(two.ids).size).toBe(two.ids.length);

    const indicates = await reader.expand([campaign!.id], { depth: 1, limit: 10_000, relationshipTypes: ['indicates'] }, signal());
    const indicators = await query<{ id: string }>(`select source_id as id from relationships where tenant_id = $1 and target_id = $2 and type = 'indicates'`, [demo.id, campaign!.id]);
    expect(indicates.ids.sort()).toEqual([...new Set(indicators.map((r) => r.id))].sort());

    const typed = await reader.entities((await reader.expand([campaign!.id], { depth: 2, limit: 10_000, entityTypes: ['ipv4-addr'] }, signal())).ids, signal());
    expect(typed.length).toBeGreaterThan(0);
    for (const e of typed) expect(e.type).toBe('ipv4-addr');

    const capped = await reader.expand([campaign!.id], { depth: 3, limit: 10 }, signal());
    expect(capped).toMatchObject({ truncated: true });
    expect(capped.ids).toHaveLength(10);
  });

  it('returns provenance with the ingest run of each assertion', async () => {
    const [hub] = (await reader.search({ types: ['ipv4-addr'], q: '19.202.220.172' }, 1, signal())).entities;
    const records = (await reader.provenance([hub!.id], signal()))[hub!.id]!;
    expect(records.map((r) => r.source).sort()).toEqual(hub!.sources);
    for (const r of records) expect(demoRunIds).toContain(r.runId);
  });

  it("sees only its own tenant's graph", async () => {
    const theirs = await t.db.withTenant(other.id, async (tx) => (await tx.query<{ id: string }>(`select id from entities where tenant_id = $1`, [other.id])).rows.map((r) => r.id));
    expect(theirs.length).toBeGreaterThan(0);
    expect((await reader.search({ ids: theirs }, 100, signal())).entities).toEqual([]);
    expect(await reader.entities(theirs, signal())).toEqual([]);
    expect(await reader.provenance(theirs, signal())).toEqual({});
    expect((await reader.expand(theirs, { depth: 2, limit: 100 }, signal())).ids).toEqual([]);
    const theirReader = createGraphReader(t.db, other.id);
    expect((await theirReader.search({ types: ['malware'] }, 100, signal())).entities.map((e) => e.name)).toEqual(['NightHawk']);
  });

  it('refuses to start a read once its signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('cancelled by test'));
    await expect(reader.search({ types: ['campaign'] }, 10, controller.signal)).rejects.toThrow('cancelled by test');
    const outcome = await runPlaybook(parsed({ name: 'x', steps: [{ id: 's', type: 'search', types: ['campaign'] }] }), {}, reader, options({ signal: controller.signal }));
    expect(outcome.status).toBe('cancelled');
  });
});
