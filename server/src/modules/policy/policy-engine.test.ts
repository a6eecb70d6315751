import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Logger, Principal, Role } from '../../platform/context.js';
import { createPolicyEngine, type PolicyEngine } from './policy-engine.js';
import { loadPolicyBundle, type PolicyBundle, type PolicySource } from './policy-set.js';

const TENANT = '0190a0f0-0000-7000-8000-0000000000aa';
const OTHER_TENANT = '0190a0f0-0000-7000-8000-0000000000bb';

// Written out rather than read from the schema, so a schema change that moves an action shows up here.
const ACTION_GROUPS: Record<string, string> = {
  'tenant:create': 'platform-admin',
  'tenant:list': 'platform-admin',
  'me:read': 'self-service',
  'token:create': 'self-service',
  'token:list': 'self-service',
  'token:revoke': 'self-service',
  'user:list': 'directory-read',
  'user:read': 'directory-read',
  'user:create': 'directory-admin',
  'user:update': 'directory-admin',
  'user:delete': 'directory-admin',
  'token:manage': 'directory-admin',
  'audit:read': 'audit-read',
  'audit:verify': 'audit-read',
  'audit:checkpoint': 'audit-read',
  'policy:coverage': 'audit-read',
  'schedule:preview': 'self-service',
  'schedule:list': 'jobs-read',
  'schedule:read': 'jobs-read',
  'dlq:list': 'jobs-read',
  'dlq:read': 'jobs-read',
  'schedule:create': 'schedules-manage',
  'schedule:update': 'schedules-manage',
  'schedule:delete': 'schedules-manage',
  'dlq:replay': 'dlq-manage',
  'dlq:discard': 'dlq-manage',
  'notification:list': 'notifications-own',
  'notification:update': 'notifications-own',
  'channel:create': 'channels-manage',
  'channel:list': 'channels-manage',
  'channel:delete': 'channels-manage',
  'entity:list': 'graph-read',
  'entity:read': 'graph-read',
  'relationship:list': 'graph-read',
  'graph:neighbors': 'graph-read',
  'graph:paths': 'graph-read',
  'export:stix': 'graph-read',
  'ingest:read': 'graph-read',
  'entity:create': 'graph-write',
  'entity:update': 'graph-write',
  'relationship:create': 'graph-write',
  'sighting:create': 'graph-write',
  'ingest:stix': 'graph-write',
  'entity:delete': 'graph-admin',
  'schema:list': 'graph-read',
  'schema:read': 'graph-read',
  'schema:create': 'graph-write',
  'ingest:records': 'graph-write',
  'schema:approve': 'schemas-approve',
  'schema:override': 'schemas-approve',
  // Playbook object actions pass the tenant gate for every member; the playbook's own ACL decides next.
  'playbook:list': 'playbooks-use',
  'playbook-settings:read': 'playbooks-use',
  'playbook:create': 'playbooks-author',
  'playbook-settings:update': 'playbooks-configure',
  'redaction-rule:list': 'playbooks-configure',
  'redaction-rule:create': 'playbooks-configure',
  'redaction-rule:delete': 'playbooks-configure',
  'playbook:read': 'playbook-view',
  'playbook:versions': 'playbook-view',
  'playbook-run:list': 'playbook-view',
  'run:read': 'playbook-view',
  'run:export': 'playbook-view',
  'playbook-schedule:list': 'playbook-view',
  'playbook:run': 'playbook-run',
  'run:cancel': 'playbook-run',
  'run:annotate': 'playbook-run',
  'playbook:update': 'playbook-edit',
  'playbook-schedule:create': 'playbook-edit',
  'playbook-schedule:update': 'playbook-edit',
  'playbook-schedule:delete': 'playbook-edit',
  'playbook:delete': 'playbook-admin',
  'playbook-grant:list': 'playbook-admin',
  'playbook-grant:create': 'playbook-admin',
  'playbook-grant:update': 'playbook-admin',
  'playbook-grant:delete': 'playbook-admin',
  'playbook-link:create': 'playbook-admin',
  'playbook-link:list': 'playbook-admin',
  'playbook-link:revoke': 'playbook-admin',
  'indicator:list': 'ti-read',
  'indicator:export': 'ti-read',
  'ti-scoring:read': 'ti-read',
  'suppression-rule:list': 'ti-read',
  'suppression:list': 'ti-read',
  'warninglist:list': 'ti-read',
  'ti-budget:list': 'ti-read',
  'ti-usage:read': 'ti-read',
  'suppression-rule:create': 'ti-analyze',
  'suppression-rule:update': 'ti-analyze',
  'suppression-rule:delete': 'ti-analyze',
  'ti:enrich': 'ti-analyze',
  'ti-scoring:update': 'ti-admin',
  'warninglist:update': 'ti-admin',
  'ti-budget:update': 'ti-admin',
  'ti-budget:override': 'ti-admin',
  'connector:list': 'connectors-read',
  'connector:read': 'connectors-read',
  'connector-run:list': 'connectors-read',
  'connector:health': 'connectors-read',
  'connector:sync': 'connectors-operate',
  'connector:incident': 'connectors-operate',
  'connector:create': 'connectors-admin',
  'connector:update': 'connectors-admin',
  'connector:delete': 'connectors-admin',
  'connector:test': 'connectors-admin',
};
const LEAF_ACTIONS = Object.keys(ACTION_GROUPS);

// From the policies: what each tenant role may do on its own tenant.
const GROUPS_BY_ROLE: Record<Role, string[]> = {
  admin: ['self-service', 'directory-read', 'directory-admin', 'audit-read', 'jobs-read', 'schedules-manage', 'dlq-manage', 'channels-manage', 'notifications-own', 'graph-read', 'graph-write', 'graph-admin', 'schemas-approve', 'playbooks-use', 'playbook-view', 'playbook-run', 'playbook-edit', 'playbook-admin', 'playbooks-author', 'playbooks-configure', 'ti-read', 'ti-analyze', 'ti-admin', 'connectors-read', 'connectors-operate', 'connectors-admin'],
  auditor: ['self-service', 'directory-read', 'audit-read', 'jobs-read', 'notifications-own', 'graph-read', 'playbooks-use', 'playbook-view', 'playbook-run', 'playbook-edit', 'playbook-admin', 'ti-read', 'connectors-read'],
  analyst: ['self-service', 'jobs-read', 'schedules-manage', 'notifications-own', 'graph-read', 'graph-write', 'playbooks-use', 'playbook-view', 'playbook-run', 'playbook-edit', 'playbook-admin', 'playbooks-author', 'ti-read', 'ti-analyze', 'connectors-read', 'connectors-operate'],
  viewer: ['self-service', 'notifications-own', 'graph-read', 'playbooks-use', 'playbook-view', 'playbook-run', 'playbook-edit', 'playbook-admin', 'ti-read', 'connectors-read'],
};
const ROLES = Object.keys(GROUPS_BY_ROLE) as Role[];

function user(roles: Role[], userId = '0190a0f0-0000-7000-8000-000000000001'): Principal {
  return { kind: 'user', tenantId: TENANT, userId, email: 'someone@example.test', roles, tokenId: 'token-1' };
}

/** A logger that remembers error calls, so tests can tell a logged failure from a plain deny. */
function recordingLog() {
  const errors: unknown[][] = [];
  const log: Logger = {
    error: (...args: unknown[]) => void errors.push(args),
    warn: () => undefined,
    info: () => undefined,
    debug: () => undefined,
  };
  return { log, errors };
}

let bundle: PolicyBundle;
beforeAll(async () => {
  bundle = await loadPolicyBundle();
});

describe('the shipped policy bundle', () => {
  it('declares exactly the leaf actions the matrix below covers, in the groups it assumes', () => {
    const groups = new Set([...bundle.actionGroups.values()].flatMap((g) => [...g]));
    const leaves = [...bundle.actionGroups.keys()].filter((a) => !groups.has(a));
    expect(leaves.sort()).toEqual([...LEAF_ACTIONS].sort());
    for (const [action, group] of Object.entries(ACTION_GROUPS)) expect([...bundle.actionGroups.get(action)!]).toEqual([group]);
  });
});

describe('createPolicyEngine over the shipped policies', () => {
  let engine: PolicyEngine;
  let errors: unknown[][];
  beforeEach(() => {
    const recorder = recordingLog();
    errors = recorder.errors;
    engine = createPolicyEngine({ bundle, log: recorder.log });
  });

  const matrix = ROLES.flatMap((role) =>
    LEAF_ACTIONS.map((action) => ({ role, action, allowed: GROUPS_BY_ROLE[role].includes(ACTION_GROUPS[action]!) })),
  );
  it.each(matrix)('$role on its own tenant: $action → allowed=$allowed', ({ role, action, allowed }) => {
    const decision = engine.authorize({ principal: user([role]), action });
    expect(decision.allowed).toBe(allowed);
    expect(decision.error).toBeUndefined();
    // An allow cites the permit that granted it; a default deny cites nothing.
    expect(decision.policies.length > 0).toBe(allowed);
  });

  it('gives a user with several roles the union of their grants', () => {
    const principal = user(['viewer', 'auditor']);
    const allowed = LEAF_ACTIONS.filter((action) => engine.authorize({ principal, action }).allowed);
    expect(allowed.sort()).toEqual(LEAF_ACTIONS.filter((a) => GROUPS_BY_ROLE.auditor.includes(ACTION_GROUPS[a]!)).sort());
  });

  it('lets a user with no roles do self-service, read its inbox, the graph, threat intel and connectors, and reach playbooks', () => {
    const allowed = LEAF_ACTIONS.filter((action) => engine.authorize({ principal: user([]), action }).allowed);
    // Playbook object actions pass the tenant gate for every member; each playbook's own ACL decides next.
    const playbookGate = LEAF_ACTIONS.filter((a) => ['playbooks-use', 'playbook-view', 'playbook-run', 'playbook-edit', 'playbook-admin'].includes(ACTION_GROUPS[a]!));
    const tiRead = LEAF_ACTIONS.filter((a) => ACTION_GROUPS[a] === 'ti-read' || ACTION_GROUPS[a] === 'connectors-read');
    expect(allowed.filter((a) => !playbookGate.includes(a) && !tiRead.includes(a)).sort()).toEqual([
      'entity:list',
      'entity:read',
      'export:stix',
      'graph:neighbors',
      'graph:paths',
      'ingest:read',
      'me:read',
      'notification:list',
      'notification:update',
      'relationship:list',
      'schedule:preview',
      'schema:list',
      'schema:read',
      'token:create',
      'token:list',
      'token:revoke',
    ]);
    expect(allowed.filter((a) => playbookGate.includes(a) || tiRead.includes(a)).sort()).toEqual([...playbookGate, ...tiRead].sort());
  });

  it('lets the operator create and list tenants and nothing else', () => {
    const allowed = LEAF_ACTIONS.filter((action) => engine.authorize({ principal: { kind: 'operator' }, action }).allowed);
    expect(allowed.sort()).toEqual(['tenant:create', 'tenant:list']);
    expect(engine.authorize({ principal: { kind: 'operator' }, action: 'tenant:create' }).policies).toEqual([
      'operators-administer-platform',
    ]);
  });

  it('never lets a tenant user perform tenant:* actions, whatever its roles', () => {
    const principal = user([...ROLES]);
    for (const action of ['tenant:create', 'tenant:list']) {
      expect(engine.authorize({ principal, action }).allowed).toBe(false);
      expect(engine.authorize({ principal, action, resource: { type: 'Summit::Platform', id: 'summit' } }).allowed).toBe(false);
    }
  });

  it("denies every action on another tenant's resource, even to an admin with every role", () => {
    const principal = user([...ROLES]);
    for (const action of LEAF_ACTIONS) {
      const decision = engine.authorize({ principal, action, resource: { type: 'Summit::Tenant', id: OTHER_TENANT } });
      expect(decision.allowed, action).toBe(false);
    }
    // The same actions on the user's own tenant, named explicitly, are allowed.
    expect(engine.authorize({ principal, action: 'user:create', resource: { type: 'Summit::Tenant', id: TENANT } }).allowed).toBe(true);
  });

  it('denies an unknown action (fail closed) and logs an error', () => {
    const decision = engine.authorize({ principal: user(['admin']), action: 'user:impersonate' });
    expect(decision.allowed).toBe(false);
    expect(decision.error).toContain('user:impersonate');
    expect(errors).toHaveLength(1);
    expect(errors[0]![0]).toMatchObject({ action: 'user:impersonate' });
  });

  it('serves a repeated identical request from the cache with the same decision', () => {
    const first = engine.authorize({ principal: user(['admin']), action: 'user:create' });
    const second = engine.authorize({ principal: user(['admin']), action: 'user:create' });
    expect(first).toEqual({ allowed: true, policies: ['admins-manage-directory'], cached: false });
    expect(second).toEqual({ allowed: true, policies: ['admins-manage-directory'], cached: true });
    const deny = engine.authorize({ principal: user(['viewer']), action: 'user:create' });
    expect(engine.authorize({ principal: user(['viewer']), action: 'user:create' })).toEqual({ ...deny, cached: true });
  });

  it('does not serve a request that differs only in roles from the other request’s cache entry', () => {
    expect(engine.authorize({ principal: user(['viewer']), action: 'user:delete' })).toMatchObject({ allowed: false, cached: false });
    expect(engine.authorize({ principal: user(['admin']), action: 'user:delete' })).toMatchObject({ allowed: true, cached: false });
    expect(engine.authorize({ principal: user(['viewer']), action: 'user:delete' })).toMatchObject({ allowed: false, cached: true });
  });

  it('does not share cache entries across tenants or resources', () => {
    engine.authorize({ principal: user(['admin']), action: 'user:read' });
    const other = engine.authorize({ principal: user(['admin']), action: 'user:read', resource: { type: 'Summit::Tenant', id: OTHER_TENANT } });
    expect(other).toMatchObject({ allowed: false, cached: false });
  });
});

describe('createPolicyEngine cache size', () => {
  it('never caches with cacheSize 0', () => {
    const engine = createPolicyEngine({ bundle, log: recordingLog().log, cacheSize: 0 });
    for (let i = 0; i < 3; i++) {
      expect(engine.authorize({ principal: user(['admin']), action: 'user:read' })).toMatchObject({ allowed: true, cached: false });
    }
  });

  it('evicts the least recently used entry when full', () => {
    const engine = createPolicyEngine({ bundle, log: recordingLog().log, cacheSize: 2 });
    const ask = (action: string) => engine.authorize({ principal: user(['admin']), action }).cached;
    expect([ask('user:read'), ask('user:list'), ask('user:read')]).toEqual([false, false, true]);
    // user:list is now the least recently used, so adding a third entry evicts it and keeps user:read.
    expect(ask('user:create')).toBe(false);
    expect(ask('user:read')).toBe(true);
    expect(ask('user:list')).toBe(false);
  });
});

describe('a policy that errors during evaluation', () => {
  it('denies when a forbid errors on integer overflow, though the policy validates', async () => {
    const overflow: PolicySource = {
      id: 'forbid-on-overflow',
      file: 'test.cedar',
      text: '@id("forbid-on-overflow") forbid (principal, action, resource) when { 9223372036854775807 + 1 > 0 };',
    };
    const withOverflow = await loadPolicyBundle(undefined, [overflow]);
    const { log, errors } = recordingLog();
    const engine = createPolicyEngine({ bundle: withOverflow, log });
    const decision = engine.authorize({ principal: user(['admin']), action: 'user:create' });
    expect(decision.allowed).toBe(false);
    expect(decision.error).toContain('forbid-on-overflow');
    expect(errors).toHaveLength(1);
    // Errors are not cached: each request is evaluated (and logged) again.
    expect(engine.authorize({ principal: user(['admin']), action: 'user:create' }).cached).toBe(false);
    expect(errors).toHaveLength(2);
  });

  it('denies when a forbid reads context.missing on a context that lacks it', async () => {
    const missing: PolicySource = {
      id: 'forbid-missing-context',
      file: 'test.cedar',
      text: '@id("forbid-missing-context") forbid (principal, action, resource) when { context.missing.flag };',
    };
    // The validator knows every context is empty, so such a policy cannot ship through loadPolicyBundle …
    await expect(loadPolicyBundle(undefined, [missing])).rejects.toThrow(/forbid-missing-context.*attribute `missing`/);
    // … but an engine handed one anyway must still fail closed.
    const { log, errors } = recordingLog();
    const engine = createPolicyEngine({ bundle: { ...bundle, policies: [...bundle.policies, missing] }, log });
    for (const action of ['me:read', 'user:create', 'audit:read']) {
      const decision = engine.authorize({ principal: user(['admin']), action });
      expect(decision.allowed, action).toBe(false);
      expect(decision.error).toContain('forbid-missing-context');
    }
    expect(errors).toHaveLength(3);
  });
});
