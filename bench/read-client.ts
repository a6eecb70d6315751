/**
 * Load generator for bench/read.ts, run as a child process (`node --import tsx bench/read-client.ts`, forked with an
 * IPC channel) so the clients' CPU is not spent on the server's event loop. It receives one job, runs `concurrency`
 * loops against a loopback URL for a warm-up and then for the measured duration, and replies with every measured
 * latency. Each request asks for a random entity id drawn from one seeded PRNG. Keep-alive connections
 * (node:http Agent, at most `concurrency` sockets); every request has a timeout, and the loops stop by themselves.
 */
import http from 'node:http';

/** mulberry32, as in graph-bench.ts (not imported from there: this process should not load the server). */
function createRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { int: (max: number) => Math.floor(next() * max) };
}

export type ClientJob = {
  baseUrl: string;
  token: string;
  ids: string[];
  /** Path with `{id}` where the entity id goes. */
  path: string;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  seed: number;
  timeoutMs: number;
};
export type ClientReport = {
  type: 'done';
  latenciesMs: number[];
  elapsedMs: number;
  statuses: Record<string, number>;
  errors: number;
  errorSamples: string[];
  responseBytes: number;
  /** CPU seconds this process used while measuring. */
  cpuSeconds: number;
};
export type ClientMessage = { type: 'measuring' } | ClientReport;

function request(agent: http.Agent, url: URL, token: string, timeoutMs: number): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { agent, method: 'GET', headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, timeout: timeoutMs },
      (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

async function run(job: ClientJob): Promise<ClientReport> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency });
  const random = createRandom(job.seed);
  const statuses: Record<string, number> = {};
  const errorSamples: string[] = [];
  let errors = 0;
  let responseBytes = 0;
  const latencies: number[] = [];
  const base = new URL(job.baseUrl);
  if (base.hostname !== '127.0.0.1') throw new Error('the load generator talks to loopback only');

  async function phase(durationMs: number, record: boolean) {
    const deadline = performance.now() + durationMs;
    const loop = async () => {
      while (performance.now() < deadline) {
        const id = job.ids[random.int(job.ids.length)]!;
        const url = new URL(job.path.replace('{id}', id), base);
        const started = performance.now();
        try {
          const res = await request(agent, url, job.token, job.timeoutMs);
          const ms = performance.now() - started;
          if (!record) continue;
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          responseBytes += res.bytes;
          if (res.status === 200) latencies.push(ms);
          else errors++;
        } catch (error) {
          if (!record) continue;
          errors++;
          if (errorSamples.length < 5) errorSamples.push((error as Error).message);
        }
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: job.concurrency }, loop));
    return performance.now() - started;
  }

  await phase(job.warmupMs, false);
  process.send!({ type: 'measuring' } satisfies ClientMessage);
  const cpu = process.cpuUsage();
  const elapsedMs = await phase(job.durationMs, true);
  const used = process.cpuUsage(cpu);
  agent.destroy();
  return { type: 'done', latenciesMs: latencies, elapsedMs, statuses, errors, errorSamples, responseBytes, cpuSeconds: (used.user + used.system) / 1e6 };
}

if (process.env.BENCH_READ_CLIENT === '1') {
  process.once('message', (job: ClientJob) => {
    run(job).then(
      (report) => process.send!(report, () => process.exit(0)),
      (error) => {
        process.stderr.write(`read-client: ${(error as Error).stack}\n`);
        process.exit(1);
      },
    );
  });
}
