/**
 * An enrichment provider answers "what do you know about this indicator?" with a verdict. Providers are pluggable:
 * the built-in offline `local` provider reads the tenant's own graph; HTTP providers are configured per tenant
 * from one template. Budgets count calls and cents per provider, so each declares what a call costs.
 */
export const VERDICTS = ['malicious', 'suspicious', 'benign', 'unknown'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** What is looked up: a graph entity and the observable value it stands for. */
export type Indicator = { entityId: string; type: string; value: string };

export type LookupResult = { verdict: Verdict; details: Record<string, unknown> };

export type LookupScope = { tenantId: string };

export type EnrichmentProvider = {
  name: string;
  /** What one call costs, in integer cents (0 for offline providers). */
  costCents: number;
  /** Calls per minute the provider allows, and the burst; null when unlimited. */
  rateLimit: { ratePerMinute: number; burst: number } | null;
  lookup(scope: LookupScope, indicator: Indicator): Promise<LookupResult>;
};

/**
 * A lookup that failed. `charged`: the provider answered (so it probably billed the call) and the reservation is
 * committed as a call; otherwise (connection refused, rate limited) it is released.
 */
export class LookupError extends Error {
  constructor(
    message: string,
    readonly charged: boolean,
    /** Set when the provider asked to be called again later (Retry-After) than a job should wait in place. */
    readonly retryAfterMs: number | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LookupError';
  }
}
