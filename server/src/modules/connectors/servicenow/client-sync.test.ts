import { afterEach, describe, expect, it } from 'vitest';
import { busiestWindow, listRequests, readAll, startContract, versionKey } from './contract-helpers.js';
import { IncidentSchemaError } from './incident-record.js';
import { generateIncidents, loadFixtureFile, loadFixtures } from './fixtures.js';
import type { ServiceNowTestServer } from './test-server.js';

let server: ServiceNowTestServer | null = null;
async function contract(options: Parameters<typeof startContract>[0] = {}) {
  const c = await startContract(options);
  server = c.server;
  return c;
}
afterEach(async () => {
  await server?.close();
  server = null;
});

const fixtureIncidents = loadFixtureFile('incident');
const withIncidents = (incident: Array<Record<string, unknown>>) => ({ ...loadFixtures(), incident });

describe('incremental read (keyset paging)', () => {
  it('reads every incident once with the keyset query, sysparm_limit and never an offset', async () => {
    const { client, server } = await contract();
    const { records } = await readAll(client.pages());
    expect(records.map((r) => r.sysId).sort()).toEqual(fixtureIncidents.map((r) => r.sys_id).sort());
    const lists = listRequests(server.log);
    expect(lists.every((e) => e.query.sysparm_limit === '5' && e.query.sysparm_offset === undefined)).toBe(true);
    expect(lists[0]!.query.sysparm_query).toBe('ORDERBYsys_updated_on^ORDERBYsys_id');
    const lastOfFirstPage = records[4]!.raw.sys_updated_on as string;
    expect(lists[1]!.query.sysparm_query).toBe(`sys_updated_on>=${lastOfFirstPage}^ORDERBYsys_updated_on^ORDERBYsys_id`);
    // Delivered in keyset order, with times and references normalised.
    const times = records.map((r) => r.updatedAt.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(records.every((r) => r.callerId === null || /^[0-9a-f]{32}$/.test(r.callerId))).toBe(true);
  });

  it('walks a second shared by more incidents than a page holds, by sys_id, without a gap', async () => {
    const sameSecond = generateIncidents(23, { stepMs: 0 });
    const { client, server } = await contract({ server: { fixtures: withIncidents(sameSecond) } });
    const { records } = await readAll(client.pages());
    expect(records.map(versionKey).sort()).toEqual(sameSecond.map((r) => `${r.sys_id as string}:0`).sort());
    expect(listRequests(server.log).some((e) => /\^sys_id>[0-9a-f]{32}\^ORDERBYsys_id$/.test(e.query.sysparm_query!))).toBe(true);
  });

  it('resumes from a saved cursor without a gap, re-delivering only versions at the watermark second', async () => {
    const rows = generateIncidents(40, { stepMs: 400 });
    const { client } = await contract({ server: { fixtures: withIncidents(rows) } });
    const first = await readAll(client.pages(), 3);
    const rest = await readAll(client.pages({ from: first.cursor }));
    const all = new Set([...first.records, ...rest.records].map(versionKey));
    expect(all.size).toBe(40);
    const firstKeys = new Set(first.records.map(versionKey));
    const again = rest.records.filter((r) => firstKeys.has(versionKey(r)));
    expect(again.every((r) => r.raw.sys_updated_on === first.cursor!.updatedOn)).toBe(true);
  });

  it('treats a page shortened by ACLs as more to come, not the end', async () => {
    const { client, server } = await contract();
    const firstPage = [...fixtureIncidents].sort((a, b) => String(a.sys_updated_on).localeCompare(String(b.sys_updated_on)) || String(a.sys_id).localeCompare(String(b.sys_id))).slice(0, 5);
    const hidden = [firstPage[1]!.sys_id as string, firstPage[4]!.sys_id as string];
    server.setFault({ kind: 'hide', sysIds: hidden });
    const { records } = await readAll(client.pages());
    expect(records.map((r) => r.sysId).sort()).toEqual(fixtureIncidents.map((r) => r.sys_id as string).filter((id) => !hidden.includes(id)).sort());
  });

  it('reads an empty v1 result (404 No Record found) as no records', async () => {
    const { client } = await contract({ client: { apiVersion: 'v1' } });
    const { records, pages } = await readAll(client.pages({ from: { phase: 'after', updatedOn: '2030-01-01 00:00:00', afterSysId: null } }));
    expect([records.length, pages]).toEqual([0, 1]);
  });

  it('puts an extra filter first and refuses one ServiceNow would silently ignore', async () => {
    const { client, server } = await contract();
    const { records } = await readAll(client.pages({ query: 'active=true' }));
    expect(records.map((r) => r.number).sort()).toEqual(fixtureIncidents.filter((r) => r.active === 'true').map((r) => r.number).sort());
    expect(listRequests(server.log)[0]!.query.sysparm_query).toBe('active=true^ORDERBYsys_updated_on^ORDERBYsys_id');
    await expect(readAll(client.pages({ query: 'active=true^bogus' }))).rejects.toThrow(/silently ignore: bogus/);
    await expect(readAll(client.pages({ query: 'ORDERBYnumber' }))).rejects.toThrow(/must not set an order/);
  });
});

describe('records changing between pages', () => {
  it('keyset paging loses nothing and repeats no version while a read record moves to the end', async () => {
    const { client, server } = await contract({ client: { pageSize: 4 } });
    const sorted = [...fixtureIncidents].sort((a, b) => String(a.sys_updated_on).localeCompare(String(b.sys_updated_on)) || String(a.sys_id).localeCompare(String(b.sys_id)));
    const moved = sorted[1]!.sys_id as string;
    server.setFault({ kind: 'mutate', afterListRequests: 1, sysId: moved, changes: { state: '2' } });
    const { records } = await readAll(client.pages());
    const keys = records.map(versionKey);
    expect(new Set(keys).size).toBe(keys.length); // no version twice
    expect(new Set(records.map((r) => r.sysId))).toEqual(new Set(fixtureIncidents.map((r) => r.sys_id))); // no gap
    expect(records.filter((r) => r.sysId === moved).map((r) => r.modCount)).toEqual([Number(sorted[1]!.sys_mod_count), Number(sorted[1]!.sys_mod_count) + 1]);
  });

  it('(control) offset paging over the same change skips a record, so the fault bites', async () => {
    const { server } = await contract();
    const sorted = [...fixtureIncidents].sort((a, b) => String(a.sys_updated_on).localeCompare(String(b.sys_updated_on)) || String(a.sys_id).localeCompare(String(b.sys_id)));
    server.setFault({ kind: 'mutate', afterListRequests: 1, sysId: sorted[1]!.sys_id as string, changes: { state: '2' } });
    const seen = new Set<string>();
    for (let offset = 0; offset < fixtureIncidents.length; offset += 4) {
      const res = await fetch(`${server.url}/api/now/v2/table/incident?sysparm_query=ORDERBYsys_updated_on^ORDERBYsys_id&sysparm_limit=4&sysparm_offset=${offset}`, { headers: { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` } });
      for (const row of ((await res.json()) as { result: Array<{ sys_id: string }> }).result) seen.add(row.sys_id);
    }
    expect(seen.has(sorted[4]!.sys_id as string)).toBe(false);
  });
});

describe('throttling, proven by the server\'s own request log', () => {
  it('never exceeds requestsPerSecond (server limit 5 per rolling second)', async () => {
    const rows = generateIncidents(60);
    const { client, server } = await contract({ server: { fixtures: withIncidents(rows), rateLimit: { limit: 5, windowMs: 1000 } }, client: { pageSize: 2, rateLimit: { requestsPerSecond: 5, burst: 1 } } });
    const { records } = await readAll(client.pages());
    expect(new Set(records.map(versionKey)).size).toBe(60);
    expect(server.log.filter((e) => e.status === 429)).toEqual([]);
    expect(busiestWindow(server.log, 1000)).toBe(5);
    expect(server.log.length).toBeGreaterThanOrEqual(31);
  });

  it('(control) without the limiter the same read trips the server\'s limit', async () => {
    const rows = generateIncidents(60);
    const { client, server } = await contract({ server: { fixtures: withIncidents(rows), rateLimit: { limit: 5, windowMs: 1000 } }, client: { pageSize: 2 } });
    await readAll(client.pages());
    expect(server.log.some((e) => e.status === 429)).toBe(true);
  });

  it('never exceeds requestsPerHour over a read that spans hours (server limit 10 per rolling hour)', async () => {
    const rows = generateIncidents(40);
    const { client, server, clock } = await contract({ server: { fixtures: withIncidents(rows), rateLimit: { limit: 10, windowMs: 3_600_000 } }, client: { pageSize: 2, rateLimit: { requestsPerSecond: 5, burst: 5, requestsPerHour: 10 } } });
    const { records } = await readAll(client.pages());
    expect(new Set(records.map(versionKey)).size).toBe(40);
    expect(server.log.filter((e) => e.status === 429)).toEqual([]);
    expect(busiestWindow(server.log, 3_600_000)).toBe(10);
    expect(clock.now().getTime() - Date.parse('2026-03-01T00:00:00Z')).toBeGreaterThanOrEqual(2 * 3_600_000);
  });
});

describe('storms', () => {
  it('delivers every record exactly once through a storm of 429s, 5xx answers and dropped connections', async () => {
    const rows = generateIncidents(70, { stepMs: 700 });
    const { client, server } = await contract({ server: { fixtures: withIncidents(rows) }, client: { pageSize: 6, retry: { baseDelayMs: 100, maxAttempts: 6 } } });
    const storm = [
      { kind: 'error', count: 3, status: 503 },
      { kind: 'rate_limit', count: 2, retryAfterSeconds: 5 },
      { kind: 'drop', count: 2 },
      { kind: 'error', count: 2, status: 500 },
      { kind: 'rate_limit', count: 1, retryAfterSeconds: 1 },
    ] as const;
    const delivered: string[] = [];
    let page = 0;
    server.setFault(storm[0]);
    for await (const { records } of client.pages()) {
      delivered.push(...records.map(versionKey));
      server.setFault(storm[++page % storm.length]!);
    }
    expect(delivered.sort()).toEqual(rows.map((r) => `${r.sys_id as string}:0`).sort());
    const statuses = server.log.map((e) => e.status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(4);
    expect(statuses.filter((s) => s >= 500).length).toBeGreaterThanOrEqual(8);
    expect(statuses.filter((s) => s === 0).length).toBeGreaterThanOrEqual(2);
  });
});

describe('schema drift', () => {
  it('stops the read with an error naming the field when the instance\'s shape changed', async () => {
    const drifted = loadFixtureFile('incident-drifted');
    const { client } = await contract({ server: { fixtures: withIncidents([drifted[0]!]) } });
    const error = await readAll(client.pages()).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(IncidentSchemaError);
    expect((error as IncidentSchemaError).fields).toEqual([{ field: 'short_description', problem: 'missing' }]);
  });

  it('names a reference whose style changed, served by the instance as recorded', async () => {
    const drifted = loadFixtureFile('incident-drifted');
    const { client } = await contract({ server: { fixtures: withIncidents([drifted[2]!]) } });
    await expect(readAll(client.pages())).rejects.toThrow(/caller_id \(expected a reference/);
  });
});
