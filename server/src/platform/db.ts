import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { statementLabel } from './db-errors.js';
import { remainingMs } from './deadline.js';

export type Row = Record<string, unknown>;
/**
 * name: on PostgreSQL, prepare the statement once per connection under this name and reuse its plan. For hot
 * statements whose planning is a real part of their cost (the neighbourhood walk plans in ~1 ms, about a quarter of
 * its run). One name, one text: pg refuses a name reused with other text. PGlite (and wrappers that drop the
 * option) plan each time, with the same results.
 */
export type QueryOptions = { name?: string };
export type QueryResult<T> = { rows: T[]; rowCount: number };

/** Anything that runs SQL: a transaction handed to a service, or the raw store in tests and migrations. */
export interface Sql {
  query<T extends Row = Row>(text: string, params?: readonly unknown[], options?: QueryOptions): Promise<QueryResult<T>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

/**
 * The store. Application code never gets a bare connection: it asks for a transaction, either scoped to one tenant
 * (runs as the non-superuser role `summit_app` with `summit.tenant_id` set, so row-level security applies even where
 * a query forgets its `where tenant_id`) or in system scope (the owner role; for migrations, the operator's
 * cross-tenant actions and token lookup, which must happen before the tenant is known).
 */
export interface Database {
  readonly kind: 'pglite' | 'postgres';
  withTenant<T>(tenantId: string, fn: (tx: Sql) => Promise<T>): Promise<T>;
  /**
   * System scope. With `autocommit`, fn's statements run outside a transaction, each committing by itself: one round
   * trip instead of three for a lone read (the per-request token lookup). Only for statements that need no atomicity
   * together; a wrapper that ignores the option still behaves correctly, only in a transaction.
   */
  withSystem<T>(fn: (tx: Sql) => Promise<T>, options?: SystemScopeOptions): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** How pg-boss reaches the same store: its own pool on PostgreSQL, the one connection on PGlite. */
  readonly jobBackend: { connectionString: string } | { db: { executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> } };
}

export type SystemScopeOptions = { autocommit?: boolean };

export const APP_ROLE = 'summit_app';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The statements that put a transaction in a tenant's scope: the tenant id for row-level security, then the
 * non-superuser role. They go as one script (one round trip, the simple query protocol, which takes no parameters),
 * so the id is written into the text as a literal: only after it has matched the UUID pattern, which admits
 * nothing but hex digits and hyphens. A malformed id is refused so a bug shows up as an error, not an empty result.
 */
export function tenantScopeScript(tenantId: string): string {
  if (!UUID_RE.test(tenantId)) throw new Error(`withTenant: not a tenant id: ${tenantId}`);
  return `select set_config('summit.tenant_id', '${tenantId}', true); set local role ${APP_ROLE}`;
}

function normaliseRowCount(count: number | null | undefined): number {
  return typeof count === 'number' ? count : 0;
}

/**
 * A failed statement's error, made safe to log: PGlite attaches the statement text and every bind parameter (a
 * token's hash, a sealed secret, an e-mail address) as `query` and `params`; they go, and the statement's first words
 * stay as `statement` so a log line still says which statement failed (platform/db-errors.ts logs the rest safely).
 */
function annotateStatementError(error: unknown, text: string, name?: string): unknown {
  if (typeof error === 'object' && error !== null) {
    const e = error as Record<string, unknown>;
    delete e.query;
    delete e.params;
    delete e.queryOptions;
    if (e.statement === undefined) e.statement = statementLabel(text, name);
  }
  return error;
}

/**
 * PGlite answers through promise callbacks only, so an unbroken chain of its queries (a job backlog, a big ingest)
 * never lets timers or I/O run: the HTTP server would stop answering. Every transaction first yields one turn of
 * the event loop.
 */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Embedded PostgreSQL (WASM). One connection: PGlite queues transactions, so keep them short. */
export function createPgliteDatabase(pglite: PGlite): Database {
  const wrap = (q: Pick<PGlite, 'query' | 'exec'>): Sql => ({
    async query<T extends Row>(text: string, params?: readonly unknown[]) {
      // PGlite cannot interrupt a statement once it runs: a deadline stops the next one from starting.
      remainingMs();
      try {
        const result = await q.query<T>(text, params ? [...params] : undefined);
        return { rows: result.rows, rowCount: normaliseRowCount(result.affectedRows ?? result.rows.length) };
      } catch (error) {
        throw annotateStatementError(error, text);
      }
    },
    async exec(script: string) {
      remainingMs();
      try {
        await q.exec(script);
      } catch (error) {
        throw annotateStatementError(error, script);
      }
    },
  });
  return {
    kind: 'pglite',
    withTenant: async (tenantId, fn) => {
      const scope = tenantScopeScript(tenantId);
      await yieldToEventLoop();
      remainingMs();
      return pglite.transaction(async (tx) => {
        await tx.exec(scope);
        return fn(wrap(tx));
      });
    },
    withSystem: async (fn, options) => {
      await yieldToEventLoop();
      // Outside transaction(), each pglite.query still takes PGlite's transaction lock, so it never runs inside
      // another caller's open transaction.
      if (options?.autocommit) return fn(wrap(pglite));
      return pglite.transaction((tx) => fn(wrap(tx)));
    },
    async ping() {
      await pglite.query('select 1');
    },
    async close() {
      if (!pglite.closed) await pglite.close();
    },
    jobBackend: {
      db: {
        // pg-boss sends its schema scripts without parameters (several statements: exec) and everything else with.
        async executeSql(text: string, values?: unknown[]) {
          if (values && values.length) return { rows: (await pglite.query(text, values)).rows };
          const results = await pglite.exec(text);
          return { rows: results.at(-1)?.rows ?? [] };
        },
      },
    },
  };
}

export async function openPglite(dataDir: string | undefined, loadDataDir?: Blob): Promise<PGlite> {
  return PGlite.create({ dataDir, loadDataDir });
}

// int8 and numeric come back as numbers, as PGlite returns them, so both stores hand services the same shapes.
// Our int8 values (sequences, counts) stay far below 2^53.
const pgTypes = {
  getTypeParser(oid: number, format?: string) {
    if (oid === 20 || oid === 1700) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

export function createPostgresDatabase(connectionString: string, options: { max?: number } = {}): Database {
  const pool = new pg.Pool({ connectionString, max: options.max ?? 10, types: pgTypes as pg.CustomTypesConfig });
  // An idle client that errors (server restart) must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  const wrap = (client: pg.PoolClient): Sql => ({
    async query<T extends Row>(text: string, params?: readonly unknown[], options?: QueryOptions) {
      remainingMs();
      const values = params ? [...params] : undefined;
      try {
        const result = options?.name ? await client.query<T>({ name: options.name, text, values }) : await client.query<T>(text, values);
        return { rows: result.rows, rowCount: normaliseRowCount(result.rowCount) };
      } catch (error) {
        throw annotateStatementError(error, text, options?.name);
      }
    },
    async exec(script: string) {
      remainingMs();
      try {
        // Without parameters pg uses the simple query protocol, which accepts several statements.
        await client.query(script);
      } catch (error) {
        throw annotateStatementError(error, script);
      }
    },
  });
  async function inTransaction<T>(fn: (tx: Sql) => Promise<T>, tenantId?: string): Promise<T> {
    // Checked before a connection is taken, so a malformed id costs nothing.
    const scope = tenantId ? `; ${tenantScopeScript(tenantId)}` : '';
    // Under a deadline (a request's or a job's timeout), the server itself abandons a statement still running when
    // the time is up, so a caller that stopped waiting leaves no query behind. The value is an integer we computed.
    const left = remainingMs();
    const opening = `begin${scope}${left === null ? '' : `; set local statement_timeout = ${left}`}`;
    const client = await pool.connect();
    try {
      await client.query(opening);
      const result = await fn(wrap(client));
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
  return {
    kind: 'postgres',
    withTenant: (tenantId, fn) => inTransaction(fn, tenantId),
    withSystem: async (fn, options) => {
      if (!options?.autocommit) return inTransaction(fn);
      const client = await pool.connect();
      try {
        return await fn(wrap(client));
      } finally {
        client.release();
      }
    },
    async ping() {
      await pool.query('select 1');
    },
    async close() {
      await pool.end();
    },
    jobBackend: { connectionString },
  };
}

/** True for a unique-constraint violation from either store (both report SQLSTATE 23505). */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}

/**
 * Runs fn inside a savepoint of the caller's transaction: if fn fails, only its own writes roll back and the
 * transaction goes on (PostgreSQL otherwise aborts the whole transaction on any error). Returns the error, if any.
 */
export async function withSavepoint(tx: Sql, name: string, fn: () => Promise<unknown>): Promise<unknown | null> {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`savepoint name ${name} must be lower-case letters and underscores`);
  await tx.query(`savepoint ${name}`);
  try {
    await fn();
    await tx.query(`release savepoint ${name}`);
    return null;
  } catch (error) {
    await tx.query(`rollback to savepoint ${name}`);
    return error;
  }
}

/** The same PostgreSQL server URL, naming another database (tests and benchmarks create their own). */
export function databaseUrlFor(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}
