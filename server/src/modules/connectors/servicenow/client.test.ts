import { afterEach, describe, expect, it } from 'vitest';
import { readAll, startContract } from './contract-helpers.js';
import { ServiceNowAuthError, ServiceNowError } from './errors.js';
import { loadFixtureFile } from './fixtures.js';
import type { ServiceNowTestServer } from './test-server.js';

const servers: ServiceNowTestServer[] = [];
async function contract(options: Parameters<typeof startContract>[0] = {}) {
  const c = await startContract(options);
  servers.push(c.server);
  return c;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const fixtureIncidents = loadFixtureFile('incident');
const OAUTH = { type: 'oauth', grant: 'password', clientId: 'summit', clientSecret: 'summit-secret', username: 'admin', password: 'admin' } as const;

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => {
    throw new Error('expected a failure');
  }, (error: unknown) => error);
}

/** A fetch that records the form bodies sent to /oauth_token.do. */
function recordingFetch(grants: string[]): typeof fetch {
  return (input, init) => {
    if (String(input).includes('/oauth_token.do')) grants.push(new URLSearchParams(String(init?.body)).get('grant_type') ?? '');
    return fetch(input, init);
  };
}

describe('retries', () => {
  it('honours a 429\'s Retry-After before asking again', async () => {
    const { client, server, sleeps } = await contract();
    server.setFault({ kind: 'rate_limit', count: 1, retryAfterSeconds: 30 });
    expect(await client.getIncident(fixtureIncidents[0]!.sys_id as string)).not.toBeNull();
    expect(sleeps).toEqual([30_000]);
    expect(server.log[1]!.time.getTime() - server.log[0]!.time.getTime()).toBe(30_000);
    expect(client.rateLimitInfo()).toMatchObject({ rule: 'fault' });
  });

  it('stops with a retryable rate_limited error carrying the wait when Retry-After is too long, and reads X-RateLimit-*', async () => {
    const { client, server } = await contract({ server: { rateLimit: { limit: 2 } } });
    await client.getIncident(fixtureIncidents[0]!.sys_id as string);
    await client.getIncident(fixtureIncidents[1]!.sys_id as string);
    const error = (await failure(client.getIncident(fixtureIncidents[2]!.sys_id as string))) as ServiceNowError;
    expect([error.kind, error.retryable, error.status, error.options.retryAfterMs]).toEqual(['rate_limited', true, 429, 3_600_000]);
    expect(client.rateLimitInfo()).toEqual({ limitPerHour: 2, resetAt: new Date('2026-03-01T01:00:00Z'), rule: 'summit-test' });
    expect(server.log).toHaveLength(3);
  });

  it('retries 5xx answers with exponential backoff and jitter', async () => {
    const { client, server, sleeps } = await contract();
    server.setFault({ kind: 'error', count: 3, status: 503 });
    expect((await client.getIncident(fixtureIncidents[0]!.sys_id as string))?.number).toBe('INC0010001');
    // base 100 ms, doubling, equal jitter at random() = 0.5: ¾ of each cap.
    expect(sleeps).toEqual([75, 150, 300]);
    expect(server.log.map((e) => e.status)).toEqual([503, 503, 503, 200]);
  });

  it('reports every exchange to onRequest (for metrics), network errors included', async () => {
    const events: Array<{ status: number | string; attempt: number }> = [];
    const { client, server } = await contract({ deps: { onRequest: (e) => events.push({ status: e.status, attempt: e.attempt }) } });
    server.setFault({ kind: 'error', count: 1, status: 500 });
    server.setFault({ kind: 'drop', count: 1 });
    await client.getIncident(fixtureIncidents[0]!.sys_id as string);
    // The drop is taken before the error on the first request; the second gets the 500.
    expect(events).toEqual([{ status: 'network_error', attempt: 1 }, { status: 500, attempt: 2 }, { status: 200, attempt: 3 }]);
  });

  it('gives up after maxAttempts with a retryable upstream error', async () => {
    const { client, server } = await contract({ client: { retry: { baseDelayMs: 100, maxAttempts: 4 } } });
    server.setFault({ kind: 'error', count: 10, status: 502 });
    const error = (await failure(client.getIncident(fixtureIncidents[0]!.sys_id as string))) as ServiceNowError;
    expect([error.kind, error.retryable, error.status]).toEqual(['upstream', true, 502]);
    expect(server.log).toHaveLength(4);
  });

  it('retries a dropped connection and a response slower than the timeout', async () => {
    const { client, server } = await contract({ client: { timeoutMs: 100 } });
    server.setFault({ kind: 'drop', count: 1 });
    server.setFault({ kind: 'slow', count: 1, delayMs: 400 });
    expect(await client.getIncident(fixtureIncidents[0]!.sys_id as string)).not.toBeNull();
    expect(server.log.length).toBe(3);
  });
});

describe('authentication', () => {
  it('stops on bad Basic credentials with a typed 401 error, without retrying', async () => {
    const { client, server } = await contract({ client: { auth: { type: 'basic', username: 'admin', password: 'wrong' } } });
    const error = await failure(readAll(client.pages()));
    expect(error).toBeInstanceOf(ServiceNowAuthError);
    expect([(error as ServiceNowAuthError).status, (error as ServiceNowAuthError).retryable]).toEqual([401, false]);
    expect(server.log).toHaveLength(1);
    expect(await client.checkConnection()).toEqual({ ok: false, kind: 'auth', message: expect.stringContaining('401 User Not Authenticated') });
  });

  it('stops on 403 with a typed error, without retrying', async () => {
    const { client, server } = await contract({ server: { users: [{ username: 'admin', password: 'admin', deniedTables: ['incident'] }] } });
    const error = (await failure(client.getIncident(fixtureIncidents[0]!.sys_id as string))) as ServiceNowAuthError;
    expect([error.kind, error.status]).toEqual(['forbidden', 403]);
    expect(server.log).toHaveLength(1);
  });

  it('fetches an OAuth token once (password grant), refreshes it on expiry with the refresh token', async () => {
    const grants: string[] = [];
    const { client, server, clock } = await contract({ server: { tokenTtlSeconds: 1799 }, client: { auth: OAUTH }, deps: { fetch: recordingFetch(grants) } });
    await readAll(client.pages());
    expect(grants).toEqual(['password']);
    clock.advance(1800_000);
    expect(await client.getIncident(fixtureIncidents[0]!.sys_id as string)).not.toBeNull();
    expect(grants).toEqual(['password', 'refresh_token']);
    expect(server.log.filter((e) => e.status === 401)).toEqual([]);
  });

  it('after a 401 on a token it believed valid, gets a new token once and retries', async () => {
    const grants: string[] = [];
    const { client, server } = await contract({ client: { auth: OAUTH }, deps: { fetch: recordingFetch(grants) } });
    await client.getIncident(fixtureIncidents[0]!.sys_id as string);
    server.revokeTokens();
    expect(await client.getIncident(fixtureIncidents[1]!.sys_id as string)).not.toBeNull();
    expect(grants).toEqual(['password', 'refresh_token']);
    expect(server.log.map((e) => `${e.path.replace(/\/[0-9a-f]{32}$/, '/:id')} ${e.status}`)).toEqual([
      '/oauth_token.do 200', '/api/now/v2/table/incident/:id 200', '/api/now/v2/table/incident/:id 401', '/oauth_token.do 200', '/api/now/v2/table/incident/:id 200',
    ]);
  });

  it('uses the client-credentials grant, and stops with a typed error when the client is refused', async () => {
    const grants: string[] = [];
    const cc = { type: 'oauth', grant: 'client_credentials', clientId: 'summit', clientSecret: 'summit-secret' } as const;
    const { client } = await contract({ client: { auth: cc }, deps: { fetch: recordingFetch(grants) } });
    expect(await client.checkConnection()).toEqual({ ok: true });
    expect(grants).toEqual(['client_credentials']);
    const refused = await contract({ client: { auth: { ...cc, clientSecret: 'nope' } } });
    const error = await failure(refused.client.getIncident(fixtureIncidents[0]!.sys_id as string));
    expect(error).toBeInstanceOf(ServiceNowAuthError);
    expect(refused.server.log).toHaveLength(1);
  });
});

describe('outbound incidents', () => {
  it('finds an incident by correlation_id, or null', async () => {
    const { client } = await contract();
    expect((await client.findByCorrelationId('summit:finding:seed-0003'))?.number).toBe('INC0010003');
    expect(await client.findByCorrelationId('summit:finding:none')).toBeNull();
    await expect(client.findByCorrelationId('x^active=true')).rejects.toThrow(/cannot appear in an encoded query/);
  });

  it('creates and updates incidents, reading back the normalised record', async () => {
    const { client, server, clock } = await contract();
    const created = await client.createIncident({ shortDescription: 'C2 beacon on web-prod-03', description: 'to 198.51.100.23', priority: 2, correlationId: 'summit:finding:42', cmdbCiId: fixtureIncidents[0]!.cmdb_ci ? (fixtureIncidents[0]!.cmdb_ci as { value: string }).value : undefined });
    expect(created).toMatchObject({ number: 'INC0010013', shortDescription: 'C2 beacon on web-prod-03', priority: 2, modCount: 0, correlationId: 'summit:finding:42', updatedAt: new Date('2026-03-01T00:00:00Z') });
    expect(created.cmdbCiId).toMatch(/^[0-9a-f]{32}$/);
    clock.advance(5_000);
    const updated = await client.updateIncident(created.sysId, { state: 2 });
    expect([updated.state, updated.modCount, updated.updatedAt]).toEqual([2, 1, new Date('2026-03-01T00:00:05Z')]);
    expect(server.records).toHaveLength(fixtureIncidents.length + 1);
  });

  it('upserts by correlation_id: a replay updates instead of creating a second incident', async () => {
    const { client, server } = await contract();
    const first = await client.upsertByCorrelationId('summit:finding:7', { shortDescription: 'first' });
    const second = await client.upsertByCorrelationId('summit:finding:7', { shortDescription: 'second' });
    expect([first.created, second.created, second.record.sysId]).toEqual([true, false, first.record.sysId]);
    expect(server.records.filter((r) => r.correlation_id === 'summit:finding:7')).toHaveLength(1);
  });

  it('when a create\'s answer is lost after the server applied it, looks up refused instead of creating twice', async () => {
    let armed = true;
    let s: ServiceNowTestServer | null = null;
    const fetchLosingFirstCreate: typeof fetch = (input, init) => {
      if (init?.method === 'POST' && armed && s) {
        armed = false;
        s.setFault({ kind: 'drop', count: 1, afterApply: true });
      }
      return fetch(input, init);
    };
    const { client, server: started } = await contract({ deps: { fetch: fetchLosingFirstCreate } });
    s = started;
    const result = await client.upsertByCorrelationId('summit:finding:lost', { shortDescription: 'once' });
    expect(result.created).toBe(false);
    expect(started.records.filter((r) => r.correlation_id === 'summit:finding:lost')).toHaveLength(1);
    expect(started.log.map((e) => e.method)).toEqual(['GET', 'POST', 'GET', 'PATCH']);
  });
});

describe('choice labels', () => {
  it('takes labels from sys_choice over the built-in defaults', async () => {
    const { client } = await contract();
    const labels = await client.choiceLabels('state');
    expect(labels).toMatchObject({ '1': 'New', '3': 'Awaiting Customer', '6': 'Resolved' });
  });

  it('falls back to the built-in labels when sys_choice is closed to the integration user', async () => {
    const { client } = await contract({ server: { users: [{ username: 'admin', password: 'admin', deniedTables: ['sys_choice'] }] } });
    expect(await client.choiceLabels('state')).toMatchObject({ '3': 'On Hold' });
  });
});
