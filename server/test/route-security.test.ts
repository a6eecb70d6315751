/**
 * The shared security tests: every route in the registry, present and future, gets them without anyone writing a
 * test for it. Non-public routes answer 401 without a valid token and 403 to a principal whose roles lack the
 * route's action; routes that address an object by id answer 404 to another tenant and leave the object alone.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { ROLES, type Role } from '../src/platform/context.js';
import { createTestApp, problemOf, type TestApp, type TestTenant } from './harness.js';
import { insertDeadLetter } from './fixtures.js';

const t: TestApp = await createTestApp();
afterAll(() => t.close());
const victim = await t.createTenant('victim');
const attacker = await t.createTenant('attacker');

type ObjectFixture = { id: string; body?: Record<string, unknown>; exists: () => Promise<boolean> };

/**
 * How to make an object in the victim tenant for each route that takes an {id}. A new object route without an
 * entry here fails the suite, so nobody can add one and skip its cross-tenant test.
 */
const objectFixtures: Record<string, (tenant: TestTenant) => Promise<ObjectFixture>> = {
  '/api/v1/users/{id}': async (tenant) => {
    const { user } = await t.createUser(tenant, ['viewer']);
    return {
      id: user.id,
      body: { displayName: 'changed by another tenant' },
      exists: async () => {
        const res = await tenant.admin.get(`/api/v1/users/${user.id}`);
        return res.statusCode === 200 && res.json().displayName === null;
      },
    };
  },
  '/api/v1/tokens/{id}': async (tenant) => {
    const { tokenId, client } = await t.createUser(tenant, ['viewer']);
    return { id: tokenId, exists: async () => (await client.get('/api/v1/me')).statusCode === 200 };
  },
  '/api/v1/notification-channels/{id}': async (tenant) => {
    const res = await tenant.admin.post('/api/v1/notification-channels', { kind: 'inbox', name: `inbox ${randomUUID()}` });
    const id = res.json().id as string;
    return {
      id,
      exists: async () => {
        const list = await tenant.admin.get('/api/v1/notification-channels?limit=200');
        return list.json().items.some((c: { id: string }) => c.id === id);
      },
    };
  },
  '/api/v1/notifications/{id}': async (tenant) => {
    const scope = { tenantId: tenant.id, actor: { type: 'system' as const, id: 'route-security' }, requestId: null };
    const raised = await t.db.withTenant(tenant.id, (tx) =>
      t.summit.modules.notifications.raise(tx, scope, { kind: 'dlq.item', groupKey: randomUUID(), severity: 'info', title: 'fixture', detail: '' }),
    );
    const id = raised.notificationId!;
    return {
      id,
      body: { read: true },
      exists: async () => {
        const unread = await tenant.admin.get('/api/v1/notifications?unread=true&limit=200');
        return unread.json().items.some((n: { id: string }) => n.id === id);
      },
    };
  },
};

// Jobs: schedules and dead letters.
objectFixtures['/api/v1/schedules/{id}'] = async (tenant) => {
  const res = await tenant.admin.post('/api/v1/schedules', { name: `s-${randomUUID()}`, jobType: 'audit.checkpoint', cron: '0 * * * *' });
  const id = res.json().id as string;
  return {
    id,
    body: { enabled: false },
    exists: async () => (await tenant.admin.get(`/api/v1/schedules/${id}`)).json().enabled === true,
  };
};
const deadLetterFixture = async (tenant: TestTenant): Promise<ObjectFixture> => {
  const { id } = await insertDeadLetter(t, tenant.id);
  return { id, body: { reason: 'another tenant tries' }, exists: async () => (await tenant.admin.get(`/api/v1/dlq/${id}`)).json().status === 'dead' };
};
objectFixtures['/api/v1/dlq/{id}'] = deadLetterFixture;
objectFixtures['/api/v1/dlq/{id}/replay'] = deadLetterFixture;

// Graph: an entity (with a relationship so its relationship list is not empty) and an ingest run.
const entityFixture = async (tenant: TestTenant): Promise<ObjectFixture> => {
  const created = await tenant.admin.post('/api/v1/entities', { type: 'malware', name: `m-${randomUUID()}` });
  const id = created.json().id as string;
  return {
    id,
    body: { confidence: 1 },
    exists: async () => {
      const res = await tenant.admin.get(`/api/v1/entities/${id}`);
      return res.statusCode === 200 && res.json().confidence === null;
    },
  };
};
objectFixtures['/api/v1/entities/{id}'] = entityFixture;
objectFixtures['/api/v1/entities/{id}/relationships'] = entityFixture;
objectFixtures['/api/v1/entities/{id}/neighbors'] = entityFixture;
objectFixtures['/api/v1/ingest/runs/{id}'] = async (tenant) => {
  const run = (await tenant.admin.post('/api/v1/ingest/stix', { type: 'bundle', id: `bundle--${randomUUID()}`, objects: [] })).json();
  return { id: run.id, exists: async () => (await tenant.admin.get(`/api/v1/ingest/runs/${run.id}`)).statusCode === 200 };
};

// Schema registry: a pending schema version; approving it or granting an override would show in exists().
const schemaFixture = async (tenant: TestTenant): Promise<ObjectFixture> => {
  const res = await tenant.admin.post('/api/v1/schemas', {
    name: `s-${randomUUID()}`,
    version: 1,
    jsonSchema: { type: 'object' },
    mapping: { entities: [{ type: 'ipv4-addr', value: '$.ip' }] },
  });
  const id = res.json().id as string;
  return {
    id,
    body: { reason: 'another tenant tries this', expiresAt: new Date(t.clock.now().getTime() + 86_400_000).toISOString() },
    exists: async () => {
      const schema = (await tenant.admin.get(`/api/v1/schemas/${id}`)).json();
      return schema.status === 'pending' && schema.overrides.length === 0;
    },
  };
};
objectFixtures['/api/v1/schemas/{id}'] = schemaFixture;
objectFixtures['/api/v1/schemas/{id}/approve'] = schemaFixture;
objectFixtures['/api/v1/schemas/{id}/overrides'] = schemaFixture;

// Playbooks: a playbook (its grants, runs, schedules and links stay empty if the attacker fails), a queued run, a
// redaction rule.
const PLAYBOOK = { steps: [{ id: 'find', type: 'search', types: ['malware'] }] };
const playbookFixture = (body?: Record<string, unknown>) => async (tenant: TestTenant): Promise<ObjectFixture> => {
  const id = (await tenant.admin.post('/api/v1/playbooks', { ...PLAYBOOK, name: `p-${randomUUID()}` })).json().id as string;
  return {
    id,
    body,
    exists: async () => {
      const get = (path: string) => tenant.admin.get(`/api/v1/playbooks/${id}${path}`);
      const [playbook, grants, runs, schedules, links] = await Promise.all([get(''), get('/grants'), get('/runs'), get('/schedules'), get('/links')]);
      return playbook.statusCode === 200 && playbook.json().version === 1 && [grants, runs, schedules, links].every((r) => r.json().items.length === 0);
    },
  };
};
const playbookBodies: Record<string, Record<string, unknown>> = {
  '': { description: 'changed by another tenant' },
  '/grants': { subject: { type: 'role', id: 'viewer' }, permission: 'view' },
  '/grants/{grantId}': { permission: 'admin' },
  '/runs': { params: {} },
  '/schedules': { cron: '0 9 * * *' },
  '/schedules/{scheduleId}': { enabled: false },
  '/links': { permission: 'view-results' },
};
for (const path of ['', '/versions', '/grants', '/grants/{grantId}', '/runs', '/schedules', '/schedules/{scheduleId}', '/links', '/links/{linkId}']) {
  objectFixtures[`/api/v1/playbooks/{id}${path}`] = playbookFixture(playbookBodies[path]);
}
const runFixture = async (tenant: TestTenant): Promise<ObjectFixture> => {
  const playbookId = (await tenant.admin.post('/api/v1/playbooks', { ...PLAYBOOK, name: `p-${randomUUID()}` })).json().id as string;
  const id = (await tenant.admin.post(`/api/v1/playbooks/${playbookId}/runs`, { params: {} })).json().id as string;
  return {
    id,
    body: { text: 'from another tenant' },
    exists: async () => {
      const run = await tenant.admin.get(`/api/v1/runs/${id}`);
      return run.statusCode === 200 && run.json().status !== 'cancelled' && run.json().annotations.length === 0;
    },
  };
};
for (const path of ['', '/cancel', '/annotations', '/export']) objectFixtures[`/api/v1/runs/{id}${path}`] = runFixture;
objectFixtures['/api/v1/redaction-rules/{id}'] = async (tenant) => {
  const id = (await tenant.admin.post('/api/v1/redaction-rules', { name: `r-${randomUUID()}`, rule: { kind: 'tlp', tlp: ['red'] } })).json().id as string;
  return { id, exists: async () => (await tenant.admin.get('/api/v1/redaction-rules')).json().items.some((r: { id: string }) => r.id === id) };
};
objectFixtures['/api/v1/ti/suppression-rules/{id}'] = async (tenant) => {
  const res = await tenant.admin.post('/api/v1/ti/suppression-rules', { name: `s-${randomUUID()}`, action: 'suppress', reason: 'fixture', match: { maxScore: 10 } });
  const id = res.json().id as string;
  return {
    id,
    body: { enabled: false },
    exists: async () => {
      const rule = await tenant.admin.get(`/api/v1/ti/suppression-rules/${id}`);
      return rule.statusCode === 200 && rule.json().enabled === true;
    },
  };
};
// Warninglists are a catalogue shared by every tenant; what is per tenant is whether each is enabled, so another
// tenant's PUT changes only its own setting (ti-suppression.test.ts checks that isolation). The cross-tenant probe
// here uses a name that is not a list (404), and checks the victim's enabled list stays enabled.
objectFixtures['/api/v1/ti/warninglists/{name}'] = async (tenant) => {
  await tenant.admin.send('PUT', '/api/v1/ti/warninglists/special-purpose-ipv4', { enabled: true });
  return {
    id: `no-such-list-${randomUUID().slice(0, 8)}`,
    body: { enabled: false },
    exists: async () => (await tenant.admin.get('/api/v1/ti/warninglists')).json().items.some((l: { name: string; enabled: boolean }) => l.name === 'special-purpose-ipv4' && l.enabled),
  };
};

// Threat intel enrichment: a tenant-configured HTTP provider (its budget and overrides stay untouched if the
// attacker fails), and an enrichment job.
const tiProviderFixture = async (tenant: TestTenant): Promise<ObjectFixture> => {
  const name = `p-${randomUUID().slice(0, 8)}`;
  await tenant.admin.post('/api/v1/ti/providers', { name, baseUrl: 'http://127.0.0.1:9/', costCents: 1, ratePerMinute: 60 });
  return {
    id: name,
    body: { maxCalls: 1, maxCostCents: 1, costCents: 99, extraCalls: 5, reason: 'another tenant tries' },
    exists: async () => {
      const budget = (await tenant.admin.get('/api/v1/ti/budgets')).json().items.find((b: { provider: string }) => b.provider === name);
      const provider = (await tenant.admin.get('/api/v1/ti/providers')).json().items.find((p: { name: string }) => p.name === name);
      return budget?.budget === null && budget.overrides.length === 0 && provider?.costCents === 1;
    },
  };
};
for (const path of ['/api/v1/ti/budgets/{provider}', '/api/v1/ti/budgets/{provider}/overrides', '/api/v1/ti/providers/{provider}']) {
  objectFixtures[path] = tiProviderFixture;
}
objectFixtures['/api/v1/ti/enrichments/{id}'] = async (tenant) => {
  const entity = (await tenant.admin.post('/api/v1/entities', { type: 'domain-name', value: `${randomUUID().slice(0, 8)}.example.com` })).json().id as string;
  const id = (await tenant.admin.post('/api/v1/ti/enrich', { provider: 'local', indicatorIds: [entity] })).json().jobIds[0] as string;
  return { id, exists: async () => (await tenant.admin.get(`/api/v1/ti/enrichments/${id}`)).statusCode === 200 };
};

// Connectors: the victim's connector keeps its name and stays; the instance URL is never contacted by a refused call.
const connectorFixture = (body: Record<string, unknown>) => async (tenant: TestTenant): Promise<ObjectFixture> => {
  const name = `c-${randomUUID().slice(0, 8)}`;
  const res = await tenant.admin.post('/api/v1/connectors', { kind: 'servicenow', name, config: { instanceUrl: 'https://victim.service-now.com', auth: { type: 'basic', username: 'u', password: 'p' } } });
  const id = res.json().id as string;
  return {
    id,
    body,
    exists: async () => {
      const c = await tenant.admin.get(`/api/v1/connectors/${id}`);
      return c.statusCode === 200 && c.json().name === name;
    },
  };
};
for (const path of ['', '/test', '/sync', '/runs', '/health']) objectFixtures[`/api/v1/connectors/{id}${path}`] = connectorFixture({ name: 'taken-over' });
objectFixtures['/api/v1/connectors/{id}/incidents'] = connectorFixture({ findingKey: 'f', shortDescription: 'x' });
objectFixtures['/api/v1/connectors/{id}/incidents/{requestId}'] = connectorFixture({});

const routes = t.summit.modules.policy.registry.entries().filter((r) => !r.public);
const engine = t.summit.modules.policy.engine;

function fill(path: string, id: string = randomUUID()) {
  return path.replace(/\{[^}]+\}/g, id);
}

/** A role of the tenant whose policies deny the action, or null when every role holds it. */
function roleWithout(action: string): Role | null {
  return (
    ROLES.find(
      (role) =>
        !engine.authorize({
          principal: { kind: 'user', tenantId: victim.id, userId: randomUUID(), email: 'x', roles: [role], tokenId: 'x' },
          action,
        }).allowed,
    ) ?? null
  );
}

it('finds the routes to test', () => {
  expect(routes.length).toBeGreaterThanOrEqual(14);
});

describe.each(routes)('$method $path ($action)', (route) => {
  const method = route.method as 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';

  it('answers 401 without a token', async () => {
    const res = await t.anonymous.send(method, fill(route.path), method === 'GET' || method === 'DELETE' ? undefined : {});
    expect(res.statusCode).toBe(401);
    expect(problemOf(res)).toMatchObject({ code: 'unauthenticated', status: 401 });
    expect(res.headers['content-type']).toContain('application/problem+json');
  });

  it('answers 401 to a forged token', async () => {
    const forged = `smt_${randomUUID().replaceAll('-', '')}_${'A'.repeat(43)}`;
    const res = await t.client(forged).send(method, fill(route.path), method === 'GET' || method === 'DELETE' ? undefined : {});
    expect(res.statusCode).toBe(401);
  });

  it('answers 403 to a principal whose roles lack the action', async () => {
    const action = route.action!;
    let res;
    if (action.startsWith('tenant:')) {
      res = await victim.admin.send(method, fill(route.path), method === 'GET' ? undefined : {});
    } else {
      const role = roleWithout(action);
      // Every member may use self-service routes; the operator token is then the principal that may not.
      const caller = role ? (await t.createUser(victim, [role])).client : t.operator;
      res = await caller.send(method, fill(route.path), method === 'GET' || method === 'DELETE' ? undefined : {});
    }
    expect(res.statusCode).toBe(403);
    expect(problemOf(res).code).toBe('forbidden');
  });

  if (route.path.includes('{')) {
    it('answers 404 to another tenant and leaves the object untouched', async () => {
      const make = objectFixtures[route.path];
      expect(make, `add an object fixture for ${route.path} to this suite`).toBeDefined();
      const object = await make!(victim);
      const res = await attacker.admin.send(method, fill(route.path, object.id), object.body);
      expect(res.statusCode).toBe(404);
      expect(problemOf(res).code).toBe('not_found');
      expect(await object.exists()).toBe(true);
    });
  }
});
