/**
 * Outbound rate limiting for enrichment providers: a token bucket (a burst, refilled at a steady rate) that also
 * honours a provider's `Retry-After` by pausing every caller until then. Time comes from a clock and waiting goes
 * through a sleep function, so tests move time instead of waiting for it.
 */
import type { Clock } from '../../../platform/clock.js';

export type Sleep = (ms: number) => Promise<void>;
export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export type BucketState = { tokens: number; updatedAt: number; pausedUntil: number };

/**
 * Pure step: how long a caller must wait before taking one token at `now`, and the state after taking it. Tokens
 * refill continuously at `ratePerMinute` up to `burst`; a pause (Retry-After) delays everyone until it ends.
 */
export function takeToken(state: BucketState, now: number, limits: { ratePerMinute: number; burst: number }): { waitMs: number; next: BucketState } {
  const start = Math.max(now, state.pausedUntil);
  const perMs = limits.ratePerMinute / 60_000;
  const refilled = Math.min(limits.burst, state.tokens + Math.max(0, start - state.updatedAt) * perMs);
  if (refilled >= 1) {
    return { waitMs: start - now, next: { tokens: refilled - 1, updatedAt: start, pausedUntil: state.pausedUntil } };
  }
  // A caller already queued for a future token (updatedAt ahead of now) goes first: this one queues behind it.
  const until = Math.max(start, state.updatedAt) + Math.ceil((1 - refilled) / perMs);
  return { waitMs: until - now, next: { tokens: 0, updatedAt: until, pausedUntil: state.pausedUntil } };
}

/**
 * Reads a Retry-After header (RFC 9110: delay in seconds, or an HTTP date) as milliseconds from now; null when
 * absent or unreadable. A date in the past means "now" (0).
 */
export function parseRetryAfter(header: string | null | undefined, now: Date): number | null {
  if (header === null || header === undefined) return null;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now.getTime());
}

export type TokenBucket = {
  /** Waits until a token is available and takes it; returns how long it waited (ms). */
  acquire(): Promise<number>;
  /** Pauses every caller for ms (a Retry-After from the provider). */
  pause(ms: number): void;
};

export function createTokenBucket(options: { ratePerMinute: number; burst: number; clock: Clock; sleep?: Sleep }): TokenBucket {
  const sleep = options.sleep ?? realSleep;
  let state: BucketState = { tokens: options.burst, updatedAt: options.clock.now().getTime(), pausedUntil: 0 };
  return {
    async acquire() {
      // The token is taken before sleeping, so concurrent callers queue behind each other instead of racing.
      const { waitMs, next } = takeToken(state, options.clock.now().getTime(), options);
      state = next;
      if (waitMs > 0) await sleep(waitMs);
      return waitMs;
    },
    pause(ms) {
      state = { ...state, pausedUntil: Math.max(state.pausedUntil, options.clock.now().getTime() + ms) };
    },
  };
}
