/**
 * Shared set-up for the client's contract tests: a test server and a client sharing one manual clock, where the
 * client's sleep moves that clock — so rate windows, Retry-After and token expiry pass without real waiting, and
 * the server's request log is in the same time as the client's limiter.
 */
import { createManualClock } from '../../../platform/clock.js';
import { createServiceNowClient, type ServiceNowClientConfig, type ServiceNowClientDeps } from './client.js';
import type { IncidentRecord } from './incident-record.js';
import type { KeysetCursor } from './keyset-pager.js';
import { startServiceNowTestServer, type RequestLogEntry, type ServiceNowTestServerOptions } from './test-server.js';

export async function startContract(options: { server?: ServiceNowTestServerOptions; client?: Partial<ServiceNowClientConfig>; deps?: ServiceNowClientDeps } = {}) {
  const clock = createManualClock('2026-03-01T00:00:00Z');
  const sleeps: number[] = [];
  const sleep = async (ms: number) => {
    sleeps.push(ms);
    clock.advance(ms);
  };
  const server = await startServiceNowTestServer({ clock, ...options.server });
  const client = createServiceNowClient(
    { instanceUrl: server.url, auth: { type: 'basic', username: 'admin', password: 'admin' }, pageSize: 5, retry: { baseDelayMs: 100 }, ...options.client },
    { clock, sleep, random: () => 0.5, ...options.deps },
  );
  return { clock, sleeps, server, client };
}

/** Every record the client delivers, in order, with the cursor after the last page. */
export async function readAll(pages: AsyncIterable<{ records: IncidentRecord[]; cursor: KeysetCursor }>, stopAfterPages = Infinity) {
  const records: IncidentRecord[] = [];
  let cursor: KeysetCursor | null = null;
  let count = 0;
  for await (const page of pages) {
    records.push(...page.records);
    cursor = page.cursor;
    if (++count >= stopAfterPages) break;
  }
  return { records, cursor, pages: count };
}

export const versionKey = (r: IncidentRecord) => `${r.sysId}:${r.modCount}`;

/** The most requests the server saw inside any window [t, t + windowMs), by the server's own log. */
export function busiestWindow(log: RequestLogEntry[], windowMs: number): number {
  const times = log.map((e) => e.time.getTime()).sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

export const listRequests = (log: RequestLogEntry[]) => log.filter((e) => e.method === 'GET' && /\/table\/incident$/.test(e.path));
