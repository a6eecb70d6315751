import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v7 as uuidv7 } from 'uuid';
import { entitySchema, neighbourhoodSchema } from '../src/modules/graph/graph.schemas.js';
import { edgeBudgetFor } from '../src/modules/graph/traversal.js';
import { campaignBundle } from './graph-fixtures.js';
import { createTestApp, problemOf, type TestApp, type TestTenant } from './harness.js';

// The read path builds its answers in SQL (the neighbourhood walk and its JSON, an entity with its provenance and
// sightings in one statement). These tests hold those answers to the documented schemas, to the DTOs the rest of
// the API writes, and the walk to a plain breadth-first walk over the same graph.

let t: TestApp;
let tenant: TestTenant;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTenant();
});
afterAll(() => t.close());

type Neighbourhood = { rootId: string; nodes: Array<{ id: string; type: string }>; edges: Array<{ id: string; type: string; sourceId: string; targetId: string }>; truncated: boolean };

async function neighbours(tn: TestTenant, id: string, query: string): Promise<Neighbourhood> {
  const res = await tn.admin.get(`/api/v1/entities/${id}/neighbors?${query}`);
  expect(res.statusCode, res.body).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  return res.json();
}

async function ingestCampaign(tn: TestTenant) {
  const res = await tn.admin.post('/api/v1/ingest/stix?source=feed-a', campaignBundle().bundle as unknown as Record<string, unknown>);
  expect(res.statusCode, res.body).toBe(202);
  const items = (await tn.admin.get('/api/v1/entities?type=ipv4-addr&q=198.51.100.23')).json().items;
  return items[0] as { id: string };
}

describe('neighbourhood response', () => {
  it('matches the documented schema and writes each node exactly as GET /entities/{id} does', async () => {
    const tn = await t.createTenant();
    const ip = await ingestCampaign(tn);
    const body = await neighbours(tn, ip.id, 'depth=2');
    expect(() => neighbourhoodSchema.parse(body)).not.toThrow();
    expect(body.rootId).toBe(ip.id);
    expect(body.nodes[0]!.id).toBe(ip.id);
    expect(body.nodes.length).toBeGreaterThan(1);
    for (const node of body.nodes) {
      const detail = (await tn.admin.get(`/api/v1/entities/${node.id}`)).json();
      const { provenance: _p, sources: _s, sightings: _g, ...entity } = detail;
      expect(node).toEqual(entitySchema.parse(entity));
      // Same fields in the same order, so the text is the same too.
      expect(Object.keys(node)).toEqual(Object.keys(entity));
    }
  });

  it('keeps the start and the nodes of the asked types, and only edges between kept nodes', async () => {
    const tn = await t.createTenant();
    const ip = await ingestCampaign(tn);
    const all = await neighbours(tn, ip.id, 'depth=2');
    const body = await neighbours(tn, ip.id, 'depth=2&types=malware');
    expect(body.nodes.map((n) => n.type).sort()).toEqual(['ipv4-addr', 'malware']);
    const kept = new Set(body.nodes.map((n) => n.id));
    expect(body.edges.length).toBeGreaterThan(0);
    expect(body.edges.every((e) => kept.has(e.sourceId) && kept.has(e.targetId))).toBe(true);
    expect(body.edges.length).toBeLessThan(all.edges.length);
    const onlyResolves = await neighbours(tn, ip.id, 'depth=2&relationshipTypes=resolves-to');
    expect(onlyResolves.edges.map((e) => e.type)).toEqual(['resolves-to']);
    expect(onlyResolves.nodes.map((n) => n.type).sort()).toEqual(['domain-name', 'ipv4-addr']);
  });

  it('answers 404 for an entity of another tenant and 400 for a bad depth or type', async () => {
    const other = await t.createTenant();
    const theirs = await ingestCampaign(other);
    const res = await tenant.admin.get(`/api/v1/entities/${theirs.id}/neighbors?depth=1`);
    expect(res.statusCode).toBe(404);
    expect(problemOf(res)).toMatchObject({ code: 'not_found', status: 404 });
    expect((await tenant.admin.get(`/api/v1/entities/${randomUUID()}/neighbors`)).statusCode).toBe(404);
    expect((await tenant.admin.get(`/api/v1/entities/${theirs.id}/neighbors?depth=0`)).statusCode).toBe(400);
    expect((await tenant.admin.get(`/api/v1/entities/${theirs.id}/neighbors?types=planet`)).statusCode).toBe(400);
    expect((await tenant.admin.get(`/api/v1/entities/${theirs.id}/neighbors?limit=1001`)).statusCode).toBe(400);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The walk against a plain breadth-first walk over the same edges, held in memory.

type Graph = { nodes: number; edges: Array<{ source: number; target: number; type: string }> };
const REL_TYPES = ['uses', 'targets', 'indicates'] as const;

/**
 * What the walk must answer, wherever it does not depend on the order edges come back in: whether it is
 * truncated, and (when it is not) the exact nodes and edges.
 */
function expectedWalk(graph: Graph, root: number, depth: number, limit: number, types: readonly string[] | null) {
  const edges = graph.edges.map((e, i) => ({ ...e, i })).filter((e) => !types || types.includes(e.type));
  const seen = new Set([root]);
  let frontier = [root];
  const expanded = new Set<number>();
  for (let hop = 0; hop < depth && frontier.length; hop++) {
    const inFrontier = new Set(frontier);
    frontier.forEach((n) => expanded.add(n));
    const found = edges.filter((e) => inFrontier.has(e.source) || inFrontier.has(e.target));
    const fresh = [...new Set(found.flatMap((e) => [e.source, e.target]))].filter((n) => !seen.has(n));
    if (found.length >= edgeBudgetFor(limit) || fresh.length > limit - seen.size) return { truncated: true as const };
    fresh.forEach((n) => seen.add(n));
    frontier = fresh;
  }
  const kept = edges.filter((e) => seen.has(e.source) && seen.has(e.target) && (expanded.has(e.source) || expanded.has(e.target)));
  return { truncated: false as const, nodes: seen, edges: new Set(kept.map((e) => e.i)) };
}

/** Every node within `depth` hops of root (over the allowed edges). */
function reachable(graph: Graph, root: number, depth: number, types: readonly string[] | null) {
  const reached = new Set([root]);
  let frontier = [root];
  for (let hop = 0; hop < depth; hop++) {
    const next: number[] = [];
    for (const e of graph.edges) {
      if (types && !types.includes(e.type)) continue;
      for (const [here, there] of [[e.source, e.target], [e.target, e.source]] as const) {
        if (frontier.includes(here) && !reached.has(there)) {
          reached.add(there);
          next.push(there);
        }
      }
    }
    frontier = next;
  }
  return reached;
}

async function storeGraph(tn: TestTenant, graph: Graph) {
  const ids = Array.from({ length: graph.nodes }, () => uuidv7());
  const edgeIds = graph.edges.map(() => uuidv7());
  await t.db.withTenant(tn.id, async (tx) => {
    for (const id of ids) {
      await tx.query(`insert into entities (tenant_id, id, stix_id, type, key, name) values ($1, $2, $3, 'tool', $4, $4)`, [tn.id, id, `tool--${randomUUID()}`, `tool-${id}`]);
    }
    for (const [i, e] of graph.edges.entries()) {
      await tx.query(`insert into relationships (tenant_id, id, stix_id, type, source_id, target_id) values ($1, $2, $3, $4, $5, $6)`, [
        tn.id, edgeIds[i], `relationship--${randomUUID()}`, e.type, ids[e.source], ids[e.target],
      ]);
    }
  });
  return { ids, edgeIds };
}

const graphArbitrary = fc.integer({ min: 2, max: 9 }).chain((nodes) =>
  fc.record({
    nodes: fc.constant(nodes),
    edges: fc.uniqueArray(
      fc.record({ source: fc.nat(nodes - 1), target: fc.nat(nodes - 1), type: fc.constantFrom(...REL_TYPES) }).filter((e) => e.source !== e.target),
      { maxLength: 24, selector: (e) => `${e.type} ${e.source} ${e.target}` },
    ),
  }),
);

describe('neighbourhood walk', () => {
  it('agrees with a breadth-first walk: the same truncation, and the same nodes and edges when not cut', async () => {
    const tn = await t.createTenant();
    await fc.assert(
      fc.asyncProperty(
        graphArbitrary,
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 10 }),
        fc.option(fc.subarray([...REL_TYPES], { minLength: 1 }), { nil: null }),
        async (graph, depth, limit, types) => {
          const { ids, edgeIds } = await storeGraph(tn, graph);
          const query = `depth=${depth}&limit=${limit}${types ? `&relationshipTypes=${types.join(',')}` : ''}`;
          const body = await neighbours(tn, ids[0]!, query);
          const expected = expectedWalk(graph, 0, depth, limit, types);
          expect(body.truncated).toBe(expected.truncated);
          expect(body.nodes[0]!.id).toBe(ids[0]);
          expect(new Set(body.nodes.map((n) => n.id)).size).toBe(body.nodes.length);
          expect(new Set(body.edges.map((e) => e.id)).size).toBe(body.edges.length);
          if (!expected.truncated) {
            expect(new Set(body.nodes.map((n) => n.id))).toEqual(new Set([...expected.nodes].map((i) => ids[i])));
            expect(new Set(body.edges.map((e) => e.id))).toEqual(new Set([...expected.edges].map((i) => edgeIds[i])));
            return;
          }
          // Cut short: which nodes it kept depends on the order edges came in; what it kept must still hold.
          expect(body.nodes.length).toBeLessThanOrEqual(limit);
          const within = new Set([...reachable(graph, 0, depth, types)].map((i) => ids[i]));
          expect(body.nodes.every((n) => within.has(n.id))).toBe(true);
          const held = new Set(body.nodes.map((n) => n.id));
          const byId = new Map(graph.edges.map((e, i) => [edgeIds[i], e]));
          for (const edge of body.edges) {
            const stored = byId.get(edge.id);
            expect(stored && ids[stored.source] === edge.sourceId && ids[stored.target] === edge.targetId).toBe(true);
            expect(held.has(edge.sourceId) && held.has(edge.targetId)).toBe(true);
            if (types) expect(types).toContain(edge.type);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('cuts a hub at the limit and says so', async () => {
    const tn = await t.createTenant();
    const hub = { nodes: 31, edges: Array.from({ length: 30 }, (_, i) => ({ source: 0, target: i + 1, type: 'uses' })) };
    const { ids } = await storeGraph(tn, hub);
    const cut = await neighbours(tn, ids[0]!, 'depth=1&limit=10');
    expect(cut).toMatchObject({ truncated: true });
    expect(cut.nodes).toHaveLength(10);
    expect(cut.edges).toHaveLength(9);
    const whole = await neighbours(tn, ids[0]!, 'depth=1&limit=31');
    expect(whole).toMatchObject({ truncated: false });
    expect(whole.nodes).toHaveLength(31);
    // The per-hop edge budget (4 × limit + 1) cuts too: 30 edges around the start, a budget of 9 at limit 2.
    expect(await neighbours(tn, ids[0]!, 'depth=1&limit=2')).toMatchObject({ truncated: true });
  });
});

describe('entity detail', () => {
  it('returns the entity with every provenance row, oldest first, and its latest 20 sightings', async () => {
    const tn = await t.createTenant();
    const ip = await ingestCampaign(tn);
    // A second source asserting the same observable adds a provenance row.
    const again = await tn.admin.post('/api/v1/ingest/stix?source=feed-b', campaignBundle().bundle as unknown as Record<string, unknown>);
    expect(again.statusCode).toBe(202);
    const base = Date.parse('2030-01-01T00:00:00.000Z');
    for (let i = 0; i < 22; i++) {
      const at = new Date(base + i * 60_000).toISOString();
      const res = await tn.admin.post('/api/v1/sightings', { entityId: ip.id, count: i + 1, firstSeen: at, lastSeen: at, whereSighted: [`sensor-${i}`] });
      expect(res.statusCode, res.body).toBe(201);
    }
    const detail = (await tn.admin.get(`/api/v1/entities/${ip.id}`)).json();
    expect(detail.sources).toEqual(['feed-a', 'feed-b']);
    expect(detail.provenance.map((p: { source: string }) => p.source)).toEqual(['feed-a', 'feed-b']);
    expect(detail.provenance[0]).toMatchObject({ source: 'feed-a', confidence: null });
    expect(detail.provenance[0].at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(detail.sightings).toHaveLength(20);
    expect(detail.sightings[0]).toMatchObject({ count: 22, whereSighted: ['sensor-21'], lastSeen: new Date(base + 21 * 60_000).toISOString(), entityId: ip.id });
    expect(detail.sightings.map((s: { count: number }) => s.count)).toEqual(Array.from({ length: 20 }, (_, i) => 22 - i));
    const lone = (await tn.admin.post('/api/v1/entities', { type: 'tool', name: 'lone' })).json();
    expect((await tn.admin.get(`/api/v1/entities/${lone.id}`)).json()).toMatchObject({ id: lone.id, sightings: [], sources: [expect.stringMatching(/^user:/)] });
    expect((await tenant.admin.get(`/api/v1/entities/${ip.id}`)).statusCode).toBe(404);
  });
});
