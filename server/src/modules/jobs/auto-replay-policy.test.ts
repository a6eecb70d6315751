import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AutoReplayPolicyError,
  isReplayable,
  loadAutoReplayPolicy,
  parseAutoReplayPolicy,
  windowAt,
  type QueueReplayPolicy,
  type ReplayWindow,
  type Weekday,
} from './auto-replay-policy.js';

const SHIPPED = fileURLToPath(new URL('../../../../ops/dlq/auto_replay.yaml', import.meta.url));

/** A valid policy; the cases below replace one numbered line of it. */
const VALID_LINES = [
  'version: 1', //                                               1
  'queues:', //                                                  2
  '  notifications.webhook:', //                                 3
  '    timezone: Europe/Berlin', //                              4
  '    windows:', //                                             5
  '      - days: [sat, sun]', //                                 6
  '        start: "00:00"', //                                   7
  '        end: "24:00"', //                                     8
  '    maxReplaysPerItem: 3', //                                 9
  '    minAgeMinutes: 30', //                                    10
  '    replayableErrorClasses: [UpstreamError, JobTimeoutError]', // 11
  '    maxBatchPerWindow: 100', //                               12
];
const Q = 'queues["notifications.webhook"]';

function withLines(replacements: Record<number, string>): string {
  return VALID_LINES.map((line, i) => replacements[i + 1] ?? line).join('\n') + '\n';
}

function problemsOf(text: string): string {
  try {
    parseAutoReplayPolicy(text);
  } catch (error) {
    expect(error).toBeInstanceOf(AutoReplayPolicyError);
    return (error as Error).message;
  }
  throw new Error('the policy was accepted');
}

describe('parseAutoReplayPolicy', () => {
  it('accepts the shipped ops/dlq/auto_replay.yaml', async () => {
    const policy = await loadAutoReplayPolicy(SHIPPED);
    expect(Object.keys(policy.queues).sort()).toEqual(['audit.checkpoint', 'connector.incident', 'connector.sync', 'notifications.webhook']);
    const webhook = policy.queues['notifications.webhook']!;
    expect(webhook).toMatchObject({ enabled: true, timezone: 'UTC', maxReplaysPerItem: 3, minAgeMinutes: 30 });
    expect(webhook.replayableErrorClasses).toContain('UpstreamError');
    // Nights and weekends: Saturday noon and Tuesday 03:00 are open, Tuesday noon is not.
    expect(windowAt(webhook, new Date('2026-05-09T12:00:00Z'))).not.toBeNull();
    expect(windowAt(webhook, new Date('2026-05-12T03:00:00Z'))).not.toBeNull();
    expect(windowAt(webhook, new Date('2026-05-12T12:00:00Z'))).toBeNull();
    expect(policy.queues['audit.checkpoint']!.replayableErrorClasses).toEqual(['*']);
  });

  it('returns the typed policy and defaults enabled to true', () => {
    const policy = parseAutoReplayPolicy(withLines({}));
    expect(policy).toEqual({
      version: 1,
      queues: {
        'notifications.webhook': {
          enabled: true,
          timezone: 'Europe/Berlin',
          windows: [{ days: ['sat', 'sun'], start: '00:00', end: '24:00' }],
          maxReplaysPerItem: 3,
          minAgeMinutes: 30,
          replayableErrorClasses: ['UpstreamError', 'JobTimeoutError'],
          maxBatchPerWindow: 100,
        },
      },
    });
  });

  it.each([
    ['a time without two-digit hours', { 7: '        start: "9:30"' }, `7:16: ${Q}.windows[0].start: must be a time "HH:MM"`],
    ['an hour past 23', { 7: '        start: "25:00"' }, `7:16: ${Q}.windows[0].start: must be a time "HH:MM" from "00:00" to "23:59"`],
    ['24:00 as a start', { 7: '        start: "24:00"' }, `7:16: ${Q}.windows[0].start: must be a time`],
    ['a number for a time', { 8: '        end: 1800' }, `8:14: ${Q}.windows[0].end: must be a time "HH:MM" in quotes`],
    [
      'an end before the start (crossing midnight)',
      { 7: '        start: "22:00"', 8: '        end: "02:00"' },
      `8:14: ${Q}.windows[0].end: end 02:00 is not after start 22:00: a window may not cross midnight; split it into 22:00–24:00 and 00:00–02:00`,
    ],
    ['an end equal to the start', { 7: '        start: "10:00"', 8: '        end: "10:00"' }, `8:14: ${Q}.windows[0].end: end 10:00 equals start`],
    ['an unknown day', { 6: '      - days: [sat, sunday]' }, `6:21: ${Q}.windows[0].days[1]: unknown day "sunday": use mon, tue`],
    ['a capitalised day', { 6: '      - days: [Sat]' }, `6:16: ${Q}.windows[0].days[0]: unknown day "Sat"`],
    ['a repeated day', { 6: '      - days: [sat, sun, sat]' }, `6:26: ${Q}.windows[0].days[2]: sat is listed twice`],
    ['no days', { 6: '      - days: []' }, `6:9: ${Q}.windows[0].days: must name at least one day`],
    ['an unknown time zone', { 4: '    timezone: Mars/Olympus' }, `4:15: ${Q}.timezone: unknown time zone "Mars/Olympus"`],
    [
      'an unknown key',
      { 12: '    maxBatchPerWindow: 100\n    maxBatchPerWindw: 50' },
      `13:5: ${Q}.maxBatchPerWindw: unknown key "maxBatchPerWindw" (expected enabled, timezone, windows,`,
    ],
    ['an unknown key at the top', { 1: 'version: 1\nverison: 1' }, `2:1: verison: unknown key "verison" (expected version, queues)`],
    ['an unknown key in a window', { 8: '        end: "24:00"\n        tz: UTC' }, `9:9: ${Q}.windows[0].tz: unknown key "tz" (expected days, start, end)`],
    ['a word for a count', { 9: '    maxReplaysPerItem: three' }, `9:24: ${Q}.maxReplaysPerItem: must be a whole number`],
    ['a fraction for a count', { 10: '    minAgeMinutes: 2.5' }, `10:20: ${Q}.minAgeMinutes: must be a whole number`],
    ['a quoted number', { 12: '    maxBatchPerWindow: "100"' }, `12:24: ${Q}.maxBatchPerWindow: must be a whole number`],
    ['zero replays', { 9: '    maxReplaysPerItem: 0' }, `9:24: ${Q}.maxReplaysPerItem: must be at least 1`],
    ['a negative age', { 10: '    minAgeMinutes: -1' }, `10:20: ${Q}.minAgeMinutes: must be at least 0`],
    ['a string for enabled', { 4: '    enabled: yes\n    timezone: Europe/Berlin' }, `4:14: ${Q}.enabled: must be true or false`],
    ['a map for windows', { 5: '    windows: {}', 6: '', 7: '', 8: '' }, `5:5: ${Q}.windows: must be a list of windows`],
    ['no error classes', { 11: '    replayableErrorClasses: []' }, `11:5: ${Q}.replayableErrorClasses: must list at least one error class`],
    ['a malformed error class', { 11: '    replayableErrorClasses: ["Upstream Error"]' }, `11:30: ${Q}.replayableErrorClasses[0]: must be "*", a class`],
    ['PermanentJobError', { 11: '    replayableErrorClasses: [PermanentJobError]' }, `11:30: ${Q}.replayableErrorClasses[0]: PermanentJobError marks`],
    ['a missing setting', { 10: '' }, `3:3: ${Q}.minAgeMinutes: is required`],
    ['another version', { 1: 'version: 2' }, '1:10: version: must be 1'],
    ['a bad queue name', { 3: '  "webhooks!":' }, '3:3: queues["webhooks!"]: a queue name is 1–100 letters'],
    [
      'overlapping windows',
      { 8: '        end: "12:00"\n      - days: [fri, sat]\n        start: "11:00"\n        end: "13:00"' },
      `9:9: ${Q}.windows[1]: overlaps window 0 on sat`,
    ],
    ['an unclosed flow list (YAML syntax)', { 11: '    replayableErrorClasses: [UpstreamError, JobTimeoutError' }, '12:5: (yaml): '],
    ['a tab for indentation (YAML syntax)', { 9: '\tmaxReplaysPerItem: 3' }, '9:1: (yaml): '],
    ['a duplicated key (YAML)', { 10: '    minAgeMinutes: 30\n    timezone: UTC' }, '11:5: (yaml): Map keys must be unique'],
  ])('rejects %s, naming the line', (_name, lines, expected) => {
    const message = problemsOf(withLines(lines));
    expect(message).toContain(`\n  auto_replay.yaml:${expected}`);
  });

  it('lists every problem at once, in file order, with structured positions', () => {
    const text = withLines({ 4: '    timezone: Nowhere/City', 7: '        start: "7"', 12: '    maxBatchPerWindow: 0' });
    let error: AutoReplayPolicyError | undefined;
    try {
      parseAutoReplayPolicy(text, 'ops/dlq/auto_replay.yaml');
    } catch (e) {
      error = e as AutoReplayPolicyError;
    }
    expect(error?.problems.map((p) => [p.line, p.col, p.path])).toEqual([
      [4, 15, `${Q}.timezone`],
      [7, 16, `${Q}.windows[0].start`],
      [12, 24, `${Q}.maxBatchPerWindow`],
    ]);
    expect(error?.message.split('\n')[0]).toBe('Invalid auto-replay policy ops/dlq/auto_replay.yaml (3 problems):');
    expect(error?.message).toContain('\n  ops/dlq/auto_replay.yaml:4:15: ');
  });

  it('rejects an empty file', () => {
    expect(problemsOf('')).toContain('auto_replay.yaml:1:1: (root): the file must be a map with version and queues');
  });
});

describe('loadAutoReplayPolicy', () => {
  it('names the path of a missing file', async () => {
    const path = join(tmpdir(), 'summit-no-such-dir', 'auto_replay.yaml');
    await expect(loadAutoReplayPolicy(path)).rejects.toThrow(`The auto-replay policy file ${path} does not exist.`);
  });

  it('reports problems against the path it read', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'summit-policy-')), 'auto_replay.yaml');
    await writeFile(path, withLines({ 9: '    maxReplaysPerItem: 0' }));
    await expect(loadAutoReplayPolicy(path)).rejects.toThrow(`${path}:9:24: ${Q}.maxReplaysPerItem: must be at least 1`);
  });
});

function queue(timezone: string, windows: ReplayWindow[], overrides: Partial<QueueReplayPolicy> = {}): QueueReplayPolicy {
  return {
    enabled: true,
    timezone,
    windows,
    maxReplaysPerItem: 3,
    minAgeMinutes: 30,
    replayableErrorClasses: ['UpstreamError', 'JobTimeoutError:upstream_failed'],
    maxBatchPerWindow: 10,
    ...overrides,
  };
}

const win = (days: Weekday[], start: string, end: string): ReplayWindow => ({ days, start, end });

function openAt(policy: QueueReplayPolicy, iso: string): { start: string; end: string; key: string } | null {
  const open = windowAt(policy, new Date(iso));
  return open && { start: open.start.toISOString(), end: open.end.toISOString(), key: open.key };
}

describe('windowAt', () => {
  const weekend = queue('UTC', [win(['sat'], '00:00', '24:00'), win(['sun'], '00:00', '24:00')]);

  it('returns the whole-day window of each day, with a different key per day', () => {
    // 2026-05-09 is a Saturday.
    expect(openAt(weekend, '2026-05-09T13:00:00Z')).toEqual({ start: '2026-05-09T00:00:00.000Z', end: '2026-05-10T00:00:00.000Z', key: '2026-05-09#0' });
    expect(openAt(weekend, '2026-05-10T00:00:00Z')).toEqual({ start: '2026-05-10T00:00:00.000Z', end: '2026-05-11T00:00:00.000Z', key: '2026-05-10#1' });
    expect(openAt(weekend, '2026-05-08T23:59:59.999Z')).toBeNull();
    expect(openAt(weekend, '2026-05-11T00:00:00Z')).toBeNull();
  });

  it('includes the start and excludes the end', () => {
    const nights = queue('UTC', [win(['tue'], '01:00', '05:30')]);
    expect(openAt(nights, '2026-05-12T01:00:00Z')?.start).toBe('2026-05-12T01:00:00.000Z');
    expect(openAt(nights, '2026-05-12T05:29:59.999Z')?.end).toBe('2026-05-12T05:30:00.000Z');
    expect(openAt(nights, '2026-05-12T05:30:00Z')).toBeNull();
    expect(openAt(nights, '2026-05-12T00:59:59Z')).toBeNull();
  });

  it("uses the weekday of the queue's zone, not of UTC", () => {
    // Monday 22:00–24:00 in Denver (UTC−7 in January) is Tuesday 05:00–07:00 UTC.
    const denver = queue('America/Denver', [win(['mon'], '22:00', '24:00')]);
    expect(openAt(denver, '2026-01-06T05:30:00Z')).toEqual({ start: '2026-01-06T05:00:00.000Z', end: '2026-01-06T07:00:00.000Z', key: '2026-01-05#0' });
    expect(openAt(denver, '2026-01-06T04:59:00Z')).toBeNull();
    expect(openAt(denver, '2026-01-05T05:30:00Z')).toBeNull(); // Sunday evening in Denver
  });

  it('returns nothing for a disabled queue and rejects an invalid date', () => {
    expect(windowAt({ ...weekend, enabled: false }, new Date('2026-05-09T13:00:00Z'))).toBeNull();
    expect(() => windowAt(weekend, new Date(Number.NaN))).toThrow(RangeError);
  });

  describe('on the day the clocks go forward (America/Denver, 2026-03-08 02:00 MST → 03:00 MDT = 09:00Z)', () => {
    it('shortens a window spanning the gap by the missing hour', () => {
      const q = queue('America/Denver', [win(['sun'], '01:00', '04:00')]);
      const expected = { start: '2026-03-08T08:00:00.000Z', end: '2026-03-08T10:00:00.000Z', key: '2026-03-08#0' };
      expect(openAt(q, '2026-03-08T08:30:00Z')).toEqual(expected); // 01:30 MST
      expect(openAt(q, '2026-03-08T09:30:00Z')).toEqual(expected); // 03:30 MDT
    });

    it('opens a window starting in the gap when the clocks jump', () => {
      const q = queue('America/Denver', [win(['sun'], '02:30', '05:00')]);
      expect(openAt(q, '2026-03-08T09:00:00Z')).toEqual({ start: '2026-03-08T09:00:00.000Z', end: '2026-03-08T11:00:00.000Z', key: '2026-03-08#0' });
      expect(openAt(q, '2026-03-08T08:59:59Z')).toBeNull(); // 01:59:59 MST
    });

    it('never opens a window lying wholly in the gap', () => {
      const q = queue('America/Denver', [win(['sun'], '02:00', '03:00')]);
      for (let minute = 0; minute < 24 * 60; minute += 1) {
        expect(windowAt(q, new Date(Date.parse('2026-03-08T07:00:00Z') + minute * 60_000))).toBeNull();
      }
      expect(openAt(q, '2026-03-15T08:30:00Z')?.start).toBe('2026-03-15T08:00:00.000Z'); // a week later it does
    });
  });

  describe('on the day the clocks go back (America/Denver, 2026-11-01 02:00 MDT → 01:00 MST = 08:00Z)', () => {
    it('lengthens a window spanning the repeated hour, one window through both passes', () => {
      const q = queue('America/Denver', [win(['sun'], '01:00', '03:00')]);
      const expected = { start: '2026-11-01T07:00:00.000Z', end: '2026-11-01T10:00:00.000Z', key: '2026-11-01#0' };
      expect(openAt(q, '2026-11-01T07:30:00Z')).toEqual(expected); // 01:30 MDT
      expect(openAt(q, '2026-11-01T08:30:00Z')).toEqual(expected); // 01:30 MST
    });

    it('reopens a window ending in the repeated hour for its second pass, under the same key', () => {
      const q = queue('America/Denver', [win(['sun'], '00:00', '01:30')]);
      expect(openAt(q, '2026-11-01T07:00:00Z')).toEqual({ start: '2026-11-01T06:00:00.000Z', end: '2026-11-01T07:30:00.000Z', key: '2026-11-01#0' });
      expect(openAt(q, '2026-11-01T07:45:00Z')).toBeNull(); // 01:45 MDT
      expect(openAt(q, '2026-11-01T08:00:00Z')).toEqual({ start: '2026-11-01T08:00:00.000Z', end: '2026-11-01T08:30:00.000Z', key: '2026-11-01#0' });
    });
  });

  it('follows Europe/Berlin through both 2026 changes', () => {
    const q = queue('Europe/Berlin', [win(['sun'], '02:00', '04:00')]);
    // 2026-03-29: 02:00 CET → 03:00 CEST at 01:00Z; 02:00 never happens, so the window opens at the jump.
    expect(openAt(q, '2026-03-29T01:30:00Z')).toEqual({ start: '2026-03-29T01:00:00.000Z', end: '2026-03-29T02:00:00.000Z', key: '2026-03-29#0' });
    // 2026-10-25: 03:00 CEST → 02:00 CET at 01:00Z; 02:00–03:00 happens twice, so the window lasts three hours.
    const autumn = { start: '2026-10-25T00:00:00.000Z', end: '2026-10-25T03:00:00.000Z', key: '2026-10-25#0' };
    expect(openAt(q, '2026-10-25T00:30:00Z')).toEqual(autumn);
    expect(openAt(q, '2026-10-25T02:59:00Z')).toEqual(autumn);
  });
});

describe('windowAt (property)', () => {
  const ZONES = ['UTC', 'America/Denver', 'Europe/Berlin', 'Australia/Lord_Howe', 'America/St_Johns', 'America/Santiago', 'Asia/Kathmandu'];
  const DAYS: Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

  /** Wall clock read independently of the code under test. */
  function wallOf(zone: string, ms: number): { date: string; weekday: Weekday; minute: number } {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
        .formatToParts(ms)
        .map((p) => [p.type, p.value]),
    );
    const weekday = DAYS.find((d) => d === parts.weekday!.toLowerCase())!;
    return { date: `${parts.year}-${parts.month}-${parts.day}`, weekday, minute: Number(parts.hour) * 60 + Number(parts.minute) };
  }
  const toMinutes = (time: string) => Number(time.slice(0, 2)) * 60 + Number(time.slice(3));
  const inWindow = (zone: string, ms: number, w: ReplayWindow) => {
    const wall = wallOf(zone, ms);
    return w.days.includes(wall.weekday) && toMinutes(w.start) <= wall.minute && wall.minute < toMinutes(w.end);
  };

  /** Offset changes of a zone in 2025–2027, so that instants near them are tried often. */
  function transitions(zone: string): number[] {
    const offset = (ms: number) => {
      const w = wallOf(zone, ms);
      return Date.parse(`${w.date}T00:00:00Z`) + w.minute * 60_000 - Math.floor(ms / 60_000) * 60_000;
    };
    const found: number[] = [];
    for (let t = Date.parse('2025-01-01T00:00:00Z'); t < Date.parse('2028-01-01T00:00:00Z'); t += 6 * 3_600_000) {
      let [lo, hi] = [t, t + 6 * 3_600_000];
      if (offset(lo) === offset(hi)) continue;
      while (hi - lo > 60_000) {
        const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
        if (offset(mid) === offset(lo)) lo = mid;
        else hi = mid;
      }
      found.push(hi);
    }
    return found;
  }
  const TRANSITIONS = new Map(ZONES.map((zone) => [zone, transitions(zone)]));

  const clock = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
  const quarterHour = fc.integer({ min: 0, max: 96 }).map((q) => q * 15);
  /** Wall times next to a transition (the clock just before and just after it, and nearby), as window edges. */
  function edgeMinutes(zone: string, tr: number): number[] {
    const [before, after] = [wallOf(zone, tr - 60_000).minute + 1, wallOf(zone, tr).minute];
    const near = [before, after].flatMap((m) => [m - 60, m - 30, m, m + 30, m + 60]);
    return [...new Set(near.filter((m) => m >= 0 && m <= 1440))];
  }
  // Up to three windows on disjoint days.
  const windowsArb = (times: fc.Arbitrary<number>) =>
    fc
      .tuple(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 7, maxLength: 7 }), fc.array(fc.tuple(times, times), { minLength: 3, maxLength: 3 }))
      .map(([slots, spans]) =>
        spans.flatMap(([a, b], slot): ReplayWindow[] => {
          const days = DAYS.filter((_, i) => slots[i] === slot);
          const [s, e] = a < b ? [a, b] : a > b ? [b, a] : [Math.min(a, 1425), Math.min(a, 1425) + 15];
          return days.length ? [win(days, clock(s), clock(e))] : [];
        }),
      );
  // Mostly instants within hours of a transition, with window edges at the wall times around it; some anywhere.
  const caseArb = fc.constantFrom(...ZONES).chain((zone) => {
    const anywhere = fc.record({
      zone: fc.constant(zone),
      windows: windowsArb(quarterHour),
      instant: fc.integer({ min: Date.parse('2000-01-01T00:00:00Z'), max: Date.parse('2040-01-01T00:00:00Z') }),
    });
    const transitionsOfZone = TRANSITIONS.get(zone)!;
    if (!transitionsOfZone.length) return anywhere;
    const nearTransition = fc.constantFrom(...transitionsOfZone).chain((tr) =>
      fc.record({
        zone: fc.constant(zone),
        windows: windowsArb(fc.oneof(quarterHour, fc.constantFrom(...edgeMinutes(zone, tr)))),
        instant: fc.integer({ min: tr - 4 * 3_600_000, max: tr + 4 * 3_600_000 }),
      }),
    );
    return fc.oneof({ arbitrary: anywhere, weight: 1 }, { arbitrary: nearTransition, weight: 3 });
  });

  it('finds transitions to try (the generator is not vacuous)', () => {
    expect(TRANSITIONS.get('America/Denver')).toContain(Date.parse('2026-03-08T09:00:00Z'));
    expect(TRANSITIONS.get('Australia/Lord_Howe')!.length).toBe(6);
  });

  it('returns a window containing the instant whose wall clock is inside it throughout, or null when no window is open', () => {
    fc.assert(
      fc.property(caseArb, fc.double({ min: 0, max: 1, noNaN: true }), ({ zone, windows, instant }, fraction) => {
        const policy = queue(zone, windows);
        const open = windowAt(policy, new Date(instant));
        if (!open) {
          expect(windows.some((w) => inWindow(zone, instant, w))).toBe(false);
          return;
        }
        const w = windows[open.index]!;
        const [start, end] = [open.start.getTime(), open.end.getTime()];
        expect(start <= instant && instant < end).toBe(true);
        expect(inWindow(zone, instant, w)).toBe(true);
        expect(wallOf(zone, instant).date).toBe(open.localDate);
        // Every instant of [start, end) is in the window on the same local date, and the stretch is maximal.
        for (const probe of [start, end - 1, start + Math.floor((end - start) * fraction)]) {
          expect(inWindow(zone, Math.min(probe, end - 1), w) && wallOf(zone, Math.min(probe, end - 1)).date === open.localDate).toBe(true);
        }
        for (const outside of [start - 1, end]) {
          expect(inWindow(zone, outside, w) && wallOf(zone, outside).date === open.localDate).toBe(false);
        }
      }),
      { numRuns: 1500 },
    );
  });
});

describe('isReplayable', () => {
  const now = new Date('2026-05-09T12:00:00Z');
  const policy = queue('UTC', [], { maxReplaysPerItem: 2, minAgeMinutes: 30 });
  const item = (cls: string, replayCount = 0, ageMs = 30 * 60_000) => ({
    errors: [{ class: 'PermanentJobError' }, { class: cls }],
    replayCount,
    deadAt: new Date(now.getTime() - ageMs),
  });

  it('replays an item whose last error class is listed, below the replay limit, old enough', () => {
    expect(isReplayable(policy, item('UpstreamError:upstream_failed'), now)).toEqual({ replay: true });
  });

  it('lets a class without a code cover all its codes, and a class with a code only that code', () => {
    expect(isReplayable(policy, item('UpstreamError'), now)).toEqual({ replay: true });
    expect(isReplayable(policy, item('JobTimeoutError:upstream_failed'), now)).toEqual({ replay: true });
    expect(isReplayable(policy, item('JobTimeoutError'), now)).toEqual({ replay: false, reason: `the last error's class "JobTimeoutError" is not replayable on this queue` });
    expect(isReplayable(policy, item('UpstreamErrorX'), now).replay).toBe(false);
  });

  it('judges by the last error only', () => {
    const earlierReplayable = { ...item('TypeError'), errors: [{ class: 'UpstreamError' }, { class: 'TypeError' }] };
    expect(isReplayable(policy, earlierReplayable, now).replay).toBe(false);
    expect(isReplayable(policy, { ...item('x'), errors: [] }, now)).toEqual({ replay: false, reason: 'no error is recorded for the item' });
  });

  it('lets "*" cover every class but PermanentJobError', () => {
    const any = { ...policy, replayableErrorClasses: ['*'] };
    expect(isReplayable(any, item('TypeError'), now)).toEqual({ replay: true });
    expect(isReplayable(any, item('string'), now)).toEqual({ replay: true });
    expect(isReplayable(any, item('PermanentJobError'), now).replay).toBe(false);
  });

  it('stops at maxReplaysPerItem', () => {
    expect(isReplayable(policy, item('UpstreamError', 1), now)).toEqual({ replay: true });
    expect(isReplayable(policy, item('UpstreamError', 2), now)).toEqual({ replay: false, reason: 'already replayed 2 times (at most 2)' });
  });

  it('waits until the item is minAgeMinutes old, inclusive', () => {
    expect(isReplayable(policy, item('UpstreamError', 0, 30 * 60_000), now)).toEqual({ replay: true });
    expect(isReplayable(policy, item('UpstreamError', 0, 30 * 60_000 - 1), now)).toEqual({ replay: false, reason: 'dead for 29 min, less than the 30 min minimum' });
    expect(isReplayable({ ...policy, minAgeMinutes: 0 }, item('UpstreamError', 0, 0), now)).toEqual({ replay: true });
  });

  it('replays nothing on a disabled queue', () => {
    expect(isReplayable({ ...policy, enabled: false }, item('UpstreamError'), now)).toEqual({ replay: false, reason: 'auto-replay is disabled for this queue' });
  });
});
