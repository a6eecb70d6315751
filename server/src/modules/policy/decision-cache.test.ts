import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Logger, Principal, Role } from '../../platform/context.js';
import { createPolicyEngine } from './policy-engine.js';
import { loadPolicyBundle, type PolicySource } from './policy-set.js';

const silent: Logger = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };
const uuid = (n: number) => `0190a0f0-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;
const user = (tenant: number, id: number, roles: Role[]): Principal => ({
  kind: 'user',
  tenantId: uuid(tenant),
  userId: uuid(1000 + id),
  email: 'x@example.test',
  roles,
  tokenId: 't',
});

// Policies that name specific users and tenants, pinned in the scope and inside conditions, so the cache must
// tell exactly those ids apart while sharing entries for everyone else.
const extra: PolicySource[] = [
  {
    id: 'user-7-reads-audit',
    file: 't',
    text: `@id("user-7-reads-audit") permit (principal == Summit::User::"${uuid(1007)}", action in Summit::Action::"audit-read", resource);`,
  },
  {
    id: 'tenant-2-frozen',
    file: 't',
    text: `@id("tenant-2-frozen") forbid (principal, action in Summit::Action::"directory-admin", resource) when { resource == Summit::Tenant::"${uuid(2)}" };`,
  },
];

describe('decision cache key', () => {
  it('shares one entry between users of different tenants with the same roles', async () => {
    const engine = createPolicyEngine({ bundle: await loadPolicyBundle(), log: silent });
    expect(engine.authorize({ principal: user(1, 1, ['analyst']), action: 'me:read' })).toMatchObject({ allowed: true, cached: false });
    expect(engine.authorize({ principal: user(3, 2, ['analyst']), action: 'me:read' })).toMatchObject({ allowed: true, cached: true });
  });

  it('keeps apart the users and tenants that policies name', async () => {
    const engine = createPolicyEngine({ bundle: await loadPolicyBundle(undefined, extra), log: silent });
    expect(engine.authorize({ principal: user(1, 1, ['analyst']), action: 'audit:read' }).allowed).toBe(false);
    expect(engine.authorize({ principal: user(1, 7, ['analyst']), action: 'audit:read' }).allowed).toBe(true);
    expect(engine.authorize({ principal: user(1, 1, ['admin']), action: 'user:create' }).allowed).toBe(true);
    expect(engine.authorize({ principal: user(2, 1, ['admin']), action: 'user:create' }).allowed).toBe(false);
  });

  it('never lets a cached decision differ from a fresh one', async () => {
    const bundle = await loadPolicyBundle(undefined, extra);
    const actions = [...bundle.actionGroups.keys()].filter((a) => a.includes(':'));
    const request = fc.record({
      tenant: fc.integer({ min: 1, max: 4 }),
      id: fc.integer({ min: 1, max: 9 }),
      roles: fc.subarray(['admin', 'analyst', 'viewer', 'auditor'] as Role[]),
      action: fc.constantFrom(...actions),
      otherTenant: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
    });
    const cached = createPolicyEngine({ bundle, log: silent });
    const fresh = createPolicyEngine({ bundle, log: silent, cacheSize: 0 });
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 40 }), (requests) => {
        for (const r of requests) {
          const asked = {
            principal: user(r.tenant, r.id, r.roles),
            action: r.action,
            ...(r.otherTenant ? { resource: { type: 'Summit::Tenant', id: uuid(r.otherTenant) } } : {}),
          };
          expect(cached.authorize(asked).allowed).toBe(fresh.authorize(asked).allowed);
        }
      }),
      { numRuns: 200 },
    );
  });
});
