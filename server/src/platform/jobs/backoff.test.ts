import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { retryDelayMs } from './backoff.js';
import { priorityFor, virtualStart } from './fair-queue.js';
import { errorClassOf, isRetryableByDefault, JobTimeoutError, PermanentJobError } from './job-types.js';
import { ConflictError, UpstreamError } from '../errors.js';

describe('retryDelayMs', () => {
  const policy = { maxAttempts: 10, baseDelayMs: 1_000, maxDelayMs: 60_000 };

  it('doubles the nominal delay per attempt up to the cap, with half of it random', () => {
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a, policy, () => 0))).toEqual([500, 1_000, 2_000, 4_000]);
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a, policy, () => 1))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(retryDelayMs(30, policy, () => 1)).toBe(60_000);
  });

  it('always lies between half the nominal delay and the nominal delay', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, r) => {
        const nominal = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
        const delay = retryDelayMs(attempt, policy, () => r);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(nominal / 2));
        expect(delay).toBeLessThanOrEqual(nominal);
      }),
    );
  });
});

describe('fair queuing', () => {
  it('starts a newcomer at the queue clock, ahead of a flooder\'s backlog', () => {
    expect(virtualStart(1_000, 3)).toBe(1_000);
    expect(virtualStart(null, 3)).toBe(3);
    expect(virtualStart(1, 50)).toBe(50);
    expect(priorityFor(3)).toBeGreaterThan(priorityFor(1_000));
  });
});

describe('error classes', () => {
  it('retries server-side and unknown failures, not client errors or permanent ones', () => {
    expect(isRetryableByDefault(new Error('socket hang up'))).toBe(true);
    expect(isRetryableByDefault(new JobTimeoutError(5))).toBe(true);
    expect(isRetryableByDefault(new UpstreamError('502 from ServiceNow'))).toBe(true);
    expect(isRetryableByDefault(new ConflictError('exists'))).toBe(false);
    expect(isRetryableByDefault(new PermanentJobError('no'))).toBe(false);
    expect(errorClassOf(new UpstreamError('x'))).toBe('UpstreamError:upstream_failed');
    expect(errorClassOf(new JobTimeoutError(1))).toBe('JobTimeoutError');
  });
});
