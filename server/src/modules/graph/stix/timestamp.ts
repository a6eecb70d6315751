/**
 * STIX timestamps are RFC 3339 date-times in UTC ("2024-05-01T12:00:00.000Z"). Producers also send offsets
 * ("+02:00"), so those are accepted and converted to UTC. The result has exactly the precision PostgreSQL's
 * timestamptz keeps: milliseconds when the input has at most three fraction digits, otherwise microseconds
 * (further digits are truncated). One canonical text per instant makes import → export → import stable.
 */
// Also accepts a space for "T" (RFC 3339 section 5.6 allows it) and "+00"/"+0000" offsets, which is how
// PostgreSQL prints timestamptz, so values read back from the database normalise too.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** The canonical UTC text of an RFC 3339 timestamp, or null when the value is not one (or names no real instant). */
export function normalizeTimestamp(value: unknown): string | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : normalizeTimestamp(value.toISOString());
  if (typeof value !== 'string' || value.length > 40) return null;
  const match = RFC3339.exec(value);
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const fraction = match[7] ?? '';
  if (month < 1 || month > 12 || day < 1) return null;
  const monthDays = month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
  // Second 60 (a leap second) has no representation in JavaScript or PostgreSQL; refusing it beats shifting it.
  if (day > monthDays || hour > 23 || minute > 59 || second > 59) return null;
  let offsetMinutes = 0;
  if (!match[8]) {
    const offsetHours = Number(match[10]);
    const offsetMins = Number(match[11] ?? 0);
    if (offsetHours > 23 || offsetMins > 59) return null;
    offsetMinutes = (match[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute - offsetMinutes, second, 0);
  const utcYear = date.getUTCFullYear();
  if (utcYear < 1 || utcYear > 9999) return null;
  const digits = fraction.length <= 3 ? fraction.padEnd(3, '0') : fraction.slice(0, 6).padEnd(6, '0');
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return (
    `${pad(utcYear, 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}` +
    `T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}.${digits}Z`
  );
}

/** Compares two canonical timestamps (as returned by normalizeTimestamp); negative when a is earlier. */
export function compareTimestamps(a: string, b: string): number {
  // Canonical texts differ only in fraction width; padding both to microseconds makes string order time order.
  const widen = (t: string) => (t.length === 24 ? `${t.slice(0, 23)}000Z` : t);
  const x = widen(a);
  const y = widen(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
