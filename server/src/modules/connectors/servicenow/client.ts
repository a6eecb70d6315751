/**
 * A ServiceNow Table API client: Basic or OAuth auth, a client-side rate limiter in front of every request
 * (token requests included), 429 honoured with Retry-After, 5xx and network errors retried with exponential
 * backoff and jitter (bounded), 401/403 stopped with a typed error, keyset paging for incremental reads, and
 * idempotent outbound incidents keyed by `correlation_id`. Clock, sleep, fetch and randomness are injectable.
 */
import { systemClock, type Clock } from '../../../platform/clock.js';
import { outboundRefusalOf } from '../../../platform/outbound-fetch.js';
import { parseRetryAfter, realSleep, type Sleep } from '../../ti/providers/token-bucket.js';
import { assertSafeQueryValue } from './encoded-query.js';
import { ServiceNowAuthError, ServiceNowError } from './errors.js';
import { DEFAULT_CHOICE_LABELS, parseIncidentRecord, type IncidentRecord } from './incident-record.js';
import { readKeysetPages, type KeysetCursor, type PagerPage } from './keyset-pager.js';
import { createRateLimiter, type RateLimit } from './rate-limiter.js';
import { createTokenSource, type OAuthSettings } from './oauth.js';

export type ServiceNowAuth = { type: 'basic'; username: string; password: string } | ({ type: 'oauth' } & OAuthSettings);

export type ServiceNowClientConfig = {
  instanceUrl: string;
  table?: string;
  auth: ServiceNowAuth;
  rateLimit?: RateLimit;
  pageSize?: number;
  timeoutMs?: number;
  apiVersion?: 'v1' | 'v2';
  retry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number; maxRateLimitWaits?: number; maxRetryAfterMs?: number };
};

export type RequestEvent = { method: string; path: string; status: number | 'network_error'; durationMs: number; attempt: number };

export type ServiceNowClientDeps = {
  clock?: Clock;
  sleep?: Sleep;
  fetch?: typeof fetch;
  random?: () => number;
  /** Called after every HTTP exchange (metrics: requests by status, latency). */
  onRequest?: (event: RequestEvent) => void;
};

export type IncidentFields = {
  shortDescription?: string;
  description?: string;
  priority?: number;
  impact?: number;
  urgency?: number;
  state?: number;
  correlationId?: string;
  correlationDisplay?: string;
  callerId?: string;
  assignmentGroupId?: string;
  cmdbCiId?: string;
};

export type RateLimitInfo = { limitPerHour: number | null; resetAt: Date | null; rule: string | null };

type CallOptions = { query?: Record<string, string>; json?: unknown; form?: Record<string, string>; auth?: boolean; idempotent?: boolean; notFoundOk?: boolean };
type CallResult = { status: number; body: unknown; headers: Headers };

const FIELD_NAMES: Record<keyof IncidentFields, string> = {
  shortDescription: 'short_description',
  description: 'description',
  priority: 'priority',
  impact: 'impact',
  urgency: 'urgency',
  state: 'state',
  correlationId: 'correlation_id',
  correlationDisplay: 'correlation_display',
  callerId: 'caller_id',
  assignmentGroupId: 'assignment_group',
  cmdbCiId: 'cmdb_ci',
};

function toRow(fields: IncidentFields): Record<string, string> {
  const row: Record<string, string> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) row[FIELD_NAMES[key as keyof IncidentFields]] = String(value);
  return row;
}

function errorText(body: unknown): { message: string; detail?: string } {
  const error = (body as { error?: { message?: unknown; detail?: unknown } } | null)?.error;
  if (error && typeof error.message === 'string') return { message: error.message, detail: typeof error.detail === 'string' ? error.detail : undefined };
  return { message: 'no error message' };
}

/** Why an answer is not from the Table API, or null when it is (see checkConnection). */
function notATableApiAnswer(res: CallResult, v1: boolean): string | null {
  const type = res.headers.get('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) return `answered HTTP ${res.status} with ${type.split(';')[0] || 'no content type'}, not a ServiceNow Table API answer (JSON)`;
  if (res.status === 404) {
    const body = res.body as { error?: { message?: unknown }; status?: unknown } | null;
    const isServiceNowError = typeof body?.error?.message === 'string' && body?.status === 'failure';
    if (v1 && isServiceNowError) return null;
    return `answered HTTP 404${isServiceNowError ? ` (${String(body!.error!.message)})` : ''} where the Table API lists the table`;
  }
  if (!Array.isArray((res.body as { result?: unknown } | null)?.result)) return `answered HTTP ${res.status} with JSON that has no result list, not a ServiceNow Table API answer`;
  return null;
}

export function createServiceNowClient(config: ServiceNowClientConfig, deps: ServiceNowClientDeps = {}) {
  const clock = deps.clock ?? systemClock;
  const sleep = deps.sleep ?? realSleep;
  const doFetch = deps.fetch ?? fetch;
  const random = deps.random ?? Math.random;
  const base = config.instanceUrl.replace(/\/+$/, '');
  const table = config.table ?? 'incident';
  const pageSize = config.pageSize ?? 500;
  const timeoutMs = config.timeoutMs ?? 30_000;
  const apiPrefix = config.apiVersion === 'v1' ? '/api/now/table' : '/api/now/v2/table';
  const retry = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 30_000, maxRateLimitWaits: 20, maxRetryAfterMs: 15 * 60_000, ...config.retry };
  if (!/^[A-Za-z0-9_]+$/.test(table)) throw new Error(`invalid table name ${table}`);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 10_000) throw new Error('pageSize must be an integer from 1 to 10000');
  const limiter = createRateLimiter(config.rateLimit ?? {}, { clock, sleep });
  let rateLimitInfo: RateLimitInfo | null = null;

  function backoffMs(failures: number): number {
    const cap = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (failures - 1));
    return cap / 2 + random() * (cap / 2); // equal jitter: never zero, never in lockstep with other clients
  }

  function readRateLimitHeaders(headers: Headers): void {
    const limit = headers.get('x-ratelimit-limit');
    const reset = headers.get('x-ratelimit-reset');
    if (limit === null && reset === null) return;
    rateLimitInfo = {
      limitPerHour: limit !== null && /^\d+$/.test(limit) ? Number(limit) : null,
      resetAt: reset !== null && /^\d+$/.test(reset) ? new Date(Number(reset) * 1000) : null,
      rule: headers.get('x-ratelimit-rule'),
    };
  }

  /** How long a 429 asks us to wait: Retry-After, else X-RateLimit-Reset, else our own backoff. */
  function rateLimitWaitMs(headers: Headers, waits: number): number {
    const retryAfter = parseRetryAfter(headers.get('retry-after'), clock.now());
    if (retryAfter !== null) return retryAfter;
    const reset = headers.get('x-ratelimit-reset');
    if (reset && /^\d+$/.test(reset)) return Math.max(0, Number(reset) * 1000 - clock.now().getTime());
    return backoffMs(waits);
  }

  async function call(method: string, path: string, options: CallOptions = {}): Promise<CallResult> {
    const url = new URL(base + path);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
    let failures = 0;
    let rateLimitWaits = 0;
    let reauthenticated = false;
    for (let attempt = 1; ; attempt++) {
      await limiter.acquire();
      const headers: Record<string, string> = { accept: 'application/json' };
      if (options.auth !== false) headers.authorization = await authorization();
      let body: string | undefined;
      if (options.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(options.json);
      } else if (options.form) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        body = new URLSearchParams(options.form).toString();
      }
      const started = performance.now();
      let res: Response;
      try {
        res = await doFetch(url, { method, headers, body, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
      } catch (cause) {
        deps.onRequest?.({ method, path, status: 'network_error', durationMs: performance.now() - started, attempt });
        const refused = outboundRefusalOf(cause);
        if (refused) throw new ServiceNowError('network', `ServiceNow ${method} ${path} was not sent: ${refused.message}`, { retryable: false, cause });
        failures++;
        // A write that may have reached the server is not repeated blindly; the caller re-checks and decides.
        if (options.idempotent === false || failures >= retry.maxAttempts) {
          throw new ServiceNowError('network', `ServiceNow ${method} ${path} failed: ${(cause as Error).message}`, { retryable: true, cause });
        }
        await sleep(backoffMs(failures));
        continue;
      }
      const text = await res.text();
      deps.onRequest?.({ method, path, status: res.status, durationMs: performance.now() - started, attempt });
      readRateLimitHeaders(res.headers);
      let parsed: unknown = null;
      try {
        parsed = text === '' ? null : JSON.parse(text);
      } catch {
        parsed = null;
      }
      if (res.ok) return { status: res.status, body: parsed, headers: res.headers };
      const { message, detail } = errorText(parsed);
      if (res.status === 429) {
        const waitMs = rateLimitWaitMs(res.headers, ++rateLimitWaits);
        if (rateLimitWaits > retry.maxRateLimitWaits || waitMs > retry.maxRetryAfterMs) {
          throw new ServiceNowError('rate_limited', `ServiceNow is rate limiting (retry after ${Math.ceil(waitMs / 1000)} s)`, { status: 429, retryable: true, retryAfterMs: waitMs });
        }
        limiter.pause(waitMs);
        continue;
      }
      if (res.status === 401 && options.auth !== false && config.auth.type === 'oauth' && !reauthenticated) {
        // An access token can be revoked or expire early: fetch a new one, once.
        reauthenticated = true;
        tokens?.invalidate();
        continue;
      }
      if (res.status === 401 || res.status === 403) {
        throw new ServiceNowAuthError(res.status, `ServiceNow refused the credentials (${res.status} ${message})`, detail);
      }
      if (res.status === 404 && options.notFoundOk) return { status: 404, body: parsed, headers: res.headers };
      if (res.status >= 500) {
        failures++;
        if (options.idempotent === false || failures >= retry.maxAttempts) {
          throw new ServiceNowError('upstream', `ServiceNow answered ${res.status} ${message}`, { status: res.status, retryable: true, detail });
        }
        await sleep(backoffMs(failures));
        continue;
      }
      throw new ServiceNowError(res.status === 404 ? 'not_found' : 'bad_request', `ServiceNow answered ${res.status} ${message}`, { status: res.status, retryable: false, detail });
    }
  }

  const tokens = config.auth.type === 'oauth' ? createTokenSource(config.auth, { clock, request: (form) => call('POST', '/oauth_token.do', { form, auth: false }) }) : null;

  async function authorization(): Promise<string> {
    if (config.auth.type === 'basic') return `Basic ${Buffer.from(`${config.auth.username}:${config.auth.password}`).toString('base64')}`;
    return `Bearer ${await tokens!.accessToken()}`;
  }

  function resultRows(body: unknown): Array<Record<string, unknown>> {
    const result = (body as { result?: unknown } | null)?.result;
    if (!Array.isArray(result)) throw new ServiceNowError('bad_request', 'ServiceNow answered without a result array', { retryable: false });
    return result as Array<Record<string, unknown>>;
  }

  function resultRow(body: unknown): Record<string, unknown> {
    const result = (body as { result?: unknown } | null)?.result;
    if (!result || typeof result !== 'object' || Array.isArray(result)) throw new ServiceNowError('bad_request', 'ServiceNow answered without a result record', { retryable: false });
    return result as Record<string, unknown>;
  }

  /** One list request; v1 answers an empty result with 404, which is an empty list here. */
  async function list(onTable: string, query: Record<string, string>): Promise<{ rows: Array<Record<string, unknown>>; hasMore: boolean }> {
    const res = await call('GET', `${apiPrefix}/${onTable}`, { query: { sysparm_display_value: 'false', ...query }, notFoundOk: true });
    const rows = res.status === 404 ? [] : resultRows(res.body);
    const total = res.headers.get('x-total-count');
    const limit = Number(query.sysparm_limit ?? 10_000);
    const hasMore = total !== null && /^\d+$/.test(total) ? Number(total) > limit : /rel="next"/.test(res.headers.get('link') ?? '') || rows.length >= limit;
    return { rows, hasMore };
  }

  async function findByCorrelationId(correlationId: string): Promise<IncidentRecord | null> {
    const { rows } = await list(table, {
      sysparm_query: `correlation_id=${assertSafeQueryValue(correlationId)}^ORDERBYsys_created_on^ORDERBYsys_id`,
      sysparm_limit: '1',
      sysparm_exclude_reference_link: 'true',
    });
    return rows[0] ? parseIncidentRecord(rows[0]) : null;
  }

  /** Creates an incident. Not retried on 5xx/network errors (it may have been created): see upsertByCorrelationId. */
  async function createIncident(fields: IncidentFields): Promise<IncidentRecord> {
    const res = await call('POST', `${apiPrefix}/${table}`, { json: toRow(fields), query: { sysparm_exclude_reference_link: 'true' }, idempotent: false });
    return parseIncidentRecord(resultRow(res.body));
  }

  /** PATCH is idempotent (same fields, same result), so it is retried like a read. */
  async function updateIncident(sysId: string, fields: IncidentFields): Promise<IncidentRecord> {
    const res = await call('PATCH', `${apiPrefix}/${table}/${encodeURIComponent(sysId)}`, { json: toRow(fields), query: { sysparm_exclude_reference_link: 'true' } });
    return parseIncidentRecord(resultRow(res.body));
  }

  return {
    table,
    findByCorrelationId,
    createIncident,
    updateIncident,
    /** The X-RateLimit-* values last seen (ServiceNow sends them with a 429), or null. */
    rateLimitInfo: (): RateLimitInfo | null => rateLimitInfo,
    isThrottled: () => limiter.isPaused(),

    /** Incidents updated at or after the cursor, page by page, each version once. */
    pages(options: { from?: KeysetCursor | null; query?: string } = {}): AsyncGenerator<PagerPage<IncidentRecord>> {
      return readKeysetPages({
        start: options.from ?? null,
        extraQuery: options.query,
        parse: parseIncidentRecord,
        fetchPage: (sysparmQuery) => list(table, { sysparm_query: sysparmQuery, sysparm_limit: String(pageSize), sysparm_exclude_reference_link: 'true' }),
      });
    },

    async getIncident(sysId: string): Promise<IncidentRecord | null> {
      const res = await call('GET', `${apiPrefix}/${table}/${encodeURIComponent(sysId)}`, { query: { sysparm_exclude_reference_link: 'true' }, notFoundOk: true });
      return res.status === 404 ? null : parseIncidentRecord(resultRow(res.body));
    },


    /**
     * Creates or updates the incident carrying `correlationId`. The lookup comes first, and a create that failed
     * in a way that may have reached the server is followed by another lookup, so a retry never duplicates.
     */
    async upsertByCorrelationId(correlationId: string, fields: IncidentFields): Promise<{ record: IncidentRecord; created: boolean }> {
      for (let attempt = 1; ; attempt++) {
        const existing = await findByCorrelationId(correlationId);
        if (existing) return { record: await updateIncident(existing.sysId, fields), created: false };
        try {
          return { record: await createIncident({ ...fields, correlationId }), created: true };
        } catch (error) {
          if (!(error instanceof ServiceNowError) || !error.retryable || attempt >= retry.maxAttempts) throw error;
          await sleep(backoffMs(attempt));
        }
      }
    },

    /** Labels for a choice field (`state`, `priority`, …): the instance's `sys_choice` rows over the defaults. */
    async choiceLabels(element: keyof typeof DEFAULT_CHOICE_LABELS): Promise<Record<string, string>> {
      const labels = { ...DEFAULT_CHOICE_LABELS[element] };
      try {
        const { rows } = await list('sys_choice', {
          sysparm_query: `name=${table}^element=${element}^inactive=false`,
          sysparm_fields: 'value,label',
          sysparm_limit: '1000',
        });
        for (const row of rows) if (typeof row.value === 'string' && typeof row.label === 'string') labels[row.value] = row.label;
      } catch (error) {
        // sys_choice is often closed to integration users; the built-in labels are the documented fallback.
        if (!(error instanceof ServiceNowAuthError && error.status === 403)) throw error;
      }
      return labels;
    },

    /**
     * Reachability and credentials in one small read, for the connector's "test" action. The answer must be a Table
     * API answer, not merely a 2xx or a 404: JSON with a `result` array, or (v1 only, an empty table) a 404 with
     * ServiceNow's error body. A web server that is not ServiceNow (a login page, a proxy's 404) fails the test.
     */
    async checkConnection(): Promise<{ ok: true } | { ok: false; kind: string; message: string }> {
      try {
        const res = await call('GET', `${apiPrefix}/${table}`, { query: { sysparm_limit: '1', sysparm_fields: 'sys_id' }, notFoundOk: true });
        const problem = notATableApiAnswer(res, config.apiVersion === 'v1');
        return problem ? { ok: false, kind: 'not_servicenow', message: `${base} ${problem}: check instanceUrl (it is the instance's address, such as https://acme.service-now.com).` } : { ok: true };
      } catch (error) {
        if (error instanceof ServiceNowError) return { ok: false, kind: error.kind, message: error.message };
        throw error;
      }
    },
  };
}

export type ServiceNowClient = ReturnType<typeof createServiceNowClient>;
