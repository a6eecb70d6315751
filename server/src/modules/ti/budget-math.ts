/**
 * Budget arithmetic, free of the database: calendar months in a time zone, caps with overrides, reservations and
 * the 80% notification threshold. Money is integer cents and calls are integers, so no rounding ever enters.
 */

/** A calendar month as `YYYY-MM`. */
export type MonthKey = string;

export const MONTH_RE = /^(\d{4})-(0[1-9]|1[0-2])$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isTimeZone(zone: string): boolean {
  try {
    formatterFor(zone);
    return true;
  } catch {
    return false;
  }
}

/** The calendar month an instant falls in, read on the wall clock of the time zone. */
export function monthOf(instant: Date, timeZone: string): MonthKey {
  const parts = formatterFor(timeZone).formatToParts(instant);
  const year = parts.find((p) => p.type === 'year')!.value;
  const month = parts.find((p) => p.type === 'month')!.value;
  return `${year.padStart(4, '0')}-${month}`;
}

export function nextMonth(month: MonthKey): MonthKey {
  const m = MONTH_RE.exec(month);
  if (!m) throw new Error(`not a month: ${month}`);
  const year = Number(m[1]);
  const mon = Number(m[2]);
  return mon === 12 ? `${String(year + 1).padStart(4, '0')}-01` : `${m[1]}-${String(mon + 1).padStart(2, '0')}`;
}

/**
 * The first instant of a month in a time zone. Searched rather than computed from an offset: a zone may skip its
 * midnight (a DST change at 00:00), and then the month starts at the first instant that exists. Every zone's
 * offset lies within ±14 hours, so the boundary is within 36 hours of midnight UTC on the 1st.
 */
export function monthStart(month: MonthKey, timeZone: string): Date {
  const m = MONTH_RE.exec(month);
  if (!m) throw new Error(`not a month: ${month}`);
  const utcMidnight = Date.UTC(Number(m[1]), Number(m[2]) - 1, 1);
  let lo = utcMidnight - 36 * 3_600_000; // still the month before, everywhere
  let hi = utcMidnight + 36 * 3_600_000; // already this month, everywhere
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (monthOf(new Date(mid), timeZone) >= month) hi = mid;
    else lo = mid;
  }
  return new Date(hi);
}

/** When the month an instant falls in ends, and a budget counted in that month resets. */
export function resetTimeOf(instant: Date, timeZone: string): Date {
  return monthStart(nextMonth(monthOf(instant, timeZone)), timeZone);
}

export type Caps = { maxCalls: number; maxCostCents: number };
export type Usage = { calls: number; costCents: number };
export type OverrideGrant = { extraCalls: number; extraCostCents: number; until: Date | null };

/**
 * What the month's active overrides add. An override with an end time and no extra amount lifts the caps until
 * then; one with an amount adds it until its end (or the end of its month).
 */
export type Allowance = { extraCalls: number; extraCostCents: number; uncapped: boolean };

export function allowanceOf(overrides: OverrideGrant[], now: Date): Allowance {
  const active = overrides.filter((o) => o.until === null || o.until.getTime() > now.getTime());
  return {
    extraCalls: active.reduce((sum, o) => sum + o.extraCalls, 0),
    extraCostCents: active.reduce((sum, o) => sum + o.extraCostCents, 0),
    uncapped: active.some((o) => o.extraCalls === 0 && o.extraCostCents === 0 && o.until !== null),
  };
}

/** The caps in force: the budget plus active overrides; null when nothing caps the provider this month. */
export function effectiveCaps(budget: Caps | null, allowance: Allowance): Caps | null {
  if (!budget || allowance.uncapped) return null;
  return { maxCalls: budget.maxCalls + allowance.extraCalls, maxCostCents: budget.maxCostCents + allowance.extraCostCents };
}

export type ReservationDecision = { allowed: true } | { allowed: false; exhausted: Array<'calls' | 'cost'> };

/** May one more call costing `costCents` be reserved? Usage counts reserved and committed calls alike. */
export function decideReservation(caps: Caps | null, usage: Usage, costCents: number): ReservationDecision {
  if (!caps) return { allowed: true };
  const exhausted: Array<'calls' | 'cost'> = [];
  if (usage.calls + 1 > caps.maxCalls) exhausted.push('calls');
  if (usage.costCents + costCents > caps.maxCostCents) exhausted.push('cost');
  return exhausted.length ? { allowed: false, exhausted } : { allowed: true };
}

/** How many more calls of this cost fit under the caps (Infinity without caps). */
export function callsRemaining(caps: Caps | null, usage: Usage, costCents: number): number {
  if (!caps) return Infinity;
  const byCalls = Math.max(0, caps.maxCalls - usage.calls);
  if (costCents === 0) return byCalls;
  return Math.min(byCalls, Math.max(0, Math.floor((caps.maxCostCents - usage.costCents) / costCents)));
}

/** The share of a cap used, in whole percent, rounded down (a cap of 0 counts as fully used). */
export function percentUsed(used: number, cap: number): number {
  if (cap <= 0) return 100;
  return Math.floor((used * 100) / cap);
}

export const NOTIFY_PERCENT = 80;

/**
 * Has usage reached 80% of either cap? Integer comparison (used·100 ≥ cap·80), so 8 of 10 calls notifies and 7 does
 * not, with no floating point at the edge. A zero cap has nothing to warn about before it blocks.
 */
export function isAtNotifyThreshold(caps: Caps | null, usage: Usage): boolean {
  if (!caps) return false;
  const reached = (used: number, cap: number) => cap > 0 && used * 100 >= cap * NOTIFY_PERCENT;
  return reached(usage.calls, caps.maxCalls) || reached(usage.costCents, caps.maxCostCents);
}
