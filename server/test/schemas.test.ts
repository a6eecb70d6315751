import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { createManualClock } from '../src/platform/clock.js';
import { client, createTestApp, createTestDb, OPERATOR_TOKEN, problemOf, TEST_SECRET, type Client, type TestApp, type TestTenant } from './harness.js';

const jsonSchema = {
  type: 'object',
  properties: {
    src_ip: { type: 'string', format: 'ipv4' },
    host: { type: 'string' },
    score: { type: 'integer', minimum: 0, maximum: 100 },
    first_seen: { type: 'string', format: 'date-time' },
  },
  required: ['src_ip'],
  additionalProperties: false,
};
const mapping = {
  entities: [{ type: 'ipv4-addr', value: '$.src_ip' }, { type: 'domain-name', value: '$.host' }],
  relationships: [{ type: 'resolves-to', source: 1, target: 0 }],
  confidence: '$.score',
  firstSeen: '$.first_seen',
};
const DAY = 86_400_000;
let names = 0;
const nextName = () => `netflow-${++names}`;

async function submit(as: Client, name: string, extra: Record<string, unknown> = {}) {
  const res = await as.post('/api/v1/schemas', { name, version: 1, jsonSchema, mapping, ...extra });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; name: string; version: number; status: string };
}
async function auditOf(tn: TestTenant, action: string) {
  return (await tn.admin.get(`/api/v1/audit?limit=200&action=${action}`)).json().items as Array<{ outcome: string; actor: { id: string }; target: { id: string }; after: Record<string, unknown> }>;
}

let t: TestApp;
let tenant: TestTenant;
let analyst: Client;
let secondAdmin: { user: { id: string }; client: Client };

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTenant();
  analyst = (await t.createUser(tenant, ['analyst'])).client;
  secondAdmin = await t.createUser(tenant, ['admin']);
});
afterAll(() => t.close());

describe('schema submission', () => {
  it('accepts a schema version as pending, audits it, and reads it back', async () => {
    const name = nextName();
    const created = await submit(analyst, name);
    expect(created).toMatchObject({ name, version: 1, status: 'pending', source: `schema:${name}@1`, approvedBy: null, overrides: [] });
    expect((await analyst.get(`/api/v1/schemas/${created.id}`)).json()).toEqual(created);
    const [event] = (await auditOf(tenant, 'schema.create')).filter((e) => e.target.id === created.id);
    expect(event).toMatchObject({ outcome: 'success', after: { name, version: 1, status: 'pending' } });
  });

  it('refuses a JSON Schema that does not compile, naming the problem', async () => {
    const res = await analyst.post('/api/v1/schemas', { name: nextName(), version: 1, jsonSchema: { type: 'object', requried: ['src_ip'] }, mapping: { entities: [{ type: 'url', value: '$.u' }] } });
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors).toEqual([{ path: 'body.jsonSchema', message: expect.stringContaining('unknown keyword: "requried"') }]);
  });

  it('refuses a mapping to an unknown entity type, to missing entities or to a field the schema lacks', async () => {
    const unknownType = await analyst.post('/api/v1/schemas', { name: nextName(), version: 1, jsonSchema, mapping: { entities: [{ type: 'ip-address', value: '$.src_ip' }] } });
    expect(unknownType.statusCode).toBe(400);
    expect(problemOf(unknownType).errors?.map((e) => e.path)).toEqual(['body.mapping.entities[0].type']);
    const badEnds = await analyst.post('/api/v1/schemas', {
      name: nextName(),
      version: 1,
      jsonSchema,
      mapping: { entities: [{ type: 'ipv4-addr', value: '$.srcip' }], relationships: [{ type: 'related-to', source: 0, target: 1 }] },
    });
    expect(badEnds.statusCode).toBe(400);
    expect(problemOf(badEnds).errors).toEqual([
      { path: 'body.mapping.relationships[0].target', message: expect.stringContaining('entities has only 1 item') },
      { path: 'body.mapping.entities[0].value', message: expect.stringContaining('$.srcip names no field the JSON Schema allows') },
    ]);
  });

  it('keeps a version immutable: the same version again is 409, a new version is a new schema', async () => {
    const name = nextName();
    const first = await submit(analyst, name);
    const again = await analyst.post('/api/v1/schemas', { name, version: 1, jsonSchema: { type: 'object' }, mapping });
    expect(again.statusCode).toBe(409);
    expect(problemOf(again).detail).toContain('submit the change as a new version');
    const second = await submit(analyst, name, { version: 2 });
    expect(second.id).not.toBe(first.id);
    expect((await analyst.get(`/api/v1/schemas/${first.id}`)).json().jsonSchema).toEqual(jsonSchema);
  });

  it('is immutable in the store too: the application role cannot change a submitted version', async () => {
    const schema = await submit(analyst, nextName());
    await expect(
      t.db.withTenant(tenant.id, (tx) => tx.query(`update ingest_schemas set mapping = '{}'::jsonb where tenant_id = $1 and id = $2`, [tenant.id, schema.id])),
    ).rejects.toThrow(/permission denied/);
  });

  it('lists versions newest first, filtered by name and status, page by page', async () => {
    const name = nextName();
    const v1 = await submit(analyst, name);
    const v2 = await submit(analyst, name, { version: 2 });
    await tenant.admin.post(`/api/v1/schemas/${v1.id}/approve`);
    const page1 = (await analyst.get(`/api/v1/schemas?name=${name}&limit=1`)).json();
    expect(page1.items.map((s: { id: string }) => s.id)).toEqual([v2.id]);
    const page2 = (await analyst.get(`/api/v1/schemas?name=${name}&limit=1&cursor=${page1.nextCursor}`)).json();
    expect(page2).toMatchObject({ items: [{ id: v1.id, status: 'approved' }], nextCursor: null });
    const pending = (await analyst.get(`/api/v1/schemas?name=${name}&status=pending`)).json();
    expect(pending.items.map((s: { version: number }) => s.version)).toEqual([2]);
  });
});

describe('approval', () => {
  it('refuses the submitter with 403 saying why, and accepts another admin', async () => {
    const schema = await submit(tenant.admin, nextName());
    const own = await tenant.admin.post(`/api/v1/schemas/${schema.id}/approve`);
    expect(own.statusCode).toBe(403);
    expect(problemOf(own).detail).toContain(`You submitted schema ${schema.name}@1, so you cannot approve it yourself: another tenant admin must review it`);
    expect((await auditOf(tenant, 'authz.deny')).some((e) => e.outcome === 'denied' && String(e.after.reason).includes('You submitted'))).toBe(true);

    const approved = await secondAdmin.client.post(`/api/v1/schemas/${schema.id}/approve`);
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ status: 'approved', approvedBy: secondAdmin.user.id, approvedAt: t.clock.now().toISOString() });
    const [event] = (await auditOf(tenant, 'schema.approve')).filter((e) => e.target.id === schema.id);
    expect(event).toMatchObject({ actor: { id: secondAdmin.user.id }, after: { status: 'approved', submittedBy: tenant.adminUserId } });
    expect((await secondAdmin.client.post(`/api/v1/schemas/${schema.id}/approve`)).statusCode).toBe(409);
  });
});

const records = [
  { src_ip: '198.51.100.10', host: 'c2.example.net', score: 80, first_seen: '2026-01-05T10:00:00Z' },
  { src_ip: 'not-an-ip', host: 'x.example' },
  { src_ip: '198.51.100.11', host: 'not a domain!' },
  { src_ip: '198.51.100.12' },
];

describe('records ingest (dev)', () => {
  it('imports valid records, rejects each invalid one by index, and warns that the schema is unapproved', async () => {
    const schema = await submit(analyst, nextName());
    const res = await analyst.post('/api/v1/ingest/records', { schema: schema.name, version: 1, records });
    expect(res.statusCode, res.body).toBe(201);
    const run = res.json();
    expect(run).toMatchObject({ kind: 'records', source: `schema:${schema.name}@1`, status: 'partial', schemaId: schema.id, records: { received: 4, accepted: 2, rejected: 2 } });
    expect(run.counts).toEqual({ received: 6, created: 4, merged: 0, rejected: 2, skipped: 0 });
    expect(run.rejections).toEqual([
      { index: 1, id: null, type: 'record', reason: 'record 1: record/src_ip must match format "ipv4"' },
      { index: 2, id: null, type: 'record', reason: expect.stringContaining('record 2: domain-name from $.host') },
    ]);
    expect(run.warnings).toEqual([`schema ${schema.name}@1 is not approved; in prod this ingest would be refused`]);
    const { schemaId: _s, records: _r, ...stored } = run;
    expect((await analyst.get(`/api/v1/ingest/runs/${run.id}`)).json()).toEqual(stored);

    const ip = (await analyst.get('/api/v1/entities?type=ipv4-addr&q=198.51.100.10')).json().items[0];
    expect(ip).toMatchObject({ confidence: 80, firstSeen: '2026-01-05T10:00:00.000Z' });
    const detail = (await analyst.get(`/api/v1/entities/${ip.id}`)).json();
    expect(detail.provenance).toEqual([expect.objectContaining({ source: `schema:${schema.name}@1`, runId: run.id })]);
    expect((await analyst.get(`/api/v1/entities/${ip.id}/relationships`)).json().items.map((r: { type: string }) => r.type)).toEqual(['resolves-to']);
    const [event] = (await auditOf(tenant, 'ingest.records')).filter((e) => e.target.id === run.id);
    expect(event).toMatchObject({ outcome: 'success', after: { schemaId: schema.id, approval: 'unapproved-dev', records: { rejected: 2 } } });
  });

  it('merges records sent again, adding no provenance', async () => {
    const schema = await submit(analyst, nextName());
    const body = { schema: schema.name, version: 1, records: [records[0]] };
    await analyst.post('/api/v1/ingest/records', body);
    const again = (await analyst.post('/api/v1/ingest/records', body)).json();
    expect(again).toMatchObject({ status: 'succeeded', counts: { created: 0, merged: 3 } });
    const ip = (await analyst.get('/api/v1/entities?type=ipv4-addr&q=198.51.100.10')).json().items[0];
    const provenance = (await analyst.get(`/api/v1/entities/${ip.id}`)).json().provenance;
    expect(provenance.filter((p: { source: string }) => p.source === `schema:${schema.name}@1`)).toHaveLength(1);
  });

  it('refuses more than 5,000 records in one call, and an unknown schema version', async () => {
    const schema = await submit(analyst, nextName());
    const tooMany = await analyst.post('/api/v1/ingest/records', { schema: schema.name, version: 1, records: Array.from({ length: 5_001 }, () => ({})) });
    expect(tooMany.statusCode).toBe(400);
    expect(problemOf(tooMany).detail).toContain('at most 5000 records per call');
    const unknown = await analyst.post('/api/v1/ingest/records', { schema: schema.name, version: 9, records });
    expect(unknown.statusCode).toBe(404);
    const other = await t.createTenant();
    expect((await other.admin.post('/api/v1/ingest/records', { schema: schema.name, version: 1, records })).statusCode).toBe(404);
  });
});

describe('records ingest in prod', () => {
  let prod: Awaited<ReturnType<typeof buildApp>>;
  let closeStore: () => Promise<void>;
  const clock = createManualClock(new Date());
  let admin: Client;
  let otherAdmin: { user: { id: string }; client: Client };
  let pt: TestTenant;

  beforeAll(async () => {
    // createTestApp cannot set SUMMIT_ENV, so prod gets an app of its own over a fresh store.
    const store = await createTestDb();
    closeStore = store.close;
    prod = await buildApp({
      config: { SUMMIT_LOG_LEVEL: 'silent', SUMMIT_BODY_LIMIT: 64 * 1024, SUMMIT_ENV: 'prod' },
      db: store.db,
      clock,
      secret: TEST_SECRET,
      operatorToken: OPERATOR_TOKEN,
      logger: false,
      jobPollIntervalMs: 20,
    });
    const created = (await client(prod, OPERATOR_TOKEN).post('/api/v1/tenants', { name: `prod-${randomUUID().slice(0, 8)}`, adminEmail: 'admin@prod.example' })).json();
    admin = client(prod, created.adminToken);
    pt = { ...created, admin };
    const user = (await admin.post('/api/v1/users', { email: 'second@prod.example', roles: ['admin'] })).json();
    const token = (await admin.post('/api/v1/tokens', { name: 'test', userId: user.id })).json();
    otherAdmin = { user, client: client(prod, token.token) };
  });
  afterAll(async () => {
    await prod?.app.close();
    await closeStore?.();
  });

  it('refuses an unapproved schema with 423 naming it and how to get it approved, and audits the refusal', async () => {
    const schema = await submit(admin, nextName());
    const res = await admin.post('/api/v1/ingest/records', { schema: schema.name, version: 1, records });
    expect(res.statusCode).toBe(423);
    const problem = res.json();
    expect(problem).toMatchObject({ code: 'locked', status: 423, schema: { id: schema.id, name: schema.name, version: 1, status: 'pending' } });
    expect(problem.detail).toContain(`Schema ${schema.name}@1`);
    expect(problem.detail).toContain(`ask a tenant admin (not the submitter) to POST /api/v1/schemas/${schema.id}/approve, or to grant an override`);
    const [event] = (await auditOf(pt, 'ingest.records.blocked')).filter((e) => e.target.id === schema.id);
    expect(event).toMatchObject({ outcome: 'denied', after: { name: schema.name, version: 1, records: 4 } });
    expect((await admin.get('/api/v1/ingest/runs')).json().items).toEqual([]);
  });

  it('lets ingest through under another admin\'s override until it expires', async () => {
    const schema = await submit(admin, nextName());
    const url = `/api/v1/schemas/${schema.id}/overrides`;
    const expiresAt = new Date(clock.now().getTime() + DAY).toISOString();
    expect((await admin.post(url, { reason: 'vendor feed needed for incident 42', expiresAt })).statusCode).toBe(403);
    expect(problemOf(await otherAdmin.client.post(url, { reason: 'too short', expiresAt })).errors?.[0]?.path).toBe('body.reason');
    const tooLong = await otherAdmin.client.post(url, { reason: 'vendor feed needed for incident 42', expiresAt: new Date(clock.now().getTime() + 31 * DAY).toISOString() });
    expect(problemOf(tooLong).errors).toEqual([{ path: 'body.expiresAt', message: expect.stringContaining('at most 30 days') }]);

    const granted = await otherAdmin.client.post(url, { reason: 'vendor feed needed for incident 42', expiresAt });
    expect(granted.statusCode).toBe(201);
    const override = granted.json();
    expect(override).toMatchObject({ schemaId: schema.id, grantedBy: otherAdmin.user.id, active: true, expiresAt });
    expect((await auditOf(pt, 'schema.override')).filter((e) => e.target.id === schema.id)).toEqual([
      expect.objectContaining({ actor: expect.objectContaining({ id: otherAdmin.user.id }), after: expect.objectContaining({ overrideId: override.id, expiresAt }) }),
    ]);

    const run = (await admin.post('/api/v1/ingest/records', { schema: schema.name, version: 1, records: [records[0]] })).json();
    expect(run).toMatchObject({ status: 'succeeded', counts: { created: 3 } });
    expect(run.warnings).toEqual([expect.stringContaining(`ran under override ${override.id} by ${otherAdmin.user.id}`)]);
    const [event] = (await auditOf(pt, 'ingest.records')).filter((e) => e.target.id === run.id);
    expect(event).toMatchObject({ after: { approval: 'override', overrideId: override.id } });

    clock.advance(DAY);
    expect((await admin.post('/api/v1/ingest/records', { schema: schema.name, version: 1, records })).statusCode).toBe(423);
    expect((await admin.get(`/api/v1/schemas/${schema.id}`)).json().overrides).toEqual([expect.objectContaining({ id: override.id, active: false })]);
  });

  it('ingests without warnings once another admin approves, and needs no override after that', async () => {
    const schema = await submit(admin, nextName());
    expect((await otherAdmin.client.post(`/api/v1/schemas/${schema.id}/approve`)).statusCode).toBe(200);
    const run = (await admin.post('/api/v1/ingest/records', { schema: schema.name, version: 1, records })).json();
    expect(run).toMatchObject({ status: 'partial', warnings: [], records: { accepted: 2, rejected: 2 } });
    const expiresAt = new Date(clock.now().getTime() + DAY).toISOString();
    expect((await otherAdmin.client.post(`/api/v1/schemas/${schema.id}/overrides`, { reason: 'not needed any more', expiresAt })).statusCode).toBe(409);
  });
});
