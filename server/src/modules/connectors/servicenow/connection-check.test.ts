/**
 * The connector's "test" action must prove the URL is a ServiceNow Table API, not merely that something answered:
 * a web server that answers 404 (or a login page with 200) used to pass.
 */
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createServiceNowClient } from './client.js';
import { startContract } from './contract-helpers.js';
import type { ServiceNowTestServer } from './test-server.js';

const servers: Array<Server | ServiceNowTestServer> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => ('url' in s ? s.close() : new Promise((resolve) => (s as Server).close(resolve)))));
});

/** A server that answers every request with the same status, content type and body. */
async function answering(status: number, contentType: string | null, body: string): Promise<string> {
  const server = createServer((_req, res) => {
    res.writeHead(status, contentType ? { 'content-type': contentType } : {});
    res.end(body);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

const clientFor = (instanceUrl: string, apiVersion?: 'v1' | 'v2') =>
  createServiceNowClient({ instanceUrl, apiVersion, auth: { type: 'basic', username: 'u', password: 'p' }, retry: { maxAttempts: 1 } });

describe('checkConnection', () => {
  it('passes against a ServiceNow Table API', async () => {
    const { client, server } = await startContract();
    servers.push(server);
    expect(await client.checkConnection()).toEqual({ ok: true });
  });

  it('passes against an empty table on the v1 API, which answers 404 with ServiceNow\'s error body', async () => {
    const url = await answering(404, 'application/json;charset=UTF-8', JSON.stringify({ error: { message: 'No Record found', detail: 'Records matching query not found.' }, status: 'failure' }));
    expect(await clientFor(url, 'v1').checkConnection()).toEqual({ ok: true });
  });

  it.each([
    ['a 404 web page', 404, 'text/html', '<h1>Not Found</h1>', /answered HTTP 404 with text\/html, not a ServiceNow Table API answer/],
    ['a 200 login page', 200, 'text/html; charset=utf-8', '<form>login</form>', /answered HTTP 200 with text\/html/],
    ['JSON without a result list', 200, 'application/json', '{"status":"ok"}', /no result list/],
    ['a JSON 404 on the v2 API', 404, 'application/json', '{"error":{"message":"No Record found"},"status":"failure"}', /answered HTTP 404 \(No Record found\) where the Table API lists the table/],
    ['an answer without a content type', 200, null, '{"result":[]}', /with no content type/],
  ] as const)('fails against %s, saying what answered', async (_name, status, type, body, message) => {
    const url = await answering(status, type, body);
    const result = await clientFor(url).checkConnection();
    expect(result).toEqual({ ok: false, kind: 'not_servicenow', message: expect.stringMatching(message) });
    expect(result.ok ? '' : result.message).toContain('check instanceUrl');
  });
});
