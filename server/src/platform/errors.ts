/**
 * Domain errors carry a stable machine-readable code and a message a person can act on, never HTTP. One table in
 * platform/http maps code → status; one handler writes RFC 9457 problem+json.
 */
export type ErrorCode =
  | 'validation_failed'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'gone'
  | 'locked'
  | 'quota_exceeded'
  | 'budget_exhausted'
  | 'upstream_failed'
  | 'unavailable';

export type FieldProblem = { path: string; message: string };

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  constructor(message: string, readonly fields: FieldProblem[] = []) {
    super('validation_failed', message, fields.length ? { errors: fields } : undefined);
  }
}
export class UnauthenticatedError extends AppError {
  constructor(message = 'A valid bearer token is required: send "Authorization: Bearer <token>".') {
    super('unauthenticated', message);
  }
}
export class ForbiddenError extends AppError {
  constructor(message: string) {
    super('forbidden', message);
  }
}
export class NotFoundError extends AppError {
  constructor(what: string, id?: string) {
    super('not_found', id ? `${what} ${id} was not found.` : `${what} was not found.`);
  }
}
export class ConflictError extends AppError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('conflict', message, details);
  }
}
export class GoneError extends AppError {
  constructor(message: string) {
    super('gone', message);
  }
}
export class LockedError extends AppError {
  constructor(message: string) {
    super('locked', message);
  }
}
export class QuotaExceededError extends AppError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('quota_exceeded', message, details);
  }
}
/** A monthly spending budget (threat-intel enrichment) is used up; details say which, how much, and when it resets. */
export class BudgetExhaustedError extends AppError {
  constructor(message: string, details: Record<string, unknown>) {
    super('budget_exhausted', message, details);
  }
}
export class UpstreamError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('upstream_failed', message, undefined, options);
  }
}

export const statusByCode: Record<ErrorCode, number> = {
  validation_failed: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  locked: 423,
  quota_exceeded: 429,
  budget_exhausted: 429,
  upstream_failed: 502,
  unavailable: 503,
};
