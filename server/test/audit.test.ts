import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, problemOf, type TestApp, type TestTenant } from './harness.js';

let t: TestApp;
let tenant: TestTenant;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

/** Runs SQL as the owner with triggers off: what an attacker with database access could do. */
async function behindTheTriggersBack(sql: string, params: unknown[]) {
  await t.db.withSystem(async (tx) => {
    await tx.query('alter table audit_events disable trigger audit_events_no_update');
    await tx.query(sql, params);
    await tx.query('alter table audit_events enable trigger audit_events_no_update');
  });
}

async function eventsOf(tn: TestTenant, query = '') {
  const res = await tn.admin.get(`/api/v1/audit?limit=200${query}`);
  expect(res.statusCode).toBe(200);
  return res.json().items as Array<{ sequence: number; action: string; actor: { id: string }; outcome: string; before: unknown; after: unknown; prevHash: string; hash: string }>;
}

describe('audit log', () => {
  beforeAll(async () => {
    tenant = await t.createTenant();
  });

  it('records tenant creation, the first admin and its token as the chain\'s first events', async () => {
    const events = await eventsOf(tenant);
    expect(events.map((e) => [e.sequence, e.action])).toEqual([
      [1, 'tenant.create'],
      [2, 'user.create'],
      [3, 'token.create'],
    ]);
    expect(events[0]!.prevHash).toBe('0'.repeat(64));
    expect(events[1]!.prevHash).toBe(events[0]!.hash);
    expect(events[0]!.actor.id).toBe('operator');
  });

  it('records a mutation with its before/after summary and never a secret', async () => {
    const u = await t.createUser(tenant, ['viewer']);
    await tenant.admin.patch(`/api/v1/users/${u.user.id}`, { roles: ['analyst'] });
    const [update] = await eventsOf(tenant, '&action=user.update');
    expect(update).toMatchObject({
      outcome: 'success',
      before: expect.objectContaining({ roles: ['viewer'] }),
      after: expect.objectContaining({ roles: ['analyst'] }),
    });
    const all = JSON.stringify(await eventsOf(tenant));
    expect(all).not.toContain(u.token);
    expect(all).not.toContain(tenant.adminToken);
  });

  it('records how many tokens a user deletion revoked', async () => {
    const u = await t.createUser(tenant, ['analyst']);
    await u.client.post('/api/v1/tokens', { name: 'second' });
    await tenant.admin.delete(`/api/v1/users/${u.user.id}`);
    const [deleted] = await eventsOf(tenant, '&action=user.delete');
    expect(deleted!.before).toMatchObject({ email: u.user.email, activeTokensRemoved: 2 });
  });

  it('writes nothing when the change fails: the audit row shares the transaction', async () => {
    const before = (await eventsOf(tenant)).length;
    const dup = await tenant.admin.post('/api/v1/users', { email: `admin@${tenant.name}.example`, roles: ['viewer'] });
    expect(dup.statusCode).toBe(409);
    expect((await eventsOf(tenant)).length).toBe(before);
  });

  it('records a denied write attempt as authz.deny', async () => {
    const viewer = await t.createUser(tenant, ['viewer']);
    expect((await viewer.client.post('/api/v1/users', { email: 'x@y.example', roles: ['admin'] })).statusCode).toBe(403);
    const [denied] = await eventsOf(tenant, `&action=authz.deny&actor=${viewer.user.id}`);
    expect(denied).toMatchObject({ outcome: 'denied', after: { action: 'user:create' } });
  });

  it('records a refusal raised by a service, not only by the route policy', async () => {
    const alice = await t.createUser(tenant, ['analyst']);
    const bob = await t.createUser(tenant, ['viewer']);
    expect((await alice.client.post('/api/v1/tokens', { name: 'for bob', userId: bob.user.id })).statusCode).toBe(403);
    const [denied] = await eventsOf(tenant, `&action=authz.deny&actor=${alice.user.id}`);
    expect(denied).toMatchObject({ outcome: 'denied', after: { action: 'token:create', reason: expect.stringContaining('Only admins') } });
  });

  it('filters by actor and time, and pages by sequence', async () => {
    const byOperator = await eventsOf(tenant, '&actor=operator');
    expect(byOperator.map((e) => e.action)).toEqual(['tenant.create', 'user.create', 'token.create']);
    const future = new Date(t.clock.now().getTime() + 60_000).toISOString();
    expect(await eventsOf(tenant, `&since=${encodeURIComponent(future)}`)).toEqual([]);
    const page1 = (await tenant.admin.get('/api/v1/audit?limit=2')).json();
    const page2 = (await tenant.admin.get(`/api/v1/audit?limit=2&cursor=${page1.nextCursor}`)).json();
    expect(page2.items.map((e: { sequence: number }) => e.sequence)).toEqual([3, 4]);
  });

  it('lets auditors read the log and analysts not', async () => {
    const auditor = await t.createUser(tenant, ['auditor']);
    const analyst = await t.createUser(tenant, ['analyst']);
    expect((await auditor.client.get('/api/v1/audit')).statusCode).toBe(200);
    expect((await auditor.client.get('/api/v1/audit/verify')).statusCode).toBe(200);
    expect((await analyst.client.get('/api/v1/audit')).statusCode).toBe(403);
  });

  it('refuses UPDATE, DELETE and TRUNCATE on the events table', async () => {
    for (const sql of ['update audit_events set action = $1', 'delete from audit_events where action <> $1']) {
      await expect(t.db.withSystem((tx) => tx.query(sql, ['x']))).rejects.toThrow(/append-only/);
    }
    await expect(t.db.withSystem((tx) => tx.query('truncate audit_events cascade'))).rejects.toThrow(/append-only/);
    await expect(t.db.withTenant(tenant.id, (tx) => tx.query('update audit_events set action = $1', ['x']))).rejects.toThrow();
  });
});

describe('audit verification', () => {
  it('verifies an untouched chain', async () => {
    const tn = await t.createTenant();
    await t.createUser(tn, ['viewer']);
    const res = await tn.admin.get('/api/v1/audit/verify');
    expect(res.json()).toMatchObject({ ok: true, checked: 5, lastSequence: 5 });
  });

  it('finds an event edited behind the trigger\'s back', async () => {
    const tn = await t.createTenant();
    await t.createUser(tn, ['viewer']);
    await behindTheTriggersBack(
      `update audit_events set after = jsonb_set(after, '{roles}', '["admin"]') where tenant_id = $1 and sequence = 4`,
      [tn.id],
    );
    const result = (await tn.admin.get('/api/v1/audit/verify')).json();
    expect(result).toMatchObject({ ok: false, firstBadSequence: 4, checked: 3 });
    expect(result.reason).toContain('altered');
  });

  it('finds an event deleted from the middle', async () => {
    const tn = await t.createTenant();
    await t.createUser(tn, ['viewer']);
    await behindTheTriggersBack('delete from audit_events where tenant_id = $1 and sequence = 2', [tn.id]);
    expect((await tn.admin.get('/api/v1/audit/verify')).json()).toMatchObject({ ok: false, firstBadSequence: 2 });
  });

  it('detects the newest events deleted, against the latest signed checkpoint', async () => {
    const tn = await t.createTenant();
    await t.createUser(tn, ['viewer']);
    const checkpoint = (await tn.admin.get('/api/v1/audit/checkpoint')).json();
    expect(checkpoint).toMatchObject({ sequence: 5, signature: expect.any(String), publicKey: expect.stringContaining('PUBLIC KEY') });
    // A careful attacker also rewinds the head row, so only the checkpoint can tell.
    await behindTheTriggersBack('delete from audit_events where tenant_id = $1 and sequence > 3', [tn.id]);
    await t.db.withSystem((tx) =>
      tx.query(
        `update audit_heads h set sequence = 3, hash = e.hash from audit_events e
          where h.tenant_id = $1 and e.tenant_id = $1 and e.sequence = 3`,
        [tn.id],
      ),
    );
    const result = (await tn.admin.get('/api/v1/audit/verify')).json();
    expect(result).toMatchObject({ ok: false, firstBadSequence: 4, lastSequence: 3, checkpoint: { sequence: 5, signatureValid: true } });
    expect(result.reason).toContain('removed');
  });

  it('rejects a forged checkpoint', async () => {
    const tn = await t.createTenant();
    await tn.admin.get('/api/v1/audit/checkpoint');
    await t.db.withSystem((tx) => tx.query(`update audit_checkpoints set signature = 'AAAA' where tenant_id = $1`, [tn.id]));
    const result = (await tn.admin.get('/api/v1/audit/verify')).json();
    expect(result).toMatchObject({ ok: false, checkpoint: { signatureValid: false } });
  });

  it('signs the same head once and a moved head anew', async () => {
    const tn = await t.createTenant();
    const first = (await tn.admin.get('/api/v1/audit/checkpoint')).json();
    expect((await tn.admin.get('/api/v1/audit/checkpoint')).json()).toEqual(first);
    await t.createUser(tn, ['viewer']);
    const moved = (await tn.admin.get('/api/v1/audit/checkpoint')).json();
    expect(moved.sequence).toBeGreaterThan(first.sequence);
    expect((await tn.admin.get('/api/v1/audit/verify')).json()).toMatchObject({ ok: true });
  });

  it('signs again under a new key and verifies against that key\'s checkpoints', async () => {
    const tn = await t.createTenant();
    const old = (await tn.admin.get('/api/v1/audit/checkpoint')).json();
    const { buildApp } = await import('../src/app.js');
    const rotated = await buildApp({
      config: { SUMMIT_LOG_LEVEL: 'silent', SUMMIT_BODY_LIMIT: 65536 },
      db: t.db,
      clock: t.clock,
      secret: 'another-secret-0123456789-0123456789-0123',
      operatorToken: 'smo_another-operator-token-0123456789-xyz',
      logger: false,
    });
    try {
      const headers = { authorization: `Bearer ${tn.adminToken}` };
      const fresh = (await rotated.app.inject({ method: 'GET', url: '/api/v1/audit/checkpoint', headers })).json();
      expect(fresh.sequence).toBe(old.sequence);
      expect(fresh.keyId).not.toBe(old.keyId);
      const verified = (await rotated.app.inject({ method: 'GET', url: '/api/v1/audit/verify', headers })).json();
      expect(verified).toMatchObject({ ok: true, checkpoint: { sequence: old.sequence, signatureValid: true } });
    } finally {
      await rotated.app.close();
    }
  });

  it('keeps per-tenant chains gap-free under concurrent writes', async () => {
    const tn = await t.createTenant();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => tn.admin.post('/api/v1/users', { email: `c${i}@x.example`, roles: ['viewer'] })),
    );
    expect(results.every((r) => r.statusCode === 201)).toBe(true);
    expect((await tn.admin.get('/api/v1/audit/verify')).json()).toMatchObject({ ok: true, checked: 23 });
  });

  it('explains a bad query parameter', async () => {
    const res = await (await t.createTenant()).admin.get('/api/v1/audit?since=yesterday');
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors?.[0]?.path).toBe('querystring.since');
  });
});
