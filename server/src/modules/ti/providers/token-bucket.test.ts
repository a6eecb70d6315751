import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../../platform/clock.js';
import { createTokenBucket, parseRetryAfter, takeToken } from './token-bucket.js';

describe('token bucket', () => {
  it('lets a burst through, then spaces calls at the rate', async () => {
    const clock = createManualClock('2026-01-01T00:00:00Z');
    const waits: number[] = [];
    const bucket = createTokenBucket({ ratePerMinute: 6, burst: 2, clock, sleep: async (ms) => { waits.push(ms); clock.advance(ms); } });
    expect([await bucket.acquire(), await bucket.acquire(), await bucket.acquire(), await bucket.acquire()]).toEqual([0, 0, 10_000, 10_000]);
    expect(waits).toEqual([10_000, 10_000]);
  });

  it('holds every caller until a Retry-After pause ends', async () => {
    const clock = createManualClock('2026-01-01T00:00:00Z');
    const bucket = createTokenBucket({ ratePerMinute: 600, burst: 5, clock, sleep: async (ms) => clock.advance(ms) });
    bucket.pause(30_000);
    expect(await bucket.acquire()).toBe(30_000);
    expect(await bucket.acquire()).toBe(0);
  });

  it('never admits more than burst + rate·elapsed calls', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 1, max: 20 }), fc.array(fc.integer({ min: 0, max: 5_000 }), { maxLength: 60 }), (rate, burst, gaps) => {
        let state = { tokens: burst, updatedAt: 0, pausedUntil: 0 };
        let now = 0;
        const starts: number[] = [];
        for (const gap of gaps) {
          now += gap;
          const { waitMs, next } = takeToken(state, now, { ratePerMinute: rate, burst });
          state = next;
          starts.push(now + waitMs);
        }
        if (starts.length === 0) return;
        const span = starts[starts.length - 1]! - starts[0]!;
        expect(starts.length).toBeLessThanOrEqual(burst + Math.floor((span * rate) / 60_000) + 1);
      }),
    );
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('2', now)).toBe(2_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});
