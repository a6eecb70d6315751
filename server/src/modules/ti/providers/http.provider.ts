import { z } from 'zod';
import type { Clock } from '../../../platform/clock.js';
import { VERDICTS, LookupError, type EnrichmentProvider, type Indicator, type LookupResult } from './provider.js';
import { createTokenBucket, parseRetryAfter, realSleep, type Sleep } from './token-bucket.js';

/** A tenant's HTTP provider, as configured through the API (the auth value already opened). */
export type HttpProviderConfig = {
  name: string;
  baseUrl: string;
  authHeader: string | null;
  authValue: string | null;
  costCents: number;
  ratePerMinute: number;
  burst: number;
  timeoutMs: number;
};

/**
 * The contract the template speaks: `GET <baseUrl>/lookup?type=<type>&value=<value>` answering JSON
 * `{ verdict: malicious|suspicious|benign|unknown, ... }`; 404 means the provider knows nothing (unknown). A vendor
 * with another API gets a small adapter service in front, or a provider of its own beside this one.
 */
const answerSchema = z.looseObject({ verdict: z.enum(VERDICTS) });

/** How often one lookup is retried after a 429, and the longest Retry-After it waits out in place. */
const RATE_LIMIT_RETRIES = 3;
const MAX_WAIT_IN_PLACE_MS = 60_000;

export function createHttpProvider(config: HttpProviderConfig, deps: { clock: Clock; sleep?: Sleep; fetch?: typeof fetch }): EnrichmentProvider {
  const sleep = deps.sleep ?? realSleep;
  const doFetch = deps.fetch ?? fetch;
  const bucket = createTokenBucket({ ratePerMinute: config.ratePerMinute, burst: config.burst, clock: deps.clock, sleep });

  async function callOnce(indicator: Indicator): Promise<Response> {
    const url = new URL(`${config.baseUrl.replace(/\/+$/, '')}/lookup`);
    url.searchParams.set('type', indicator.type);
    url.searchParams.set('value', indicator.value);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (config.authHeader && config.authValue) headers[config.authHeader] = config.authValue;
    try {
      return await doFetch(url, { headers, signal: AbortSignal.timeout(config.timeoutMs), redirect: 'error' });
    } catch (error) {
      throw new LookupError(`provider ${config.name} could not be reached`, false, null, { cause: error });
    }
  }

  async function lookup(indicator: Indicator): Promise<LookupResult> {
    for (let attempt = 0; ; attempt++) {
      await bucket.acquire();
      const res = await callOnce(indicator);
      if (res.status === 429) {
        await res.body?.cancel();
        const waitMs = parseRetryAfter(res.headers.get('retry-after'), deps.clock.now()) ?? 60_000;
        bucket.pause(waitMs);
        if (attempt >= RATE_LIMIT_RETRIES || waitMs > MAX_WAIT_IN_PLACE_MS) {
          throw new LookupError(`provider ${config.name} is rate limiting (retry after ${Math.ceil(waitMs / 1000)} s)`, false, waitMs);
        }
        continue;
      }
      if (res.status === 404) {
        await res.body?.cancel();
        return { verdict: 'unknown', details: { provider: config.name, status: 404 } };
      }
      // Upstream bodies are never passed on (they may echo credentials or hold HTML error pages): status only.
      if (res.status >= 500) {
        await res.body?.cancel();
        throw new LookupError(`provider ${config.name} failed with HTTP ${res.status}`, false);
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        throw new LookupError(`provider ${config.name} refused the lookup with HTTP ${res.status}`, true);
      }
      let body: unknown;
      try {
        body = await res.json();
      } catch (error) {
        throw new LookupError(`provider ${config.name} answered with a body that is not JSON`, true, null, { cause: error });
      }
      const parsed = answerSchema.safeParse(body);
      if (!parsed.success) throw new LookupError(`provider ${config.name} answered without a known verdict`, true);
      const { verdict, ...rest } = parsed.data;
      return { verdict, details: { provider: config.name, ...rest } };
    }
  }

  return {
    name: config.name,
    costCents: config.costCents,
    rateLimit: { ratePerMinute: config.ratePerMinute, burst: config.burst },
    lookup: (_scope, indicator) => lookup(indicator),
  };
}
