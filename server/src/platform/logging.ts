import { pino, type LoggerOptions } from 'pino';

/**
 * The one set of log options, for the HTTP server's logger (Fastify builds it from these) and for processes that
 * serve no HTTP (`serve --role worker`), so both redact the same things.
 */
export function logOptions(level: string): LoggerOptions {
  return { level, redact: ['req.headers.authorization', 'req.headers.cookie'] };
}

/** A logger for a process without an HTTP server. */
export function createLogger(level: string) {
  return pino(logOptions(level));
}
