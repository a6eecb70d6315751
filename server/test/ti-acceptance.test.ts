/**
 * The issue's seed acceptance, on both stores: on a labelled world from the deterministic demo generator,
 * suppression (the built-in warninglists and a few sensible rules) removes at least half of the low-value
 * indicators and none of the high-value ones.
 *   low-value:  the observable value is on a warninglist, or the current score is under the tenant's `low`;
 *   high-value: score ≥ `high` and asserted by at least two sources.
 * The labels are computed here independently of the SQL evaluation: warninglist membership by the pure matcher
 * over the shipped data files.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_DEMO_NOW, generateDemoBundles } from '../src/modules/graph/demo/generate.js';
import { matchesValue } from '../src/modules/ti/value-match.js';
import { loadWarninglists } from '../src/modules/ti/warninglists.js';
import { createTestApp, type TestApp, type TestTenant } from './harness.js';

type Item = { id: string; observable: { type: string; value: string } | null; sources: string[]; score: number; suppressed: boolean; labels: string[] };

let t: TestApp;
let tenant: TestTenant;
const lists = loadWarninglists();

beforeAll(async () => {
  t = await createTestApp();
  t.clock.set(DEFAULT_DEMO_NOW);
  tenant = await t.createTenant();
  const generated = generateDemoBundles({ seed: 20_261_128, entities: 3_000 });
  const scope = { tenantId: tenant.id, actor: { type: 'system' as const, id: 'acceptance' }, requestId: null };
  for (const { source, bundle } of generated.bundles) await t.summit.modules.graph.ingest.ingestNow(scope, bundle, source);
  await t.db.withTenant(tenant.id, (tx) => t.summit.modules.ti.rescore(tx, tenant.id));
}, 240_000);
afterAll(() => t.close());

async function all(includeSuppressed: boolean): Promise<Item[]> {
  const out: Item[] = [];
  let cursor: string | null = null;
  do {
    const res = await tenant.admin.get(`/api/v1/indicators?limit=200&includeRevoked=true&includeSuppressed=${includeSuppressed}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.statusCode, res.body).toBe(200);
    out.push(...res.json().items);
    cursor = res.json().nextCursor;
  } while (cursor);
  return out;
}

function isWarninglisted(item: Item): boolean {
  const o = item.observable;
  if (!o) return false;
  return lists.some((l) => l.values.some((v) => matchesValue(l.kind === 'cidr' ? 'cidr' : 'domain-suffix', v, o.type, o.value)));
}

it('suppression removes at least half of the low-value indicators and none of the high-value ones', async () => {
  const { thresholds } = (await tenant.admin.get('/api/v1/ti/scoring')).json();
  const before = await all(true);
  const lowValue = before.filter((i) => isWarninglisted(i) || i.score < thresholds.low);
  const highValue = before.filter((i) => i.score >= thresholds.high && i.sources.length >= 2);
  expect(before.length).toBeGreaterThan(1_500);
  expect(lowValue.length).toBeGreaterThan(100);
  expect(highValue.length).toBeGreaterThan(10);
  expect(before.filter(isWarninglisted).length).toBeGreaterThan(0);

  for (const name of lists.map((l) => l.name)) {
    expect((await tenant.admin.send('PUT', `/api/v1/ti/warninglists/${name}`, { enabled: true })).statusCode).toBe(200);
  }
  const rules = [
    { name: 'stale network indicators', action: 'suppress', reason: 'IPs and URLs not seen for 40 days are mostly reassigned or cleaned', match: { types: ['ipv4-addr', 'ipv6-addr', 'url'], minAgeDays: 40 } },
    { name: 'below the low threshold', action: 'suppress', reason: 'decayed or weakly sourced; kept in the ledger, shown on request', match: { maxScore: thresholds.low - 1 } },
    { name: 'allow-listed by our SOC', action: 'suppress', reason: 'our own allow-list entries', match: { labels: ['allowlist'] } },
  ];
  const measured: Record<string, number> = {};
  for (const rule of rules) {
    const res = await tenant.admin.post('/api/v1/ti/suppression-rules', rule);
    expect(res.statusCode, res.body).toBe(201);
    const visible = new Set((await all(false)).map((i) => i.id));
    measured[rule.name] = lowValue.filter((i) => !visible.has(i.id)).length / lowValue.length;
  }

  const visible = new Set((await all(false)).map((i) => i.id));
  const lowSuppressed = lowValue.filter((i) => !visible.has(i.id)).length;
  const highLost = highValue.filter((i) => !visible.has(i.id));
  const reduction = lowSuppressed / lowValue.length;
  console.log(
    `[ti acceptance] indicators ${before.length}; low-value ${lowValue.length} (warninglisted ${before.filter(isWarninglisted).length}); ` +
    `high-value ${highValue.length}; suppressed low-value ${lowSuppressed} → reduction ${(reduction * 100).toFixed(1)}%; ` +
    `high-value lost ${highLost.length}; cumulative reduction after each step: ` +
    Object.entries(measured).map(([k, v]) => `${k} ${(v * 100).toFixed(1)}%`).join(', '),
  );
  expect(reduction).toBeGreaterThanOrEqual(0.5);
  expect(highLost.map((i) => i.observable?.value ?? i.id)).toEqual([]);
  // Every warninglisted value is suppressed by the SQL evaluation, as the pure matcher says.
  expect(before.filter(isWarninglisted).filter((i) => visible.has(i.id))).toEqual([]);
}, 240_000);
