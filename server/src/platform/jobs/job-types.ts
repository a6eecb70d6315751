import type { z } from 'zod';
import type { TenantCtx } from '../context.js';
import type { Sql } from '../db.js';
import { AppError } from '../errors.js';
import type { RetryPolicy } from './backoff.js';

export type JobErrorRecord = { attempt: number; class: string; message: string; at: string };

/** What a handler gets: a tenant ctx as the system actor, plus the job's identity and an idempotent-effect helper. */
export type JobContext = TenantCtx & {
  queue: string;
  /** Stable across retries and replays. */
  jobId: string;
  attempt: number;
  idempotencyKey: string;
  /**
   * Runs fn in a tenant transaction that also records this job's idempotency key. If the key is already recorded
   * (an earlier attempt committed its effect and then failed), fn does not run again.
   */
  applyOnce<T>(fn: (tx: Sql) => Promise<T>): Promise<{ applied: true; value: T } | { applied: false }>;
};

export type JobType<S extends z.ZodType = z.ZodType> = {
  /** Queue name: letters, digits, dots, dashes, underscores (`notifications.webhook`). */
  name: string;
  payload: S;
  handle: (ctx: JobContext, payload: z.output<S>) => Promise<void>;
  retry?: Partial<RetryPolicy>;
  /** Which errors are worth another attempt; by default all but the client errors of AppError. */
  isRetryable?: (error: unknown) => boolean;
  /** A handler running longer is treated as failed (retryable). */
  timeoutSeconds?: number;
  /**
   * How long after the timeout a job whose worker vanished (killed, crashed) is handed out again. Default 60 s:
   * long enough that a slow-but-alive worker is not doubled, short enough that a dead one costs a minute.
   */
  crashRecoverySeconds?: number;
  /** Handlers of this type running at once in one worker process. */
  concurrency?: number;
  /** Limits per tenant across all workers: jobs running at once, and jobs started per hour. */
  perTenant?: { concurrency?: number; startsPerHour?: number };
  /** May tenants schedule this job type through the schedules API? */
  schedulable?: boolean;
};

/** A job failure that no retry can fix (bad payload, a permanent upstream refusal). */
export class PermanentJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentJobError';
  }
}

export class JobTimeoutError extends Error {
  constructor(seconds: number) {
    super(`the handler ran longer than its ${seconds} s timeout`);
    this.name = 'JobTimeoutError';
  }
}

const CLIENT_ERROR_CODES = new Set(['validation_failed', 'not_found', 'forbidden', 'unauthenticated', 'conflict', 'gone']);

export function isRetryableByDefault(error: unknown): boolean {
  if (error instanceof PermanentJobError) return false;
  if (error instanceof AppError) return !CLIENT_ERROR_CODES.has(error.code);
  return true;
}

export function errorClassOf(error: unknown): string {
  if (error instanceof AppError) return `${error.name}:${error.code}`;
  if (error instanceof Error) return error.name || 'Error';
  return typeof error;
}
