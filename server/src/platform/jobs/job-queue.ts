import PgBoss from 'pg-boss';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { Actor, Logger, TenantCtx } from '../context.js';
import { APP_ROLE, type Database, type Sql } from '../db.js';
import { ValidationError } from '../errors.js';
import { createDeadline, releaseIfInTime, runInDeadline, type Deadline } from '../deadline.js';
import { fieldPath } from '../field-path.js';
import type { Metrics } from '../metrics.js';
import { DEFAULT_RETRY, retryDelayMs, type RetryPolicy } from './backoff.js';
import { advanceQueueClock, priorityFor, takeVirtualStart } from './fair-queue.js';
import { claimTenantSlot, expirySecondsOf, hasTenantLimits, releaseTenantSlot } from './tenant-limits.js';
import {
  errorClassOf,
  isRetryableByDefault,
  JobTimeoutError,
  PermanentJobError,
  type JobContext,
  type JobErrorRecord,
  type JobType,
} from './job-types.js';
import { v7 as uuidv7 } from 'uuid';

/** What travels in pg-boss's `data`: the payload plus everything a retry or replay must keep. */
export type Envelope = {
  tenantId: string;
  payload: unknown;
  jobId: string;
  idempotencyKey: string;
  attempt: number;
  errors: JobErrorRecord[];
  vstart: number;
  enqueuedBy: Actor;
  requestId: string | null;
  /** Set when a schedule fired the job: which, and for what instant. */
  scheduleId?: string;
  scheduledFor?: string;
  /** Times this job was replayed from the dead-letter queue, carried into a later dead letter. */
  replays?: number;
};

export type JobOutcome = {
  queue: string;
  tenantId: string;
  jobId: string;
  attempt: number;
  outcome: 'succeeded' | 'dead_lettered';
  envelope: Envelope;
  error?: { class: string; message: string };
};
/** Runs inside the transaction that settles the job (system scope), so what it writes commits with the outcome. */
export type OutcomeListener = (tx: Sql, outcome: JobOutcome) => Promise<void>;

export type EnqueueOptions = {
  idempotencyKey?: string;
  startAfter?: Date;
  schedule?: { id: string; firedFor: Date };
  /** Replays keep the job's identity and error history. */
  replayOf?: { jobId: string; idempotencyKey: string; errors: JobErrorRecord[]; replays: number };
};

export type EnqueueScope = { tenantId: string; actor: Actor; requestId: string | null };

const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
// pg-boss retries a job itself only when its worker vanished (the job expired while active). Handler failures are
// retried by us (see settle), with backoff, jitter and a record of every error.
const CRASH_RETRIES = 3;

/** A pg-boss `db` that runs inside one of our transactions, so a job is enqueued or settled with the change. */
function bossDbFor(tx: Sql) {
  return { executeSql: async (text: string, values: unknown[]) => tx.query(text, values) };
}

function withTimeout<T>(work: Promise<T>, seconds: number | undefined): Promise<T> {
  if (!seconds) return work;
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new JobTimeoutError(seconds)), seconds * 1000);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export function createJobQueue(deps: {
  db: Database;
  log: Logger;
  clock: Clock;
  metrics?: Pick<Metrics, 'jobRuns' | 'jobDuration' | 'scheduleLag'>;
  pollIntervalMs?: number;
  /** How often pg-boss looks for jobs whose worker vanished (and other upkeep); pg-boss's default is 2 minutes. */
  maintenanceIntervalSeconds?: number;
  random?: () => number;
}) {
  const { db, log, clock, metrics } = deps;
  const pollIntervalMs = deps.pollIntervalMs ?? 1_000;
  const types = new Map<string, JobType>();
  let boss: PgBoss | null = null;
  let working = false;
  const loops: Promise<void>[] = [];
  const wakers = new Set<() => void>();
  const listeners: OutcomeListener[] = [];

  function register<S extends z.ZodType>(type: JobType<S>): void {
    if (!QUEUE_NAME.test(type.name)) throw new Error(`Job type name "${type.name}" must match ${QUEUE_NAME}`);
    if (types.has(type.name)) throw new Error(`Job type "${type.name}" is registered twice`);
    types.set(type.name, type as unknown as JobType);
  }

  function started(): PgBoss {
    if (!boss) throw new Error('The job queue is not started: call start() first');
    return boss;
  }

  /** Starts pg-boss (creating its schema on first use) and the queues of every registered type. */
  async function start(): Promise<void> {
    if (boss) return;
    const instance = new PgBoss({
      ...db.jobBackend,
      schedule: false,
      supervise: true,
      migrate: true,
      ...(deps.maintenanceIntervalSeconds ? { maintenanceIntervalSeconds: deps.maintenanceIntervalSeconds } : {}),
    } as PgBoss.ConstructorOptions);
    instance.on('error', (error) => log.error({ err: error }, 'job queue error'));
    await instance.start();
    for (const type of types.values()) {
      if (!(await instance.getQueue(type.name))) {
        await instance.createQueue(type.name, {
          name: type.name,
          retryLimit: CRASH_RETRIES,
          retryDelay: 5,
          expireInSeconds: expirySecondsOf(type),
        });
      }
    }
    // Tenant-scoped transactions (role summit_app) enqueue jobs directly into pg-boss's table.
    // Serialised across processes: two replicas granting at once fail with "tuple concurrently updated".
    await db.withSystem(async (tx) => {
      await tx.query(`select pg_advisory_xact_lock(hashtext('summit:pgboss-grants'))`);
      await tx.query(`grant usage on schema pgboss to ${APP_ROLE}`);
      await tx.query(`grant select on pgboss.queue to ${APP_ROLE}`);
      await tx.query(`grant select, insert, delete on pgboss.job to ${APP_ROLE}`);
    });
    boss = instance;
  }

  /**
   * Enqueues a job inside the caller's transaction: if the change that causes it rolls back, so does the job. The
   * payload is validated here, so a bad one is refused at the source with the offending field named.
   */
  async function enqueue(
    tx: Sql,
    scope: EnqueueScope,
    name: string,
    payload: unknown,
    options: EnqueueOptions = {},
  ): Promise<string> {
    const type = types.get(name);
    if (!type) throw new Error(`No job type "${name}" is registered`);
    const parsed = type.payload.safeParse(payload);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((i) => ({ path: fieldPath('payload', i.path), message: i.message }));
      throw new ValidationError(`The ${name} job payload is not valid: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`, fields);
    }
    const jobId = options.replayOf?.jobId ?? uuidv7();
    const vstart = await takeVirtualStart(tx, scope.tenantId, name);
    const envelope: Envelope = {
      tenantId: scope.tenantId,
      payload: parsed.data,
      jobId,
      idempotencyKey: options.replayOf?.idempotencyKey ?? options.idempotencyKey ?? `${name}:${jobId}`,
      attempt: 1,
      errors: options.replayOf?.errors ?? [],
      vstart,
      enqueuedBy: scope.actor,
      requestId: scope.requestId,
      ...(options.schedule ? { scheduleId: options.schedule.id, scheduledFor: options.schedule.firedFor.toISOString() } : {}),
      ...(options.replayOf ? { replays: options.replayOf.replays } : {}),
    };
    // A replay is a new pg-boss job carrying the old identity; a first enqueue uses the job id as pg-boss's id.
    await started().send(name, envelope, {
      ...(options.replayOf ? {} : { id: jobId }),
      db: bossDbFor(tx),
      priority: priorityFor(vstart),
      startAfter: options.startAfter,
    });
    return jobId;
  }

  /**
   * Withdraws a schedule's jobs that wait for a future fire time (enqueued ahead by the scheduler), in the caller's
   * transaction: a disabled, changed or deleted schedule must not fire again.
   */
  async function cancelScheduled(tx: Sql, name: string, scheduleId: string): Promise<number> {
    const { rowCount } = await tx.query(
      `delete from pgboss.job where name = $1 and state = 'created' and data->>'scheduleId' = $2 and start_after > now()`,
      [name, scheduleId],
    );
    return rowCount;
  }

  function jobContext(type: JobType, envelope: Envelope, attempt: number, logger: Logger): JobContext {
    const principal = { kind: 'system', name: `job:${type.name}` } as const;
    const ctx: TenantCtx = {
      principal,
      actor: { type: 'system', id: principal.name },
      requestId: envelope.jobId,
      log: logger,
      tenantId: envelope.tenantId,
    };
    return {
      ...ctx,
      queue: type.name,
      jobId: envelope.jobId,
      attempt,
      idempotencyKey: envelope.idempotencyKey,
      applyOnce: (fn) =>
        db.withTenant(envelope.tenantId, async (tx) => {
          const claimed = await tx.query(
            `insert into job_effects (tenant_id, idempotency_key, queue, job_id) values ($1, $2, $3, $4)
             on conflict (tenant_id, idempotency_key) do nothing`,
            [envelope.tenantId, envelope.idempotencyKey, type.name, envelope.jobId],
          );
          if (claimed.rowCount === 0) return { applied: false as const };
          return { applied: true as const, value: await fn(tx) };
        }),
    };
  }

  /**
   * Settles a failed attempt in one transaction: either the next attempt is enqueued after a backoff, or the job
   * goes to the dead-letter table with every error; the pg-boss job is completed in the same transaction, so a
   * crash in between can neither lose the job nor run it twice.
   */
  async function settleFailure(type: JobType, job: PgBoss.JobWithMetadata<Envelope>, attempt: number, error: unknown, payloadValid: boolean) {
    const envelope = job.data;
    const record: JobErrorRecord = {
      attempt,
      class: errorClassOf(error),
      message: error instanceof Error ? error.message : String(error),
      at: clock.now().toISOString(),
    };
    const errors = [...envelope.errors, record];
    const policy: RetryPolicy = { ...DEFAULT_RETRY, ...type.retry };
    const retryable = payloadValid && (type.isRetryable ?? isRetryableByDefault)(error) && attempt < policy.maxAttempts;
    await db.withSystem(async (tx) => {
      if (retryable) {
        const startAfter = new Date(clock.now().getTime() + retryDelayMs(attempt, policy, deps.random));
        await started().send(type.name, { ...envelope, attempt: attempt + 1, errors }, { db: bossDbFor(tx), startAfter, priority: job.priority });
      } else {
        await tx.query(
          `insert into dlq_items (tenant_id, id, queue, job_id, payload, attempts, errors, idempotency_key, dead_at, replay_count)
           values ($1, $2, $3, $4, $5::jsonb, $6, $7::jsonb, $8, $9, $10)`,
          [envelope.tenantId, uuidv7(), type.name, envelope.jobId, JSON.stringify(envelope.payload), attempt, JSON.stringify(errors), envelope.idempotencyKey, record.at, envelope.replays ?? 0],
        );
        const outcome: JobOutcome = { queue: type.name, tenantId: envelope.tenantId, jobId: envelope.jobId, attempt, outcome: 'dead_lettered', envelope, error: record };
        for (const listener of listeners) await listener(tx, outcome);
      }
      await releaseTenantSlot(tx, type, envelope.tenantId, job.id);
      await started().complete(type.name, job.id, { failed: record }, { db: bossDbFor(tx) });
    });
    metrics?.jobRuns.inc({ queue: type.name, outcome: retryable ? 'retried' : 'dead_lettered' });
    log[retryable ? 'warn' : 'error']({ queue: type.name, jobId: envelope.jobId, attempt, err: error }, retryable ? 'job failed; will retry' : 'job dead-lettered');
  }

  /**
   * Enforces the type's per-tenant limits across every worker: a job over a limit goes back to the queue for later
   * (same attempt) in one transaction with its pg-boss job's completion. Returns whether this worker may run it.
   */
  async function claimSlot(type: JobType, job: PgBoss.JobWithMetadata<Envelope>): Promise<boolean> {
    if (!hasTenantLimits(type)) return true;
    return db.withSystem(async (tx) => {
      const retryAt = await claimTenantSlot(tx, type, job.data.tenantId, job.id, clock.now());
      if (!retryAt) return true;
      await started().send(type.name, job.data, { db: bossDbFor(tx), startAfter: retryAt, priority: job.priority });
      await started().complete(type.name, job.id, { deferred: retryAt.toISOString() }, { db: bossDbFor(tx) });
      return false;
    });
  }

  async function run(type: JobType, job: PgBoss.JobWithMetadata<Envelope>): Promise<void> {
    const envelope = job.data;
    // A job whose worker died comes back from pg-boss with retryCount raised: that counts as an attempt too.
    const attempt = envelope.attempt + job.retryCount;
    const logger = log;
    const stopTimer = metrics?.jobDuration.startTimer({ queue: type.name });
    const parsed = type.payload.safeParse(envelope.payload);
    if (!(await claimSlot(type, job))) {
      stopTimer?.();
      return;
    }
    if (envelope.scheduledFor && attempt === 1) {
      metrics?.scheduleLag.observe(Math.max(0, clock.now().getTime() - new Date(envelope.scheduledFor).getTime()) / 1000);
    }
    let deadline: Deadline | null = null;
    try {
      if (!parsed.success) throw new PermanentJobError(`payload does not match the ${type.name} schema: ${parsed.error.message}`);
      // The handler's queries run under its timeout too: one still running when the time is up is stopped by the
      // store (platform/deadline.ts), not left behind holding a connection while the job is retried.
      deadline = type.timeoutSeconds ? createDeadline(type.timeoutSeconds * 1000) : null;
      const handling = () => type.handle(jobContext(type, envelope, attempt, logger), parsed.data);
      await withTimeout(deadline ? runInDeadline(deadline, handling) : handling(), type.timeoutSeconds);
      await db.withSystem(async (tx) => {
        const outcome: JobOutcome = { queue: type.name, tenantId: envelope.tenantId, jobId: envelope.jobId, attempt, outcome: 'succeeded', envelope };
        for (const listener of listeners) await listener(tx, outcome);
        await releaseTenantSlot(tx, type, envelope.tenantId, job.id);
        await started().complete(type.name, job.id, {}, { db: bossDbFor(tx) });
      });
      metrics?.jobRuns.inc({ queue: type.name, outcome: 'succeeded' });
    } catch (error) {
      await settleFailure(type, job, attempt, error, parsed.success).catch((settleError) =>
        // The pg-boss job stays active and expires; pg-boss then hands it out again. Nothing is lost.
        log.error({ err: settleError, queue: type.name, jobId: envelope.jobId }, 'could not settle a failed job'),
      );
    } finally {
      if (deadline) releaseIfInTime(deadline);
      stopTimer?.();
    }
  }

  async function poll(type: JobType): Promise<void> {
    const concurrency = type.concurrency ?? 4;
    const active = new Set<Promise<void>>();
    while (working) {
      const free = concurrency - active.size;
      const jobs = free > 0
        ? ((await started().fetch<Envelope>(type.name, { batchSize: free, includeMetadata: true }).catch((error) => {
            log.error({ err: error, queue: type.name }, 'could not fetch jobs');
            return [];
          })) ?? [])
        : [];
      if (jobs.length) {
        const latest = Math.max(...jobs.map((j) => j.data.vstart ?? 0));
        await db
          .withSystem((tx) => advanceQueueClock(tx, type.name, latest))
          .catch((error) => log.error({ err: error }, 'could not advance the queue clock'));
        for (const job of jobs) {
          const running = run(type, job).finally(() => active.delete(running));
          active.add(running);
        }
        continue;
      }
      // Wait for a free slot or the poll interval, whichever is first; stop() wakes every loop at once.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, pollIntervalMs);
        function done() {
          clearTimeout(timer);
          wakers.delete(done);
          resolve();
        }
        wakers.add(done);
        if (active.size >= concurrency) void Promise.race(active).then(done);
      });
    }
    await Promise.allSettled(active);
  }

  function startWorkers(): void {
    started();
    if (working) return;
    working = true;
    for (const type of types.values()) loops.push(poll(type));
  }

  /** Stops taking jobs and waits for running handlers; enqueueing still works (an API-only process). */
  async function stopWorkers(): Promise<void> {
    working = false;
    for (const wake of [...wakers]) wake();
    await Promise.allSettled(loops.splice(0));
  }

  /** Stops the workers, then pg-boss. */
  async function stop(): Promise<void> {
    await stopWorkers();
    if (boss) {
      const instance = boss;
      boss = null;
      await instance.stop({ graceful: true, wait: true, close: true });
    }
  }

  return {
    register,
    start,
    startWorkers,
    stopWorkers,
    stop,
    enqueue,
    cancelScheduled,
    onOutcome: (listener: OutcomeListener) => void listeners.push(listener),
    typeOf: (name: string) => types.get(name),
    types: () => [...types.values()],
  };
}

export type JobQueue = ReturnType<typeof createJobQueue>;
