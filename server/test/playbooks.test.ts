import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle, domain, indicator, ipv4, malware, relationship, sighting } from './graph-fixtures.js';
import { createTestApp, problemOf, waitFor, type TestApp, type TestTenant } from './harness.js';

const TLP_RED = 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1';
let t: TestApp;
let acme: TestTenant;
let other: TestTenant;

/** A small campaign graph: a malware family, two C2 addresses (one TLP:RED), a domain and indicators. */
async function seedGraph(tenant: TestTenant, source = 'feed-a') {
  const secret = ipv4('203.0.113.99', { object_marking_refs: [TLP_RED] });
  const ip = ipv4('198.51.100.23');
  const dns = domain('evil-update.example.net');
  const family = malware('NightHawk');
  const ind = indicator("[ipv4-addr:value = '198.51.100.23']", { confidence: 90 });
  const res = await tenant.admin.post(`/api/v1/ingest/stix?source=${source}`, bundle([
    secret, ip, dns, family, ind,
    relationship('communicates-with', family, ip), relationship('communicates-with', family, secret),
    relationship('resolves-to', dns, ip), relationship('indicates', ind, family), sighting(ind),
  ]));
  expect(res.statusCode).toBe(202);
}

const investigation = (name = 'NightHawk C2') => ({
  name,
  description: 'C2 infrastructure of a malware family',
  tags: ['c2'],
  parameters: [{ name: 'family', type: 'string', default: 'NightHawk' }, { name: 'depth', type: 'integer', default: 2, min: 1, max: 3 }],
  steps: [
    { id: 'family', type: 'search', types: ['malware'], q: { $param: 'family' } },
    { id: 'around', type: 'expand', depth: { $param: 'depth' } },
    { id: 'infra', type: 'filter', types: ['ipv4-addr', 'domain-name'] },
    { id: 'mark', type: 'annotate', rules: [{ id: 'c2', when: { types: ['ipv4-addr'] }, severity: 'high', note: 'Known C2 address' }] },
    { id: 'report', type: 'report', title: 'C2 of NightHawk', sections: [{ title: 'Infrastructure', from: 'mark', columns: [{ key: 'type' }, { key: 'name' }, { key: 'tlp' }] }] },
  ],
});

async function runToEnd(tenant: TestTenant, runId: string) {
  return waitFor(`run ${runId}`, async () => {
    const run = (await tenant.admin.get(`/api/v1/runs/${runId}`)).json();
    return ['succeeded', 'failed', 'cancelled'].includes(run.status) && run;
  }, 60_000);
}

beforeAll(async () => {
  t = await createTestApp();
  acme = await t.createTenant();
  other = await t.createTenant();
  await seedGraph(acme);
  await seedGraph(other, 'feed-b');
  t.summit.modules.jobs.startWorkers();
}, 120_000);
afterAll(async () => {
  await t.summit.modules.jobs.stopWorkers();
  await t.close();
});

describe('saving playbooks', () => {
  it('saves a definition as version 1 and each change as a new version', async () => {
    const created = await acme.admin.post('/api/v1/playbooks', investigation('versions'));
    expect(created.statusCode).toBe(201);
    const { id } = created.json();
    expect(created.json()).toMatchObject({ name: 'versions', version: 1, yourPermission: 'admin', tags: ['c2'] });
    const changed = await acme.admin.patch(`/api/v1/playbooks/${id}`, { description: 'second' });
    expect(changed.json()).toMatchObject({ version: 2, description: 'second' });
    const versions = (await acme.admin.get(`/api/v1/playbooks/${id}/versions`)).json().items;
    expect(versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect(versions[1].definition.description).toBe('C2 infrastructure of a malware family');
  });

  it('refuses a bad definition naming the step and field, and saves nothing', async () => {
    const bad = investigation('bad');
    bad.steps[1] = { id: 'around', type: 'expand', depth: 9 } as never;
    const res = await acme.admin.post('/api/v1/playbooks', bad);
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors![0]!.path).toBe('body.steps[1].depth');
    const enrich = investigation('bad');
    enrich.steps.splice(3, 0, { id: 'enrich', type: 'enrich' } as never);
    const refused = await acme.admin.post('/api/v1/playbooks', enrich);
    expect(refused.statusCode).toBe(400);
    expect(JSON.stringify(problemOf(refused).errors)).toMatch(/Threat Intel/i);
    const list = (await acme.admin.get('/api/v1/playbooks?q=bad')).json().items;
    expect(list).toEqual([]);
  });

  it('refuses a second playbook of the same name with 409', async () => {
    await acme.admin.post('/api/v1/playbooks', investigation('twice'));
    const again = await acme.admin.post('/api/v1/playbooks', investigation('Twice'));
    expect(again.statusCode).toBe(409);
  });
});

describe('access', () => {
  it('hides a playbook from members without a grant, then honours user and role grants level by level', async () => {
    const owner = await t.createUser(acme, ['analyst']);
    const viewer = await t.createUser(acme, ['viewer']);
    const id = (await owner.client.post('/api/v1/playbooks', investigation('private'))).json().id;

    expect((await viewer.client.get(`/api/v1/playbooks/${id}`)).statusCode).toBe(404);
    expect((await viewer.client.get('/api/v1/playbooks?q=private')).json().items).toEqual([]);

    const grant = await owner.client.post(`/api/v1/playbooks/${id}/grants`, { subject: { type: 'user', id: viewer.user.id }, permission: 'view' });
    expect(grant.statusCode).toBe(201);
    expect((await viewer.client.get(`/api/v1/playbooks/${id}`)).json().yourPermission).toBe('view');
    const refused = await viewer.client.post(`/api/v1/playbooks/${id}/runs`, { params: {} });
    expect(refused.statusCode).toBe(403);
    expect(problemOf(refused).detail).toMatch(/needs the run permission/);

    await owner.client.patch(`/api/v1/playbooks/${id}/grants/${grant.json().id}`, { permission: 'run' });
    expect((await viewer.client.post(`/api/v1/playbooks/${id}/runs`, { params: {} })).statusCode).toBe(202);
    expect((await viewer.client.patch(`/api/v1/playbooks/${id}`, { description: 'no' })).statusCode).toBe(403);

    // A role grant reaches every holder of the role.
    const another = await t.createUser(acme, ['viewer']);
    await owner.client.post(`/api/v1/playbooks/${id}/grants`, { subject: { type: 'role', id: 'viewer' }, permission: 'edit' });
    expect((await another.client.patch(`/api/v1/playbooks/${id}`, { description: 'edited by a viewer granted edit' })).statusCode).toBe(200);
    // Grants are for admins of the playbook.
    expect((await another.client.post(`/api/v1/playbooks/${id}/grants`, { subject: { type: 'role', id: 'auditor' }, permission: 'view' })).statusCode).toBe(403);

    await owner.client.delete(`/api/v1/playbooks/${id}/grants/${grant.json().id}`);
    const audit = (await acme.admin.get('/api/v1/audit?limit=200')).json().items.map((e: { action: string }) => e.action);
    expect(audit).toEqual(expect.arrayContaining(['playbook.grant.create', 'playbook.grant.update', 'playbook.grant.delete']));
  });

  it('pages through only the playbooks the caller may view, however many it may not', async () => {
    const tenant = await t.createTenant();
    const analyst = await t.createUser(tenant, ['analyst']);
    const mine: string[] = [];
    for (let i = 0; i < 7; i++) {
      const hidden = (await tenant.admin.post('/api/v1/playbooks', investigation(`hidden ${i}`))).json().id;
      expect(hidden).toBeTruthy();
      if (i % 3 === 0) mine.push((await analyst.client.post('/api/v1/playbooks', investigation(`mine ${i}`))).json().id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 20; page++) {
      const res: { items: { id: string }[]; nextCursor: string | null } = (await analyst.client.get(`/api/v1/playbooks?limit=1${cursor ? `&cursor=${cursor}` : ''}`)).json();
      seen.push(...res.items.map((p: { id: string }) => p.id));
      cursor = res.nextCursor;
      if (!cursor) break;
    }
    expect(seen.sort()).toEqual(mine.sort());
  });

  it('lets viewers not author, and keeps other tenants out of lists', async () => {
    const viewer = await t.createUser(acme, ['viewer']);
    expect((await viewer.client.post('/api/v1/playbooks', investigation('by a viewer'))).statusCode).toBe(403);
    await acme.admin.post('/api/v1/playbooks', investigation('acme only'));
    expect((await other.admin.get('/api/v1/playbooks?q=acme%20only')).json().items).toEqual([]);
  });
});

describe('running', () => {
  let playbookId: string;
  let runId: string;

  beforeAll(async () => {
    playbookId = (await acme.admin.post('/api/v1/playbooks', investigation('runner'))).json().id;
  });

  it('runs the current version, traces each step and stores results with provenance', async () => {
    const started = await acme.admin.post(`/api/v1/playbooks/${playbookId}/runs`, { params: { depth: 2 } });
    expect(started.statusCode).toBe(202);
    runId = started.json().runId;
    const run = await runToEnd(acme, runId);
    expect(run.status).toBe('succeeded');
    expect(run.version).toBe(1);
    expect(run.params).toEqual({ family: 'NightHawk', depth: 2 });
    expect(run.trace.map((s: { stepId: string }) => s.stepId)).toEqual(['family', 'around', 'infra', 'mark', 'report']);
    const rows = run.results.report.sections[0].rows;
    const names = rows.map((r: { cells: { name: string } }) => r.cells.name).sort();
    expect(names).toEqual(['198.51.100.23', '203.0.113.99', 'evil-update.example.net']);
    expect(run.results.highlights.filter((h: { severity: string }) => h.severity === 'high')).toHaveLength(2);
    const someEntity = rows[0].entityId as string;
    expect(run.results.provenance[someEntity][0]).toMatchObject({ source: 'feed-a' });
    // Another tenant's identical graph never leaks in.
    expect(JSON.stringify(run.results)).not.toContain('feed-b');
  });

  it('audits who ran which version with which parameters, and the outcome', async () => {
    const events = (await acme.admin.get('/api/v1/audit?limit=200')).json().items;
    const request = events.find((e: { action: string; after: { runId?: string } }) => e.action === 'playbook.run.request' && e.after.runId === runId);
    const finish = events.find((e: { action: string; target: { id: string } }) => e.action === 'playbook.run.finish' && e.target.id === runId);
    expect(request).toMatchObject({ actor: { type: 'user', id: acme.adminUserId }, after: { version: 1, params: { family: 'NightHawk', depth: 2 } } });
    expect(finish).toMatchObject({ after: { status: 'succeeded', version: 1 } });
  });

  it('refuses unknown or mistyped parameters with 400 naming them', async () => {
    const res = await acme.admin.post(`/api/v1/playbooks/${playbookId}/runs`, { params: { depth: 'deep', colour: 'red' } });
    expect(res.statusCode).toBe(400);
    const paths = problemOf(res).errors!.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['body.params.depth', 'body.params.colour']));
  });

  it('adds analyst annotations to a finished run and exports Markdown with highlights, provenance and a hash', async () => {
    const rows = (await acme.admin.get(`/api/v1/runs/${runId}`)).json().results.report.sections[0].rows;
    const target = rows.find((r: { cells: { name: string } }) => r.cells.name === '198.51.100.23');
    const note = await acme.admin.post(`/api/v1/runs/${runId}/annotations`, { text: 'Blocked at the edge on Monday', entityId: target.entityId });
    expect(note.statusCode).toBe(201);
    const notAFinding = await acme.admin.post(`/api/v1/runs/${runId}/annotations`, { text: 'x', entityId: '0190a0f0-0000-7000-8000-000000000000' });
    expect(notAFinding.statusCode).toBe(400);

    const md = await acme.admin.get(`/api/v1/runs/${runId}/export?format=md`);
    expect(md.statusCode).toBe(200);
    expect(md.headers['content-type']).toContain('text/markdown');
    expect(md.body).toContain('C2 of NightHawk');
    expect(md.body).toContain('Known C2 address');
    expect(md.body).toContain('Blocked at the edge on Monday');
    expect(md.body).toContain('feed-a');
    expect(md.body).toContain(runId);
    expect(md.body).toContain(md.headers['x-summit-sha256'] as string);
  });

  it('exports a PDF whose text is extractable', async () => {
    const pdf = await acme.admin.get(`/api/v1/runs/${runId}/export?format=pdf`);
    expect(pdf.statusCode).toBe(200);
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    const text = pdfText(pdf.rawPayload);
    expect(text).toContain('198.51.100.23');
    expect(text).toContain('Known C2 address');
  });

  it('redacts by TLP and by regex: the values appear nowhere in the Markdown or the PDF text', async () => {
    await acme.admin.post('/api/v1/redaction-rules', { name: 'no red', rule: { kind: 'tlp', tlp: ['red'] } });
    await acme.admin.post('/api/v1/redaction-rules', { name: 'no evil domains', rule: { kind: 'regex', pattern: 'evil-[a-z]+\\.example\\.net' } });
    const md = (await acme.admin.get(`/api/v1/runs/${runId}/export?format=md`)).body;
    const pdf = pdfText((await acme.admin.get(`/api/v1/runs/${runId}/export?format=pdf`)).rawPayload);
    for (const text of [md, pdf]) {
      expect(text).not.toContain('203.0.113.99');
      expect(text).not.toContain('evil-update.example.net');
      expect(text).toContain('198.51.100.23');
    }
    const events = (await acme.admin.get('/api/v1/audit?limit=200')).json().items;
    expect(events.some((e: { action: string }) => e.action === 'playbook.run.export')).toBe(true);
  });

  it('refuses invalid redaction patterns with a clear 400', async () => {
    const backref = await acme.admin.post('/api/v1/redaction-rules', { name: 'backref', rule: { kind: 'regex', pattern: '(a)\\1' } });
    expect(backref.statusCode).toBe(400);
    expect(problemOf(backref).detail).toMatch(/pattern/i);
    const broken = await acme.admin.post('/api/v1/redaction-rules', { name: 'broken', rule: { kind: 'regex', pattern: '([a-z' } });
    expect(broken.statusCode).toBe(400);
    const unknown = await acme.admin.post('/api/v1/redaction-rules', { name: 'unknown', rule: { kind: 'colour' } });
    expect(unknown.statusCode).toBe(400);
  });

  it('cancels a queued run at once and refuses to cancel a finished one', async () => {
    await t.summit.modules.jobs.stopWorkers();
    try {
      const queued = (await acme.admin.post(`/api/v1/playbooks/${playbookId}/runs`, { params: {} })).json();
      const early = await acme.admin.get(`/api/v1/runs/${queued.runId}/export`);
      expect(early.statusCode).toBe(409);
      const cancelled = await acme.admin.post(`/api/v1/runs/${queued.runId}/cancel`);
      expect(cancelled.json().status).toBe('cancelled');
    } finally {
      t.summit.modules.jobs.startWorkers();
    }
    expect((await acme.admin.post(`/api/v1/runs/${runId}/cancel`)).statusCode).toBe(409);
  });

  it('stops a running run that was asked to cancel, keeping its trace so far', async () => {
    await t.summit.modules.jobs.stopWorkers();
    let queued: { runId: string };
    try {
      queued = (await acme.admin.post(`/api/v1/playbooks/${playbookId}/runs`, { params: {} })).json();
      // As if a worker had picked it up: a cancel now is a request the runner must honour.
      await t.db.withTenant(acme.id, (tx) => tx.query(`update playbook_runs set status = 'running' where id = $1`, [queued.runId]));
      const requested = await acme.admin.post(`/api/v1/runs/${queued.runId}/cancel`);
      expect(requested.json().status).toBe('running');
    } finally {
      t.summit.modules.jobs.startWorkers();
    }
    const run = await runToEnd(acme, queued!.runId);
    expect(run.status).toBe('cancelled');
    expect(run.results).toBeNull();
  });

  it('answers 429 past the tenant\'s daily run limit', async () => {
    const tenant = await t.createTenant();
    await tenant.admin.send('PUT', '/api/v1/playbook-settings', { limits: { maxRunsPerDay: 2 } });
    const id = (await tenant.admin.post('/api/v1/playbooks', investigation('daily'))).json().id;
    for (let i = 0; i < 2; i++) await runToEnd(tenant, (await tenant.admin.post(`/api/v1/playbooks/${id}/runs`, { params: {} })).json().runId);
    const third = await tenant.admin.post(`/api/v1/playbooks/${id}/runs`, { params: {} });
    expect(third.statusCode).toBe(429);
    expect(problemOf(third).detail).toMatch(/daily limit \(2\)/);
  });

  it('answers 429 past the tenant\'s concurrent-run limit and says which limit', async () => {
    const tenant = await t.createTenant();
    await tenant.admin.send('PUT', '/api/v1/playbook-settings', { limits: { maxConcurrentRuns: 1 } });
    const id = (await tenant.admin.post('/api/v1/playbooks', investigation('limited'))).json().id;
    await t.summit.modules.jobs.stopWorkers();
    try {
      expect((await tenant.admin.post(`/api/v1/playbooks/${id}/runs`, { params: {} })).statusCode).toBe(202);
      const second = await tenant.admin.post(`/api/v1/playbooks/${id}/runs`, { params: {} });
      expect(second.statusCode).toBe(429);
      expect(problemOf(second).detail).toMatch(/limit \(1\)/);
    } finally {
      t.summit.modules.jobs.startWorkers();
    }
  });
});

describe('threat intel suppression', () => {
  it('keeps suppressed indicators out of playbook runs unless a step asks for them', async () => {
    const tenant = await t.createTenant();
    await seedGraph(tenant);
    const find = (includeSuppressed: boolean) => ({
      name: `indicators ${includeSuppressed} ${randomUUID()}`,
      steps: [{ id: 'all', type: 'search', types: ['indicator'], includeSuppressed }],
    });
    const runOf = async (includeSuppressed: boolean) => {
      const id = (await tenant.admin.post('/api/v1/playbooks', find(includeSuppressed))).json().id;
      const run = await runToEnd(tenant, (await tenant.admin.post(`/api/v1/playbooks/${id}/runs`, { params: {} })).json().runId);
      return run.results.report.sections[0].rows.length as number;
    };
    // Scores (and so suppression) exist once the ingest run's rescore job has run.
    await waitFor('the indicator score', async () => (await tenant.admin.get('/api/v1/indicators?includeRevoked=true')).json().items.length > 0);
    expect(await runOf(false)).toBe(1);
    const rule = await tenant.admin.post('/api/v1/ti/suppression-rules', {
      name: 'known address', action: 'suppress', reason: 'our own scanner', match: { value: { kind: 'exact', pattern: '198.51.100.23' } },
    });
    expect(rule.statusCode, rule.body).toBe(201);
    expect(await runOf(false)).toBe(0);
    expect(await runOf(true)).toBe(1);
  });
});

function pdfText(bytes: Buffer): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'summit-pdf-'));
  const file = path.join(dir, 'export.pdf');
  writeFileSync(file, bytes);
  return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
}

describe('share links', () => {
  let playbookId: string;
  let runId: string;

  beforeAll(async () => {
    playbookId = (await acme.admin.post('/api/v1/playbooks', investigation('shared'))).json().id;
    runId = (await acme.admin.post(`/api/v1/playbooks/${playbookId}/runs`, { params: {} })).json().runId;
    await runToEnd(acme, runId);
  });

  it('shows a run\'s results without login, redacted for share links, and audits each visit with the address', async () => {
    const link = await acme.admin.post(`/api/v1/playbooks/${playbookId}/links`, { permission: 'view-results', runId, expiresIn: 3600 });
    expect(link.statusCode).toBe(201);
    const { token, url, id } = link.json();
    const shared = await t.anonymous.get(url);
    expect(shared.statusCode).toBe(200);
    expect(shared.json()).toMatchObject({ permission: 'view-results', run: { id: runId, status: 'succeeded' } });
    expect(shared.json().run.markdown).toContain('C2 of NightHawk');
    const pdf = await t.anonymous.get(`/api/v1/shared/${token}/export?format=pdf`);
    expect(pdf.statusCode).toBe(200);
    // A results link cannot start runs.
    expect((await t.anonymous.post(`/api/v1/shared/${token}/runs`, { params: {} })).statusCode).toBe(403);
    const uses = (await acme.admin.get('/api/v1/audit?limit=200')).json().items
      .filter((e: { action: string; after: { linkId?: string } }) => e.action === 'playbook.link.use' && e.after.linkId === id);
    expect(uses.length).toBeGreaterThanOrEqual(2);
    expect(uses[0].after.ip).toBeTruthy();
    expect((await acme.admin.get(`/api/v1/playbooks/${playbookId}/links`)).json().items[0]).not.toHaveProperty('token');
  });

  it('answers 410 once revoked or expired, and 404 to a forged token', async () => {
    const make = async (expiresIn: number) => (await acme.admin.post(`/api/v1/playbooks/${playbookId}/links`, { permission: 'view-results', expiresIn })).json();
    const revoked = await make(3600);
    const revoking = await acme.admin.delete(`/api/v1/playbooks/${playbookId}/links/${revoked.id}`);
    expect([revoking.statusCode, revoking.body]).toEqual([204, '']);
    const gone = await t.anonymous.get(revoked.url);
    expect(gone.statusCode).toBe(410);
    expect(problemOf(gone).detail).toMatch(/revoked/);

    const expiring = await make(300);
    t.clock.advance(301_000);
    const expired = await t.anonymous.get(expiring.url);
    expect(expired.statusCode).toBe(410);
    expect(problemOf(expired).detail).toMatch(/expired/);

    const forged = `${revoked.token.slice(0, -4)}AAAA`;
    expect((await t.anonymous.get(`/api/v1/shared/${forged}`)).statusCode).toBe(404);
  });

  it('refuses expiries outside 5 minutes to 30 days, and a run of another tenant', async () => {
    expect((await acme.admin.post(`/api/v1/playbooks/${playbookId}/links`, { permission: 'run', expiresIn: 60 })).statusCode).toBe(400);
    expect((await acme.admin.post(`/api/v1/playbooks/${playbookId}/links`, { permission: 'run', expiresIn: 31 * 86_400 })).statusCode).toBe(400);
    const theirs = (await other.admin.post('/api/v1/playbooks', investigation('theirs'))).json().id;
    const theirRun = (await other.admin.post(`/api/v1/playbooks/${theirs}/runs`, { params: {} })).json().runId;
    const res = await acme.admin.post(`/api/v1/playbooks/${playbookId}/links`, { permission: 'view-results', runId: theirRun });
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).detail).toMatch(/not a run of this playbook/);
  });

  it('starts runs through a run link, validated like any run', async () => {
    const link = (await acme.admin.post(`/api/v1/playbooks/${playbookId}/links`, { permission: 'run' })).json();
    const view = (await t.anonymous.get(link.url)).json();
    expect(view.parameters.map((p: { name: string }) => p.name)).toEqual(['family', 'depth']);
    expect((await t.anonymous.post(`${link.url}/runs`, { params: { depth: 7 } })).statusCode).toBe(400);
    const started = await t.anonymous.post(`${link.url}/runs`, { params: { depth: 1 } });
    expect(started.statusCode).toBe(202);
    const run = await runToEnd(acme, started.json().id);
    expect(run).toMatchObject({ status: 'succeeded', trigger: 'link' });
  });
});

describe('schedules', () => {
  it('validates the cron, the zone, the tenant\'s minimum interval and the parameters at once', async () => {
    const id = (await acme.admin.post('/api/v1/playbooks', investigation('scheduled-bad'))).json().id;
    const bad = await acme.admin.post(`/api/v1/playbooks/${id}/schedules`, { cron: '* * * * *', timezone: 'Mars/Olympus', params: { depth: 0 } });
    expect(bad.statusCode).toBe(400);
    const paths = problemOf(bad).errors!.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['body.timezone', 'body.params.depth']));
    const tooOften = await acme.admin.post(`/api/v1/playbooks/${id}/schedules`, { cron: '* * * * *', timezone: 'UTC' });
    expect(tooOften.statusCode).toBe(400);
    expect(problemOf(tooOften).detail).toMatch(/more often than this tenant allows/);
  });

  it('fires through the jobs scheduler, delivers the export and keeps the schedule out of the generic API', async () => {
    const tenant = await t.createTenant();
    await seedGraph(tenant);
    const id = (await tenant.admin.post('/api/v1/playbooks', investigation('scheduled'))).json().id;
    const created = await tenant.admin.post(`/api/v1/playbooks/${id}/schedules`, {
      cron: '0 9 * * *', timezone: 'America/Denver', notify: { export: 'md', onFailure: true },
    });
    expect(created.statusCode).toBe(201);
    const schedule = created.json();
    expect(schedule.nextFires).toHaveLength(5);
    expect((await tenant.admin.patch(`/api/v1/schedules/${schedule.id}`, { enabled: false })).statusCode).toBe(409);

    t.clock.set(new Date(new Date(schedule.nextFires[0]).getTime() + 1_000));
    await t.summit.modules.jobsModule.scheduler.tick();
    const run = await waitFor('the scheduled run', async () => {
      const runs = (await tenant.admin.get(`/api/v1/playbooks/${id}/runs`)).json().items;
      return runs[0] && ['succeeded', 'failed'].includes(runs[0].status) && runs[0];
    }, 60_000);
    expect(run).toMatchObject({ status: 'succeeded', trigger: 'schedule', scheduleId: schedule.id });
    const inbox = (await tenant.admin.get('/api/v1/notifications?limit=50')).json().items;
    expect(inbox.some((n: { title: string }) => n.title.includes('export ready'))).toBe(true);
  });

  it('raises a grouped failure alert when a scheduled run fails', async () => {
    const tenant = await t.createTenant();
    const definition = { ...investigation('failing'), steps: [{ id: 'everything', type: 'search', limit: 10 }, { id: 'wide', type: 'expand', depth: 3 }] };
    const id = (await tenant.admin.post('/api/v1/playbooks', definition)).json().id;
    // Saved definitions are always valid; to make a step fail, corrupt the stored version behind the API's back.
    const schedule = (await tenant.admin.post(`/api/v1/playbooks/${id}/schedules`, { cron: '0 * * * *', timezone: 'UTC' })).json();
    await t.db.withTenant(tenant.id, (tx) => tx.query(`update playbook_versions set definition = jsonb_set(definition, '{steps,1,depth}', '"x"') where playbook_id = $1`, [id]));
    t.clock.set(new Date(new Date(schedule.nextFires[0]).getTime() + 1_000));
    await t.summit.modules.jobsModule.scheduler.tick();
    const alert = await waitFor('the failure alert', async () => {
      const items = (await tenant.admin.get('/api/v1/notifications?limit=50')).json().items;
      return items.find((n: { title: string }) => n.title.includes('failed'));
    }, 60_000);
    expect(alert.title).toContain('"failing"');
  });
});

describe('settings', () => {
  it('keeps branding per tenant, checks the logo really is an image, and is for admins only', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000' + '1f15c4890000000d49444154789c6360000000000200015e7e8a2f0000000049454e44ae426082', 'hex');
    const ok = await acme.admin.send('PUT', '/api/v1/playbook-settings', { branding: { name: 'ACME SOC', accentColor: '#aa3300', footerText: 'Internal', logo: { mediaType: 'image/png', data: png.toString('base64') } } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().branding).toMatchObject({ name: 'ACME SOC', accentColor: '#aa3300', logo: { mediaType: 'image/png', bytes: png.length } });
    const fake = await acme.admin.send('PUT', '/api/v1/playbook-settings', { branding: { logo: { mediaType: 'image/png', data: Buffer.from('not an image').toString('base64') } } });
    expect(fake.statusCode).toBe(400);
    expect((await other.admin.get('/api/v1/playbook-settings')).json().branding.name).toBeNull();
    const analyst = await t.createUser(acme, ['analyst']);
    expect((await analyst.client.send('PUT', '/api/v1/playbook-settings', { branding: { name: 'x' } })).statusCode).toBe(403);
  });
});
