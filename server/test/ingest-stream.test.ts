import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INGEST_BODY_LIMIT } from '../src/modules/graph/ingest.routes.js';
import { bundle, ipv4, malware, relationship, sid, sighting, TLP_GREEN } from './graph-fixtures.js';
import { createTestApp, problemOf, waitFor, type TestApp, type TestTenant } from './harness.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const TLP_RED = 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1';

/** Posts text as a stream of `size`-byte pieces (no content-length, as a chunked upload sends it). */
function postStreamed(tn: TestTenant, text: string, size: number, url = '/api/v1/ingest/stix?source=stream') {
  const bytes = Buffer.from(text);
  const pieces = function* () {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  };
  return t.summit.app.inject({
    method: 'POST',
    url,
    headers: { authorization: `Bearer ${tn.adminToken}`, 'content-type': 'application/json' },
    payload: Readable.from(pieces()),
  });
}

async function entitiesOf(tn: TestTenant, type: string) {
  const items = (await tn.admin.get(`/api/v1/entities?type=${type}&limit=200`)).json().items as Array<Record<string, unknown>>;
  return items.map(({ id: _id, createdAt: _c, modifiedAt: _m, ...rest }) => rest).sort((a, b) => String(a.key).localeCompare(String(b.key)));
}

async function countRows(table: string, tenantId: string) {
  return t.db.withSystem(async (tx) => Number((await tx.query<{ n: number }>(`select count(*)::int as n from ${table} where tenant_id = $1`, [tenantId])).rows[0]!.n));
}

async function runJobs<T>(what: string, check: () => Promise<T | undefined | false>) {
  t.summit.modules.jobs.startWorkers();
  try {
    return await waitFor(what, check, 60_000);
  } finally {
    await t.summit.modules.jobs.stopWorkers();
  }
}

/** A bundle of n addresses (100.64.0.0/10, distinct) plus whatever else is given. */
function addresses(n: number) {
  return Array.from({ length: n }, (_, i) => ipv4(`100.${64 + Math.floor(i / 250)}.${i % 250}.${1 + (i % 5)}`));
}

describe('streamed STIX upload', () => {
  it('parses a bundle streamed in small pieces the same as one sent whole', async () => {
    const family = malware('StreamFamily');
    const ip = ipv4('198.51.100.60');
    const objects = [family, ip, relationship('communicates-with', family, ip), sighting(family, 4), ipv4('not-an-ip')];
    const text = JSON.stringify({ ...bundle(objects), x_vendor: { nested: [1, 2, { deep: true }] } });
    const [a, b] = [await t.createTenant(), await t.createTenant()];
    const whole = await a.admin.post('/api/v1/ingest/stix?source=stream', text, { 'content-type': 'application/json' });
    const pieces = await postStreamed(b, text, 7);
    expect(whole.statusCode, whole.body).toBe(202);
    expect(pieces.statusCode, pieces.body).toBe(202);
    const [runA, runB] = [whole.json(), pieces.json()];
    expect(runB).toMatchObject({ status: 'partial', counts: { received: 5, created: 4, merged: 0, rejected: 1 } });
    expect({ counts: runB.counts, rejections: runB.rejections }).toEqual({ counts: runA.counts, rejections: runA.rejections });
    expect(runB.rejections[0]).toMatchObject({ index: 4, reason: expect.stringContaining('not-an-ip') });
    for (const type of ['malware', 'ipv4-addr']) expect(await entitiesOf(b, type)).toEqual(await entitiesOf(a, type));
  });

  it('accepts the STIX media type', async () => {
    const tn = await t.createTenant();
    const res = await tn.admin.post('/api/v1/ingest/stix', JSON.stringify(bundle([ipv4('192.0.2.61')])), { 'content-type': 'application/stix+json;version=2.1' });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json().counts).toMatchObject({ created: 1 });
  });

  it('refuses malformed JSON mid-stream with the byte offset, leaving no run, rows or stored chunks', async () => {
    const tn = await t.createTenant();
    // Past the inline size, so the first objects have already been stored in chunks when the error shows.
    const good = JSON.stringify(bundle(addresses(1_600)));
    // A stray "]" right after the comma between two objects near the end.
    const at = good.lastIndexOf('},{', good.length - 200) + 2;
    const text = `${good.slice(0, at)}]${good.slice(at)}`;
    const res = await postStreamed(tn, text, 4_096);
    expect(res.statusCode, res.body).toBe(400);
    const problem = problemOf(res) as ReturnType<typeof problemOf> & { offset: number };
    expect(problem.offset).toBe(at);
    expect(problem.detail).toContain(`byte offset ${at}:`);
    expect(problem.detail).toContain('not valid JSON');
    expect((await tn.admin.get('/api/v1/ingest/runs')).json().items).toEqual([]);
    expect(await countRows('entities', tn.id)).toBe(0);
    expect(await countRows('ingest_chunks', tn.id)).toBe(0);
  });

  it('refuses a top level that is not a bundle object, as soon as it shows', async () => {
    const tn = await t.createTenant();
    const list = await postStreamed(tn, JSON.stringify([bundle([ipv4('192.0.2.1')])]), 3);
    expect(list.statusCode).toBe(400);
    expect(problemOf(list).detail).toMatch(/not a STIX 2\.1 bundle at byte offset 0: .*got a list/);
    // The type comes first; the rest of the body (here, never-ending objects) is not needed to refuse it.
    const single = await postStreamed(tn, `{"type":"indicator","id":"${sid('indicator')}","objects":[${'{"a":1},'.repeat(10_000)}`, 64);
    expect(single.statusCode).toBe(400);
    expect(problemOf(single).detail).toContain('wrap it in a bundle');
    const notList = await postStreamed(tn, '{"type":"bundle","objects":{"a":{}}}', 5);
    expect(problemOf(notList).detail).toContain('bundle objects must be a list');
    expect((await tn.admin.get('/api/v1/ingest/runs')).json().items).toEqual([]);
  });

  it('answers 413 past the limit, whether declared or streamed', async () => {
    const tn = await t.createTenant();
    const declared = await t.summit.app.inject({
      method: 'POST',
      url: '/api/v1/ingest/stix',
      headers: { authorization: `Bearer ${tn.adminToken}`, 'content-type': 'application/json', 'content-length': String(INGEST_BODY_LIMIT + 1) },
      payload: '{}',
    });
    expect(declared.statusCode).toBe(413);
    const mb = Buffer.alloc(1024 * 1024, 'a');
    const pieces = function* () {
      yield Buffer.from('{"type":"bundle","objects":[],"x_padding":"');
      for (let i = 0; i <= INGEST_BODY_LIMIT / mb.length; i++) yield mb;
      yield Buffer.from('"}');
    };
    const streamed = await t.summit.app.inject({
      method: 'POST',
      url: '/api/v1/ingest/stix',
      headers: { authorization: `Bearer ${tn.adminToken}`, 'content-type': 'application/json' },
      payload: Readable.from(pieces()),
    });
    expect(streamed.statusCode).toBe(413);
    expect(problemOf(streamed).code).toBe('body_too_large');
    expect((await tn.admin.get('/api/v1/ingest/runs')).json().items).toEqual([]);
  }, 60_000);
});

describe('queued STIX runs', () => {
  it('queues a bundle of more than 1,000 objects, audits the submission at once, and the job completes it', async () => {
    const tn = await t.createTenant();
    const ips = addresses(1_300);
    const family = malware('QueuedFamily');
    // A relationship in the first chunk pointing at an entity of the last; a sighting; a bad object mid-bundle.
    const objects = [relationship('communicates-with', family, ips[0]!), ...ips.slice(0, 700), ipv4('300.1.1.1'), ...ips.slice(700), sighting(family, 2), family];
    const res = await postStreamed(tn, JSON.stringify(bundle(objects)), 16_384);
    expect(res.statusCode, res.body).toBe(202);
    const run = res.json();
    expect(run).toMatchObject({ status: 'queued', counts: { received: 1_304 } });
    expect(await countRows('ingest_chunks', tn.id)).toBe(3);
    const submitted = (await tn.admin.get('/api/v1/audit?limit=50&action=ingest.submit')).json().items;
    expect(submitted.filter((e: { target: { id: string } }) => e.target.id === run.id)).toEqual([
      expect.objectContaining({ outcome: 'success', after: expect.objectContaining({ mode: 'job', received: 1_304, source: 'stream' }) }),
    ]);

    const done = await runJobs('the ingest job', async () => {
      const r = (await tn.admin.get(`/api/v1/ingest/runs/${run.id}`)).json();
      return r.finishedAt ? r : undefined;
    });
    expect(done).toMatchObject({ status: 'partial', counts: { received: 1_304, created: 1_303, merged: 0, rejected: 1, skipped: 0 } });
    expect(done.rejections).toEqual([expect.objectContaining({ index: 701, reason: expect.stringContaining('300.1.1.1') })]);
    expect(await countRows('ingest_chunks', tn.id)).toBe(0);
    const ran = (await tn.admin.get('/api/v1/audit?limit=50&action=ingest.run')).json().items;
    expect(ran.filter((e: { target: { id: string } }) => e.target.id === run.id)).toHaveLength(1);
  }, 90_000);

  it('keeps runs to their tenant', async () => {
    const [a, b] = [await t.createTenant(), await t.createTenant()];
    const run = (await postStreamed(a, JSON.stringify(bundle(addresses(1_100))), 65_536)).json();
    expect(run.status).toBe('queued');
    expect((await b.admin.get(`/api/v1/ingest/runs/${run.id}`)).statusCode).toBe(404);
    expect((await b.admin.get('/api/v1/ingest/runs')).json().items).toEqual([]);
    // Row-level security: tenant b's transactions see none of a's stored chunks.
    expect(await t.db.withTenant(b.id, async (tx) => (await tx.query('select 1 from ingest_chunks')).rows.length)).toBe(0);
    expect(await t.db.withTenant(a.id, async (tx) => (await tx.query('select 1 from ingest_chunks')).rows.length)).toBe(3);
    await runJobs('a’s run', async () => (await a.admin.get(`/api/v1/ingest/runs/${run.id}`)).json().status === 'succeeded');
    expect((await b.admin.get('/api/v1/entities?type=ipv4-addr')).json().items).toEqual([]);
  }, 90_000);
});

describe('batched writes', () => {
  it('merges duplicates inside one chunk exactly as one-by-one ingest would', async () => {
    const base = malware('DupFamily');
    const copies = [
      { ...base, id: sid('malware'), confidence: 40, description: 'first', x_a: 1, first_seen: '2026-01-05T00:00:00Z', last_seen: '2026-01-06T00:00:00Z' },
      { ...base, id: sid('malware'), confidence: 85, x_a: 2, x_b: 'b', object_marking_refs: [TLP_GREEN], first_seen: '2026-01-01T00:00:00Z' },
      { ...base, id: sid('malware'), description: 'third', object_marking_refs: [TLP_RED], last_seen: '2026-03-01T00:00:00Z' },
    ];
    const ip = ipv4('198.51.100.70');
    const edges = [relationship('communicates-with', copies[0]!, ip), relationship('communicates-with', copies[2]!, ip)];
    const [batched, oneByOne] = [await t.createTenant(), await t.createTenant()];
    const run = await batched.admin.post('/api/v1/ingest/stix', bundle([...copies, ip, ...edges]));
    expect(run.statusCode, run.body).toBe(202);
    expect(run.json().counts).toMatchObject({ received: 6, created: 3, merged: 3, rejected: 0 });
    const counts = { created: 0, merged: 0 };
    for (const object of [...copies, ip, ...edges]) {
      const c = (await oneByOne.admin.post('/api/v1/ingest/stix', bundle([object]))).json().counts;
      counts.created += c.created;
      counts.merged += c.merged;
    }
    expect(counts).toEqual({ created: 3, merged: 3 });
    const [mine, theirs] = [await entitiesOf(batched, 'malware'), await entitiesOf(oneByOne, 'malware')];
    expect(mine).toEqual(theirs);
    expect(mine).toEqual([expect.objectContaining({ confidence: 85, tlp: 'green', firstSeen: expect.stringMatching(/^2026-01-01/), lastSeen: expect.stringMatching(/^2026-03-01/) })]);
    expect((mine[0]!.properties as Record<string, unknown>)).toMatchObject({ description: 'third', x_a: 2, x_b: 'b' });
    const detail = (await batched.admin.get(`/api/v1/entities/${(await batched.admin.get('/api/v1/entities?type=malware')).json().items[0].id}`)).json();
    expect(detail.provenance).toHaveLength(3);
    const rels = (await batched.admin.get(`/api/v1/entities/${detail.id}/relationships`)).json().items;
    expect(rels).toHaveLength(1);
  });

  it('rejects only the object that cannot be stored when its chunk fails as a whole', async () => {
    const tn = await t.createTenant();
    const taken = ipv4('192.0.2.90');
    await tn.admin.post('/api/v1/ingest/stix', bundle([taken]));
    // Another address under an id the graph already gives to 192.0.2.90: the batch statement fails on it.
    const clash = ipv4('192.0.2.91', { id: taken.id });
    const others = [ipv4('192.0.2.92'), ipv4('192.0.2.93'), ipv4('192.0.2.94')];
    const res = await tn.admin.post('/api/v1/ingest/stix', bundle([others[0], clash, ...others.slice(1)]));
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toMatchObject({ status: 'partial', counts: { received: 4, created: 3, rejected: 1 } });
    expect(res.json().rejections).toEqual([expect.objectContaining({ id: taken.id, reason: expect.stringContaining('could not be stored') })]);
    const keys = (await entitiesOf(tn, 'ipv4-addr')).map((e) => e.key);
    expect(keys).toEqual(['192.0.2.90', '192.0.2.92', '192.0.2.93', '192.0.2.94']);
  });
});
