/**
 * Job system benchmark.
 *
 * 1. Throughput of no-op jobs (jobs/s): N jobs with an empty payload, enqueued through createJobQueue().enqueue in
 *    tenant transactions (50 per transaction, round robin over the tenants), then drained by workers; the clock runs
 *    from "workers go" until every job is `completed` in pgboss.job (polled every 50 ms). On PostgreSQL the workers
 *    run in 1 and then 2 child processes (bench/jobs-worker.ts) while this process only enqueues and measures; the
 *    embedded store (PGlite) is owned by one process, so there its workers run in this process, and only there.
 * 2. Scheduler lag: S schedules (`* * * * *`, UTC, the no-op type) spread over the tenants, all first due at the same
 *    minute boundary T0, with the real scheduler (createScheduler(...).start(), ticking every second) and workers
 *    running, for M minutes of fire times T0 … T0+(M-1)min. Lag = handler start (wall clock, recorded by the handler)
 *    − the job's intended fire time (envelope scheduledFor). The scheduler keeps running until T_last + 30 s (the
 *    next fire is at T_last + 60 s), then the workers drain what was enqueued. Exactly once means: every pair
 *    (schedule, fire time in the window) was enqueued once and its handler started once; no pair is missing, none
 *    ran twice, and nothing outside the window was enqueued.
 *
 * Run: npm run bench:jobs                    (the issue's figures, 6–8 minutes on 2 cores)
 *      BENCH_QUICK=1 npm run bench:jobs      (a ~2.5-minute sanity check)
 *      cd server && npx tsx ../bench/jobs.ts --quick --lag-stores=postgres
 * Flags after `npm run bench:jobs --` at the repository root are taken by npm itself (the root script runs another
 * npm command): use the env vars there, or pass flags to tsx directly as above. Prints one JSON object to stdout;
 * progress goes to stderr.
 *
 * Options (flag `--name=value` or env `BENCH_NAME`):
 *   quick=1              1,000 jobs; 200 schedules for 1 minute (a sanity check in ~3 minutes)
 *   jobs=5000            no-op jobs per throughput run
 *   tenants=20           tenants the jobs and schedules are spread over
 *   concurrency=16       handlers at once per worker process
 *   poll-ms=1000         worker poll interval when idle (the production default)
 *   schedules=1000       schedules in the lag run
 *   minutes=3            fire times per schedule in the lag run
 *   stores=pglite,postgres          stores for the throughput runs
 *   lag-stores=postgres,pglite      stores for the lag run (empty: skip)
 *   worker-procs=1,2                PostgreSQL worker processes for the throughput runs
 *   lag-worker-procs=0              PostgreSQL lag run: 0 = workers in the scheduler's process (`serve --role all`),
 *                                   N = workers in N child processes, scheduler here
 *   admin-url=postgres://postgres@127.0.0.1:5432/postgres   where `summit_bench_<pid>` is created and dropped
 */
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { systemClock } from '../server/src/platform/clock.js';
import type { Logger } from '../server/src/platform/context.js';
import { createPgliteDatabase, createPostgresDatabase, databaseUrlFor, openPglite, type Database, type Sql } from '../server/src/platform/db.js';
import { createJobQueue, type JobQueue } from '../server/src/platform/jobs/job-queue.js';
import { createMetrics } from '../server/src/platform/metrics.js';
import { migrate } from '../server/src/platform/migrations.js';
import { createScheduler } from '../server/src/modules/jobs/scheduler.js';
import { dueFires, nextFires } from '../server/src/modules/jobs/schedule-time.js';
import { noopJobType, quietLogger, timerProbe, type ChildMessage, type ErrorLog, type ParentMessage, type Start, type TimerGaps } from './jobs-worker.js';

// ---------------------------------------------------------------------------------------------------------------
// Options

function option(name: string): string | undefined {
  const flag = process.argv.slice(2).find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (flag) return flag.includes('=') ? flag.slice(flag.indexOf('=') + 1) : '1';
  return process.env[`BENCH_${name.toUpperCase().replaceAll('-', '_')}`];
}
const numberOption = (name: string, fallback: number) => {
  const raw = option(name);
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a non-negative number, got "${raw}"`);
  return value;
};
const listOption = (name: string, fallback: string[]) => {
  const raw = option(name);
  return raw === undefined ? fallback : raw.split(',').map((s) => s.trim()).filter(Boolean);
};

const quick = ['1', 'true', 'yes'].includes(option('quick') ?? '');
const params = {
  quick,
  jobs: numberOption('jobs', quick ? 1_000 : 5_000),
  tenants: numberOption('tenants', 20),
  concurrencyPerProcess: numberOption('concurrency', 16),
  pollIntervalMs: numberOption('poll-ms', 1_000),
  schedulerTickMs: 1_000,
  enqueueBatch: 50,
  schedules: numberOption('schedules', quick ? 200 : 1_000),
  minutes: numberOption('minutes', quick ? 1 : 3),
  cron: '* * * * *',
  timezone: 'UTC',
  stores: listOption('stores', ['pglite', 'postgres']),
  lagStores: listOption('lag-stores', ['postgres', 'pglite']),
  workerProcesses: listOption('worker-procs', ['1', '2']).map(Number),
  lagWorkerProcesses: numberOption('lag-worker-procs', 0),
  adminUrl: option('admin-url') ?? 'postgres://postgres@127.0.0.1:5432/postgres',
};
const LAG_GOAL_P99_S = 2;
/** The scheduler runs until this long after the last fire time in the window (the next one is 60 s after it). */
const SCHEDULER_TAIL_MS = 30_000;
/** Workers get this long after the scheduler stops to drain what it enqueued. */
const DRAIN_LIMIT_MS = 10 * 60_000;

const here = path.dirname(fileURLToPath(import.meta.url));
const progress = (message: string) => process.stderr.write(`[bench:jobs ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  if (!sorted.length) return { count: 0 };
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    min: round(sorted[0]!),
    max: round(sorted[sorted.length - 1]!),
    mean: round(sorted.reduce((s, v) => s + v, 0) / sorted.length),
  };
}

/** Busy and idle CPU time of the whole machine (all processes, PostgreSQL included), from /proc/stat via os.cpus(). */
function machineCpu() {
  return os.cpus().reduce(
    (acc, cpu) => {
      const { idle, ...rest } = cpu.times;
      acc.idle += idle;
      acc.busy += Object.values(rest).reduce((s, v) => s + v, 0);
      return acc;
    },
    { busy: 0, idle: 0 },
  );
}
function busyShareSince(before: ReturnType<typeof machineCpu>): number {
  const now = machineCpu();
  const busy = now.busy - before.busy;
  const idle = now.idle - before.idle;
  return busy + idle > 0 ? round(busy / (busy + idle), 2) : NaN;
}

// ---------------------------------------------------------------------------------------------------------------
// Stores

type Store = {
  kind: 'pglite' | 'postgres';
  db: Database;
  /** PostgreSQL only: the bench database's URL, for worker processes. */
  url: string | null;
  setupSeconds: number;
  version: string;
  close: () => Promise<void>;
};

async function openStore(kind: string): Promise<Store> {
  const started = performance.now();
  if (kind === 'pglite') {
    const db = createPgliteDatabase(await openPglite(undefined));
    await migrate(db);
    const version = await db.withSystem((tx) => tx.query<{ v: string }>('select version() as v'));
    return { kind: 'pglite', db, url: null, setupSeconds: round((performance.now() - started) / 1000, 2), version: version.rows[0]!.v, close: () => db.close() };
  }
  if (kind !== 'postgres') throw new Error(`unknown store "${kind}" (pglite | postgres)`);
  const name = `summit_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: params.adminUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  const url = databaseUrlFor(params.adminUrl, name);
  const db = createPostgresDatabase(url);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await db.close().catch(() => undefined);
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  };
  dropOnExit.push(close);
  try {
    await migrate(db);
    const version = await admin.query<{ v: string }>(`select current_setting('server_version') as v`);
    return { kind: 'postgres', db, url, setupSeconds: round((performance.now() - started) / 1000, 2), version: version.rows[0]!.v, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** PostgreSQL databases to drop should the run be interrupted. */
const dropOnExit: Array<() => Promise<void>> = [];
process.once('SIGINT', () => {
  progress('interrupted: dropping the bench database');
  void Promise.allSettled(dropOnExit.map((drop) => drop())).finally(() => process.exit(130));
});

async function insertTenants(db: Database, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomUUID());
  await db.withSystem(async (tx) => {
    for (const [i, id] of ids.entries()) await tx.query('insert into tenants (id, name) values ($1, $2)', [id, `bench-tenant-${i}`]);
  });
  return ids;
}

type QueueHandle = { queue: JobQueue; errors: ErrorLog; warnings: ErrorLog; starts: Start[]; handled: () => number };

/** A queue in this process, built as buildApp builds it (metrics, the scheduler's outcome listener). */
async function startQueue(db: Database, queueName: string, record: boolean, log?: ReturnType<typeof quietLogger>): Promise<QueueHandle> {
  const logger = log ?? quietLogger();
  const queue = createJobQueue({ db, log: logger.log, clock: systemClock, metrics: createMetrics(), pollIntervalMs: params.pollIntervalMs });
  const starts: Start[] = [];
  let handled = 0;
  queue.register(
    noopJobType(queueName, params.concurrencyPerProcess, (jobId) => {
      handled++;
      if (record) starts.push([jobId, Date.now()]);
    }),
  );
  await queue.start();
  return { queue, errors: logger.errors, warnings: logger.warnings, starts, handled: () => handled };
}

// ---------------------------------------------------------------------------------------------------------------
// Worker processes

type Worker = { child: ChildProcess; ready: Promise<void>; stopped: Promise<Extract<ChildMessage, { type: 'stopped' }>> };

function spawnWorker(url: string, queueName: string, record: boolean): Worker {
  const child = fork(path.join(here, 'jobs-worker.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      BENCH_JOBS_CHILD: '1',
      BENCH_DATABASE_URL: url,
      BENCH_QUEUE: queueName,
      BENCH_CONCURRENCY: String(params.concurrencyPerProcess),
      BENCH_POLL_MS: String(params.pollIntervalMs),
      BENCH_RECORD: record ? '1' : '0',
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let onReady: () => void = () => undefined;
  let onStopped: (m: Extract<ChildMessage, { type: 'stopped' }>) => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    fail = reject;
  });
  const stopped = new Promise<Extract<ChildMessage, { type: 'stopped' }>>((resolve, reject) => {
    onStopped = resolve;
    const previous = fail;
    fail = (error) => {
      previous(error);
      reject(error);
    };
  });
  stopped.catch(() => undefined);
  let done = false;
  child.on('message', (message: ChildMessage) => {
    if (message.type === 'ready') onReady();
    if (message.type === 'stopped') {
      done = true;
      onStopped(message);
    }
  });
  child.on('exit', (code, signal) => {
    if (!done) fail(new Error(`worker process ${child.pid} exited early (code ${code}, signal ${signal})`));
  });
  return { child, ready, stopped };
}

const tell = (worker: Worker, message: ParentMessage) => worker.child.send(message);

// ---------------------------------------------------------------------------------------------------------------
// Throughput

async function jobStates(db: Database, queueName: string): Promise<Record<string, number>> {
  const { rows } = await db.withSystem((tx) =>
    tx.query<{ state: string; n: number }>('select state::text as state, count(*)::int as n from pgboss.job where name = $1 group by state', [queueName]),
  );
  return Object.fromEntries(rows.map((r) => [r.state, r.n]));
}

async function enqueueNoops(db: Database, queue: JobQueue, queueName: string, tenants: string[], count: number): Promise<number> {
  const started = performance.now();
  let sent = 0;
  for (let batch = 0; sent < count; batch++) {
    const tenantId = tenants[batch % tenants.length]!;
    const n = Math.min(params.enqueueBatch, count - sent);
    await db.withTenant(tenantId, async (tx) => {
      for (let i = 0; i < n; i++) await queue.enqueue(tx, { tenantId, actor: { type: 'system', id: 'bench' }, requestId: null }, queueName, {});
    });
    sent += n;
  }
  return (performance.now() - started) / 1000;
}

async function throughput(store: Store, tenants: string[], processes: number) {
  const queueName = `bench.noop.${store.kind}.${processes}p`;
  progress(`throughput: ${store.kind}, ${processes === 0 ? 'workers in this process' : `${processes} worker process(es)`}, ${params.jobs} jobs`);
  const inProcess = processes === 0;
  const logger = quietLogger();
  const handle = await startQueue(store.db, queueName, false, logger);
  // Production builds the scheduler in every process; its outcome listener runs in each job's settling transaction.
  createScheduler({ db: store.db, jobs: handle.queue, clock: systemClock, log: logger.log });
  const enqueueSeconds = await enqueueNoops(store.db, handle.queue, queueName, tenants, params.jobs);
  progress(`  enqueued in ${enqueueSeconds.toFixed(1)} s`);

  const workers = inProcess ? [] : Array.from({ length: processes }, () => spawnWorker(store.url!, queueName, false));
  await Promise.all(workers.map((w) => w.ready));
  const go = performance.now();
  const machineAtGo = machineCpu();
  const ownCpuAtGo = process.cpuUsage();
  const probe = timerProbe();
  if (inProcess) handle.queue.startWorkers();
  for (const w of workers) tell(w, { type: 'go' });
  let completed = 0;
  // The count query doubles as a probe: how long another transaction (an API request, say) waits while workers drain.
  const pollLatenciesMs: number[] = [];
  const limit = go + DRAIN_LIMIT_MS;
  while (completed < params.jobs && performance.now() < limit) {
    await sleep(50);
    const asked = performance.now();
    completed = (await jobStates(store.db, queueName)).completed ?? 0;
    pollLatenciesMs.push(performance.now() - asked);
  }
  const drainSeconds = (performance.now() - go) / 1000;
  const machineBusyShare = busyShareSince(machineAtGo);
  const ownTimerGaps = probe.stop();
  const ownCpu = process.cpuUsage(ownCpuAtGo);
  let handlerCalls = handle.handled();
  const workerErrors: ErrorLog[] = [];
  const workerCpuSeconds: number[] = [];
  const workerTimerGaps: TimerGaps[] = [];
  if (inProcess) await handle.queue.stopWorkers();
  for (const w of workers) tell(w, { type: 'stop' });
  for (const w of workers) {
    const result = await w.stopped;
    handlerCalls += result.handled;
    workerErrors.push(result.errors);
    workerCpuSeconds.push(round(result.cpuSecondsWhileWorking, 2));
    workerTimerGaps.push(result.timerGaps);
  }
  const states = await jobStates(store.db, queueName);
  const span = await store.db.withSystem((tx) =>
    tx.query<{ seconds: number }>(
      `select extract(epoch from max(completed_on) - min(started_on))::float8 as seconds from pgboss.job where name = $1`,
      [queueName],
    ),
  );
  await handle.queue.stop();
  const errors = [handle.errors, ...workerErrors];
  const result = {
    jobs: params.jobs,
    workerProcesses: inProcess ? 1 : processes,
    workersIn: inProcess ? 'the enqueuing process (embedded store)' : 'child processes (bench/jobs-worker.ts)',
    concurrencyPerProcess: params.concurrencyPerProcess,
    enqueueSeconds: round(enqueueSeconds, 2),
    enqueueJobsPerSecond: Math.round(params.jobs / enqueueSeconds),
    drainSeconds: round(drainSeconds, 2),
    jobsPerSecond: Math.round(completed / drainSeconds),
    firstStartToLastCompleteSeconds: round(span.rows[0]?.seconds ?? NaN, 2),
    completed,
    handlerCalls,
    states,
    allCompletedOnce: completed === params.jobs && handlerCalls === params.jobs,
    /** While draining: the share of the machine's CPU in use (all cores, PostgreSQL included) and who used it. */
    cpu: {
      machineBusyShare,
      cores: os.cpus().length,
      thisProcessSeconds: round((ownCpu.user + ownCpu.system) / 1e6, 2),
      workerProcessSeconds: workerCpuSeconds,
    },
    /** Longest stretch in which a process ran no timer or I/O callback while the workers drained (see timerProbe). */
    timerGaps: inProcess ? { thisProcess: ownTimerGaps } : { workerProcesses: workerTimerGaps },
    errorsLogged: errors.reduce((s, e) => s + e.count, 0),
    errorSamples: errors.flatMap((e) => e.samples).slice(0, 5),
    /** The completion count query (every 50 ms), timed: what other work on this store waited during the drain. */
    countQueryMs: summary(pollLatenciesMs),
  };
  progress(`  ${result.jobsPerSecond} jobs/s (${completed}/${params.jobs} in ${result.drainSeconds} s, ${handlerCalls} handler calls)`);
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Scheduler lag

type Tick = { start: number; end: number; now: number | null; fired: number; failed?: string };
/** Time inside each kind of statement, over the ticks that fired something. */
type StatementProfile = Map<string, { count: number; ms: number }>;

const statementKind = (text: string) => text.replace(/\s+/g, ' ').trim().slice(0, 60);

/**
 * The scheduler's db and clock, instrumented: each tick's transaction is timed (it is the scheduler's only use of
 * withSystem), the clock reading it fires for is kept, and the time spent in each kind of statement is summed.
 */
function instrumentScheduler(db: Database, ticks: Tick[], profile: StatementProfile) {
  let tickNow: number | null = null;
  const clock = {
    now: () => {
      const now = systemClock.now();
      tickNow = now.getTime();
      return now;
    },
  };
  const timedDb: Database = {
    kind: db.kind,
    jobBackend: db.jobBackend,
    withTenant: (tenantId, fn) => db.withTenant(tenantId, fn),
    ping: () => db.ping(),
    close: () => db.close(),
    async withSystem<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
      const start = Date.now();
      tickNow = null;
      const local: StatementProfile = new Map();
      try {
        const result = await db.withSystem((tx) =>
          fn({
            exec: (script) => tx.exec(script),
            async query(text, values) {
              const began = performance.now();
              try {
                return await tx.query(text, values);
              } finally {
                const kind = statementKind(text);
                const entry = local.get(kind) ?? { count: 0, ms: 0 };
                entry.count++;
                entry.ms += performance.now() - began;
                local.set(kind, entry);
              }
            },
          } as Sql),
        );
        const fired = typeof result === 'number' ? result : -1;
        ticks.push({ start, end: Date.now(), now: tickNow, fired });
        if (fired > 0) {
          for (const [kind, entry] of local) {
            const total = profile.get(kind) ?? { count: 0, ms: 0 };
            total.count += entry.count;
            total.ms += entry.ms;
            profile.set(kind, total);
          }
        }
        return result;
      } catch (error) {
        ticks.push({ start, end: Date.now(), now: tickNow, fired: 0, failed: (error as Error).message });
        throw error;
      }
    },
  };
  return { db: timedDb, clock };
}

async function lag(store: Store, tenants: string[]) {
  const queueName = `bench.noop.${store.kind}.sched`;
  const processes = store.kind === 'postgres' ? params.lagWorkerProcesses : 0;
  const inProcess = processes === 0;
  progress(
    `lag: ${store.kind}, ${params.schedules} schedules x ${params.minutes} min, workers ${inProcess ? "in the scheduler's process" : `in ${processes} process(es)`}`,
  );
  const logger = quietLogger();
  const handle = await startQueue(store.db, queueName, inProcess, logger);
  const ticks: Tick[] = [];
  const profile: StatementProfile = new Map();
  const instrumented = instrumentScheduler(store.db, ticks, profile);
  const scheduler = createScheduler({ ...instrumented, jobs: handle.queue, log: logger.log, tickMs: params.schedulerTickMs });
  const workers = inProcess ? [] : Array.from({ length: processes }, () => spawnWorker(store.url!, queueName, true));
  await Promise.all(workers.map((w) => w.ready));
  if (inProcess) handle.queue.startWorkers();
  for (const w of workers) tell(w, { type: 'go' });

  // Every schedule is first due at the same minute boundary, at least 5 s away so set-up is not measured.
  const t0 = nextFires(params.cron, params.timezone, new Date(Date.now() + 5_000), 1)[0]!;
  const window = Array.from({ length: params.minutes }, (_, k) => t0.getTime() + k * 60_000);
  const tLast = window[window.length - 1]!;
  const schedules: Array<{ tenantId: string; id: string }> = [];
  await store.db.withSystem(async (tx) => {
    for (let i = 0; i < params.schedules; i++) {
      const tenantId = tenants[i % tenants.length]!;
      const id = randomUUID();
      schedules.push({ tenantId, id });
      await tx.query(
        `insert into schedules (tenant_id, id, name, job_type, payload, cron, timezone, enabled, catch_up, next_fire_at)
         values ($1, $2, $3, $4, '{}'::jsonb, $5, $6, true, 'skip', $7)`,
        [tenantId, id, `bench-${i}`, queueName, params.cron, params.timezone, t0.toISOString()],
      );
    }
  });
  // The CPU cost of working out one schedule's due fire times (croner), which every tick pays once per due schedule.
  const cronStarted = performance.now();
  for (let i = 0; i < params.schedules; i++) dueFires({ cron: params.cron, timezone: params.timezone, catchUp: 'skip' }, t0, new Date(t0.getTime() + 500));
  const dueFiresMsPerSchedule = (performance.now() - cronStarted) / params.schedules;
  const probe = timerProbe();
  const machineAtStart = machineCpu();
  scheduler.start();
  progress(`  first fire ${t0.toISOString()}, last ${new Date(tLast).toISOString()}; scheduler runs until +${SCHEDULER_TAIL_MS / 1000} s`);
  await sleep(Math.max(0, tLast + SCHEDULER_TAIL_MS - Date.now()));
  await scheduler.stop();
  const schedulerStoppedAt = Date.now();
  const schedulerTimerGaps = probe.stop();
  const machineBusyShare = busyShareSince(machineAtStart);
  // Drain: every enqueued job of the window settled.
  for (;;) {
    const states = await jobStates(store.db, queueName);
    const total = Object.values(states).reduce((s, n) => s + n, 0);
    const settled = (states.completed ?? 0) + (states.failed ?? 0) + (states.cancelled ?? 0);
    if (settled >= total || Date.now() - schedulerStoppedAt > DRAIN_LIMIT_MS) break;
    await sleep(200);
  }
  const drainedAfterSchedulerStopS = (Date.now() - schedulerStoppedAt) / 1000;
  const starts = [...handle.starts];
  const workerErrors: ErrorLog[] = [];
  const workerTimerGaps: TimerGaps[] = [];
  if (inProcess) await handle.queue.stopWorkers();
  for (const w of workers) tell(w, { type: 'stop' });
  for (const w of workers) {
    const result = await w.stopped;
    starts.push(...result.starts);
    workerErrors.push(result.errors);
    workerTimerGaps.push(result.timerGaps);
  }
  await store.db.withSystem((tx) => tx.query('update schedules set enabled = false where job_type = $1', [queueName]));

  const { rows: jobs } = await store.db.withSystem((tx) =>
    tx.query<{ jobId: string; scheduleId: string | null; scheduledFor: string | null; state: string }>(
      `select data->>'jobId' as "jobId", data->>'scheduleId' as "scheduleId", data->>'scheduledFor' as "scheduledFor", state::text as state
         from pgboss.job where name = $1`,
      [queueName],
    ),
  );
  await handle.queue.stop();

  // Handler starts by job id: a job id started twice is a duplicate run.
  const startsByJob = new Map<string, number[]>();
  for (const [jobId, at] of starts) startsByJob.set(jobId, [...(startsByJob.get(jobId) ?? []), at]);
  const expected = new Set<string>();
  for (const s of schedules) for (const t of window) expected.add(`${s.id}|${new Date(t).toISOString()}`);
  const enqueuedPairs = new Map<string, number>();
  const runsByPair = new Map<string, number>();
  const lags: number[] = [];
  const lagsByMinute = new Map<number, number[]>();
  let unexpected = 0;
  for (const job of jobs) {
    if (!job.scheduleId || !job.scheduledFor) {
      unexpected++;
      continue;
    }
    const scheduledFor = new Date(job.scheduledFor);
    const pair = `${job.scheduleId}|${scheduledFor.toISOString()}`;
    if (!expected.has(pair)) unexpected++;
    enqueuedPairs.set(pair, (enqueuedPairs.get(pair) ?? 0) + 1);
    const jobStarts = startsByJob.get(job.jobId) ?? [];
    runsByPair.set(pair, (runsByPair.get(pair) ?? 0) + jobStarts.length);
    if (jobStarts.length) {
      const seconds = (Math.min(...jobStarts) - scheduledFor.getTime()) / 1000;
      lags.push(seconds);
      const minute = scheduledFor.getTime();
      lagsByMinute.set(minute, [...(lagsByMinute.get(minute) ?? []), seconds]);
    }
  }
  let missingEnqueue = 0;
  let missingRun = 0;
  for (const pair of expected) {
    if (!enqueuedPairs.has(pair)) missingEnqueue++;
    if (!runsByPair.get(pair)) missingRun++;
  }
  const duplicateEnqueues = [...enqueuedPairs.values()].reduce((s, n) => s + Math.max(0, n - 1), 0);
  const duplicateRuns = [...runsByPair.values()].reduce((s, n) => s + Math.max(0, n - 1), 0);
  const knownJobs = new Set(jobs.map((j) => j.jobId));
  const startsOfUnknownJobs = starts.filter(([jobId]) => !knownJobs.has(jobId)).length;

  const firing = ticks.filter((t) => t.fired > 0);
  const idle = ticks.filter((t) => t.fired === 0 && !t.failed);
  const perMinute = window.map((t) => {
    // A tick fires the minute its clock reading falls in (a `* * * * *` schedule is due once a minute).
    const mine = firing.filter((k) => k.now !== null && k.now >= t && k.now < t + 60_000);
    const minuteLags = [...(lagsByMinute.get(t) ?? [])].sort((a, b) => a - b);
    return {
      fireTime: new Date(t).toISOString(),
      fired: mine.reduce((s, k) => s + k.fired, 0),
      ticks: mine.length,
      firstTickClockS: mine.length ? round((mine[0]!.now! - t) / 1000) : null,
      tickTransactionS: mine.map((k) => round((k.end - k.start) / 1000)),
      lastCommitS: mine.length ? round((Math.max(...mine.map((k) => k.end)) - t) / 1000) : null,
      lagS: summary(minuteLags),
    };
  });
  const lagSummary = summary(lags);
  const errors = [logger.errors, ...workerErrors];
  const result = {
    schedules: params.schedules,
    minutes: params.minutes,
    workerProcesses: inProcess ? 1 : processes,
    workersIn: inProcess ? "the scheduler's process (serve --role all)" : 'child processes; the scheduler in the parent',
    window: { firstFire: t0.toISOString(), lastFire: new Date(tLast).toISOString(), schedulerStoppedAfterLastFireS: SCHEDULER_TAIL_MS / 1000 },
    lagSeconds: lagSummary,
    goalP99LeqSeconds: LAG_GOAL_P99_S,
    goalMet: lagSummary.count > 0 && (lagSummary as { p99: number }).p99 <= LAG_GOAL_P99_S,
    exactlyOnce: {
      expected: expected.size,
      enqueued: jobs.length,
      handlerStarts: starts.length,
      missingEnqueue,
      missingRun,
      duplicateEnqueues,
      duplicateRuns,
      outsideWindow: unexpected,
      startsOfUnknownJobs,
      ok: missingEnqueue === 0 && missingRun === 0 && duplicateEnqueues === 0 && duplicateRuns === 0 && unexpected === 0 && starts.length === expected.size,
    },
    perMinute,
    scheduler: {
      ticks: ticks.length,
      failedTicks: ticks.filter((t) => t.failed).length,
      idleTickTransactionMs: summary(idle.map((t) => t.end - t.start)),
      dueFiresMsPerSchedule: round(dueFiresMsPerSchedule),
      firingTicks: firing.length,
      firingTickTransactionS: summary(firing.map((t) => (t.end - t.start) / 1000)),
      /** Statements inside the ticks that fired, per fired job: where the tick's time goes. */
      statementsPerFiredJob: (() => {
        const fired = firing.reduce((s, k) => s + k.fired, 0);
        const inStatementsMs = [...profile.values()].reduce((s, e) => s + e.ms, 0);
        const firingMs = firing.reduce((s, k) => s + (k.end - k.start), 0);
        return {
          firedJobs: fired,
          tickMsPerFiredJob: fired ? round(firingMs / fired) : null,
          inStatementsMsPerFiredJob: fired ? round(inStatementsMs / fired) : null,
          byStatement: [...profile.entries()]
            .sort((a, b) => b[1].ms - a[1].ms)
            .map(([statement, e]) => ({ statement, perFiredJob: fired ? round(e.count / fired, 2) : null, meanMs: round(e.ms / e.count), totalMs: Math.round(e.ms) })),
        };
      })(),
    },
    drainedAfterSchedulerStopS: round(drainedAfterSchedulerStopS, 1),
    /** Mostly idle between fires; a high share means something else on the machine competed with the run. */
    machineBusyShare,
    /** Longest stretch in which the scheduler's process ran no timer or I/O callback (its ticks are timers). */
    timerGaps: { schedulerProcess: schedulerTimerGaps, ...(inProcess ? {} : { workerProcesses: workerTimerGaps }) },
    jobStates: Object.fromEntries([...new Set(jobs.map((j) => j.state))].map((s) => [s, jobs.filter((j) => j.state === s).length])),
    errorsLogged: errors.reduce((s, e) => s + e.count, 0),
    errorSamples: errors.flatMap((e) => e.samples).slice(0, 5),
    warningsLogged: logger.warnings.count,
  };
  progress(`  lag p50 ${lagSummary.count ? (lagSummary as { p50: number }).p50 : '-'} s, p99 ${lagSummary.count ? (lagSummary as { p99: number }).p99 : '-'} s; exactly once: ${result.exactlyOnce.ok}`);
  return result;
}

// ---------------------------------------------------------------------------------------------------------------

async function main() {
  const started = performance.now();
  const loadAtStart = os.loadavg().map((n) => round(n, 2));
  const result: Record<string, unknown> = {
    benchmark: 'jobs',
    node: process.version,
    cpus: os.cpus().length,
    parameters: { ...params, adminUrl: params.adminUrl.replace(/\/\/[^@/]*@/, '//…@') },
  };
  const throughputs: Record<string, unknown> = {};
  const lags: Record<string, unknown> = {};
  const stores: Record<string, unknown> = {};
  const wanted = new Set([...params.stores, ...params.lagStores]);
  const kinds = ['pglite', 'postgres'].filter((k) => wanted.delete(k));
  if (wanted.size) throw new Error(`unknown store(s): ${[...wanted].join(', ')} (pglite | postgres)`);
  for (const kind of kinds) {
    progress(`opening ${kind}`);
    const store = await openStore(kind);
    stores[kind] = { version: store.version, createAndMigrateSeconds: store.setupSeconds };
    try {
      const tenants = await insertTenants(store.db, params.tenants);
      if (params.stores.includes(kind)) {
        if (kind === 'pglite') {
          throughputs.pglite1 = await throughput(store, tenants, 0);
          throughputs.pglite2 = 'n/a: the embedded store is owned by one process (one PGlite instance, one connection), so its workers run in that process only';
        } else {
          for (const n of params.workerProcesses) throughputs[`postgres${n}`] = await throughput(store, tenants, n);
        }
      }
      if (params.lagStores.includes(kind)) lags[kind] = await lag(store, tenants);
    } finally {
      await store.close();
    }
  }
  result.stores = stores;
  result.throughput = throughputs;
  result.schedulerLag = lags;
  result.totalSeconds = round((performance.now() - started) / 1000, 1);
  // Other work on the machine skews every figure here: the load averages say whether the run had it to itself.
  result.loadAverage = { atStart: loadAtStart, atEnd: os.loadavg().map((n) => round(n, 2)) };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

await main();
