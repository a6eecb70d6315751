/**
 * Threat-intel scoring through HTTP on both stores: scores with their breakdown, the SQL bulk path agreeing with
 * the TypeScript model, decay and its restart by a sighting, thresholds and revocation, settings validation,
 * filters and pages, exports, and the daily ti.rescore job.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemoBundles } from '../src/modules/graph/demo/generate.js';
import { scoreIndicator, DEFAULT_MODEL, type ScoreInput, type Verdict } from '../src/modules/ti/scoring-model.js';
import { createTestApp, problemOf, waitFor, type TestApp, type TestTenant } from './harness.js';
import { bundle, indicator, ipv4, sid } from './graph-fixtures.js';

const DAY = 86_400_000;
const NOW = new Date('2026-03-01T00:00:00.000Z');
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
  t.clock.set(NOW);
});
afterAll(() => t.close());

function scopeOf(tenant: TestTenant) {
  return { tenantId: tenant.id, actor: { type: 'system' as const, id: 'ti-test' }, requestId: null };
}
async function ingest(tenant: TestTenant, objects: unknown[], source: string) {
  await t.summit.modules.graph.ingest.ingestNow(scopeOf(tenant), bundle(objects), source);
}
async function rescore(tenant: TestTenant, ids?: string[]) {
  return t.db.withTenant(tenant.id, (tx) => t.summit.modules.ti.rescore(tx, tenant.id, ids));
}
async function indicators(tenant: TestTenant, query = '') {
  const res = await tenant.admin.get(`/api/v1/indicators?limit=200${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items as { id: string; name: string; score: number; base: number; band: string; revoked: boolean; breakdown: Record<string, any>; observable: { type: string; value: string } | null; sources: string[] }[];
}
function iso(ms: number) {
  return new Date(ms).toISOString();
}
function sightingOf(of: { id: string }, at: string, truePositive?: boolean) {
  return {
    type: 'sighting', spec_version: '2.1', id: sid('sighting'), created: at, modified: at, sighting_of_ref: of.id, count: 1, first_seen: at, last_seen: at,
    ...(truePositive === undefined ? {} : { x_summit_true_positive: truePositive }),
  };
}

describe('scores', () => {
  let tenant: TestTenant;
  beforeAll(async () => {
    tenant = await t.createTenant();
  });

  it('scores an indicator on its observable, from its rated sources, corroboration and sightings, with the breakdown', async () => {
    const put = await tenant.admin.send('PUT', '/api/v1/ti/scoring', { sourceRatings: [{ source: 'feed-a', reliability: 'A' }, { source: 'feed-b', reliability: 'C', credibility: 2 }] });
    expect(put.statusCode, put.body).toBe(200);
    const validFrom = iso(NOW.getTime() - 10 * DAY);
    const a = indicator("[ipv4-addr:value = '203.0.113.77']", { valid_from: validFrom, confidence: 80 });
    const b = indicator("[ipv4-addr:value = '203.0.113.77']", { valid_from: validFrom, confidence: 60 });
    await ingest(tenant, [a], 'feed-a');
    await ingest(tenant, [b, sightingOf(b, iso(NOW.getTime() - 4 * DAY), true)], 'feed-b');
    await rescore(tenant);
    const [item] = (await indicators(tenant, '&type=ipv4-addr')).filter((i) => i.observable?.value === '203.0.113.77');
    expect(item).toBeDefined();
    expect(item!.observable).toEqual({ type: 'ipv4-addr', value: '203.0.113.77' });
    expect(item!.sources).toEqual(['feed-a', 'feed-b']);
    // feed-a: 0.5·A(100) + 0.5·confidence 80 = 90; +10 corroboration; +5 one true positive → 105 → base 100.
    expect(item!.breakdown.source).toMatchObject({ name: 'feed-a', reliability: 'A', confidence: 80, value: 90 });
    expect(item!.breakdown.corroboration).toEqual({ sources: 2, points: 10 });
    expect(item!.breakdown.sightings).toEqual({ truePositives: 1, falsePositives: 0, points: 5 });
    expect(item!.base).toBe(100);
    // The sighting 4 days ago restarted decay: IP class, τ 47 d, δ 1.65.
    const expected = Math.round(100 * (1 - Math.pow(4 / 47, 1 / 1.65)));
    expect(item!.breakdown.decay).toMatchObject({ class: 'ipv4-addr', ageDays: 4, lifetimeDays: 47, speed: 1.65 });
    expect(item!.score).toBe(expected);
    expect(item!.breakdown.decay.points).toBe(expected - 100);
  });

  it('decays with time, and a new sighting restarts decay from the base', async () => {
    const ind = indicator("[domain-name:value = 'decay-test.example']", { valid_from: iso(NOW.getTime()), confidence: 70 });
    await ingest(tenant, [ind], 'feed-c');
    await rescore(tenant);
    const scoreOf = async () => (await indicators(tenant, '&includeRevoked=true&type=domain-name')).find((i) => i.observable?.value === 'decay-test.example')!;
    const fresh = await scoreOf();
    expect(fresh.score).toBe(fresh.base);
    t.clock.set(new Date(NOW.getTime() + 150 * DAY));
    await rescore(tenant);
    const older = await scoreOf();
    expect(older.score).toBeLessThan(fresh.score);
    expect(older.base).toBe(fresh.base);
    await ingest(tenant, [{ ...ind, id: ind.id }, sightingOf(ind, iso(NOW.getTime() + 150 * DAY), true)], 'feed-c');
    await rescore(tenant);
    const restarted = await scoreOf();
    expect(restarted.breakdown.decay.ageDays).toBe(0);
    expect(restarted.score).toBe(restarted.base);
    t.clock.set(NOW);
  });

  it('lowers the score for false positives and for a benign enrichment verdict', async () => {
    const ind = indicator("[url:value = 'http://fp-test.example/a']", { valid_from: iso(NOW.getTime()), confidence: 70 });
    await ingest(tenant, [ind], 'feed-c');
    await rescore(tenant);
    const find = async () => (await indicators(tenant, '&includeRevoked=true&type=url')).find((i) => i.observable?.value === 'http://fp-test.example/a')!;
    const before = await find();
    await ingest(tenant, [sightingOf({ id: ind.id }, iso(NOW.getTime()), false), { ...ind }], 'feed-c');
    const entityId = before.id;
    await rescore(tenant, [entityId]);
    const fp = await find();
    expect(fp.breakdown.sightings).toEqual({ truePositives: 0, falsePositives: 1, points: -15 });
    expect(fp.base).toBe(before.base - 15);
    await t.db.withTenant(tenant.id, (tx) =>
      tx.query(`insert into ti_enrichment_verdicts (tenant_id, id, entity_id, provider, verdict, created_at) values ($1, $2, $3, 'local', 'benign', $4)`, [tenant.id, randomUUID(), entityId, NOW.toISOString()]),
    );
    await rescore(tenant, [entityId]);
    const benign = await find();
    expect(benign.breakdown.enrichment).toEqual({ verdicts: [{ provider: 'local', verdict: 'benign' }], points: -40 });
    expect(benign.base).toBe(Math.max(0, before.base - 15 - 40));
  });
});

describe('the SQL bulk path and the TypeScript model', () => {
  it('agree on every entity of a generated world', async () => {
    const tenant = await t.createTenant();
    const generated = generateDemoBundles({ seed: 7, entities: 600, now: new Date(NOW.getTime() - 20 * DAY) });
    for (const { source, bundle: b } of generated.bundles) await t.summit.modules.graph.ingest.ingestNow(scopeOf(tenant), b, source);
    await tenant.admin.send('PUT', '/api/v1/ti/scoring', { sourceRatings: [{ source: 'abuse.ch', reliability: 'B' }, { source: 'internal-soc', reliability: 'A', credibility: 1 }, { source: 'alienvault-otx', reliability: 'D' }] });
    const rows = await t.db.withTenant(tenant.id, async (tx) => {
      await tx.query(`insert into ti_enrichment_verdicts (tenant_id, id, entity_id, provider, verdict, created_at)
                      select tenant_id, gen_random_uuid(), entity_id, 'local', (array['malicious','suspicious','benign','unknown'])[1 + (abs(hashtext(entity_id::text)) % 4)], now()
                        from ti_scores where tenant_id = $1 and abs(hashtext(entity_id::text)) % 5 = 0`, [tenant.id]);
      await t.summit.modules.ti.rescore(tx, tenant.id);
      const { rows: scores } = await tx.query<{ id: string; obs_type: string | null; score: number; decay_start: Date }>(
        `select entity_id as id, obs_type, score, decay_start from ti_scores where tenant_id = $1`, [tenant.id]);
      const { rows: sources } = await tx.query<{ id: string; source: string; confidence: number | null; reliability: string | null; credibility: number | null }>(
        `select p.subject_id as id, p.source, max(p.confidence)::int as confidence, r.reliability, r.credibility
           from provenance p left join ti_source_ratings r on r.tenant_id = p.tenant_id and r.source = p.source
          where p.tenant_id = $1 and p.subject_kind = 'entity' group by p.subject_id, p.source, r.reliability, r.credibility`, [tenant.id]);
      const { rows: sightings } = await tx.query<{ id: string; tp: number; fp: number }>(
        `select entity_id as id, coalesce(sum(count) filter (where true_positive), 0)::int as tp, coalesce(sum(count) filter (where true_positive = false), 0)::int as fp
           from sightings where tenant_id = $1 group by entity_id`, [tenant.id]);
      const { rows: verdicts } = await tx.query<{ id: string; provider: string; verdict: Verdict }>(
        `select entity_id as id, provider, verdict from ti_enrichment_verdicts where tenant_id = $1`, [tenant.id]);
      return { scores, sources, sightings, verdicts };
    });
    expect(rows.scores.length).toBeGreaterThan(300);
    let compared = 0;
    for (const s of rows.scores) {
      const input: ScoreInput = {
        observableType: s.obs_type,
        sources: rows.sources.filter((p) => p.id === s.id).map((p) => ({ source: p.source, confidence: p.confidence, reliability: p.reliability as never, credibility: p.credibility })),
        truePositives: rows.sightings.find((g) => g.id === s.id)?.tp ?? 0,
        falsePositives: rows.sightings.find((g) => g.id === s.id)?.fp ?? 0,
        verdicts: rows.verdicts.filter((v) => v.id === s.id).map((v) => ({ provider: v.provider, verdict: v.verdict })),
        ageDays: (NOW.getTime() - new Date(s.decay_start).getTime()) / DAY,
      };
      expect({ id: s.id, score: s.score }).toEqual({ id: s.id, score: scoreIndicator(DEFAULT_MODEL, input).score });
      compared += 1;
    }
    expect(compared).toBe(rows.scores.length);
    // The world is not trivial: scores spread over several bands.
    expect(new Set(rows.scores.map((s) => Math.floor(s.score / 25))).size).toBeGreaterThanOrEqual(3);
  });
});

describe('settings', () => {
  let tenant: TestTenant;
  beforeAll(async () => {
    tenant = await t.createTenant();
  });

  it('returns the defaults, then the saved settings, and audits the change', async () => {
    const initial = (await tenant.admin.get('/api/v1/ti/scoring')).json();
    expect(initial.thresholds).toEqual({ high: 75, medium: 50, low: 30, revoke: 20 });
    expect(initial.model.decay['ipv4-addr']).toEqual({ lifetimeDays: 47, speed: 1.65 });
    expect(initial.model.decay.file).toEqual({ lifetimeDays: 460, speed: 0.9 });
    const put = await tenant.admin.send('PUT', '/api/v1/ti/scoring', { thresholds: { high: 80, medium: 60, low: 40, revoke: 10 }, model: { decay: { url: { lifetimeDays: 10, speed: 2 } } } });
    expect(put.statusCode, put.body).toBe(200);
    const saved = (await tenant.admin.get('/api/v1/ti/scoring')).json();
    expect(saved.thresholds).toEqual({ high: 80, medium: 60, low: 40, revoke: 10 });
    expect(saved.model.decay.url).toEqual({ lifetimeDays: 10, speed: 2 });
    expect(saved.model.decay['ipv4-addr']).toEqual({ lifetimeDays: 47, speed: 1.65 });
    const audit = (await tenant.admin.get('/api/v1/audit?action=ti.scoring.update')).json();
    expect(audit.items.length).toBeGreaterThanOrEqual(1);
  });

  it.each([
    ['thresholds out of order', { thresholds: { high: 50, medium: 60, low: 40, revoke: 10 } }, 'body.thresholds.high'],
    ['low not above revoke', { thresholds: { high: 90, medium: 60, low: 20, revoke: 20 } }, 'body.thresholds.low'],
    ['τ of zero', { model: { decay: { 'ipv4-addr': { lifetimeDays: 0, speed: 1 } } } }, 'lifetimeDays'],
    ['negative δ', { model: { decay: { file: { lifetimeDays: 10, speed: -1 } } } }, 'speed'],
    ['an unknown rating letter', { sourceRatings: [{ source: 'x', reliability: 'G' }] }, 'reliability'],
    ['a credibility of 7', { sourceRatings: [{ source: 'x', reliability: 'A', credibility: 7 }] }, 'credibility'],
    ['an unknown decay class', { model: { decay: { 'mac-addr': { lifetimeDays: 1, speed: 1 } } } }, 'decay'],
    ['a source rated twice', { sourceRatings: [{ source: 'x', reliability: 'A' }, { source: 'x', reliability: 'B' }] }, 'body.sourceRatings.1.source'],
    ['a score threshold above 100', { thresholds: { high: 101, medium: 60, low: 40, revoke: 10 } }, 'high'],
  ])('refuses %s with a 400 naming the field, and changes nothing', async (_name, body, field) => {
    const before = (await tenant.admin.get('/api/v1/ti/scoring')).json();
    const res = await tenant.admin.send('PUT', '/api/v1/ti/scoring', body);
    expect(res.statusCode).toBe(400);
    const problem = problemOf(res);
    expect(problem.code).toBe('validation_failed');
    expect(JSON.stringify(problem.errors ?? problem.detail)).toContain(field);
    expect((await tenant.admin.get('/api/v1/ti/scoring')).json()).toEqual(before);
  });

  it('lets viewers read the settings but only admins change them', async () => {
    const viewer = await t.createUser(tenant, ['viewer']);
    const analyst = await t.createUser(tenant, ['analyst']);
    expect((await viewer.client.get('/api/v1/ti/scoring')).statusCode).toBe(200);
    expect((await analyst.client.send('PUT', '/api/v1/ti/scoring', { suppressionEnabled: false })).statusCode).toBe(403);
  });
});

describe('lists, revocation and exports', () => {
  let tenant: TestTenant;
  beforeAll(async () => {
    tenant = await t.createTenant();
    const objects = [];
    // Same source and confidence; ages 0, 10, 20, 30, 40 days on the IP curve give a spread of scores.
    for (let i = 0; i < 5; i++) objects.push(indicator(`[ipv4-addr:value = '198.51.100.${i + 1}']`, { valid_from: iso(NOW.getTime() - i * 10 * DAY), confidence: 90 }));
    objects.push(ipv4('198.51.100.200'));
    await ingest(tenant, objects, 'feed-x');
    await tenant.admin.send('PUT', '/api/v1/ti/scoring', { sourceRatings: [{ source: 'feed-x', reliability: 'A' }] });
  });

  it('hides revoked indicators unless asked, filters by score, band and type, and pages in score order', async () => {
    const all = await indicators(tenant, '&includeRevoked=true');
    expect(all.map((i) => i.score)).toEqual([...all.map((i) => i.score)].sort((a, b) => b - a));
    const revoked = all.filter((i) => i.revoked);
    expect(revoked.length).toBeGreaterThan(0);
    expect(revoked.every((i) => i.score < 20)).toBe(true);
    const visible = await indicators(tenant);
    expect(visible.length).toBe(all.length - revoked.length);
    const high = await indicators(tenant, '&minScore=75');
    expect(high.length).toBeGreaterThan(0);
    expect(high.every((i) => i.score >= 75 && i.band === 'high')).toBe(true);
    expect((await indicators(tenant, '&band=high')).map((i) => i.id)).toEqual(high.map((i) => i.id));
    expect((await indicators(tenant, '&type=indicator&includeRevoked=true')).length).toBe(5);
    const first = (await tenant.admin.get('/api/v1/indicators?limit=2&includeRevoked=true')).json();
    const second = (await tenant.admin.get(`/api/v1/indicators?limit=2&includeRevoked=true&cursor=${first.nextCursor}`)).json();
    expect([...first.items, ...second.items].map((i: { id: string }) => i.id)).toEqual(all.slice(0, 4).map((i) => i.id));
  });

  it('moves revocation with the thresholds', async () => {
    const put = await tenant.admin.send('PUT', '/api/v1/ti/scoring', { thresholds: { high: 99, medium: 98, low: 97, revoke: 96 } });
    expect(put.json().rescored).toBeGreaterThanOrEqual(6);
    const visible = await indicators(tenant);
    expect(visible.every((i) => i.score >= 96)).toBe(true);
    await tenant.admin.send('PUT', '/api/v1/ti/scoring', { thresholds: { high: 75, medium: 50, low: 30, revoke: 20 } });
  });

  it('refuses bad list queries with 400', async () => {
    for (const q of ['minScore=101', 'band=great', 'minScore=50&maxScore=10', 'cursor=nope', 'includeRevoked=yes']) {
      const res = await tenant.admin.get(`/api/v1/indicators?${q}`);
      expect(res.statusCode, q).toBe(400);
    }
  });

  it('exports CSV and a STIX bundle whose confidence is the score', async () => {
    const listed = await indicators(tenant);
    const csv = await tenant.admin.get('/api/v1/indicators/export?format=csv');
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toBe('id,stix_id,entity_type,observable_type,value,name,score,band,base,revoked,suppressed,sources,labels,decay_start');
    expect(lines.length).toBe(listed.length + 1);
    expect(lines[1]!.split(',')[6]).toBe(String(listed[0]!.score));
    const stix = await tenant.admin.get('/api/v1/indicators/export?format=stix');
    expect(stix.statusCode).toBe(200);
    const objects = (stix.json().objects as Record<string, unknown>[]).filter((o) => o.type !== 'marking-definition');
    expect(objects.length).toBe(listed.length);
    for (const o of objects) {
      const item = listed.find((i) => (i as unknown as { stixId: string }).stixId === o.id)!;
      expect(item, String(o.id)).toBeDefined();
      // STIX gives SCOs no confidence; the graph's exporter writes x_summit_confidence there.
      expect(o.type === 'indicator' ? o.confidence : o.x_summit_confidence).toBe(item.score);
      expect(o.x_summit_score_breakdown).toMatchObject({ score: item.score, base: item.base });
    }
  });
});

describe('the ti.rescore job', () => {
  it('is schedulable and rescores the tenant when it runs', async () => {
    const types = (await (await t.createTenant()).admin.get('/api/v1/schedules/job-types')).json();
    expect(JSON.stringify(types)).toContain('ti.rescore');
    const tenant = await t.createTenant();
    await ingest(tenant, [indicator("[ipv4-addr:value = '192.0.2.99']", { valid_from: iso(NOW.getTime()), confidence: 90 })], 'feed-j');
    await rescore(tenant);
    const fresh = (await indicators(tenant))[0]!;
    t.clock.set(new Date(NOW.getTime() + 30 * DAY));
    await t.db.withTenant(tenant.id, (tx) => t.summit.modules.jobs.enqueue(tx, scopeOf(tenant), 'ti.rescore', {}));
    t.summit.modules.jobs.startWorkers();
    try {
      const audited = await waitFor('the rescore job', async () => {
        const res = (await tenant.admin.get('/api/v1/audit?action=ti.rescore')).json();
        return res.items.length > 0 && res.items[0];
      }, 60_000);
      expect(audited.after).toMatchObject({ scored: 1 });
    } finally {
      await t.summit.modules.jobs.stopWorkers();
      t.clock.set(NOW);
    }
    const decayed = (await indicators(tenant, '&includeRevoked=true'))[0]!;
    expect(decayed.score).toBeLessThan(fresh.score);
  });
});
