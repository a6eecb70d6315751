import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestTenant } from './harness.js';

let t: TestApp;
let a: TestTenant;
let b: TestTenant;

beforeAll(async () => {
  t = await createTestApp();
  a = await t.createTenant();
  b = await t.createTenant();
});
afterAll(() => t.close());

const TENANT_TABLES = ['tenants', 'users', 'api_tokens', 'audit_events', 'audit_heads'];

/** As the application role with no tenant set: what a query sees if the scoping were forgotten. */
async function asAppRoleWithoutTenant(sql: string, params: unknown[] = []) {
  return t.db.withSystem(async (tx) => {
    await tx.query('set local role summit_app');
    return tx.query(sql, params);
  });
}

describe('row-level security', () => {
  it('returns nothing from any tenant table when no tenant is set', async () => {
    for (const table of TENANT_TABLES) {
      const { rows } = await asAppRoleWithoutTenant(`select count(*)::int as n from ${table}`);
      expect(rows[0]!.n, table).toBe(0);
    }
    // The owner sees the rows, so the zero above is the policy at work, not an empty table.
    const { rows } = await t.db.withSystem((tx) => tx.query<{ n: number }>('select count(*)::int as n from users'));
    expect(rows[0]!.n).toBeGreaterThanOrEqual(2);
  });

  it('shows a tenant only its own rows even when a query forgets its where clause', async () => {
    for (const table of ['users', 'api_tokens', 'audit_events']) {
      const { rows } = await t.db.withTenant(a.id, (tx) => tx.query<{ tenant_id: string }>(`select distinct tenant_id from ${table}`));
      expect(rows.map((r) => r.tenant_id), table).toEqual([a.id]);
    }
    const tenants = await t.db.withTenant(a.id, (tx) => tx.query<{ id: string }>('select id from tenants'));
    expect(tenants.rows.map((r) => r.id)).toEqual([a.id]);
  });

  it('refuses to write a row into another tenant', async () => {
    await expect(
      t.db.withTenant(a.id, (tx) =>
        tx.query(`insert into users (tenant_id, id, email, roles) values ($1, gen_random_uuid(), 'x@y.example', '{viewer}')`, [b.id]),
      ),
    ).rejects.toThrow(/row-level security/);
  });

  it('cannot update or delete another tenant\'s rows', async () => {
    const updated = await t.db.withTenant(a.id, (tx) => tx.query(`update users set display_name = 'pwned' where tenant_id = $1`, [b.id]));
    expect(updated.rowCount).toBe(0);
    const deleted = await t.db.withTenant(a.id, (tx) => tx.query('delete from api_tokens where tenant_id = $1', [b.id]));
    expect(deleted.rowCount).toBe(0);
    const intact = await t.db.withTenant(b.id, (tx) => tx.query<{ n: number }>('select count(*)::int as n from api_tokens'));
    expect(intact.rows[0]!.n).toBeGreaterThan(0);
  });

  it('does not let the application role bypass RLS or rewrite the audit log', async () => {
    const { rows } = await t.db.withSystem((tx) =>
      tx.query<{ rolsuper: boolean; rolbypassrls: boolean }>(`select rolsuper, rolbypassrls from pg_roles where rolname = 'summit_app'`),
    );
    expect(rows[0]).toEqual({ rolsuper: false, rolbypassrls: false });
    await expect(t.db.withTenant(a.id, (tx) => tx.query('delete from audit_events'))).rejects.toThrow();
  });
});
