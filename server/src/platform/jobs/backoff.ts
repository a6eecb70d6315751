export type RetryPolicy = {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Delay before the second attempt; doubles each time after. */
  baseDelayMs: number;
  maxDelayMs: number;
};

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 2_000, maxDelayMs: 10 * 60_000 };

/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random. Retries of many jobs that failed
 * together (an upstream outage) spread out instead of arriving at the upstream in one burst, while no retry comes
 * sooner than half its nominal delay.
 */
export function retryDelayMs(failedAttempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const nominal = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failedAttempt - 1));
  return Math.round(nominal / 2 + random() * (nominal / 2));
}
