import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle, campaignBundle, domain, indicator, ipv4, malware, relationship } from './graph-fixtures.js';
import { createTestApp, problemOf, waitFor, type TestApp, type TestTenant } from './harness.js';

let t: TestApp;
let tenant: TestTenant;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTenant();
});
afterAll(() => t.close());

async function ingest(tn: TestTenant, body: unknown, source = 'feed-a') {
  const res = await tn.admin.post(`/api/v1/ingest/stix?source=${source}`, body as Record<string, unknown>);
  expect(res.statusCode, res.body).toBe(202);
  return res.json();
}
async function entityByKey(tn: TestTenant, type: string, q: string) {
  const items = (await tn.admin.get(`/api/v1/entities?type=${type}&q=${encodeURIComponent(q)}`)).json().items;
  return items[0];
}

describe('STIX ingest', () => {
  it('ingests a bundle with provenance, relationships and sightings', async () => {
    const tn = await t.createTenant();
    const { bundle: b } = campaignBundle();
    const run = await ingest(tn, b);
    expect(run).toMatchObject({ status: 'succeeded', counts: { received: 8, created: 8, merged: 0, rejected: 0, skipped: 0 }, rejections: [] });
    const ip = await entityByKey(tn, 'ipv4-addr', '198.51.100.23');
    const detail = (await tn.admin.get(`/api/v1/entities/${ip.id}`)).json();
    expect(detail.sources).toEqual(['feed-a']);
    expect(detail.provenance[0]).toMatchObject({ source: 'feed-a', runId: run.id });
    const rels = (await tn.admin.get(`/api/v1/entities/${ip.id}/relationships`)).json().items;
    expect(rels.map((r: { type: string }) => r.type).sort()).toEqual(['communicates-with', 'resolves-to']);
    const ind = await entityByKey(tn, 'indicator', '198.51.100.23');
    expect((await tn.admin.get(`/api/v1/entities/${ind.id}`)).json().sightings[0]).toMatchObject({ count: 3 });
    expect(ind).toMatchObject({ confidence: 70, tlp: 'green' });
  });

  it('merges the same observable from a second source, keeping both as provenance', async () => {
    const tn = await t.createTenant();
    await ingest(tn, bundle([ipv4('203.0.113.77')]), 'feed-a');
    const second = await ingest(tn, bundle([ipv4('203.0.113.77', { confidence: 90 })]), 'feed-b');
    expect(second.counts).toMatchObject({ created: 0, merged: 1 });
    const all = (await tn.admin.get('/api/v1/entities?type=ipv4-addr')).json().items;
    expect(all).toHaveLength(1);
    const detail = (await tn.admin.get(`/api/v1/entities/${all[0].id}`)).json();
    expect(detail.sources.sort()).toEqual(['feed-a', 'feed-b']);
    expect(detail.confidence).toBe(90);
    // Re-sending the same object from the same source adds nothing.
    const again = await ingest(tn, bundle([{ ...ipv4('203.0.113.77'), id: detail.provenance[0].originalId }]), 'feed-a');
    expect(again.counts).toMatchObject({ merged: 1 });
    expect((await tn.admin.get(`/api/v1/entities/${all[0].id}`)).json().provenance).toHaveLength(2);
  });

  it('lands the valid objects of a bundle and gives each rejected one a reason', async () => {
    const tn = await t.createTenant();
    const good = ipv4('192.0.2.200');
    const bad = ipv4('999.1.1.1');
    const orphan = relationship('related-to', good, { id: 'malware--00000000-0000-4000-8000-000000000000' });
    const marking = { type: 'marking-definition', spec_version: '2.1', id: 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da', created: '2017-01-20T00:00:00.000Z', definition_type: 'tlp', definition: { tlp: 'green' } };
    const run = await ingest(tn, bundle([good, bad, orphan, { type: 'no-such-type', id: 'x' }, marking]));
    expect(run.status).toBe('partial');
    expect(run.counts).toMatchObject({ received: 5, created: 1, rejected: 3, skipped: 1 });
    const reasons = run.rejections.map((r: { reason: string }) => r.reason).join(' | ');
    expect(reasons).toContain('999.1.1.1');
    expect(reasons).toContain('names no object');
    expect((await tn.admin.get(`/api/v1/ingest/runs/${run.id}`)).json()).toEqual(run);
  });

  it('resolves references to objects of an earlier bundle', async () => {
    const tn = await t.createTenant();
    const ip = ipv4('198.51.100.99');
    await ingest(tn, bundle([ip]));
    const family = malware('LaterFamily');
    const run = await ingest(tn, bundle([family, relationship('communicates-with', family, ip)]));
    expect(run).toMatchObject({ status: 'succeeded', counts: { created: 2 } });
  });

  it('refuses what is not a STIX bundle, and malformed JSON', async () => {
    const notBundle = await tenant.admin.post('/api/v1/ingest/stix', { type: 'indicator' });
    expect(notBundle.statusCode).toBe(400);
    expect(problemOf(notBundle).detail).toContain('not a STIX 2.1 bundle');
    const broken = await tenant.admin.post('/api/v1/ingest/stix', '{"type": "bundle", "objects": [', { 'content-type': 'application/json' });
    expect(broken.statusCode).toBe(400);
  });

  it('queues a large bundle for a job and reports its progress', async () => {
    const tn = await t.createTenant();
    const objects = Array.from({ length: 1_200 }, (_, i) => ipv4(`100.${64 + Math.floor(i / 250)}.${i % 250}.${1 + (i % 7)}`));
    const run = await ingest(tn, bundle(objects));
    expect(run.status).toBe('queued');
    t.summit.modules.jobs.startWorkers();
    const done = await waitFor('the ingest job', async () => {
      const r = (await tn.admin.get(`/api/v1/ingest/runs/${run.id}`)).json();
      return r.status === 'succeeded' && r;
    }, 60_000);
    await t.summit.modules.jobs.stopWorkers();
    expect(done.counts).toMatchObject({ received: 1_200, rejected: 0 });
    expect(done.counts.created + done.counts.merged).toBe(1_200);
  });

  it('reports ingest stats for a window and counts objects in Prometheus', async () => {
    const tn = await t.createTenant();
    await ingest(tn, bundle([ipv4('198.51.100.1'), ipv4('300.0.0.1')]));
    const stats = (await tn.admin.get('/api/v1/ingest/stats?window=24h')).json();
    expect(stats).toEqual({ window: '24h', received: 2, accepted: 1, rejected: 1, successRate: 0.5 });
    expect((await tn.admin.get('/api/v1/ingest/stats?window=forever')).statusCode).toBe(400);
    expect((await t.anonymous.get('/metrics')).body).toMatch(/ingest_objects_total\{outcome="rejected"\} [1-9]/);
  });
});

describe('entities API', () => {
  it('creates an entity with its canonical key and refuses a duplicate', async () => {
    const created = await tenant.admin.post('/api/v1/entities', { type: 'domain-name', value: 'Phish.Example.ORG.', confidence: 40, tlp: 'amber' });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ type: 'domain-name', key: 'phish.example.org', confidence: 40, tlp: 'amber' });
    const dup = await tenant.admin.post('/api/v1/entities', { type: 'domain-name', value: 'phish.example.org' });
    expect(dup.statusCode).toBe(409);
    expect(problemOf(dup)).toMatchObject({ existingId: created.json().id });
  });

  it('explains an invalid observable', async () => {
    const res = await tenant.admin.post('/api/v1/entities', { type: 'ipv4-addr', value: '10.0.0.256' });
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).detail).toContain('10.0.0.256');
  });

  it('filters by type, confidence, TLP, source and text, and pages', async () => {
    const tn = await t.createTenant();
    await ingest(tn, campaignBundle().bundle, 'feed-x');
    const byType = (await tn.admin.get('/api/v1/entities?type=malware,domain-name')).json().items;
    expect(byType.map((e: { type: string }) => e.type).sort()).toEqual(['domain-name', 'malware']);
    expect((await tn.admin.get('/api/v1/entities?minConfidence=60')).json().items.map((e: { type: string }) => e.type)).toEqual(['indicator']);
    expect((await tn.admin.get('/api/v1/entities?tlp=green')).json().items).toHaveLength(1);
    expect((await tn.admin.get('/api/v1/entities?source=feed-x&limit=2')).json().nextCursor).not.toBeNull();
    expect((await tn.admin.get('/api/v1/entities?q=nighth')).json().items[0].name).toBe('NightHawk');
    expect((await tn.admin.get('/api/v1/entities?type=starship')).statusCode).toBe(400);
  });

  it('updates and deletes an entity with its relationships, audited', async () => {
    const tn = await t.createTenant();
    const { bundle: b } = campaignBundle();
    await ingest(tn, b);
    const ip = await entityByKey(tn, 'ipv4-addr', '198.51.100.23');
    const patched = await tn.admin.patch(`/api/v1/entities/${ip.id}`, { confidence: 15, tlp: 'red' });
    expect(patched.json()).toMatchObject({ confidence: 15, tlp: 'red' });
    const analyst = await t.createUser(tn, ['analyst']);
    expect((await analyst.client.delete(`/api/v1/entities/${ip.id}`)).statusCode).toBe(403);
    expect((await tn.admin.delete(`/api/v1/entities/${ip.id}`)).statusCode).toBe(204);
    expect((await tn.admin.get(`/api/v1/entities/${ip.id}`)).statusCode).toBe(404);
    const dns = await entityByKey(tn, 'domain-name', 'evil-update');
    expect((await tn.admin.get(`/api/v1/entities/${dns.id}/relationships`)).json().items).toEqual([]);
    const [event] = (await tn.admin.get('/api/v1/audit?action=entity.delete')).json().items;
    expect(event.before).toMatchObject({ type: 'ipv4-addr', relationshipsRemoved: 2 });
  });

  it('relates entities and records sightings by hand', async () => {
    const a = (await tenant.admin.post('/api/v1/entities', { type: 'threat-actor', name: 'Ember Bear' })).json();
    const b = (await tenant.admin.post('/api/v1/entities', { type: 'malware', name: 'Ember Loader' })).json();
    const rel = await tenant.admin.post('/api/v1/relationships', { type: 'uses', sourceId: a.id, targetId: b.id, confidence: 60 });
    expect(rel.statusCode).toBe(201);
    expect(rel.json()).toMatchObject({ type: 'uses', sourceId: a.id, targetId: b.id, created: true });
    expect((await tenant.admin.post('/api/v1/relationships', { type: 'uses', sourceId: a.id, targetId: b.id })).json().created).toBe(false);
    expect((await tenant.admin.post('/api/v1/relationships', { type: 'uses', sourceId: a.id, targetId: a.id })).statusCode).toBe(400);
    const s = await tenant.admin.post('/api/v1/sightings', { entityId: b.id, count: 4, whereSighted: ['soc-emea'], truePositive: false });
    expect(s.json()).toMatchObject({ count: 4, truePositive: false, whereSighted: ['soc-emea'] });
  });
});

describe('graph queries', () => {
  it('returns a bounded neighbourhood and says when it was cut', async () => {
    const tn = await t.createTenant();
    const { bundle: b } = campaignBundle();
    await ingest(tn, b);
    const ip = await entityByKey(tn, 'ipv4-addr', '198.51.100.23');
    const one = (await tn.admin.get(`/api/v1/entities/${ip.id}/neighbors?depth=1`)).json();
    expect(one.nodes.map((n: { type: string }) => n.type).sort()).toEqual(['domain-name', 'ipv4-addr', 'malware']);
    expect(one).toMatchObject({ truncated: false });
    const two = (await tn.admin.get(`/api/v1/entities/${ip.id}/neighbors?depth=2`)).json();
    expect(two.nodes).toHaveLength(4);
    const cut = (await tn.admin.get(`/api/v1/entities/${ip.id}/neighbors?depth=2&limit=2`)).json();
    expect(cut).toMatchObject({ truncated: true });
    expect(cut.nodes).toHaveLength(2);
    expect((await tn.admin.get(`/api/v1/entities/${ip.id}/neighbors?depth=9`)).statusCode).toBe(400);
  });

  it('finds the shortest path between two entities', async () => {
    const tn = await t.createTenant();
    await ingest(tn, campaignBundle().bundle);
    const dns = await entityByKey(tn, 'domain-name', 'evil-update');
    const ind = await entityByKey(tn, 'indicator', '198.51.100.23');
    const res = (await tn.admin.get(`/api/v1/paths?from=${dns.id}&to=${ind.id}`)).json();
    expect(res.paths).toHaveLength(1);
    expect(res.paths[0].nodeIds).toHaveLength(4);
    expect(res.nodes.map((n: { type: string }) => n.type).sort()).toEqual(['domain-name', 'indicator', 'ipv4-addr', 'malware']);
    const lonely = (await tn.admin.post('/api/v1/entities', { type: 'tool', name: 'lonely' })).json();
    expect((await tn.admin.get(`/api/v1/paths?from=${dns.id}&to=${lonely.id}`)).json().paths).toEqual([]);
  });
});

describe('STIX export', () => {
  it('round-trips: import, export, import elsewhere gives the same graph', async () => {
    const a = await t.createTenant();
    const b = await t.createTenant();
    const { bundle: original } = campaignBundle();
    await ingest(a, { ...original, objects: [...original.objects, domain('benign.example.com'), indicator("[domain-name:value = 'benign.example.com']")] });
    const exported = await a.admin.get('/api/v1/export/stix');
    expect(exported.statusCode).toBe(200);
    expect(exported.headers['content-type']).toContain('application/stix+json');
    const again = await ingest(b, exported.json(), 'export-of-a');
    expect(again.status).toBe('succeeded');
    const graphOf = async (tn: TestTenant) => {
      const entities = (await tn.admin.get('/api/v1/entities?limit=200')).json().items as Array<{ id: string; type: string; key: string }>;
      const keyOf = new Map(entities.map((e) => [e.id, `${e.type}:${e.key}`]));
      const edges = new Set<string>();
      for (const e of entities) {
        for (const r of (await tn.admin.get(`/api/v1/entities/${e.id}/relationships?direction=out`)).json().items) {
          edges.add(`${keyOf.get(r.sourceId)} -${r.type}-> ${keyOf.get(r.targetId)}`);
        }
      }
      return { nodes: [...keyOf.values()].sort(), edges: [...edges].sort() };
    };
    expect(await graphOf(b)).toEqual(await graphOf(a));
  });

  it('filters by type and pages through a cursor header', async () => {
    const tn = await t.createTenant();
    await ingest(tn, campaignBundle().bundle);
    const only = (await tn.admin.get('/api/v1/export/stix?types=malware')).json();
    expect(only.objects.map((o: { type: string }) => o.type)).toEqual(['malware']);
    const first = await tn.admin.get('/api/v1/export/stix?limit=2');
    expect(first.headers['x-summit-next-cursor']).toBeTruthy();
  });
});
