/**
 * The client-side limiter that keeps Summit inside a customer's ServiceNow quota. Two limits, both optional:
 *  - `requestsPerSecond` + `burst`: a token bucket (the TI providers' `takeToken`, reused as is) that smooths
 *    traffic;
 *  - `requestsPerHour`: a budget over a rolling hour — the unit ServiceNow admins configure. A token bucket
 *    cannot guarantee it (a full bucket plus an hour of refill lets through twice the budget in an hour), so it
 *    is a sliding window over the times requests were let through: the (n+1)-th request waits until the
 *    oldest of the last n leaves the window.
 * A 429's Retry-After pauses every caller. Acquisitions are serialised, so concurrent callers queue in order and
 * a request's admission time is the time it is sent (nothing sleeps between admission and sending).
 */
import type { Clock } from '../../../platform/clock.js';
import { realSleep, takeToken, type BucketState, type Sleep } from '../../ti/providers/token-bucket.js';

export type RateLimit = { requestsPerSecond?: number; requestsPerHour?: number; burst?: number };

export type RateLimiter = {
  /** Waits until a request may be sent, and counts it as sent; returns how long it waited (ms). */
  acquire(): Promise<number>;
  /** Holds every caller for ms (a Retry-After). */
  pause(ms: number): void;
  /** True while a pause is in force. */
  isPaused(): boolean;
};

const HOUR_MS = 3_600_000;

/**
 * Pure: how long until one more request fits a budget of `limit` per `windowMs`, given the admission times
 * (ascending) of earlier requests. 0 when it fits now.
 */
export function windowWait(admitted: readonly number[], now: number, limit: number, windowMs: number): number {
  if (admitted.length < limit) return 0;
  const blocking = admitted[admitted.length - limit]!;
  return Math.max(0, blocking + windowMs - now);
}

export function createRateLimiter(limits: RateLimit & { windowMs?: number }, deps: { clock: Clock; sleep?: Sleep }): RateLimiter {
  const sleep = deps.sleep ?? realSleep;
  const windowMs = limits.windowMs ?? HOUR_MS;
  for (const [name, value] of Object.entries(limits)) {
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value > 0)) throw new Error(`rate limit ${name} must be a positive number`);
  }
  const bucketLimits = limits.requestsPerSecond ? { ratePerMinute: limits.requestsPerSecond * 60, burst: Math.max(1, Math.floor(limits.burst ?? 1)) } : null;
  let bucket: BucketState = { tokens: bucketLimits?.burst ?? 0, updatedAt: deps.clock.now().getTime(), pausedUntil: 0 };
  let pausedUntil = 0;
  const admitted: number[] = [];
  let queue: Promise<unknown> = Promise.resolve();

  async function admit(): Promise<number> {
    const start = deps.clock.now().getTime();
    for (;;) {
      const now = deps.clock.now().getTime();
      let wait = Math.max(0, pausedUntil - now);
      if (limits.requestsPerHour) {
        const floor = now - windowMs;
        while (admitted.length > 0 && admitted[0]! <= floor) admitted.shift();
        wait = Math.max(wait, windowWait(admitted, now, limits.requestsPerHour, windowMs));
      }
      const step = bucketLimits ? takeToken(bucket, now, bucketLimits) : null;
      if (step) wait = Math.max(wait, step.waitMs);
      if (wait <= 0) {
        // Both limits agree now: take the token and record the admission together.
        if (step) bucket = step.next;
        if (limits.requestsPerHour) admitted.push(now);
        return now - start;
      }
      await sleep(wait);
    }
  }

  return {
    acquire() {
      const turn = queue.then(admit);
      queue = turn.catch(() => undefined);
      return turn;
    },
    pause(ms) {
      pausedUntil = Math.max(pausedUntil, deps.clock.now().getTime() + ms);
    },
    isPaused() {
      return pausedUntil > deps.clock.now().getTime();
    },
  };
}
