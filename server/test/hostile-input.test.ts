/**
 * Regression tests for issue 16, defect 1: a NUL or a lone surrogate in any string of a JSON body, a query parameter
 * or a path parameter answered 500 on these routes (PostgreSQL refuses both in text), and deep nesting was a
 * RangeError. Each is now a 400 problem+json naming the field, answered at the edge before any handler runs.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, problemOf, type TestApp, type TestTenant } from './harness.js';
import { insertDeadLetter } from './fixtures.js';

let t: TestApp;
let tenant: TestTenant;
const ids: Record<string, string> = {};

const PLAYBOOK = { steps: [{ id: 'find', type: 'search', types: ['malware'] }] };
const inAWeek = () => new Date(t.clock.now().getTime() + 7 * 86_400_000).toISOString();

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTenant();
  const a = tenant.admin;
  ids.user = (await a.post('/api/v1/users', { email: 'hostile@example.com', roles: ['viewer'] })).json().id;
  ids.playbook = (await a.post('/api/v1/playbooks', { ...PLAYBOOK, name: 'hostile' })).json().id;
  ids.run = (await a.post(`/api/v1/playbooks/${ids.playbook}/runs`, { params: {} })).json().id;
  ids.dlq = (await insertDeadLetter(t, tenant.id)).id;
  ids.schema = (await a.post('/api/v1/schemas', { name: 'feed', version: 1, jsonSchema: { type: 'object' }, mapping: { entities: [{ type: 'ipv4-addr', value: '$.ip' }] } })).json().id;
  await a.post('/api/v1/ti/providers', { name: 'vendor', baseUrl: 'http://127.0.0.1:9/', costCents: 1, ratePerMinute: 60 });
  ids.connector = (
    await a.post('/api/v1/connectors', {
      kind: 'servicenow',
      name: 'snow',
      config: { instanceUrl: 'https://hostile.service-now.com', auth: { type: 'basic', username: 'u', password: 'p' } },
    })
  ).json().id;
  ids.entity = (await a.post('/api/v1/entities', { type: 'malware', name: 'fixture' })).json().id;
});
afterAll(() => t.close());

type Case = { method: 'POST' | 'PATCH' | 'DELETE' | 'GET'; path: string; body?: (bad: string) => Record<string, unknown>; field: string; operator?: boolean };

/** `bad` is put where the field is; every other field is valid, so only the bad character can be refused. */
const BODY_CASES: Case[] = [
  { method: 'POST', path: '/api/v1/tenants', body: (bad) => ({ name: `t${bad}`, adminEmail: 'a@hostile.example' }), field: 'body.name', operator: true },
  { method: 'POST', path: '/api/v1/users', body: (bad) => ({ email: 'u2@example.com', roles: ['viewer'], displayName: `d${bad}` }), field: 'body.displayName' },
  { method: 'PATCH', path: '/api/v1/users/{user}', body: (bad) => ({ displayName: `d${bad}` }), field: 'body.displayName' },
  { method: 'POST', path: '/api/v1/tokens', body: (bad) => ({ name: `tok${bad}` }), field: 'body.name' },
  { method: 'POST', path: '/api/v1/notification-channels', body: (bad) => ({ kind: 'inbox', name: `ch${bad}` }), field: 'body.name' },
  { method: 'POST', path: '/api/v1/schedules', body: (bad) => ({ name: `s${bad}`, jobType: 'audit.checkpoint', cron: '0 * * * *' }), field: 'body.name' },
  { method: 'POST', path: '/api/v1/redaction-rules', body: (bad) => ({ name: `r${bad}`, rule: { kind: 'tlp', tlp: ['red'] } }), field: 'body.name' },
  { method: 'POST', path: '/api/v1/ti/suppression-rules', body: (bad) => ({ name: `n${bad}`, action: 'suppress', reason: 'fixture', match: { maxScore: 10 } }), field: 'body.name' },
  { method: 'POST', path: '/api/v1/ti/suppression-rules', body: (bad) => ({ name: 'n', action: 'suppress', reason: `why${bad}`, match: { maxScore: 10 } }), field: 'body.reason' },
  { method: 'POST', path: '/api/v1/entities', body: (bad) => ({ type: 'malware', name: `m${bad}` }), field: 'body.name' },
  { method: 'POST', path: '/api/v1/entities', body: (bad) => ({ type: 'malware', name: 'm', properties: { nested: [{ deep: `x${bad}` }] } }), field: 'body.properties.nested[0].deep' },
  { method: 'PATCH', path: '/api/v1/playbooks/{playbook}', body: (bad) => ({ description: `d${bad}` }), field: 'body.description' },
  { method: 'POST', path: '/api/v1/playbooks', body: (bad) => ({ ...PLAYBOOK, name: `p${bad}` }), field: 'body.name' },
  { method: 'POST', path: '/api/v1/runs/{run}/annotations', body: (bad) => ({ text: `note${bad}` }), field: 'body.text' },
  { method: 'DELETE', path: '/api/v1/dlq/{dlq}', body: (bad) => ({ reason: `gone${bad}` }), field: 'body.reason' },
  { method: 'POST', path: '/api/v1/dlq/replay', body: (bad) => ({ queue: `q${bad}` }), field: 'body.queue' },
  { method: 'POST', path: '/api/v1/schemas/{schema}/overrides', body: (bad) => ({ reason: `long enough${bad}`, expiresAt: inAWeek() }), field: 'body.reason' },
  { method: 'POST', path: '/api/v1/ti/budgets/vendor/overrides', body: (bad) => ({ extraCalls: 5, reason: `more${bad}` }), field: 'body.reason' },
  { method: 'POST', path: '/api/v1/connectors/{connector}/incidents', body: (bad) => ({ findingKey: `f${bad}`, shortDescription: 'x' }), field: 'body.findingKey' },
  { method: 'POST', path: '/api/v1/connectors/{connector}/incidents', body: (bad) => ({ findingKey: 'f', shortDescription: `x${bad}` }), field: 'body.shortDescription' },
  { method: 'POST', path: '/api/v1/connectors/{connector}/incidents', body: (bad) => ({ findingKey: 'f', shortDescription: 'x', description: `y${bad}` }), field: 'body.description' },
  { method: 'POST', path: '/api/v1/entities', body: (bad) => ({ type: 'malware', name: 'm', properties: { [`key${bad}`]: 1 } }), field: 'body.properties' },
];

/** Query and path parameters; `%00` is a NUL, `%ED%A0%80` the bytes a lone surrogate U+D800 would be. */
const PARAM_CASES: Array<{ url: (bad: string) => string; field: string; operator?: boolean }> = [
  { url: (bad) => `/api/v1/entities?q=a${bad}`, field: 'querystring.q' },
  { url: (bad) => `/api/v1/entities?source=a${bad}`, field: 'querystring.source' },
  { url: (bad) => `/api/v1/audit?action=a${bad}`, field: 'querystring.action' },
  { url: (bad) => `/api/v1/audit?actor=a${bad}`, field: 'querystring.actor' },
  { url: (bad) => `/api/v1/users?q=a${bad}`, field: 'querystring.q' },
  { url: (bad) => `/api/v1/playbooks?q=a${bad}`, field: 'querystring.q' },
  { url: (bad) => `/api/v1/playbooks?tag=a${bad}`, field: 'querystring.tag' },
  { url: (bad) => `/api/v1/dlq?queue=a${bad}`, field: 'querystring.queue' },
  { url: (bad) => `/api/v1/schemas?name=a${bad}`, field: 'querystring.name' },
  { url: (bad) => `/api/v1/ti/suppressions?warninglist=a${bad}`, field: 'querystring.warninglist' },
  { url: (bad) => `/api/v1/shared/slk_a${bad}`, field: 'params.token' },
  { url: (bad) => `/api/v1/entities/${bad}`, field: 'params.id' },
];

/** Path templates name fixtures in braces: `/api/v1/users/{user}`. */
const fill = (path: string) => path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name]!);

const NUL_BODY = '\u0000';
const SURROGATE_BODY = '\ud800';

describe('a NUL or a lone surrogate is refused at the edge with 400 naming the field', () => {
  for (const [label, bad] of [['NUL', NUL_BODY], ['lone surrogate', SURROGATE_BODY]] as const) {
    it.each(BODY_CASES.map((c) => [`${c.method} ${c.path} ${c.field}`, c] as const))(`${label} in %s`, async (_name, c) => {
      const who = c.operator ? t.operator : tenant.admin;
      const res = await who.send(c.method, fill(c.path), JSON.stringify(c.body!(bad)), { 'content-type': 'application/json' });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      const problem = problemOf(res);
      expect(problem.code).toBe('validation_failed');
      expect(problem.errors?.map((e) => e.path)).toEqual([expect.stringMatching(new RegExp(`^${c.field.replace(/[.[\]]/g, '\\$&')}`))]);
      expect(problem.detail).toContain(c.field);
    });
  }

  for (const [label, bad] of [['NUL', '%00'], ['lone surrogate', '%ED%A0%80']] as const) {
    it.each(PARAM_CASES.map((c) => [c.url('…'), c] as const))(`${label} in %s`, async (_name, c) => {
      const res = await tenant.admin.get(c.url(bad));
      expect(res.statusCode, res.body).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      if (c.field.startsWith('params.') && label === 'lone surrogate') {
        // Bytes that are not UTF-8 in the path: the router refuses the URL before any route is chosen.
        expect(problemOf(res).code).toBe('bad_request');
      } else {
        expect(problemOf(res).errors?.map((e) => e.path)).toEqual([c.field]);
      }
    });
  }

  it('refuses a bad path parameter on a route with a body', async () => {
    const res = await tenant.admin.patch('/api/v1/ti/providers/vendor%00', { costCents: 2 });
    expect(res.statusCode, res.body).toBe(400);
    expect(problemOf(res).errors?.map((e) => e.path)).toEqual(['params.provider']);
  });

  it('refuses a bad source on the streaming STIX ingest route, storing nothing', async () => {
    const res = await tenant.admin.post('/api/v1/ingest/stix?source=feed%00', { type: 'bundle', id: `bundle--${randomUUID()}`, objects: [] });
    expect(res.statusCode, res.body).toBe(400);
    expect(problemOf(res).errors?.map((e) => e.path)).toEqual(['querystring.source']);
    expect((await tenant.admin.get('/api/v1/ingest/runs')).json().items).toEqual([]);
  });

  it('still accepts other control characters, astral characters and well-formed surrogate pairs', async () => {
    const name = 'tab\tbell\u0007 emoji \u{1F600} bidi \u202E';
    const res = await tenant.admin.post('/api/v1/entities', { type: 'malware', name });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().name).toBe(name);
  });
});

describe('JSON nesting deeper than 64 levels', () => {
  /** Objects nested `levels` deep, as JSON text (JSON.stringify itself overflows the stack at 10,000 levels). */
  const nest = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);

  it('is refused with 400 naming the depth, however deep', async () => {
    // The body is one level and properties' value the second: 64 levels inside properties make 65.
    for (const levels of [64, 10_000]) {
      const res = await tenant.admin.send('POST', '/api/v1/entities', `{"type":"malware","name":"deep","properties":${nest(levels)}}`, { 'content-type': 'application/json' });
      expect(res.statusCode, res.body).toBe(400);
      const problem = problemOf(res);
      expect(problem.code).toBe('validation_failed');
      expect(problem.detail).toMatch(/deeper than 64 levels/);
      expect(problem.errors?.[0]?.path).toMatch(/^body\.properties(\.a)+$/);
    }
  });

  it('accepts 64 levels', async () => {
    const res = await tenant.admin.send('POST', '/api/v1/entities', `{"type":"malware","name":"deep enough","properties":${nest(63)}}`, { 'content-type': 'application/json' });
    expect(res.statusCode, res.body).toBe(201);
  });
});

describe('__proto__ and constructor.prototype keys', () => {
  it('are refused with a message that says what is wrong, not "not valid JSON"', async () => {
    const res = await tenant.admin.send('POST', '/api/v1/entities', '{"type":"malware","name":"p","properties":{"__proto__":{"admin":true}}}', { 'content-type': 'application/json' });
    expect(res.statusCode, res.body).toBe(400);
    const problem = problemOf(res);
    expect(problem.detail).not.toMatch(/not valid JSON/);
    expect(problem.detail).toMatch(/__proto__/);
    expect(problem.errors?.map((e) => e.path)).toEqual(['body.properties.__proto__']);
    const ctor = await tenant.admin.send('POST', '/api/v1/entities', '{"type":"malware","name":"p","properties":{"constructor":{"prototype":{}}}}', { 'content-type': 'application/json' });
    expect(ctor.statusCode).toBe(400);
    expect(problemOf(ctor).errors?.map((e) => e.path)).toEqual(['body.properties.constructor.prototype']);
  });

  it('leave a property merely named constructor alone', async () => {
    const res = await tenant.admin.post('/api/v1/entities', { type: 'malware', name: 'c', properties: { constructor: 'Acme' } });
    expect(res.statusCode, res.body).toBe(201);
  });
});
