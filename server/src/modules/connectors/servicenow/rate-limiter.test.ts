import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../../platform/clock.js';
import { createRateLimiter, windowWait } from './rate-limiter.js';

function fakeTime() {
  const clock = createManualClock('2026-03-01T00:00:00Z');
  const sleeps: number[] = [];
  return { clock, sleeps, sleep: async (ms: number) => { sleeps.push(ms); clock.advance(ms); } };
}

/** The most admissions inside any window [t, t + windowMs). */
function busiestWindow(times: number[], windowMs: number): number {
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe('rate limiter', () => {
  it('spaces requests at requestsPerSecond after the burst', async () => {
    const { clock, sleep } = fakeTime();
    const limiter = createRateLimiter({ requestsPerSecond: 4, burst: 2 }, { clock, sleep });
    const waits = [];
    for (let i = 0; i < 5; i++) waits.push(await limiter.acquire());
    expect(waits).toEqual([0, 0, 250, 250, 250]);
  });

  it('keeps any rolling hour within requestsPerHour, even with a burst allowed', async () => {
    const { clock, sleep } = fakeTime();
    const limiter = createRateLimiter({ requestsPerSecond: 10, burst: 10, requestsPerHour: 25 }, { clock, sleep });
    const times: number[] = [];
    for (let i = 0; i < 80; i++) {
      await limiter.acquire();
      times.push(clock.now().getTime());
    }
    expect(busiestWindow(times, 3_600_000)).toBe(25);
    expect(times[25]! - times[0]!).toBe(3_600_000); // the 26th waits exactly until the 1st leaves the window
  });

  it('holds every caller during a Retry-After pause', async () => {
    const { clock, sleep } = fakeTime();
    const limiter = createRateLimiter({ requestsPerSecond: 100, burst: 5 }, { clock, sleep });
    limiter.pause(30_000);
    expect(limiter.isPaused()).toBe(true);
    expect(await limiter.acquire()).toBe(30_000);
    expect(limiter.isPaused()).toBe(false);
  });

  it('queues concurrent callers in order without exceeding the rate', async () => {
    const { clock, sleep } = fakeTime();
    const limiter = createRateLimiter({ requestsPerSecond: 2, burst: 1 }, { clock, sleep });
    const admittedAt: number[] = [];
    await Promise.all(Array.from({ length: 6 }, () => limiter.acquire().then(() => admittedAt.push(clock.now().getTime()))));
    const start = Date.parse('2026-03-01T00:00:00Z');
    expect(admittedAt.map((t) => t - start)).toEqual([0, 500, 1000, 1500, 2000, 2500]);
  });

  it('refuses a limit that is not a positive number', () => {
    const { clock } = fakeTime();
    expect(() => createRateLimiter({ requestsPerHour: 0 }, { clock })).toThrow(/requestsPerHour/);
  });

  it('windowWait never lets more than `limit` admissions into any window', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 10_000 }), fc.array(fc.integer({ min: 0, max: 3_000 }), { maxLength: 80 }), (limit, windowMs, gaps) => {
        const admitted: number[] = [];
        let now = 0;
        for (const gap of gaps) {
          now += gap;
          now += windowWait(admitted, now, limit, windowMs);
          admitted.push(now);
        }
        expect(busiestWindow(admitted, windowMs)).toBeLessThanOrEqual(limit);
      }),
    );
  });
});
