import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  isResponseSerializationError,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Principal } from './context.js';
import { AppError, statusByCode, type FieldProblem } from './errors.js';
import { logOptions } from './logging.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The policy action this route needs. Every route declares one, or `public: true`. */
    action?: string;
    public?: boolean;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string(),
  requestId: z.string(),
  instance: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof problemSchema>;

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
    instance: request.url.split('?')[0],
    ...(problem.errors?.length ? { errors: problem.errors } : {}),
    ...problem.extra,
  };
  return reply.status(problem.status).type('application/problem+json').serializer(JSON.stringify).send(body);
}

/** `['roles', '0']` under body → `body.roles[0]`: the same notation services use for their own field errors. */
export function fieldPath(prefix: string, path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>(
    (out, part) => (typeof part === 'number' || /^\d+$/.test(String(part)) ? `${out}[${String(part)}]` : `${out}.${String(part)}`),
    prefix,
  );
}

/** Maps fastify's own errors (body parsing, limits) to a status, a stable code and a message a person can act on. */
const FASTIFY_ERRORS: Record<string, { status: number; code: string; detail: (e: FastifyError) => string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'body_too_large', detail: () => 'The request body is larger than this server accepts.' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'unsupported_media_type',
    detail: () => 'Send the request body as application/json.',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'validation_failed',
    detail: () => 'The request declares a JSON body but sends none.',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'validation_failed', detail: () => 'The request body is not valid JSON.' },
};

/**
 * A Fastify instance with zod validation, one problem+json error handler and request ids. Knows nothing of
 * Summit's modules: app.ts adds authentication, policy and routes.
 */
export function createHttpServer(options: { logLevel: string; bodyLimit: number; logger?: boolean }) {
  const app = Fastify({
    logger: options.logger === false ? false : logOptions(options.logLevel),
    bodyLimit: options.bodyLimit,
    genReqId: () => randomUUID(),
    routerOptions: { ignoreTrailingSlash: true },
    // Errors the router raises before any route runs (a malformed %-escape in the path) get problem+json too.
    frameworkErrors: (error, request, reply) => {
      reply.header('x-request-id', request.id);
      return sendProblem(request, reply, { status: 400, code: 'bad_request', detail: `The request URL is malformed: ${error.message}` });
    },
  }).withTypeProvider<ZodTypeProvider>();
  // Every documented route answers errors as problem+json; say so in its OpenAPI description.
  app.addHook('onRoute', (route) => {
    if (!route.schema || route.schema.hide) return;
    route.schema.response = { ...(route.schema.response as object), '4XX': problemSchema, '5XX': problemSchema };
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // The API speaks JSON only: a text/plain body is a client mistake (415), not a string to validate.
  app.removeContentTypeParser('text/plain');

  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-request-id', request.id);
    return payload;
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = error.validationContext ?? 'body';
      const errors = error.validation.map((issue) => ({
        path: fieldPath(where, issue.instancePath.split('/').filter(Boolean)),
        message: issue.message ?? 'invalid',
      }));
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
    const known = error.code ? FASTIFY_ERRORS[error.code] : undefined;
    if (known) return sendProblem(request, reply, { status: known.status, code: known.code, detail: known.detail(error) });
    if (isResponseSerializationError(error)) {
      request.log.error({ err: error, issues: error.cause?.issues }, 'response did not match its schema');
    } else if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return sendProblem(request, reply, { status: error.statusCode, code: 'bad_request', detail: error.message });
    } else {
      request.log.error({ err: error }, 'unhandled error');
    }
    return sendProblem(request, reply, {
      status: 500,
      code: 'internal_error',
      detail: `Something went wrong on our side. Quote request id ${request.id} when you report it.`,
    });
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, {
      status: 404,
      code: 'route_not_found',
      detail: `No route ${request.method} ${request.url.split('?')[0]}. The API is described at /openapi.json.`,
    }),
  );
  return app;
}

export type HttpServer = ReturnType<typeof createHttpServer>;
export type AnyFastify = FastifyInstance;
