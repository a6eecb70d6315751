/**
 * What never reaches a log line: credentials in URLs (share-link tokens in the path, token/secret/key values in the
 * query), credential headers, and database errors' values (see db-errors.ts). Used by the HTTP server's logger, which
 * is also the logger every module and job gets, so one set of serializers covers every line.
 */
import { isDatabaseError, loggableDatabaseError } from './db-errors.js';

export const REDACTED = '[redacted]';

/** Path segments that are themselves credentials: share-link tokens (`slk_…`), API and operator tokens. */
const SECRET_SEGMENT = /^(slk|smt|smo|sms)_[^/]*$/i;
/** Query parameters whose values are credentials, by name. */
const SECRET_PARAM = /token|secret|password|passwd|key|signature|sig|auth|code|session|csrf|credential/i;
/** A path segment right after one of these is a credential whatever it looks like. */
const SECRET_AFTER = new Set(['shared']);

/** The URL (path and query, as `req.url` has it) with every credential replaced. Never throws. */
export function redactRequestUrl(url: string): string {
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const query = queryAt === -1 ? '' : url.slice(queryAt + 1);
  const segments = path.split('/');
  const safePath = segments
    .map((segment, i) => (SECRET_SEGMENT.test(segment) || (i > 0 && SECRET_AFTER.has(segments[i - 1]!) && segment !== '') ? REDACTED : segment))
    .join('/');
  if (queryAt === -1) return safePath;
  const safeQuery = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      const value = eq === -1 ? '' : pair.slice(eq + 1);
      let decodedName = name;
      try {
        decodedName = decodeURIComponent(name);
      } catch {
        // A malformed escape: judge the raw name.
      }
      // E-mail addresses (a user search) are personal data a log has no use for.
      const secret = SECRET_PARAM.test(decodedName) || SECRET_SEGMENT.test(value) || /@|%40/i.test(value);
      return eq === -1 ? pair : `${name}=${secret ? REDACTED : value}`;
    })
    .join('&');
  return `${safePath}?${safeQuery}`;
}

/** Header names whose values are credentials. Lower case, as Node gives them. */
export const SECRET_HEADERS = ['authorization', 'cookie', 'set-cookie', 'proxy-authorization', 'x-csrf-token', 'x-api-key', 'x-auth-token', 'x-summit-signature'];

/** pino redact paths: credential headers wherever a request or response object is logged. */
export const REDACT_PATHS = SECRET_HEADERS.flatMap((h) => [`req.headers["${h}"]`, `res.headers["${h}"]`, `headers["${h}"]`]);

type LoggedRequest = { method?: string; url?: string; headers?: Record<string, unknown>; host?: string; hostname?: string; ip?: string; socket?: { remoteAddress?: string; remotePort?: number } };

/** An error, its causes, and any database error among them in its safe form. */
export function serializeError(error: unknown, depth = 0): unknown {
  if (isDatabaseError(error)) return loggableDatabaseError(error);
  if (!(error instanceof Error)) return error;
  const serialized: Record<string, unknown> = { type: error.name, message: error.message, stack: error.stack };
  for (const [key, value] of Object.entries(error)) if (!(key in serialized) && key !== 'cause') serialized[key] = value;
  const cause = (error as { cause?: unknown }).cause;
  if (cause !== undefined && depth < 5) serialized.cause = serializeError(cause, depth + 1);
  return serialized;
}

export const logSerializers = {
  req(request: LoggedRequest) {
    return {
      method: request.method,
      url: request.url === undefined ? undefined : redactRequestUrl(request.url),
      host: request.host ?? request.hostname,
      remoteAddress: request.ip ?? request.socket?.remoteAddress,
    };
  },
  err: serializeError,
  error: serializeError,
};
