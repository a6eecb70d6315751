/**
 * The outbound policy holds at connect time: a name is refused when what it resolves to (through the connection's own
 * lookup, so no second resolution can differ) is not allowed. Resolution comes from a table, never real DNS.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutboundHttp, OutboundAddressError, outboundRefusalOf, type Resolver } from './outbound-fetch.js';
import { outboundPolicyFor } from './outbound-url.js';

let server: Server;
let port: number;
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(`${req.headers.host} ${req.url}`);
    if (req.url === '/redirect') {
      res.writeHead(302, { location: `http://127.0.0.1:${port}/elsewhere` });
      return res.end();
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('reached');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const table: Record<string, Array<{ address: string; family: 4 | 6 }>> = {
  'rebind.example': [{ address: '127.0.0.1', family: 4 }],
  'metadata.example': [{ address: '169.254.169.254', family: 4 }],
  'mixed.example': [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.5', family: 4 }],
  'mapped.example': [{ address: '::ffff:127.0.0.1', family: 6 }],
};
const resolve: Resolver = async (host) => {
  const answer = table[host];
  if (!answer) throw Object.assign(new Error(`no such host ${host}`), { code: 'ENOTFOUND' });
  return answer;
};

async function refusal(promise: Promise<unknown>): Promise<OutboundAddressError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  const refused = outboundRefusalOf(error);
  if (!refused) throw new Error(`expected a refusal, got ${String(error)}`);
  return refused;
}

describe('in prod', () => {
  const prod = createOutboundHttp({ policy: outboundPolicyFor('prod'), resolve });
  afterAll(() => prod.close());

  it('refuses a name that resolves to 127.0.0.1 as the connection opens, and never connects', async () => {
    seen.length = 0;
    const refused = await refusal(prod.fetch(`https://rebind.example:${port}/hook`, { method: 'POST', body: '{}' }));
    expect([refused.host, refused.address]).toEqual(['rebind.example', '127.0.0.1']);
    await refusal(prod.fetch(`http://rebind.example:${port}/hook`));
    expect(seen).toEqual([]);
  });

  it.each([
    ['cloud metadata', 'metadata.example', '169.254.169.254'],
    ['one private answer among public ones', 'mixed.example', '10.0.0.5'],
    ['an IPv4-mapped IPv6 loopback', 'mapped.example', '::ffff:127.0.0.1'],
  ])('refuses %s', async (_what, host, address) => {
    expect((await refusal(prod.fetch(`https://${host}/x`))).address).toBe(address);
  });

  it('refuses an IP literal without any lookup', async () => {
    seen.length = 0;
    expect((await refusal(prod.fetch(`http://127.0.0.1:${port}/x`))).address).toBe('127.0.0.1');
    expect((await refusal(prod.fetch(`http://[::1]:${port}/x`))).address).toBe('::1');
    expect(seen).toEqual([]);
  });
});

describe('outside prod', () => {
  const dev = createOutboundHttp({ policy: outboundPolicyFor('dev'), resolve });
  afterAll(() => dev.close());

  it('connects to loopback, through the injected resolution', async () => {
    seen.length = 0;
    const res = await dev.fetch(`http://rebind.example:${port}/hello`);
    expect(await res.text()).toBe('reached');
    expect(seen).toEqual([`rebind.example:${port} /hello`]);
  });

  it('never follows a redirect: refused by default, handed back when asked for manual', async () => {
    seen.length = 0;
    await expect(dev.fetch(`http://127.0.0.1:${port}/redirect`)).rejects.toThrow();
    const manual = await dev.fetch(`http://127.0.0.1:${port}/redirect`, { redirect: 'manual' });
    expect(manual.status).toBe(302);
    expect(seen).toEqual([`127.0.0.1:${port} /redirect`, `127.0.0.1:${port} /redirect`]);
  });
});
