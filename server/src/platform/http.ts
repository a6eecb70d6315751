import { randomUUID } from 'node:crypto';
import Fastify, { errorCodes, type FastifyInstance, type FastifyLoggerOptions, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Principal } from './context.js';
import { createDeadline, releaseIfInTime, runInDeadline, type Deadline } from './deadline.js';
import { ValidationError } from './errors.js';
import { handleError, sendProblem, shownPath } from './http-errors.js';
import { logOptions } from './logging.js';
import { findInputProblem, parseQueryString, undecodableQueryParameter, type InputProblem } from './request-input.js';
import { createRouteMethods } from './route-methods.js';

export { fieldPath } from './field-path.js';
export { sendProblem } from './http-errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The policy action this route needs. Every route declares one, or `public: true`. */
    action?: string;
    public?: boolean;
    /**
     * Top-level body fields whose items the handler checks one by one, so one bad item is rejected with a reason and
     * the rest are kept (bulk record ingest). The edge's NUL/surrogate/depth checks leave them to it.
     */
    itemCheckedBodyFields?: readonly string[];
    /** Set by createHttpServer from the route's schema: the query parameters it takes (named in a 400 for others). */
    queryParameters?: readonly string[];
  }
  interface FastifyRequest {
    principal?: Principal;
    deadline?: Deadline;
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

/** Where pino writes (tests capture lines); anything with write(line). */
export type LogStream = { write(line: string): void };

export type HttpServerOptions = {
  logLevel: string;
  bodyLimit: number;
  logger?: boolean;
  logStream?: LogStream;
  /** A request still running after this long is answered 503 and its queries are stopped; 0 disables. */
  requestTimeoutMs?: number;
};

function inputError(problem: InputProblem): ValidationError {
  const where = problem.path.split(/[.[]/)[0];
  return new ValidationError(`The request ${where} is not valid: ${problem.path}: ${problem.message}`, [problem]);
}

/**
 * A zod object querystring refuses parameters it does not declare (a typo, or a filter the route does not have,
 * used to be ignored silently and answered as if unfiltered); a route without one takes none.
 */
function strictQuerystring(schema: unknown): { schema: z.ZodObject; names: string[] } | null {
  if (schema === undefined) return { schema: z.strictObject({}), names: [] };
  if (schema instanceof z.ZodObject) return { schema: schema.strict(), names: Object.keys(schema.shape) };
  return null;
}

/**
 * JSON bodies are parsed, then checked whole before any route sees them (request-input.ts): a NUL, a lone
 * surrogate, nesting past 64 levels or a `__proto__` key is a 400 naming the field.
 */
function registerJsonParser(app: FastifyInstance) {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request: FastifyRequest, body: string | Buffer, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.length === 0) return done(new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY(), undefined);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return done(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), undefined);
    }
    const problem = findInputProblem(value, 'body', { skip: request.routeOptions.config?.itemCheckedBodyFields });
    if (problem) return done(inputError(problem), undefined);
    done(null, value);
  });
}

/**
 * A Fastify instance with zod validation, one problem+json error handler, request ids, input checks at the edge,
 * 405 for a known path with another method, a request timeout that also stops the request's queries, and logs
 * without credentials. Knows nothing of Summit's modules: app.ts adds authentication, policy and routes.
 */
export function createHttpServer(options: HttpServerOptions) {
  const requestTimeoutMs = options.requestTimeoutMs ?? 0;
  const serverOptions: FastifyServerOptions = {
    logger:
      options.logger === false
        ? false
        : ({ ...logOptions(options.logLevel), ...(options.logStream ? { stream: options.logStream } : {}) } as FastifyLoggerOptions),
    bodyLimit: options.bodyLimit,
    handlerTimeout: requestTimeoutMs > 0 ? requestTimeoutMs : undefined,
    genReqId: () => randomUUID(),
    routerOptions: { ignoreTrailingSlash: true, querystringParser: parseQueryString },
    // Errors the router raises before any route runs (a malformed %-escape in the path) get problem+json too. The
    // router's message quotes the URL, which may hold a credential: not repeated.
    frameworkErrors: (_error, request, reply) => {
      reply.header('x-request-id', request.id);
      return sendProblem(request, reply, { status: 400, code: 'bad_request', detail: 'The request URL is malformed: a %-escape in it does not decode to text.' });
    },
  };
  const app = Fastify(serverOptions).withTypeProvider<ZodTypeProvider>();

  const routeMethods = createRouteMethods();
  app.addHook('onRoute', (route) => {
    routeMethods.add(route.url, route.method);
    if (route.schema?.hide) return;
    route.schema ??= {};
    // Every documented route answers errors as problem+json; say so in its OpenAPI description.
    route.schema.response = { ...(route.schema.response as object), '4XX': problemSchema, '5XX': problemSchema };
    const strict = strictQuerystring(route.schema.querystring);
    if (strict) {
      route.schema.querystring = strict.schema;
      route.config = { ...route.config, queryParameters: strict.names };
    }
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // The API speaks JSON only: a text/plain body is a client mistake (415), not a string to validate.
  app.removeContentTypeParser('text/plain');
  registerJsonParser(app);

  // Query and path parameters get the same character checks as bodies, before validation.
  app.addHook('preValidation', async (request) => {
    // The not-found route's only parameter is the whole path; it answers 404/405 whatever the path holds.
    if (request.is404) return;
    const undecodable = undecodableQueryParameter(request.query);
    if (undecodable) throw inputError(undecodable);
    for (const [where, value] of [['querystring', request.query], ['params', request.params]] as const) {
      const problem = findInputProblem(value, where);
      if (problem) throw inputError(problem);
    }
  });

  if (requestTimeoutMs > 0) {
    // The handler runs under the request's deadline (the time left of requestTimeoutMs), so platform/db.ts stops
    // its statements when Fastify answers 503 (request.signal is no help: Node aborts it once the body is read).
    app.addHook('preHandler', (request, reply, done) => {
      request.deadline = createDeadline(Math.max(1, requestTimeoutMs - reply.elapsedTime));
      runInDeadline(request.deadline, done);
    });
    app.addHook('onResponse', async (request) => {
      if (request.deadline) releaseIfInTime(request.deadline);
    });
  }

  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-request-id', request.id);
    return payload;
  });

  app.setErrorHandler(handleError);

  app.setNotFoundHandler((request, reply) => {
    const allowed = routeMethods.allowed(request.url);
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return sendProblem(request, reply, {
        status: 405,
        code: 'method_not_allowed',
        detail: `${request.method} is not allowed on ${shownPath(request)}; it answers ${allowed.join(', ')}.`,
      });
    }
    return sendProblem(request, reply, {
      status: 404,
      code: 'route_not_found',
      detail: `No route ${request.method} ${shownPath(request)}. The API is described at /openapi.json.`,
    });
  });
  return app;
}

export type HttpServer = ReturnType<typeof createHttpServer>;
export type AnyFastify = FastifyInstance;
