/**
 * What a PostgreSQL error (from pg or PGlite, the same shape) may show, and to whom. Its message, `detail`, `where`,
 * and PGlite's `query` and `params` carry the values a statement was given (`Key (email)=(ann@example.com) already
 * exists`, a token's hash among the bind parameters), so:
 * - a log line gets the SQLSTATE code, the statement's first words and the schema object named (constraint, table,
 *   column), and the message with every quoted value blanked;
 * - a problem body gets none of it: a database error that escapes every service becomes a plain-words problem.
 */

export type DatabaseError = Error & {
  code: string;
  severity: string;
  constraint?: string;
  table?: string;
  column?: string;
  routine?: string;
  /** Set by platform/db.ts: the statement's first words ("insert into users"), never its parameters. */
  statement?: string;
};

export function isDatabaseError(error: unknown): error is DatabaseError {
  if (typeof error !== 'object' || error === null) return false;
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && typeof severity === 'string';
}

/** "insert into users (tenant_id, …" → "insert into users": enough to find the statement, no values. */
export function statementLabel(text: string, name?: string): string {
  const words = text.trim().replace(/\s+/g, ' ').split(' ').slice(0, 4).join(' ').toLowerCase();
  // A literal (quoted) or a column list is where a value or noise would start: cut there.
  const head = words.replace(/['"(;].*$/, '').trim();
  return name ? `${name}: ${head}` : head;
}

/** Every quoted part of a message ("…"/'…'/(…)) blanked, except the schema object names the error itself gives. */
function scrubMessage(message: string, keep: Array<string | undefined>): string {
  const allowed = new Set(keep.filter((k): k is string => Boolean(k)));
  return message
    .replace(/"([^"]*)"/g, (all, inner: string) => (allowed.has(inner) ? all : '"…"'))
    .replace(/'[^']*'/g, "'…'")
    .replace(/\([^)]*\)=\([^)]*\)/g, '(…)=(…)')
    .replace(/: .*$/s, (tail) => (/^: 0x[0-9a-f]+$/i.test(tail) ? tail : ': …'));
}

/** The log form of a database error: no message text that could hold a value, no stack, no detail, no parameters. */
export function loggableDatabaseError(error: DatabaseError): Record<string, unknown> {
  const names = [error.constraint, error.table, error.column];
  return {
    type: 'DatabaseError',
    code: error.code,
    statement: error.statement,
    constraint: error.constraint,
    table: error.table,
    column: error.column,
    routine: error.routine,
    message: scrubMessage(error.message, names),
  };
}

export type DatabaseProblem = { status: number; code: string; detail: string };

/**
 * A problem a person can act on for a database error no service mapped. The last line of defence: services map the
 * errors they expect (a taken name is their 409 naming the field); these answers are generic but never a 500 for
 * what is the request's fault, and never database text.
 */
export function problemForDatabaseError(error: DatabaseError): DatabaseProblem | null {
  const code = error.code;
  if (code === '23505') return { status: 409, code: 'conflict', detail: 'Something with the same unique name or key already exists; choose another, or change the existing one.' };
  if (code === '23503') return { status: 409, code: 'conflict', detail: 'The request refers to something that does not exist (any more), or removes something that other objects still use.' };
  if (code === '23502' || code === '23514') return { status: 400, code: 'validation_failed', detail: 'A value in the request is missing or outside what is allowed.' };
  if (code === '22001') return { status: 400, code: 'validation_failed', detail: 'A value in the request is longer than allowed.' };
  if (code === '22003') return { status: 400, code: 'validation_failed', detail: 'A number in the request is out of range.' };
  if (code === '22021' || code === '22P05' || code === '22025') {
    return { status: 400, code: 'validation_failed', detail: 'A text value in the request contains a character that cannot be stored (NUL or a lone surrogate).' };
  }
  if (code === '2201B') return { status: 400, code: 'validation_failed', detail: 'A regular expression in the request is not valid.' };
  if (code.startsWith('22')) return { status: 400, code: 'validation_failed', detail: 'A value in the request has the wrong format.' };
  if (code === '54001') return { status: 400, code: 'validation_failed', detail: 'A value in the request nests too deeply or is too complex.' };
  if (code === '57014') return { status: 503, code: 'request_timeout', detail: 'The request took too long and was stopped; narrow it or try again later.' };
  if (code === '40001' || code === '40P01' || code === '55P03') return { status: 503, code: 'unavailable', detail: 'The request collided with a concurrent change; try again.' };
  if (code.startsWith('08') || code === '53300' || code === '57P01') return { status: 503, code: 'unavailable', detail: 'The store is not reachable right now; try again shortly.' };
  return null;
}
