import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../../platform/clock.js';
import { loadFixtureFile } from './fixtures.js';
import { startServiceNowTestServer, type ServiceNowTestServer, type ServiceNowTestServerOptions } from './test-server.js';

const ADMIN = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
let server: ServiceNowTestServer | null = null;

async function start(options: ServiceNowTestServerOptions = {}) {
  server = await startServiceNowTestServer(options);
  return server;
}
afterEach(async () => {
  await server?.close();
  server = null;
});

async function get(s: ServiceNowTestServer, path: string, auth: string | null = ADMIN) {
  const res = await fetch(s.url + path, { headers: auth ? { authorization: auth } : {} });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

async function send(s: ServiceNowTestServer, method: string, path: string, body: unknown) {
  const res = await fetch(s.url + path, { method, headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

const incidents = loadFixtureFile('incident');

describe('ServiceNow test server: reading', () => {
  it('answers an empty v1 list with 404 and the documented error body, v2 with 200 and an empty result', async () => {
    const s = await start();
    const v1 = await get(s, '/api/now/table/incident?sysparm_query=number=INC9999999');
    expect(v1.status).toBe(404);
    expect(v1.body).toEqual({ error: { message: 'No Record found', detail: expect.any(String) }, status: 'failure' });
    const v2 = await get(s, '/api/now/v2/table/incident?sysparm_query=number=INC9999999');
    expect(v2.status).toBe(200);
    expect(v2.body).toEqual({ result: [] });
  });

  it('reads one record by sys_id, and answers 404 for an unknown one', async () => {
    const s = await start();
    const one = await get(s, `/api/now/table/incident/${incidents[3]!.sys_id}`);
    expect(one.status).toBe(200);
    expect(one.body.result.number).toBe(incidents[3]!.number);
    const missing = await get(s, '/api/now/v2/table/incident/0123456789abcdef0123456789abcdef');
    expect(missing.status).toBe(404);
    expect(missing.body.status).toBe('failure');
  });

  it('filters with >=, >, = and ^, and orders with ORDERBY and ORDERBYDESC', async () => {
    const s = await start();
    const from = await get(s, '/api/now/v2/table/incident?sysparm_query=sys_updated_on>=2026-01-05 11:05:00^ORDERBYsys_updated_on^ORDERBYsys_id&sysparm_fields=number,sys_updated_on,sys_id');
    const expected = incidents
      .filter((r) => String(r.sys_updated_on) >= '2026-01-05 11:05:00')
      .sort((a, b) => String(a.sys_updated_on).localeCompare(String(b.sys_updated_on)) || String(a.sys_id).localeCompare(String(b.sys_id)));
    expect(from.body.result.map((r: any) => r.number)).toEqual(expected.map((r) => r.number));
    const after = await get(s, '/api/now/v2/table/incident?sysparm_query=sys_updated_on>2026-01-05 11:05:00');
    expect(after.body.result).toHaveLength(expected.length - 2);
    const and = await get(s, '/api/now/v2/table/incident?sysparm_query=priority=1^active=true^ORDERBYDESCnumber&sysparm_fields=number');
    const numbers = incidents.filter((r) => r.priority === '1' && r.active === 'true').map((r) => r.number).sort().reverse();
    expect(and.body.result.map((r: any) => r.number)).toEqual(numbers);
    // Parts an instance cannot read are silently ignored, as ServiceNow does.
    const ignored = await get(s, '/api/now/v2/table/incident?sysparm_query=NOT A CONDITION^priority=1');
    expect(ignored.body.result).toHaveLength(incidents.filter((r) => r.priority === '1').length);
  });

  it('pages with sysparm_limit and sysparm_offset, with Link and X-Total-Count headers', async () => {
    const s = await start();
    const res = await get(s, '/api/now/table/incident?sysparm_limit=5&sysparm_offset=5&sysparm_query=ORDERBYnumber&sysparm_fields=number');
    expect(res.body.result.map((r: any) => r.number)).toEqual(incidents.map((r) => r.number).sort().slice(5, 10));
    expect(res.headers.get('x-total-count')).toBe(String(incidents.length));
    const links = Object.fromEntries(
      res.headers.get('link')!.split(',').map((part) => {
        const [, target, rel] = /^<([^>]+)>;rel="(\w+)"$/.exec(part)!;
        return [rel, new URL(target!).searchParams];
      }),
    );
    expect(Object.fromEntries(Object.entries(links).map(([rel, q]) => [rel, (q as URLSearchParams).get('sysparm_offset')]))).toEqual({ first: '0', prev: '0', next: '10', last: '10' });
    expect(links.next!.get('sysparm_query')).toBe('ORDERBYnumber');
  });

  it('returns only sysparm_fields, and reference fields as {link, value} unless links are excluded', async () => {
    const s = await start();
    const id = incidents[1]!.sys_id as string; // stored with bare sys_ids in the fixture
    const withLinks = await get(s, `/api/now/table/incident/${id}?sysparm_fields=number,caller_id`);
    expect(Object.keys(withLinks.body.result).sort()).toEqual(['caller_id', 'number']);
    expect(withLinks.body.result.caller_id).toEqual({ link: `${s.url}/api/now/table/sys_user/${incidents[1]!.caller_id}`, value: incidents[1]!.caller_id });
    const bare = await get(s, `/api/now/table/incident/${incidents[0]!.sys_id}?sysparm_fields=caller_id&sysparm_exclude_reference_link=true`);
    expect(bare.body.result.caller_id).toBe((incidents[0]!.caller_id as { value: string }).value);
  });

  it('renders display values (true and all) from sys_choice labels and referenced rows', async () => {
    const s = await start();
    const id = incidents[3]!.sys_id as string; // state 6, priority 2, caller Abel Tuter
    const shown = await get(s, `/api/now/table/incident/${id}?sysparm_display_value=true&sysparm_fields=state,priority,caller_id&sysparm_exclude_reference_link=true`);
    expect(shown.body.result).toEqual({ state: 'Resolved', priority: '2 - High', caller_id: 'Abel Tuter' });
    const all = await get(s, `/api/now/table/incident/${id}?sysparm_display_value=all&sysparm_fields=state,caller_id`);
    expect(all.body.result.state).toEqual({ display_value: 'Resolved', value: '6' });
    expect(all.body.result.caller_id).toMatchObject({ display_value: 'Abel Tuter', value: expect.stringMatching(/^[0-9a-f]{32}$/), link: expect.stringContaining('/sys_user/') });
    const onHold = incidents.find((r) => r.state === '3')!;
    const label = await get(s, `/api/now/table/incident/${onHold.sys_id}?sysparm_display_value=true&sysparm_fields=state`);
    expect(label.body.result.state).toBe('Awaiting Customer'); // the instance's own label, not the default
  });
});

describe('ServiceNow test server: auth', () => {
  it('answers bad or missing Basic credentials with 401 and the error body', async () => {
    const s = await start();
    for (const auth of [null, `Basic ${Buffer.from('admin:wrong').toString('base64')}`]) {
      const res = await get(s, '/api/now/table/incident', auth);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: { message: 'User Not Authenticated', detail: 'Required to provide Auth information' }, status: 'failure' });
    }
  });

  it('issues OAuth tokens for the password and client-credentials grants, refreshes them, and lets them expire', async () => {
    const clock = createManualClock('2026-03-01T00:00:00Z');
    const s = await start({ clock, tokenTtlSeconds: 600 });
    const token = async (form: Record<string, string>) => {
      const res = await fetch(`${s.url}/oauth_token.do`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ client_id: 'summit', client_secret: 'summit-secret', ...form }) });
      return { status: res.status, body: (await res.json()) as any };
    };
    const password = await token({ grant_type: 'password', username: 'admin', password: 'admin' });
    expect(password.body).toMatchObject({ token_type: 'Bearer', expires_in: 600, access_token: expect.any(String), refresh_token: expect.any(String) });
    expect((await get(s, '/api/now/v2/table/incident?sysparm_limit=1', `Bearer ${password.body.access_token}`)).status).toBe(200);
    clock.advance(600_000);
    expect((await get(s, '/api/now/v2/table/incident?sysparm_limit=1', `Bearer ${password.body.access_token}`)).status).toBe(401);
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: password.body.refresh_token });
    expect((await get(s, '/api/now/v2/table/incident?sysparm_limit=1', `Bearer ${refreshed.body.access_token}`)).status).toBe(200);
    const cc = await token({ grant_type: 'client_credentials' });
    expect(cc.status).toBe(200);
    expect((await token({ grant_type: 'password', username: 'admin', password: 'nope' })).status).toBe(401);
    expect((await token({ grant_type: 'client_credentials', client_secret: 'nope' })).status).toBe(401);
  });
});

describe('ServiceNow test server: limits and faults', () => {
  it('answers 429 with Retry-After and X-RateLimit headers once its rolling window is full', async () => {
    const clock = createManualClock('2026-03-01T00:00:00Z');
    const s = await start({ clock, rateLimit: { limit: 3, windowMs: 60_000 } });
    for (let i = 0; i < 3; i++) {
      expect((await get(s, '/api/now/v2/table/incident?sysparm_limit=1')).status).toBe(200);
      clock.advance(10_000);
    }
    const limited = await get(s, '/api/now/v2/table/incident?sysparm_limit=1');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('30'); // the first request leaves the window at t=60 s; now is t=30 s
    expect(limited.headers.get('x-ratelimit-limit')).toBe('3');
    expect(Number(limited.headers.get('x-ratelimit-reset'))).toBe(Date.parse('2026-03-01T00:01:00Z') / 1000);
    expect(limited.body.status).toBe('failure');
    clock.advance(30_000);
    expect((await get(s, '/api/now/v2/table/incident?sysparm_limit=1')).status).toBe(200);
    expect(s.log.map((e) => e.status)).toEqual([200, 200, 200, 429, 200]);
  });

  it('injects 5xx answers, forced 429s, dropped connections and slow answers for the next N requests', async () => {
    const s = await start();
    s.setFault({ kind: 'error', count: 2, status: 502 });
    s.setFault({ kind: 'rate_limit', count: 1, retryAfterSeconds: 7 });
    expect((await get(s, '/api/now/v2/table/incident?sysparm_limit=1')).status).toBe(502);
    expect((await get(s, '/api/now/v2/table/incident?sysparm_limit=1')).status).toBe(502);
    const limited = await get(s, '/api/now/v2/table/incident?sysparm_limit=1');
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '7']);
    expect((await get(s, '/api/now/v2/table/incident?sysparm_limit=1')).status).toBe(200);
    s.setFault({ kind: 'drop', count: 1 });
    await expect(fetch(`${s.url}/api/now/v2/table/incident`, { headers: { authorization: ADMIN } })).rejects.toThrow();
    s.setFault({ kind: 'slow', count: 1, delayMs: 300 });
    await expect(fetch(`${s.url}/api/now/v2/table/incident`, { headers: { authorization: ADMIN }, signal: AbortSignal.timeout(50) })).rejects.toThrow();
    expect(s.log.map((e) => e.status).slice(0, 5)).toEqual([502, 502, 429, 200, 0]);
  });

  it('changes a record after the Nth list read, moving it to the end of the sys_updated_on order', async () => {
    const clock = createManualClock('2026-03-01T00:00:00Z');
    const s = await start({ clock });
    const target = incidents[0]!;
    s.setFault({ kind: 'mutate', afterListRequests: 1, sysId: target.sys_id as string, changes: { state: '2' } });
    await get(s, '/api/now/v2/table/incident?sysparm_limit=1');
    const row = s.records.find((r) => r.sys_id === target.sys_id)!;
    expect(row).toMatchObject({ state: '2', sys_mod_count: String(Number(target.sys_mod_count) + 1), sys_updated_on: '2026-03-01 00:00:00' });
  });

  it('hides ACL-restricted rows after the limit, so a page comes back short while X-Total-Count counts them', async () => {
    const s = await start();
    const sorted = [...incidents].sort((a, b) => String(a.number).localeCompare(String(b.number)));
    s.setFault({ kind: 'hide', sysIds: [sorted[1]!.sys_id as string] });
    const page = await get(s, '/api/now/v2/table/incident?sysparm_limit=3&sysparm_query=ORDERBYnumber&sysparm_fields=number');
    expect(page.body.result.map((r: any) => r.number)).toEqual([sorted[0]!.number, sorted[2]!.number]);
    expect(page.headers.get('x-total-count')).toBe(String(incidents.length));
  });

  it('logs every request with time, method, path, query and status', async () => {
    const clock = createManualClock('2026-03-01T00:00:00Z');
    const s = await start({ clock });
    await get(s, '/api/now/v2/table/incident?sysparm_limit=2&sysparm_query=active=true');
    expect(s.log).toEqual([{ time: new Date('2026-03-01T00:00:00Z'), method: 'GET', path: '/api/now/v2/table/incident', query: { sysparm_limit: '2', sysparm_query: 'active=true' }, status: 200 }]);
  });
});

describe('ServiceNow test server: writing', () => {
  it('creates an incident with a new sys_id, the next number and a fresh sys_updated_on', async () => {
    const clock = createManualClock('2026-03-01T12:00:00Z');
    const s = await start({ clock });
    const res = await send(s, 'POST', '/api/now/table/incident?sysparm_exclude_reference_link=true', { short_description: 'From Summit', correlation_id: 'summit:finding:1', priority: 2 });
    expect(res.status).toBe(201);
    expect(res.body.result).toMatchObject({ sys_id: expect.stringMatching(/^[0-9a-f]{32}$/), number: 'INC0010013', short_description: 'From Summit', priority: '2', sys_updated_on: '2026-03-01 12:00:00', sys_mod_count: '0', correlation_id: 'summit:finding:1' });
    expect(res.headers.get('location')).toBe(`${s.url}/api/now/table/incident/${res.body.result.sys_id}`);
    expect(s.records).toHaveLength(incidents.length + 1);
  });

  it('updates an incident with PATCH, bumping sys_mod_count and sys_updated_on', async () => {
    const clock = createManualClock('2026-03-01T12:00:00Z');
    const s = await start({ clock });
    const target = incidents[4]!;
    const res = await send(s, 'PATCH', `/api/now/table/incident/${target.sys_id}`, { state: '2', sys_mod_count: '99' });
    expect(res.status).toBe(200);
    expect(res.body.result).toMatchObject({ state: '2', sys_mod_count: String(Number(target.sys_mod_count) + 1), sys_updated_on: '2026-03-01 12:00:00' });
    expect((await send(s, 'PATCH', '/api/now/table/incident/0123456789abcdef0123456789abcdef', { state: '2' })).status).toBe(404);
  });

  it('refuses bad JSON with 400, a wrong content type with 415, and writes by a read-only user with 403', async () => {
    const s = await start({ users: [{ username: 'admin', password: 'admin' }, { username: 'reader', password: 'r', readOnly: true }] });
    const bad = await fetch(`${s.url}/api/now/table/incident`, { method: 'POST', headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: '{nope' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).status).toBe('failure');
    const text = await fetch(`${s.url}/api/now/table/incident`, { method: 'POST', headers: { authorization: ADMIN, 'content-type': 'text/plain' }, body: 'x' });
    expect(text.status).toBe(415);
    const reader = `Basic ${Buffer.from('reader:r').toString('base64')}`;
    const denied = await fetch(`${s.url}/api/now/table/incident`, { method: 'POST', headers: { authorization: reader, 'content-type': 'application/json' }, body: '{}' });
    expect(denied.status).toBe(403);
    expect(s.records).toHaveLength(incidents.length);
  });
});
