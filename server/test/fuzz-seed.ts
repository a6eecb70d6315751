/** The objects the OpenAPI fuzz suite starts from (fuzz-openapi.test.ts). */
import { randomUUID } from 'node:crypto';
import { insertDeadLetter } from './fixtures.js';
import { templateOf, type FuzzPool } from './fuzz-pool.js';
import type { TestApp, TestTenant } from './harness.js';

/**
 * Real objects of every kind, made through the API as the tenant's admin, so generated requests find things to read,
 * change and delete; their bodies become the examples clean requests start from.
 */
export async function seedFuzzTenant(t: TestApp, tenant: TestTenant, pool: FuzzPool) {
  const a = tenant.admin;
  const post = async (path: string, body: Record<string, unknown>) => {
    const template = templateOf(path);
    pool.addExample(`POST ${template}`, body);
    const res = await a.post(path, body);
    pool.learn(template, res.json(), path);
    pool.learn(path, res.json());
    return res.json();
  };
  const second = await post('/api/v1/users', { email: 'fuzz-analyst@fuzz.example', roles: ['analyst'], displayName: 'analyst' });
  await post('/api/v1/tokens', { name: 'fuzz', userId: second.id });
  const playbook = await post('/api/v1/playbooks', { name: 'fuzzed', description: 'seed', steps: [{ id: 'find', type: 'search', types: ['malware'] }] });
  await post(`/api/v1/playbooks/${playbook.id}/grants`, { subject: { type: 'role', id: 'viewer' }, permission: 'view' });
  await post(`/api/v1/playbooks/${playbook.id}/schedules`, { cron: '0 9 * * *' });
  await post(`/api/v1/playbooks/${playbook.id}/links`, { permission: 'run' });
  await post(`/api/v1/playbooks/${playbook.id}/runs`, { params: {} });
  const malware = await post('/api/v1/entities', { type: 'malware', name: 'fuzz-malware', properties: { family: 'x' } });
  const ip = await post('/api/v1/entities', { type: 'ipv4-addr', value: '198.51.100.23' });
  await post('/api/v1/relationships', { type: 'indicates', sourceId: ip.id, targetId: malware.id });
  await post('/api/v1/sightings', { entityId: ip.id });
  await post('/api/v1/schemas', { name: 'fuzz-feed', version: 1, jsonSchema: { type: 'object' }, mapping: { entities: [{ type: 'ipv4-addr', value: '$.ip' }] } });
  await post('/api/v1/notification-channels', { kind: 'inbox', name: 'fuzz-inbox' });
  await post('/api/v1/notification-channels', { kind: 'webhook', name: 'fuzz-hook', url: 'https://hooks.fuzz.example/summit', secret: 'fuzz-webhook-secret-0123' });
  await post('/api/v1/schedules', { name: 'fuzz-checkpoint', jobType: 'audit.checkpoint', cron: '0 * * * *' });
  await post('/api/v1/redaction-rules', { name: 'fuzz-tlp', rule: { kind: 'tlp', tlp: ['red'] } });
  await post('/api/v1/ti/suppression-rules', { name: 'fuzz-rule', action: 'inform', reason: 'seed', match: { maxScore: 5 } });
  await post('/api/v1/ti/providers', { name: 'fuzzvendor', baseUrl: 'https://intel.fuzz.example', costCents: 1, ratePerMinute: 60, authHeader: 'x-api-key', authValue: 'fuzz-provider-secret-value' });
  await post('/api/v1/ti/enrich', { provider: 'local', indicatorIds: [ip.id] });
  await post('/api/v1/connectors', { kind: 'servicenow', name: 'fuzz-snow', config: { instanceUrl: 'https://fuzz.service-now.com', auth: { type: 'basic', username: 'svc', password: 'fuzz-connector-password' } } });
  await a.post('/api/v1/ingest/stix?source=fuzz', { type: 'bundle', id: `bundle--${randomUUID()}`, objects: [{ type: 'malware', id: `malware--${randomUUID()}`, name: 'seeded', is_family: false, spec_version: '2.1', created: '2026-01-01T00:00:00Z', modified: '2026-01-01T00:00:00Z' }] });
  pool.add('/api/v1/dlq', (await insertDeadLetter(t, tenant.id)).id);
  for (const path of ['/api/v1/ingest/runs', '/api/v1/ti/warninglists', '/api/v1/notifications', '/api/v1/ti/budgets', '/api/v1/connectors', '/api/v1/users', '/api/v1/tokens']) {
    pool.learn(path, (await a.get(path)).json());
  }
  for (const secret of ['fuzz-webhook-secret-0123', 'fuzz-provider-secret-value', 'fuzz-connector-password']) pool.addSecret(secret, true);
}

