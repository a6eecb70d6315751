import { Cron } from 'croner';
import type { FieldProblem } from '../../platform/errors.js';

export type CatchUp = 'skip' | 'run-once';

/** A fire time later than this after its intended instant counts as missed (downtime), not merely late. */
export const ON_TIME_GRACE_MS = 60_000;
// Bounds the walk over missed fire times after a long downtime: enough for a per-second schedule down 15 minutes.
const MAX_MISSED_SCAN = 1_000;

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Problems with a cron expression and time zone, each naming its field; empty when both are good. Five fields
 * (minute hour day-of-month month day-of-week) or six (with seconds first) are accepted.
 */
export function cronProblems(cron: string, timezone: string, paths = { cron: 'cron', timezone: 'timezone' }): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const zoneOk = isTimeZone(timezone);
  if (!zoneOk) {
    problems.push({ path: paths.timezone, message: `"${timezone}" is not an IANA time zone (for example Europe/Berlin or America/Denver)` });
  }
  const fields = cron.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== 5 && fields.length !== 6) {
    problems.push({
      path: paths.cron,
      message: `has ${fields.length} fields; give 5 (minute hour day month weekday) or 6 (second first), e.g. "0 9 * * MON"`,
    });
    return problems;
  }
  try {
    const job = new Cron(cron, { timezone: zoneOk ? timezone : 'UTC', paused: true });
    if (!job.nextRun(new Date())) problems.push({ path: paths.cron, message: 'never fires' });
  } catch (error) {
    problems.push({ path: paths.cron, message: (error as Error).message.replace(/^CronPattern: /, '') });
  }
  return problems;
}

function cronOf(cron: string, timezone: string): Cron {
  return new Cron(cron, { timezone, paused: true });
}

/**
 * The next `count` fire times strictly after `after`. Wall-clock times that a DST change skips run at the same
 * minute an hour later; times that occur twice run once, at the first occurrence.
 */
export function nextFires(cron: string, timezone: string, after: Date, count: number): Date[] {
  return cronOf(cron, timezone).nextRuns(count, after);
}

export type DueFires = {
  /** Fire times to run now, oldest first. */
  fires: Date[];
  /** Fire times skipped because they were missed (beyond the grace) under the `skip` policy, or folded into one. */
  missed: number;
  /** The next fire time after now. */
  next: Date | null;
};

/**
 * What a due schedule should run. Fire times from `nextFireAt` up to `horizon` (now, or a little later when the
 * scheduler enqueues ahead of time) run, unless they lie more than the grace in the past: those were missed during
 * downtime, and `skip` drops them while `run-once` runs the latest of them once.
 */
export function dueFires(
  spec: { cron: string; timezone: string; catchUp: CatchUp },
  nextFireAt: Date,
  now: Date,
  graceMs = ON_TIME_GRACE_MS,
  horizon: Date = now,
): DueFires {
  const job = cronOf(spec.cron, spec.timezone);
  const due: Date[] = [];
  let cursor: Date | null = nextFireAt;
  let scanned = 0;
  while (cursor && cursor.getTime() <= horizon.getTime() && scanned < MAX_MISSED_SCAN) {
    due.push(cursor);
    scanned++;
    cursor = job.nextRun(cursor);
  }
  // A walk cut short by the bound resumes from the horizon: whatever lies between was missed anyway.
  const next = cursor && cursor.getTime() > horizon.getTime() ? cursor : job.nextRun(horizon);
  const onTime = due.filter((t) => now.getTime() - t.getTime() <= graceMs);
  const late = due.filter((t) => now.getTime() - t.getTime() > graceMs);
  const fires = spec.catchUp === 'run-once' && late.length ? [late[late.length - 1]!, ...onTime] : onTime;
  return { fires, missed: due.length - fires.length, next };
}
