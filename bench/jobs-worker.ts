/**
 * Worker process for bench/jobs.ts, and the pieces both files share.
 *
 * As a child (BENCH_JOBS_CHILD=1, forked by bench/jobs.ts as `node --import tsx bench/jobs-worker.ts`), it builds a
 * job queue over BENCH_DATABASE_URL exactly as a `summit serve --role worker` process does (the scheduler's outcome
 * listener included, the scheduler itself not started), registers the no-op type of BENCH_QUEUE, and talks to the
 * parent over IPC: it sends `ready` once pg-boss has started, starts its workers on `go`, and on `stop` stops them
 * and replies `stopped` with its handler calls (and, with BENCH_RECORD=1, each handler's start time by job id).
 */
import { z } from 'zod';
import { systemClock } from '../server/src/platform/clock.js';
import type { Logger } from '../server/src/platform/context.js';
import { createPostgresDatabase } from '../server/src/platform/db.js';
import { createJobQueue } from '../server/src/platform/jobs/job-queue.js';
import type { JobType } from '../server/src/platform/jobs/job-types.js';
import { createMetrics } from '../server/src/platform/metrics.js';
import { createScheduler } from '../server/src/modules/jobs/scheduler.js';

/** A handler start: the job id (stable across retries) and the wall-clock time in ms. */
export type Start = [jobId: string, atMs: number];

export type ErrorLog = { count: number; samples: string[] };

/**
 * Measures how late a 10 ms interval timer runs: the longest gap between its callbacks is the longest time this
 * process could not run a timer or I/O callback (an HTTP request, a scheduler tick). A histogram from
 * monitorEventLoopDelay would miss a stall that outlasts the measurement, so the gap is measured directly.
 */
export function timerProbe() {
  let last = performance.now();
  let maxGap = 0;
  let over100 = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    const gap = now - last;
    if (gap > maxGap) maxGap = gap;
    if (gap > 100) over100++;
    last = now;
  }, 10);
  return {
    /** Stops the probe; the gap still open at the end counts too. */
    stop() {
      clearInterval(timer);
      const gap = performance.now() - last;
      return { maxGapMs: Math.round(Math.max(maxGap, gap)), gapsOver100Ms: over100 + (gap > 100 ? 1 : 0) };
    },
  };
}
export type TimerGaps = ReturnType<ReturnType<typeof timerProbe>['stop']>;

/** A logger that drops everything but counts errors and warnings and keeps the first few messages. */
export function quietLogger(): { log: Logger; errors: ErrorLog; warnings: ErrorLog } {
  const errors: ErrorLog = { count: 0, samples: [] };
  const warnings: ErrorLog = { count: 0, samples: [] };
  const describe = (args: unknown[]) =>
    args
      .map((a) => {
        if (typeof a === 'string') return a;
        const err = (a as { err?: unknown } | null)?.err;
        return err instanceof Error ? `${err.name}: ${err.message}` : '';
      })
      .filter(Boolean)
      .join(' | ');
  const keep = (into: ErrorLog) =>
    ((...args: unknown[]) => {
      into.count++;
      if (into.samples.length < 5) into.samples.push(describe(args));
    }) as Logger['error'];
  const noop = (() => undefined) as Logger['info'];
  return { log: { error: keep(errors), warn: keep(warnings), info: noop, debug: noop }, errors, warnings };
}

/** The benchmark's job type: an empty-object payload and a handler that only notes that it ran. */
export function noopJobType(name: string, concurrency: number, onStart: (jobId: string) => void): JobType {
  return {
    name,
    payload: z.object({}),
    concurrency,
    schedulable: true,
    handle: async (ctx) => {
      onStart(ctx.jobId);
    },
  };
}

export type ParentMessage = { type: 'go' } | { type: 'stop' };
export type ChildMessage =
  | { type: 'ready' }
  | { type: 'stopped'; handled: number; starts: Start[]; errors: ErrorLog; warnings: ErrorLog; cpuSecondsWhileWorking: number; timerGaps: TimerGaps };

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`jobs-worker: ${name} is not set`);
  return value;
}

async function child(): Promise<void> {
  const send = (message: ChildMessage) => process.send!(message);
  const record = process.env.BENCH_RECORD === '1';
  const db = createPostgresDatabase(env('BENCH_DATABASE_URL'));
  const { log, errors, warnings } = quietLogger();
  const queue = createJobQueue({
    db,
    log,
    clock: systemClock,
    metrics: createMetrics(),
    pollIntervalMs: Number(env('BENCH_POLL_MS')),
  });
  const starts: Start[] = [];
  let handled = 0;
  queue.register(
    noopJobType(env('BENCH_QUEUE'), Number(env('BENCH_CONCURRENCY')), (jobId) => {
      handled++;
      if (record) starts.push([jobId, Date.now()]);
    }),
  );
  // Every Summit process builds the scheduler (buildApp does), so its outcome listener runs where jobs settle.
  createScheduler({ db, jobs: queue, clock: systemClock, log });
  await queue.start();
  let cpuAtGo = process.cpuUsage();
  let probe = timerProbe();
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'go') {
      cpuAtGo = process.cpuUsage();
      probe.stop();
      probe = timerProbe();
      queue.startWorkers();
    }
    if (message.type === 'stop') {
      const timerGaps = probe.stop();
      const cpu = process.cpuUsage(cpuAtGo);
      const cpuSecondsWhileWorking = (cpu.user + cpu.system) / 1e6;
      void (async () => {
        await queue.stop();
        await db.close();
        send({ type: 'stopped', handled, starts, errors, warnings, cpuSecondsWhileWorking, timerGaps });
        process.disconnect();
      })();
    }
  });
  // The parent going away (crash, Ctrl-C) must not leave a worker polling a dropped database.
  process.on('disconnect', () => setTimeout(() => process.exit(0), 100).unref());
  send({ type: 'ready' });
}

if (process.env.BENCH_JOBS_CHILD === '1') await child();
