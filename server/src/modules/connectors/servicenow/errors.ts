/**
 * What can go wrong talking to a ServiceNow instance, as typed errors with an explicit `retryable` flag so the
 * sync job decides visibly: auth failures stop (an operator must fix credentials), rate limiting and outages
 * are worth trying again later.
 */
export type ServiceNowErrorKind = 'auth' | 'forbidden' | 'rate_limited' | 'upstream' | 'network' | 'bad_request' | 'not_found' | 'paging';

export class ServiceNowError extends Error {
  constructor(
    readonly kind: ServiceNowErrorKind,
    message: string,
    readonly options: { status?: number; retryable: boolean; retryAfterMs?: number; detail?: string; cause?: unknown },
  ) {
    super(message, { cause: options.cause });
    this.name = 'ServiceNowError';
  }
  get status(): number | undefined {
    return this.options.status;
  }
  get retryable(): boolean {
    return this.options.retryable;
  }
}

/** 401 (after one token refresh for OAuth) or 403: credentials or roles are wrong; never retried. */
export class ServiceNowAuthError extends ServiceNowError {
  constructor(status: 401 | 403, message: string, detail?: string) {
    super(status === 401 ? 'auth' : 'forbidden', message, { status, retryable: false, detail });
    this.name = 'ServiceNowAuthError';
  }
}
