/**
 * A worker process for the crash test: runs one job type whose handler commits its effect and then, when HANG is
 * set, never returns — so the parent can kill -9 it mid-job.
 */
import { z } from 'zod';
import { systemClock } from '../../src/platform/clock.js';
import { createPostgresDatabase } from '../../src/platform/db.js';
import { createJobQueue } from '../../src/platform/jobs/job-queue.js';

const db = createPostgresDatabase(process.env.DATABASE_URL!, { max: 4 });
const log = { info: () => undefined, warn: () => undefined, debug: () => undefined, error: (o: unknown) => console.error(o) };
const queue = createJobQueue({ db, log, clock: systemClock, pollIntervalMs: 50, maintenanceIntervalSeconds: 1 });
queue.register({
  name: 'fault.effect',
  payload: z.object({}),
  timeoutSeconds: 2,
  crashRecoverySeconds: 1,
  handle: async (ctx) => {
    await ctx.applyOnce((tx) =>
      tx.query('insert into fault_effects (tenant_id, job_id, pid) values ($1, $2, $3)', [ctx.tenantId, ctx.jobId, process.pid]),
    );
    await db.withSystem((tx) => tx.query('insert into fault_attempts (job_id, pid) values ($1, $2)', [ctx.jobId, process.pid]));
    if (process.env.HANG === '1') await new Promise(() => undefined);
  },
});
await queue.start();
queue.startWorkers();
console.log('ready');
