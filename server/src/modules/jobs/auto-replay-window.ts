import type { QueueReplayPolicy, ReplayWindow, Weekday } from './auto-replay-policy.js';

/** An open auto-replay window: real instants, plus which configured window and local date it is. */
export type OpenReplayWindow = {
  start: Date;
  /** Exclusive. */
  end: Date;
  /** The configured window (its index in the queue's `windows` list) and the local date it opened on. */
  index: number;
  localDate: string;
  /**
   * `<localDate>#<index>`: count `maxBatchPerWindow` by this key. When the clocks go back, one window can be open in
   * two separate stretches of the same night (see windowAt); both share the key, so they share the batch.
   */
  key: string;
};

const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const MINUTE = 60_000;

/** "HH:MM" (including "24:00") → minutes after midnight. The schema has already checked the format. */
export function minutesOf(time: string): number {
  return Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
}

/*
 * Formatters are costly to build and immutable, so one per zone is kept for the life of the process. The cache is
 * bounded by the zones named in the policy file.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/**
 * The zone's wall clock at `ms`, written as if it were a UTC epoch ("wall epoch"): comparing and subtracting wall
 * times is then plain arithmetic, and wallEpoch − ms is the zone's UTC offset at that instant.
 */
function wallEpochAt(timeZone: string, ms: number): number {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(ms)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = parts;
  return Date.UTC(year, month - 1, day, hour, minute, second) + (((ms % 1000) + 1000) % 1000);
}

function offsetAt(timeZone: string, ms: number): number {
  return wallEpochAt(timeZone, ms) - ms;
}

/** The first instant in (lo, hi] whose offset differs from the offset at lo; the zone must change offset once there. */
function findTransition(timeZone: string, lo: number, hi: number): number {
  const before = offsetAt(timeZone, lo);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(timeZone, mid) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The auto-replay window of this queue that is open at `instant`, or null (also for a disabled queue).
 *
 * A window is open while the zone's wall clock reads a time in [start, end) on one of its days. The returned
 * start/end are the real instants bounding the unbroken stretch of such time that contains `instant`, so on the
 * days the clocks change:
 * - Clocks go forward (a gap, e.g. Denver 2026-03-08 02:00→03:00): wall times in the gap never happen. A window
 *   that starts in the gap opens when the clocks jump; one that lies wholly in the gap does not open that day; a
 *   window spanning the gap lasts an hour less in real time.
 * - Clocks go back (an overlap, e.g. Denver 2026-11-01 02:00→01:00): the repeated wall times are in the window
 *   both times. A window spanning the change lasts an hour longer. One with an edge inside the repeated hour is
 *   open in two stretches: it closes at its end (or at the change, when the clock falls back to before its start)
 *   and opens again once the repeated clock is back inside it. Both stretches share one `key`, hence one batch.
 * This assumes a zone changes its offset at most once within a window, which holds for every IANA zone.
 */
export function windowAt(policy: QueueReplayPolicy, instant: Date): OpenReplayWindow | null {
  const t = instant.getTime();
  if (!Number.isFinite(t)) throw new RangeError('windowAt: the instant is an invalid Date');
  if (!policy.enabled) return null;
  const zone = policy.timezone;
  const wall = wallEpochAt(zone, t);
  const wallMidnight = wall - (((wall % 86_400_000) + 86_400_000) % 86_400_000);
  const minute = Math.floor((wall - wallMidnight) / MINUTE);
  const weekday = WEEKDAYS[new Date(wallMidnight).getUTCDay()] as Weekday;
  const index = policy.windows.findIndex(
    (w) => w.days.includes(weekday) && minutesOf(w.start) <= minute && minute < minutesOf(w.end),
  );
  if (index < 0) return null;
  const window = policy.windows[index] as ReplayWindow;
  const wallStart = wallMidnight + minutesOf(window.start) * MINUTE;
  const wallEnd = wallMidnight + minutesOf(window.end) * MINUTE;
  const localDate = new Date(wallMidnight).toISOString().slice(0, 10);
  return {
    start: new Date(stretchStart(zone, t, wallStart, wallEnd)),
    end: new Date(stretchEnd(zone, t, wallStart, wallEnd)),
    index,
    localDate,
    key: `${localDate}#${index}`,
  };
}

/*
 * Under one offset o, the instants whose wall clock is in [wallStart, wallEnd) are [wallStart − o, wallEnd − o).
 * Start from that interval under the offset at t. If the offset differs just outside an edge (the instant before
 * the start, the end itself), a transition tr lies between t and there, and the stretch continues across tr only
 * if the wall clock on the other side of tr is still inside the window.
 */
function stretchStart(zone: string, t: number, wallStart: number, wallEnd: number): number {
  const offset = offsetAt(zone, t);
  const candidate = wallStart - offset;
  const offsetBefore = offsetAt(zone, candidate - 1);
  if (offsetBefore === offset) return candidate;
  const tr = findTransition(zone, candidate - 1, t);
  const continuesBack = wallStart - offsetBefore < tr && tr <= wallEnd - offsetBefore;
  return continuesBack ? wallStart - offsetBefore : tr;
}

function stretchEnd(zone: string, t: number, wallStart: number, wallEnd: number): number {
  const offset = offsetAt(zone, t);
  const candidate = wallEnd - offset;
  const offsetAfter = offsetAt(zone, candidate);
  if (offsetAfter === offset) return candidate;
  const tr = findTransition(zone, t, candidate);
  const continuesOn = wallStart - offsetAfter <= tr && tr < wallEnd - offsetAfter;
  return continuesOn ? wallEnd - offsetAfter : tr;
}
