/**
 * A deadline for the work of one request or one job, carried implicitly (AsyncLocalStorage) so the store can honour
 * it without every service passing a signal down: when a handler's or a job's time is up, the caller stops waiting,
 * and the queries it left behind must stop too, or a timed-out request keeps a connection and its locks busy.
 * platform/db.ts reads the current deadline: on PostgreSQL each transaction gets `statement_timeout` set to the time
 * left, and no statement starts once the deadline has passed (on PGlite, which cannot interrupt a running statement,
 * the second half is what stops a chain of statements).
 *
 * Work that finished in time releases its deadline: anything it started that outlives it on purpose (a lazily
 * started background loop inherits the context) then runs without one. Work that timed out keeps it, so whatever
 * it still tries to run is refused.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export type Deadline = { readonly at: number; released: boolean };

const current = new AsyncLocalStorage<Deadline>();

/** Raised by the store when work under a deadline tries to run a statement after it passed. */
export class DeadlineExceededError extends Error {
  constructor() {
    super('the time allowed for this request or job ran out; the statement was not started');
    this.name = 'DeadlineExceededError';
  }
}

/** A deadline `ms` from now; never later than the one the caller already runs under. */
export function createDeadline(ms: number): Deadline {
  const outer = activeDeadline();
  return { at: Math.min(Date.now() + ms, outer?.at ?? Number.POSITIVE_INFINITY), released: false };
}

export function runInDeadline<T>(deadline: Deadline, fn: () => T): T {
  return current.run(deadline, fn);
}

/** Lifts the deadline if its work finished in time; a deadline already passed stays, and keeps refusing. */
export function releaseIfInTime(deadline: Deadline): void {
  if (Date.now() < deadline.at) deadline.released = true;
}

function activeDeadline(): Deadline | undefined {
  const deadline = current.getStore();
  return deadline && !deadline.released ? deadline : undefined;
}

/** Milliseconds left before the current deadline (at least 1), or null without one. Throws once it has passed. */
export function remainingMs(): number | null {
  const deadline = activeDeadline();
  if (!deadline) return null;
  const left = deadline.at - Date.now();
  if (left <= 0) throw new DeadlineExceededError();
  return Math.max(1, Math.floor(left));
}
