/**
 * ServiceNow connector benchmark (issue 6, "Benchmark"): read N incidents (50,000 by default) from the Table API
 * test server through the client's keyset pager (`client.pages()`), with the client limited to R requests/s (20)
 * and pages of P rows (500), while the test server enforces the same R per rolling second and answers anything
 * over it with 429 + Retry-After — so a client that overshoots shows up as 429s in the server's own request log.
 *
 * Both sides run on the real clock in this process. Reported, as one JSON object on stdout (progress on stderr):
 *   recordsPerSecond       records delivered ÷ wall time from the first request to the last page
 *   requestsPerSecond      the sending rate by the server's log: (requests − 1) ÷ (last arrival − first arrival),
 *                          so n requests span n − 1 intervals (goal ≥ 90% of the limit)
 *   busiest1sWindow        most requests the server saw inside any 1-second window [t, t+1 s) (must be ≤ limit)
 *   throttled              429s the server answered (0 when the client stayed inside the limit)
 *   duplicates             records delivered more than once by (sys_id, sys_mod_count) (must be 0)
 *   missing                generated incidents never delivered (must be 0)
 *   rereadsDropped         rows a `>=` page re-read at its watermark and the pager dropped (expected, not delivered)
 * The exit code is 1 when a "must" fails.
 *
 * What this does not measure: the full sync into the graph (mapping, upserts, watermark per page in one transaction).
 * That job (server/src/modules/connectors/servicenow/sync.ts) was still being written when this bench was; a second
 * mode that runs it into a real database belongs here once it is committed. The request pattern it sends is the
 * same pager's, so the rate figures hold; records/s will then be bounded by the database rather than the limiter.
 *
 * Why the sending rate stays a little under the limit: keyset pages are sequential (each query starts where the
 * last page ended), so a request goes out at max(1/rate, previous latency + parsing) after the one before.
 *
 * Run: cd /work/main/server && npx tsx ../bench/servicenow.ts
 * Options (flag `--name=value` or env `BENCH_NAME`):
 *   records=50000   incidents generated on the test server
 *   rate=20         requests per second: the client's limit and the server's
 *   page-size=500   sysparm_limit per request
 *   step-ms=250     time between generated incidents' sys_updated_on (<1000: several share a second, as in
 *                   real instances, which exercises the pager's `>=` re-reads and tie-break)
 *   burst=1         the client's token-bucket burst. Above 1, back-to-back requests after an idle moment can put
 *                   more than `rate` requests into one rolling second, which the server refuses with 429.
 */
import { busiestWindow } from '../server/src/modules/connectors/servicenow/contract-helpers.js';
import { createServiceNowClient, type RequestEvent } from '../server/src/modules/connectors/servicenow/client.js';
import { generateIncidents, loadFixtures } from '../server/src/modules/connectors/servicenow/fixtures.js';
import { startServiceNowTestServer } from '../server/src/modules/connectors/servicenow/test-server.js';

function option(name: string, fallback: number): number {
  const flag = process.argv.find((arg) => arg.startsWith(`--${name}=`));
  const raw = flag ? flag.slice(name.length + 3) : process.env[`BENCH_${name.toUpperCase().replaceAll('-', '_')}`];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got ${raw}`);
  return value;
}

const records = option('records', 50_000);
const rate = option('rate', 20);
const pageSize = option('page-size', 500);
const stepMs = option('step-ms', 250);
const burst = option('burst', 1);

const round = (n: number, digits = 1) => Number(n.toFixed(digits));
const progress = (text: string) => process.stderr.write(`${text}\n`);

async function main(): Promise<number> {
  const incidents = generateIncidents(records, { stepMs, prefix: 'bench' });
  const server = await startServiceNowTestServer({
    fixtures: { ...loadFixtures(), incident: incidents },
    rateLimit: { limit: rate, windowMs: 1000 },
  });
  const statuses: Record<string, number> = {};
  const durationsMs: number[] = [];
  const client = createServiceNowClient(
    { instanceUrl: server.url, auth: { type: 'basic', username: 'admin', password: 'admin' }, rateLimit: { requestsPerSecond: rate, burst }, pageSize },
    {
      onRequest: (event: RequestEvent) => {
        statuses[event.status] = (statuses[event.status] ?? 0) + 1;
        durationsMs.push(event.durationMs);
      },
    },
  );
  try {
    progress(`servicenow bench: ${records} incidents, ${rate} requests/s, pages of ${pageSize}, ${server.url}`);
    const delivered = new Map<string, number>();
    let rereadsDropped = 0;
    let pages = 0;
    const started = performance.now();
    for await (const page of client.pages()) {
      pages++;
      rereadsDropped += page.duplicates;
      for (const record of page.records) {
        const key = `${record.sysId}:${record.modCount}`;
        delivered.set(key, (delivered.get(key) ?? 0) + 1);
      }
      if (pages % 20 === 0) progress(`  ${pages} pages, ${delivered.size} records, ${round((performance.now() - started) / 1000)} s`);
    }
    const elapsedS = (performance.now() - started) / 1000;

    const log = server.log;
    const deliveredCount = [...delivered.values()].reduce((a, b) => a + b, 0);
    const duplicates = deliveredCount - delivered.size;
    const missing = incidents.filter((row) => !delivered.has(`${row.sys_id as string}:${row.sys_mod_count as string}`)).length;
    const busiest = busiestWindow(log, 1000);
    const throttled = log.filter((e) => e.status === 429).length;
    const times = log.map((e) => e.time.getTime());
    const spanS = (Math.max(...times) - Math.min(...times)) / 1000;
    const requestsPerSecond = log.length > 1 && spanS > 0 ? (log.length - 1) / spanS : 0;
    const sorted = [...durationsMs].sort((a, b) => a - b);
    const pct = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0, 1);
    const checks = {
      neverOverLimit: busiest <= rate && throttled === 0,
      atLeast90PercentOfLimit: requestsPerSecond >= 0.9 * rate,
      noDuplicates: duplicates === 0,
      noneMissing: missing === 0,
    };
    const result = {
      bench: 'servicenow',
      mode: 'client.pages() against the Table API test server',
      config: { records, rateLimitPerSecond: rate, serverLimitPerRollingSecond: rate, pageSize, burst, stepMs },
      elapsedSeconds: round(elapsedS, 2),
      records: { delivered: deliveredCount, unique: delivered.size, duplicates, missing, rereadsDropped },
      recordsPerSecond: round(deliveredCount / elapsedS),
      requests: {
        sent: log.length,
        pages,
        byStatus: statuses,
        throttled,
        requestsPerSecond: round(requestsPerSecond, 2),
        shareOfLimit: round(requestsPerSecond / rate, 3),
        busiest1sWindow: busiest,
        latencyMs: { p50: pct(0.5), p95: pct(0.95), max: pct(1) },
      },
      checks,
      graphSync: 'not measured: this bench reads through the client only (see the note at the top of bench/servicenow.ts)',
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return checks.neverOverLimit && checks.noDuplicates && checks.noneMissing ? 0 : 1;
  } finally {
    await server.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(2);
  },
);
