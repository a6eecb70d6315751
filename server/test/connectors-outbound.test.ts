import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServiceNowTestServer, type ServiceNowTestServer } from '../src/modules/connectors/servicenow/test-server.js';
import { campaignBundle } from './graph-fixtures.js';
import { createTestApp, waitFor, type TestApp, type TestTenant } from './harness.js';

let t: TestApp;
let acme: TestTenant;
const servers: ServiceNowTestServer[] = [];

beforeAll(async () => {
  t = await createTestApp();
  t.summit.modules.jobs.startWorkers();
  acme = await t.createTenant('acme-outbound');
});
afterAll(async () => {
  for (const s of servers) await s.close();
  await t.close();
});

async function setup(username = 'admin', password = 'admin') {
  const s = await startServiceNowTestServer({});
  servers.push(s);
  const res = await acme.admin.post('/api/v1/connectors', { kind: 'servicenow', name: `out-${servers.length}`, config: { instanceUrl: s.url, auth: { type: 'basic', username, password } } });
  expect(res.statusCode, res.body).toBe(201);
  return { s, id: res.json().id as string };
}

const incidentsOf = (s: ServiceNowTestServer, correlationPrefix = 'summit-') => s.records.filter((r) => String(r.correlation_id ?? '').startsWith(correlationPrefix));
const auditActions = async () => ((await acme.admin.get('/api/v1/audit?limit=200')).json().items as Array<{ action: string }>).map((e) => e.action);

describe('outbound incidents through the connector.incident job', () => {
  it('answers 200 with the incident when the inline push succeeds, and records the request', async () => {
    const { s, id } = await setup();
    const res = await acme.admin.post(`/api/v1/connectors/${id}/incidents`, { findingKey: 'inline-1', shortDescription: 'Beaconing' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ created: true });
    const request = (await acme.admin.get(`/api/v1/connectors/${id}/incidents/${res.json().requestId}`)).json();
    expect(request).toMatchObject({ status: 'pushed', sysId: res.json().sysId, created: true, attempts: 1 });
    expect(incidentsOf(s)).toHaveLength(1);
    expect(await queued(id)).toBe(0); // the delayed job was withdrawn
    const actions = await auditActions();
    expect(actions).toContain('connector.incident.request');
    expect(actions).toContain('connector.incident.pushed');
  });

  it('a create whose answer was lost dead-letters, and a DLQ replay updates the one incident instead of creating a second', async () => {
    const { s, id } = await setup();
    // The inline lookup is held back so the create that follows it can be made to lose its answer after applying.
    s.setFault({ kind: 'slow', count: 1, delayMs: 1_500 });
    const pending = acme.admin.post(`/api/v1/connectors/${id}/incidents`, { findingKey: 'lost-answer', shortDescription: 'Lost answer', priority: 2 });
    await waitFor('the inline lookup', async () => s.log.some((e) => e.method === 'GET' && e.path.includes('/incident')));
    s.setFault({ kind: 'drop', count: 1_000, afterApply: true });
    const res = await pending;
    expect(res.statusCode, res.body).toBe(202);
    const { requestId, jobId } = res.json();
    expect(incidentsOf(s)).toHaveLength(1); // applied, answer lost
    const dead = await waitFor('the dead letter', async () => {
      const items = (await acme.admin.get('/api/v1/dlq?queue=connector.incident&status=dead')).json().items as Array<{ id: string; jobId: string }>;
      return items.find((i) => i.jobId === jobId);
    }, 60_000);
    expect((await acme.admin.get(`/api/v1/connectors/${id}/incidents/${requestId}`)).json()).toMatchObject({ status: 'failed', error: { kind: 'network' } });
    expect(await auditActions()).toContain('connector.incident.failed');
    s.clearFaults();
    expect((await acme.admin.post(`/api/v1/dlq/${dead.id}/replay`)).statusCode).toBe(202);
    const pushed = await waitFor('the replayed push', async () => {
      const r = (await acme.admin.get(`/api/v1/connectors/${id}/incidents/${requestId}`)).json();
      return r.status === 'pushed' ? r : undefined;
    }, 30_000);
    expect(pushed).toMatchObject({ created: false });
    expect(incidentsOf(s)).toHaveLength(1);
    expect(incidentsOf(s)[0]).toMatchObject({ sys_id: pushed.sysId, short_description: 'Lost answer' });
  });

  it('a 401 is permanent: 502 at once, the request failed, no job left to retry', async () => {
    const { s, id } = await setup('admin', 'wrong-password');
    const res = await acme.admin.post(`/api/v1/connectors/${id}/incidents`, { findingKey: 'denied', shortDescription: 'Denied' });
    expect(res.statusCode, res.body).toBe(502);
    expect(incidentsOf(s)).toHaveLength(0);
    expect(await queued(id)).toBe(0);
    const actions = await auditActions();
    expect(actions).toContain('connector.incident.failed');
  });

  it('hides another tenant\'s requests', async () => {
    const { id } = await setup();
    const res = await acme.admin.post(`/api/v1/connectors/${id}/incidents`, { findingKey: 'mine', shortDescription: 'Mine' });
    const other = await t.createTenant('other-outbound');
    expect((await other.admin.get(`/api/v1/connectors/${id}/incidents/${res.json().requestId}`)).statusCode).toBe(404);
  });
});

describe('the playbook create-incident step', () => {
  async function runToEnd(playbookId: string) {
    const res = await acme.admin.post(`/api/v1/playbooks/${playbookId}/runs`, { params: {} });
    expect(res.statusCode, res.body).toBe(202);
    const runId = res.json().runId as string;
    return waitFor(`run ${runId}`, async () => {
      const run = (await acme.admin.get(`/api/v1/runs/${runId}`)).json();
      return ['succeeded', 'failed', 'cancelled'].includes(run.status) && run;
    }, 60_000);
  }
  const pushedRequest = (connectorId: string, requestId: string) =>
    waitFor(`request ${requestId}`, async () => {
      const r = (await acme.admin.get(`/api/v1/connectors/${connectorId}/incidents/${requestId}`)).json();
      return r.status !== 'queued' && r;
    }, 60_000);

  it('creates one incident for the run\'s entities; running again updates the same incident', async () => {
    const ingest = await acme.admin.post('/api/v1/ingest/stix?source=feed-out', campaignBundle().bundle);
    expect(ingest.statusCode, ingest.body).toBe(202);
    await waitFor('the ingested malware', async () => (await acme.admin.get('/api/v1/entities?type=malware&q=NightHawk')).json().items.length > 0);
    const { s, id: connectorId } = await setup();
    const created = await acme.admin.post('/api/v1/playbooks', {
      name: 'NightHawk to the service desk',
      steps: [
        { id: 'family', type: 'search', types: ['malware'], q: 'NightHawk' },
        { id: 'snow', type: 'create-incident', connectorId, shortDescription: '{{count}} malware from {{playbook}}', priority: 2 },
      ],
    });
    expect(created.statusCode, created.body).toBe(201);
    const playbookId = created.json().id as string;

    const first = await runToEnd(playbookId);
    expect(first.status, JSON.stringify(first.error)).toBe('succeeded');
    const firstRequest = first.trace.find((step: { stepId: string }) => step.stepId === 'snow').requestId as string;
    expect(await pushedRequest(connectorId, firstRequest)).toMatchObject({ status: 'pushed', created: true });
    expect(incidentsOf(s)).toHaveLength(1);
    expect(incidentsOf(s)[0]).toMatchObject({ short_description: '1 malware from NightHawk to the service desk', priority: '2' });

    const second = await runToEnd(playbookId);
    const secondRequest = second.trace.find((step: { stepId: string }) => step.stepId === 'snow').requestId as string;
    expect(secondRequest).not.toBe(firstRequest);
    const again = await pushedRequest(connectorId, secondRequest);
    expect(again).toMatchObject({ status: 'pushed', created: false, sysId: incidentsOf(s)[0]!.sys_id });
    expect(incidentsOf(s)).toHaveLength(1);
  });

  it('fails the run naming the step when the connector does not exist in the tenant', async () => {
    const missing = '01900000-0000-7000-8000-00000000dead';
    const created = await acme.admin.post('/api/v1/playbooks', {
      name: 'Pushes nowhere',
      steps: [{ id: 'family', type: 'search', types: ['malware'] }, { id: 'snow', type: 'create-incident', connectorId: missing, shortDescription: 'x' }],
    });
    expect(created.statusCode, created.body).toBe(201);
    const run = await runToEnd(created.json().id);
    expect(run).toMatchObject({ status: 'failed', error: { stepId: 'snow' } });
    expect(run.error.message).toContain('does not exist in this tenant');
  });
});

async function queued(connectorId: string): Promise<number> {
  return t.db.withSystem(async (tx) => {
    const { rows } = await tx.query<{ n: number }>(`select count(*)::int as n from pgboss.job where name = 'connector.incident' and state in ('created', 'retry', 'active') and data->'payload'->>'connectorId' = $1`, [connectorId]);
    return rows[0]!.n;
  });
}
