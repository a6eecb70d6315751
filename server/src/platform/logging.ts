import { pino, type LoggerOptions } from 'pino';
import { logSerializers, REDACT_PATHS, REDACTED } from './log-redaction.js';

/**
 * The one set of log options, for the HTTP server's logger (Fastify builds it from these) and for processes that
 * serve no HTTP (`serve --role worker`), so both redact the same things: credentials in URLs and headers, and
 * database errors' values (log-redaction.ts).
 */
export function logOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    // Ours take what Fastify passes (its request, any error); pino's declared types are narrower.
    serializers: logSerializers as unknown as LoggerOptions['serializers'],
  };
}

/** A logger for a process without an HTTP server. */
export function createLogger(level: string) {
  return pino(logOptions(level));
}
