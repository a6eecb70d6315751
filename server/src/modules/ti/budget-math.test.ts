import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allowanceOf,
  callsRemaining,
  decideReservation,
  effectiveCaps,
  isAtNotifyThreshold,
  monthOf,
  monthStart,
  nextMonth,
  percentUsed,
  resetTimeOf,
} from './budget-math.js';

const ZONES = ['UTC', 'Europe/Berlin', 'America/Denver', 'Pacific/Kiritimati', 'Pacific/Pago_Pago', 'Asia/Kolkata', 'America/Sao_Paulo', 'Australia/Lord_Howe'];

describe('calendar months in a time zone', () => {
  it('reads the month on the zone\'s wall clock', () => {
    const instant = new Date('2026-03-31T23:30:00Z');
    expect(monthOf(instant, 'UTC')).toBe('2026-03');
    expect(monthOf(instant, 'Europe/Berlin')).toBe('2026-04'); // 01:30 CEST on 1 April
    expect(monthOf(new Date('2026-04-01T05:00:00Z'), 'America/Denver')).toBe('2026-03'); // 23:00 MDT on 31 March
  });

  it('starts a month at local midnight on the 1st, and resets budgets then', () => {
    expect(monthStart('2026-04', 'Europe/Berlin').toISOString()).toBe('2026-03-31T22:00:00.000Z');
    expect(monthStart('2026-01', 'America/Denver').toISOString()).toBe('2026-01-01T07:00:00.000Z');
    expect(resetTimeOf(new Date('2026-12-15T00:00:00Z'), 'UTC').toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(nextMonth('2026-12')).toBe('2027-01');
  });

  it('puts the first instant of a month in that month and the instant before in the previous one, in any zone', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1971, max: 2099 }), fc.integer({ min: 1, max: 12 }), fc.constantFrom(...ZONES), (year, month, zone) => {
        const key = `${year}-${String(month).padStart(2, '0')}`;
        const start = monthStart(key, zone);
        expect(monthOf(start, zone)).toBe(key);
        expect(monthOf(new Date(start.getTime() - 1), zone) < key).toBe(true);
      }),
    );
  });

  it('resets after the instant, within the next month, for any instant', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1990-01-01'), max: new Date('2090-01-01'), noInvalidDate: true }), fc.constantFrom(...ZONES), (at, zone) => {
        const reset = resetTimeOf(at, zone);
        expect(reset.getTime()).toBeGreaterThan(at.getTime());
        expect(monthOf(reset, zone)).toBe(nextMonth(monthOf(at, zone)));
        expect(reset.getTime() - at.getTime()).toBeLessThanOrEqual(32 * 86_400_000);
      }),
    );
  });
});

describe('caps, overrides and reservations', () => {
  const now = new Date('2026-05-10T12:00:00Z');

  it('adds active overrides to the caps, and lifts them for an override with only an end time', () => {
    const budget = { maxCalls: 10, maxCostCents: 500 };
    expect(effectiveCaps(budget, allowanceOf([], now))).toEqual(budget);
    const grants = [
      { extraCalls: 5, extraCostCents: 0, until: null },
      { extraCalls: 0, extraCostCents: 100, until: new Date('2026-05-11T00:00:00Z') },
      { extraCalls: 50, extraCostCents: 0, until: new Date('2026-05-09T00:00:00Z') }, // expired
    ];
    expect(effectiveCaps(budget, allowanceOf(grants, now))).toEqual({ maxCalls: 15, maxCostCents: 600 });
    expect(effectiveCaps(budget, allowanceOf([{ extraCalls: 0, extraCostCents: 0, until: new Date('2026-05-11T00:00:00Z') }], now))).toBeNull();
    expect(effectiveCaps(null, allowanceOf(grants, now))).toBeNull();
  });

  it('allows a call only while both the calls and the cost fit', () => {
    const caps = { maxCalls: 3, maxCostCents: 100 };
    expect(decideReservation(caps, { calls: 2, costCents: 50 }, 50)).toEqual({ allowed: true });
    expect(decideReservation(caps, { calls: 3, costCents: 50 }, 50)).toEqual({ allowed: false, exhausted: ['calls'] });
    expect(decideReservation(caps, { calls: 1, costCents: 60 }, 50)).toEqual({ allowed: false, exhausted: ['cost'] });
    expect(decideReservation(null, { calls: 1e9, costCents: 1e12 }, 50)).toEqual({ allowed: true });
  });

  it('never lets reservations taken one by one exceed either cap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 500 }), (maxCalls, maxCostCents, cost) => {
        const caps = { maxCalls, maxCostCents };
        const usage = { calls: 0, costCents: 0 };
        const expected = callsRemaining(caps, usage, cost);
        let taken = 0;
        while (decideReservation(caps, usage, cost).allowed && taken < 1_000) {
          usage.calls += 1;
          usage.costCents += cost;
          taken += 1;
        }
        expect(usage.calls).toBeLessThanOrEqual(maxCalls);
        expect(usage.costCents).toBeLessThanOrEqual(maxCostCents);
        expect(taken).toBe(expected);
      }),
    );
  });

  it('reaches the 80% threshold at exactly 80% of either cap, in integers', () => {
    const caps = { maxCalls: 10, maxCostCents: 1_000 };
    expect(isAtNotifyThreshold(caps, { calls: 7, costCents: 799 })).toBe(false);
    expect(isAtNotifyThreshold(caps, { calls: 8, costCents: 0 })).toBe(true);
    expect(isAtNotifyThreshold(caps, { calls: 0, costCents: 800 })).toBe(true);
    expect(isAtNotifyThreshold({ maxCalls: 0, maxCostCents: 0 }, { calls: 0, costCents: 0 })).toBe(false);
    expect(isAtNotifyThreshold(null, { calls: 1e6, costCents: 0 })).toBe(false);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 0, max: 2_000_000 }), (cap, used) => {
        const reached = isAtNotifyThreshold({ maxCalls: cap, maxCostCents: 0 }, { calls: used, costCents: 0 });
        expect(reached).toBe(used * 5 >= cap * 4);
        expect(reached).toBe(percentUsed(used, cap) >= 80 || used * 100 >= cap * 80);
      }),
    );
  });
});
