import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, problemOf, type TestApp, type TestTenant } from './harness.js';

let t: TestApp;
let acme: TestTenant;

beforeAll(async () => {
  t = await createTestApp();
  acme = await t.createTenant('acme');
});
afterAll(() => t.close());

describe('tenants (operator)', () => {
  it('creates a tenant whose admin token works at once', async () => {
    const res = await t.operator.post('/api/v1/tenants', { name: 'globex', adminEmail: 'root@globex.example' });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ name: 'globex', adminToken: expect.stringMatching(/^smt_/) });
    const me = await t.client(body.adminToken).get('/api/v1/me');
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ tenant: { id: body.id, name: 'globex' }, user: { email: 'root@globex.example', roles: ['admin'] } });
  });

  it('refuses a second tenant with the same name, case-insensitively', async () => {
    const res = await t.operator.post('/api/v1/tenants', { name: 'ACME', adminEmail: 'x@acme.example' });
    expect(res.statusCode).toBe(409);
    expect(problemOf(res)).toMatchObject({ code: 'conflict', detail: expect.stringContaining('ACME') });
  });

  it('lists tenants page by page', async () => {
    for (let i = 0; i < 3; i++) await t.createTenant(`paged-${i}`);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.operator.get(`/api/v1/tenants?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode).toBe(200);
      const page = res.json();
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((x: { name: string }) => x.name));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(expect.arrayContaining(['acme', 'paged-0', 'paged-1', 'paged-2']));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('rejects a garbage cursor with a field error', async () => {
    const res = await t.operator.get('/api/v1/tenants?cursor=not-a-cursor');
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors).toEqual([expect.objectContaining({ path: 'cursor' })]);
  });

  it('tells a tenant admin that only the operator creates tenants', async () => {
    const res = await acme.admin.post('/api/v1/tenants', { name: 'sneaky', adminEmail: 'a@b.example' });
    expect(res.statusCode).toBe(403);
    expect(problemOf(res).detail).toContain('operator');
  });
});

describe('users', () => {
  it('creates, reads, updates and deletes a user, validating each field', async () => {
    const bad = await acme.admin.post('/api/v1/users', { email: 'nope', roles: [] });
    expect(bad.statusCode).toBe(400);
    expect(problemOf(bad).errors!.map((e) => e.path).sort()).toEqual(['body.email', 'body.roles']);

    const created = await acme.admin.post('/api/v1/users', { email: 'Ann@Acme.example', displayName: 'Ann', roles: ['analyst'] });
    expect(created.statusCode).toBe(201);
    const ann = created.json();
    expect(ann).toMatchObject({ email: 'Ann@Acme.example', roles: ['analyst'], disabled: false });

    const dup = await acme.admin.post('/api/v1/users', { email: 'ann@acme.example', roles: ['viewer'] });
    expect(dup.statusCode).toBe(409);

    expect((await acme.admin.get(`/api/v1/users/${ann.id}`)).json()).toMatchObject({ id: ann.id, displayName: 'Ann' });
    const patched = await acme.admin.patch(`/api/v1/users/${ann.id}`, { roles: ['analyst', 'auditor'], displayName: null });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ roles: ['analyst', 'auditor'], displayName: null });

    const empty = await acme.admin.patch(`/api/v1/users/${ann.id}`, {});
    expect(empty.statusCode).toBe(400);

    expect((await acme.admin.delete(`/api/v1/users/${ann.id}`)).statusCode).toBe(204);
    expect((await acme.admin.get(`/api/v1/users/${ann.id}`)).statusCode).toBe(404);
  });

  it('filters and pages the user list', async () => {
    const tenant = await t.createTenant();
    for (const roles of [['viewer'], ['viewer'], ['auditor']] as const) await t.createUser(tenant, [...roles]);
    const viewers = (await tenant.admin.get('/api/v1/users?role=viewer')).json();
    expect(viewers.items).toHaveLength(2);
    const page1 = (await tenant.admin.get('/api/v1/users?limit=3')).json();
    expect(page1.items).toHaveLength(3);
    const page2 = (await tenant.admin.get(`/api/v1/users?limit=3&cursor=${page1.nextCursor}`)).json();
    expect(page2.items).toHaveLength(1);
    expect(page2.nextCursor).toBeNull();
    const q = (await tenant.admin.get('/api/v1/users?q=AUDITOR')).json();
    expect(q.items.map((u: { roles: string[] }) => u.roles)).toEqual([['auditor']]);
  });

  it('keeps the last enabled admin: cannot demote, disable or delete them', async () => {
    const tenant = await t.createTenant();
    const id = tenant.adminUserId;
    for (const res of [
      await tenant.admin.patch(`/api/v1/users/${id}`, { roles: ['viewer'] }),
      await tenant.admin.patch(`/api/v1/users/${id}`, { disabled: true }),
      await tenant.admin.delete(`/api/v1/users/${id}`),
    ]) {
      expect(res.statusCode).toBe(409);
      expect(problemOf(res).detail).toContain('last enabled admin');
    }
    const second = await t.createUser(tenant, ['admin']);
    expect((await second.client.patch(`/api/v1/users/${id}`, { roles: ['viewer'] })).statusCode).toBe(200);
  });

  it('refuses a disabled user\'s token at once and accepts it again when re-enabled', async () => {
    const u = await t.createUser(acme, ['viewer']);
    expect((await u.client.get('/api/v1/me')).statusCode).toBe(200);
    await acme.admin.patch(`/api/v1/users/${u.user.id}`, { disabled: true });
    const refused = await u.client.get('/api/v1/me');
    expect(refused.statusCode).toBe(401);
    expect(problemOf(refused).detail).toContain('disabled');
    await acme.admin.patch(`/api/v1/users/${u.user.id}`, { disabled: false });
    expect((await u.client.get('/api/v1/me')).statusCode).toBe(200);
  });

  it('revokes every token of a deleted user', async () => {
    const u = await t.createUser(acme, ['analyst']);
    await acme.admin.delete(`/api/v1/users/${u.user.id}`);
    expect((await u.client.get('/api/v1/me')).statusCode).toBe(401);
  });

  it('shows each caller its own permissions', async () => {
    const viewer = await t.createUser(acme, ['viewer']);
    const me = (await viewer.client.get('/api/v1/me')).json();
    // Playbook object actions are listed because every member reaches them; each playbook's own ACL then decides.
    expect(me.permissions).toEqual([
      'connector-run:list',
      'connector:health',
      'connector:list',
      'connector:read',
      'entity:list',
      'entity:read',
      'export:stix',
      'graph:neighbors',
      'graph:paths',
      'indicator:export',
      'indicator:list',
      'ingest:read',
      'me:read',
      'notification:list',
      'notification:update',
      'playbook-grant:create',
      'playbook-grant:delete',
      'playbook-grant:list',
      'playbook-grant:update',
      'playbook-link:create',
      'playbook-link:list',
      'playbook-link:revoke',
      'playbook-run:list',
      'playbook-schedule:create',
      'playbook-schedule:delete',
      'playbook-schedule:list',
      'playbook-schedule:update',
      'playbook-settings:read',
      'playbook:delete',
      'playbook:list',
      'playbook:read',
      'playbook:run',
      'playbook:update',
      'playbook:versions',
      'relationship:list',
      'run:annotate',
      'run:cancel',
      'run:export',
      'run:read',
      'schedule:preview',
      'schema:list',
      'schema:read',
      'suppression-rule:list',
      'suppression:list',
      'ti-budget:list',
      'ti-scoring:read',
      'ti-usage:read',
      'token:create',
      'token:list',
      'token:revoke',
      'warninglist:list',
    ]);
  });
});

describe('tokens', () => {
  it('shows a token once, lists it without secrets and records its last use', async () => {
    const u = await t.createUser(acme, ['analyst']);
    const created = await u.client.post('/api/v1/tokens', { name: 'cli' });
    expect(created.statusCode).toBe(201);
    const { token, id } = created.json();
    expect(token).toMatch(/^smt_[0-9a-f]{32}_/);

    const before = (await u.client.get('/api/v1/tokens')).json().items.find((x: { id: string }) => x.id === id);
    expect(before).toMatchObject({ name: 'cli', status: 'active', lastUsedAt: null });
    expect(JSON.stringify(before)).not.toContain(token.slice(-20));

    await t.client(token).get('/api/v1/me');
    const after = (await u.client.get('/api/v1/tokens')).json().items.find((x: { id: string }) => x.id === id);
    expect(after.lastUsedAt).not.toBeNull();
  });

  it('expires a token at its expiry, even minutes away', async () => {
    const expiresAt = new Date(t.clock.now().getTime() + 5 * 60_000).toISOString();
    const created = (await acme.admin.post('/api/v1/tokens', { name: 'short', expiresAt })).json();
    expect((await t.client(created.token).get('/api/v1/me')).statusCode).toBe(200);
    t.clock.advance(5 * 60_000);
    const res = await t.client(created.token).get('/api/v1/me');
    expect(res.statusCode).toBe(401);
    expect(problemOf(res).detail).toContain('expired');
    const listed = (await acme.admin.get('/api/v1/tokens')).json().items.find((x: { id: string }) => x.id === created.id);
    expect(listed.status).toBe('expired');
  });

  it('refuses an expiry in the past', async () => {
    const res = await acme.admin.post('/api/v1/tokens', { name: 'x', expiresAt: '2000-01-01T00:00:00Z' });
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors).toEqual([expect.objectContaining({ path: 'body.expiresAt' })]);
  });

  it('revokes at once, and revoking twice changes nothing', async () => {
    const created = (await acme.admin.post('/api/v1/tokens', { name: 'revoke-me' })).json();
    expect((await acme.admin.delete(`/api/v1/tokens/${created.id}`)).statusCode).toBe(204);
    const res = await t.client(created.token).get('/api/v1/me');
    expect(res.statusCode).toBe(401);
    expect(problemOf(res).detail).toContain('revoked');
    expect((await acme.admin.delete(`/api/v1/tokens/${created.id}`)).statusCode).toBe(204);
  });

  it('lets users manage only their own tokens, and admins anyone\'s', async () => {
    const alice = await t.createUser(acme, ['analyst']);
    const bob = await t.createUser(acme, ['viewer']);
    expect((await alice.client.post('/api/v1/tokens', { name: 'for bob', userId: bob.user.id })).statusCode).toBe(403);
    expect((await alice.client.delete(`/api/v1/tokens/${bob.tokenId}`)).statusCode).toBe(403);
    expect((await alice.client.get(`/api/v1/tokens?userId=${bob.user.id}`)).statusCode).toBe(403);
    const own = (await alice.client.get('/api/v1/tokens')).json().items;
    expect(own.every((x: { userId: string }) => x.userId === alice.user.id)).toBe(true);
    const all = (await acme.admin.get(`/api/v1/tokens?userId=${bob.user.id}`)).json().items;
    expect(all.map((x: { id: string }) => x.id)).toContain(bob.tokenId);
    expect((await acme.admin.delete(`/api/v1/tokens/${bob.tokenId}`)).statusCode).toBe(204);
    expect((await bob.client.get('/api/v1/me')).statusCode).toBe(401);
  });

  it('will not issue a token to a disabled user', async () => {
    const u = await t.createUser(acme, ['viewer']);
    await acme.admin.patch(`/api/v1/users/${u.user.id}`, { disabled: true });
    const res = await acme.admin.post('/api/v1/tokens', { name: 'x', userId: u.user.id });
    expect(res.statusCode).toBe(409);
  });
});
