/**
 * The HTTP provider template against a real HTTP server started here (port 0): the contract it speaks, the
 * credential header, 404 as unknown, the token bucket, and Retry-After on 429. Time is a manual clock; waits are
 * recorded, not slept.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../src/platform/clock.js';
import { createHttpProvider } from '../src/modules/ti/providers/http.provider.js';
import { LookupError } from '../src/modules/ti/providers/provider.js';

type Seen = { url: string; apiKey: string | undefined };
let server: Server;
let baseUrl: string;
const seen: Seen[] = [];
type Answer = { status: number; headers?: Record<string, string>; body?: unknown };
let script: Array<(req: IncomingMessage) => Answer> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ url: req.url!, apiKey: req.headers['x-api-key'] as string | undefined });
    const next = script.shift();
    const answer: Answer = next ? next(req) : { status: 200, body: { verdict: 'benign' } };
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen.length = 0;
  script = [];
});

function provider(options: { ratePerMinute?: number; burst?: number } = {}) {
  const clock = createManualClock('2026-02-01T00:00:00Z');
  const waits: number[] = [];
  const p = createHttpProvider(
    { name: 'vt', baseUrl, authHeader: 'x-api-key', authValue: 'secret-key', costCents: 25, ratePerMinute: options.ratePerMinute ?? 600, burst: options.burst ?? 10, timeoutMs: 5_000 },
    { clock, sleep: async (ms) => { waits.push(ms); clock.advance(ms); } },
  );
  return { p, waits };
}
const ip = { entityId: '00000000-0000-7000-8000-000000000001', type: 'ipv4-addr', value: '203.0.113.7' };

describe('HTTP enrichment provider', () => {
  it('asks GET <base>/lookup with the type, the value and the credential, and returns the verdict', async () => {
    script.push(() => ({ status: 200, body: { verdict: 'malicious', score: 97, tags: ['c2'] } }));
    const { p } = provider();
    const result = await p.lookup({ tenantId: 't' }, ip);
    expect(result).toEqual({ verdict: 'malicious', details: { provider: 'vt', score: 97, tags: ['c2'] } });
    expect(seen).toEqual([{ url: '/v1/lookup?type=ipv4-addr&value=203.0.113.7', apiKey: 'secret-key' }]);
    expect(p.costCents).toBe(25);
  });

  it('reads 404 as unknown and refuses a body without a known verdict', async () => {
    script.push(() => ({ status: 404 }), () => ({ status: 200, body: { verdict: 'evil' } }));
    const { p } = provider();
    expect((await p.lookup({ tenantId: 't' }, ip)).verdict).toBe('unknown');
    await expect(p.lookup({ tenantId: 't' }, ip)).rejects.toMatchObject({ name: 'LookupError', charged: true });
  });

  it('waits out a Retry-After on 429 and then asks again, uncharged for the refused call', async () => {
    script.push(() => ({ status: 429, headers: { 'retry-after': '7' } }), () => ({ status: 200, body: { verdict: 'suspicious' } }));
    const { p, waits } = provider();
    expect((await p.lookup({ tenantId: 't' }, ip)).verdict).toBe('suspicious');
    expect(waits).toEqual([7_000]);
    expect(seen).toHaveLength(2);
  });

  it('hands a long Retry-After back to the job instead of waiting in place', async () => {
    script.push(() => ({ status: 429, headers: { 'retry-after': '3600' } }));
    const { p, waits } = provider();
    const error = await p.lookup({ tenantId: 't' }, ip).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LookupError);
    expect(error).toMatchObject({ charged: false, retryAfterMs: 3_600_000 });
    expect(waits).toEqual([]);
  });

  it('spaces calls by its rate limit once the burst is spent', async () => {
    const { p, waits } = provider({ ratePerMinute: 30, burst: 2 });
    for (let i = 0; i < 4; i++) await p.lookup({ tenantId: 't' }, ip);
    expect(seen).toHaveLength(4);
    expect(waits).toEqual([2_000, 2_000]);
  });

  it('reports a server error as retryable and uncharged, without passing on its body', async () => {
    script.push(() => ({ status: 503, body: { secret: 'do not leak' } }));
    const { p } = provider();
    const error = (await p.lookup({ tenantId: 't' }, ip).catch((e: unknown) => e)) as LookupError;
    expect(error.charged).toBe(false);
    expect(error.message).toBe('provider vt failed with HTTP 503');
  });
});
