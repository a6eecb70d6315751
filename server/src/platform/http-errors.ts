/**
 * The one error handler: every error a route, hook or parser raises becomes RFC 9457 problem+json with a stable code
 * and a message a person can act on. Nothing of an unexpected error (its message, SQL, a stack) reaches the body;
 * the log gets it through the redacting serializers (log-redaction.ts).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { isDatabaseError, problemForDatabaseError } from './db-errors.js';
import { DeadlineExceededError } from './deadline.js';
import { AppError, statusByCode, type FieldProblem } from './errors.js';
import { fieldPath } from './field-path.js';
import { redactRequestUrl } from './log-redaction.js';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  423: 'Locked',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** The request's path as a problem body or message may repeat it: without the query, credentials redacted. */
export function shownPath(request: FastifyRequest): string {
  return redactRequestUrl(request.url.split('?')[0]!);
}

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  problem: { status: number; code: string; detail: string; errors?: FieldProblem[]; extra?: Record<string, unknown> },
) {
  const body = {
    type: `urn:summit:problem:${problem.code}`,
    title: TITLES[problem.status] ?? 'Error',
    status: problem.status,
    detail: problem.detail,
    code: problem.code,
    requestId: request.id,
    instance: shownPath(request),
    ...(problem.errors?.length ? { errors: problem.errors } : {}),
    ...problem.extra,
  };
  return reply.status(problem.status).type('application/problem+json').serializer(JSON.stringify).send(body);
}

const REQUEST_TIMEOUT_DETAIL = 'The request did not finish in the time this server allows and was stopped; its unfinished work was rolled back. Narrow it (a smaller page, fewer objects) or try again later.';

/** Maps fastify's own errors (body parsing, limits, timeouts) to a status, a stable code and a message a person can act on. */
const FASTIFY_ERRORS: Record<string, { status: number; code: string; detail: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'body_too_large', detail: 'The request body is larger than this server accepts.' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type', detail: 'Send the request body as application/json.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'validation_failed', detail: 'The request declares a JSON body but sends none.' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'validation_failed', detail: 'The request body is not valid JSON.' },
  FST_ERR_HANDLER_TIMEOUT: { status: 503, code: 'request_timeout', detail: REQUEST_TIMEOUT_DETAIL },
};

type ValidationIssue = { keyword?: string; instancePath: string; message?: string; params?: { keys?: string[] } };

/** One field problem per zod issue; an unknown key becomes a problem of its own naming it, and what is allowed. */
function fieldProblems(where: string, issues: ValidationIssue[], queryParameters: readonly string[] | undefined): FieldProblem[] {
  return issues.flatMap((issue) => {
    const at = issue.instancePath.split('/').filter(Boolean);
    if (issue.keyword === 'unrecognized_keys' && Array.isArray(issue.params?.keys)) {
      const allowed = where === 'querystring' && queryParameters ? ` (this route takes ${queryParameters.length ? queryParameters.join(', ') : 'no query parameters'})` : '';
      const what = where === 'querystring' && at.length === 0 ? 'is not a query parameter of this route' : 'is not a field here';
      return issue.params.keys.map((key) => ({ path: fieldPath(where, [...at, key]), message: `${what}${allowed}` }));
    }
    return [{ path: fieldPath(where, at), message: issue.message ?? 'invalid' }];
  });
}

export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = error.validationContext ?? 'body';
    const errors = fieldProblems(where, error.validation as ValidationIssue[], request.routeOptions.config?.queryParameters);
    return sendProblem(request, reply, {
      status: 400,
      code: 'validation_failed',
      detail: `The request ${where} is not valid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
      errors,
    });
  }
  if (error instanceof AppError) {
    const status = statusByCode[error.code];
    if (status >= 500) request.log.error({ err: error.cause ?? error }, error.message);
    const { errors, ...extra } = (error.details ?? {}) as { errors?: FieldProblem[] };
    return sendProblem(request, reply, { status, code: error.code, detail: error.message, errors, extra });
  }
  if (error instanceof DeadlineExceededError) return sendProblem(request, reply, { status: 503, code: 'request_timeout', detail: REQUEST_TIMEOUT_DETAIL });
  if (isDatabaseError(error)) {
    const problem = problemForDatabaseError(error);
    // A database error no service mapped is a gap in validation or in a service's error mapping: worth a look.
    request.log[problem && problem.status < 500 ? 'warn' : 'error']({ err: error }, 'database error reached the error handler');
    if (problem) return sendProblem(request, reply, problem);
  } else {
    const known = error.code ? FASTIFY_ERRORS[error.code] : undefined;
    if (known) return sendProblem(request, reply, known);
    if (isResponseSerializationError(error)) {
      request.log.error({ err: error, issues: error.cause?.issues }, 'response did not match its schema');
    } else if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return sendProblem(request, reply, { status: error.statusCode, code: 'bad_request', detail: error.message });
    } else {
      request.log.error({ err: error }, 'unhandled error');
    }
  }
  return sendProblem(request, reply, {
    status: 500,
    code: 'internal_error',
    detail: `Something went wrong on our side. Quote request id ${request.id} when you report it.`,
  });
}
