/**
 * Pieces bench/ingest.ts and bench/read.ts share: options, stores (fresh in-memory PGlite or a fresh PostgreSQL
 * database that is dropped afterwards), the app over a store with a tenant created through the API, a Database
 * wrapper that profiles the SQL the services issue, the demo graph as bundles, percentiles and CPU figures.
 * Nothing here changes server code: the app is built by buildApp and data goes in through the ingest service.
 */
import os from 'node:os';
import pg from 'pg';
import type { PGlite } from '@electric-sql/pglite';
import { buildApp, type SummitApp } from '../server/src/app.js';
import { systemClock } from '../server/src/platform/clock.js';
import { createPgliteDatabase, createPostgresDatabase, databaseUrlFor, openPglite, type Database, type Sql } from '../server/src/platform/db.js';
import { migrate } from '../server/src/platform/migrations.js';
import { generateDemoBundles, type DemoSourceBundle } from '../server/src/modules/graph/demo/generate.js';

// ---------------------------------------------------------------------------------------------------------------
// Options: flag `--name=value` or env `BENCH_NAME`.

export function option(name: string): string | undefined {
  const flag = process.argv.slice(2).find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (flag) return flag.includes('=') ? flag.slice(flag.indexOf('=') + 1) : '1';
  return process.env[`BENCH_${name.toUpperCase().replaceAll('-', '_')}`];
}
export function numberOption(name: string, fallback: number): number {
  const raw = option(name);
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a non-negative number, got "${raw}"`);
  return value;
}
export function listOption(name: string, fallback: string[]): string[] {
  const raw = option(name);
  return raw === undefined ? fallback : raw.split(',').map((s) => s.trim()).filter(Boolean);
}
export const isQuick = () => ['1', 'true', 'yes'].includes(option('quick') ?? '');
export const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export function progressFor(label: string) {
  return (message: string) => process.stderr.write(`[${label} ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
export const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------------------------
// Figures

/** Nearest-rank percentile of ascending values. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
export function latencySummary(values: ArrayLike<number>) {
  const sorted = Float64Array.from(values).sort();
  if (!sorted.length) return { count: 0, p50Ms: NaN, p95Ms: NaN, p99Ms: NaN, maxMs: NaN, meanMs: NaN };
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    p50Ms: round(percentile(sorted, 50), 2),
    p95Ms: round(percentile(sorted, 95), 2),
    p99Ms: round(percentile(sorted, 99), 2),
    maxMs: round(sorted[sorted.length - 1]!, 2),
    meanMs: round(sum / sorted.length, 2),
  };
}

/** Busy and idle CPU time of the whole machine (PostgreSQL included), from os.cpus(). */
export function machineCpu() {
  return os.cpus().reduce(
    (acc, cpu) => {
      const { idle, ...rest } = cpu.times;
      acc.idle += idle;
      acc.busy += Object.values(rest).reduce((s, v) => s + v, 0);
      return acc;
    },
    { busy: 0, idle: 0 },
  );
}
/** CPU use over an interval: the machine's busy share (1 = every core busy) and this process's CPU seconds. */
export function cpuMeter() {
  const machine = machineCpu();
  const own = process.cpuUsage();
  const load = os.loadavg()[0]!;
  return () => {
    const now = machineCpu();
    const busy = now.busy - machine.busy;
    const idle = now.idle - machine.idle;
    const mine = process.cpuUsage(own);
    return {
      machineBusyShare: busy + idle > 0 ? round(busy / (busy + idle), 2) : NaN,
      machineBusyCpuSeconds: round(busy / 1000, 2),
      thisProcessCpuSeconds: round((mine.user + mine.system) / 1e6, 2),
      loadAverage1mBefore: round(load, 2),
    };
  };
}

/**
 * The machine is shared (other sessions run test suites on it): waits, at most maxSeconds, for a second in which
 * the machine is mostly idle before a measurement, and says how long it waited and how busy the last second was.
 */
export async function awaitQuiet(maxSeconds: number, threshold = 0.25) {
  const started = performance.now();
  let share = NaN;
  for (;;) {
    const before = machineCpu();
    await sleep(1000);
    const after = machineCpu();
    const busy = after.busy - before.busy;
    const idle = after.idle - before.idle;
    share = busy + idle > 0 ? busy / (busy + idle) : 0;
    if (share <= threshold || (performance.now() - started) / 1000 >= maxSeconds) break;
  }
  return { waitedSeconds: round((performance.now() - started) / 1000, 1), busyShareOfLastSecond: round(share, 2) };
}

/**
 * CPU seconds used by the PostgreSQL backends of one database, read from /proc (the server runs on this machine):
 * a snapshot now, and a function giving the seconds used since. Null when /proc cannot be read for them.
 */
export async function backendCpuMeter(url: string): Promise<{ stop: () => Promise<number | null>; close: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  const { readFile } = await import('node:fs/promises');
  const ticksPerSecond = 100; // USER_HZ on Linux
  const snapshot = async () => {
    const { rows } = await client.query<{ pid: number }>(
      'select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
    );
    const ticks = new Map<number, number>();
    for (const { pid } of rows) {
      try {
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        // After "pid (comm) ": state is field 3, utime 14 and stime 15 (1-based) → indexes 11 and 12 here.
        ticks.set(pid, Number(fields[11]) + Number(fields[12]));
      } catch {
        // The backend exited, or /proc is not this server's.
      }
    }
    return ticks;
  };
  const before = await snapshot();
  return {
    async stop() {
      const after = await snapshot();
      if (!after.size) return null;
      let used = 0;
      for (const [pid, t] of after) used += t - (before.get(pid) ?? 0);
      return round(used / ticksPerSecond, 2);
    },
    close: () => client.end(),
  };
}

/** mulberry32: small and fast; a seed makes the request sequence reproducible. */
export function createRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (max: number) => Math.floor(next() * max) };
}

// ---------------------------------------------------------------------------------------------------------------
// SQL profile: which statements the services issue, how often, and how long each waits for its answer.

export type StatementFigure = { sql: string; count: number; totalMs: number; meanMs: number; shareOfSqlTime: number };

/** One line per statement shape: whitespace collapsed, cut short enough to read in a report. */
export function statementKey(text: string): string {
  // The select list says little and is long: keep what follows it, so get and getMany read differently.
  const flat = text.replace(/\s+/g, ' ').trim().replace(/^select (?:(?! from ).)+ from /i, 'select … from ');
  return flat.length > 150 ? `${flat.slice(0, 150)}…` : flat;
}

/**
 * Wraps a Database so every statement a service sends through its transaction handle is counted and timed (from
 * the caller's side: the round trip). The transactions' own framing (begin with the tenant scope, commit) is issued
 * inside db.ts and is not seen here; transactions are counted instead (a system-scope autocommit lookup is not a
 * transaction). Off (the default) it only forwards calls.
 */
export function profiledDatabase(inner: Database) {
  const stats = new Map<string, { count: number; totalMs: number }>();
  let profiling = false;
  let transactions = { tenant: 0, system: 0 };
  let recording: Array<{ scope: 'tenant' | 'system'; sql: string }> | null = null;

  const wrap = (tx: Sql, scope: 'tenant' | 'system'): Sql => ({
    async query(text, params, options) {
      if (recording) recording.push({ scope, sql: statementKey(text) });
      if (!profiling) return tx.query(text, params, options);
      const started = performance.now();
      try {
        return await tx.query(text, params, options);
      } finally {
        const key = statementKey(text);
        const figure = stats.get(key) ?? { count: 0, totalMs: 0 };
        figure.count++;
        figure.totalMs += performance.now() - started;
        stats.set(key, figure);
      }
    },
    exec: (script) => tx.exec(script),
  });

  const db: Database = {
    kind: inner.kind,
    withTenant: (tenantId, fn) => {
      if (profiling) transactions.tenant++;
      return inner.withTenant(tenantId, (tx) => fn(wrap(tx, 'tenant')));
    },
    withSystem: (fn, options) => {
      if (profiling && !options?.autocommit) transactions.system++;
      return inner.withSystem((tx) => fn(wrap(tx, 'system')), options);
    },
    ping: () => inner.ping(),
    close: () => inner.close(),
    jobBackend: inner.jobBackend,
  };

  return {
    db,
    /** Starts counting from zero. */
    start() {
      stats.clear();
      transactions = { tenant: 0, system: 0 };
      profiling = true;
    },
    /** Stops and returns the statements, the most time-consuming first. */
    stop(top = 8) {
      profiling = false;
      const all = [...stats.entries()].map(([sql, f]) => ({ sql, ...f }));
      const totalMs = all.reduce((s, f) => s + f.totalMs, 0);
      const statements = all.reduce((s, f) => s + f.count, 0);
      const figures: StatementFigure[] = all
        .sort((a, b) => b.totalMs - a.totalMs)
        .slice(0, top)
        .map((f) => ({ sql: f.sql, count: f.count, totalMs: round(f.totalMs, 1), meanMs: round(f.totalMs / f.count, 3), shareOfSqlTime: round(f.totalMs / totalMs, 3) }));
      return { statements, transactions: { ...transactions }, sqlWaitSeconds: round(totalMs / 1000, 2), top: figures };
    },
    /** Records the statements (shape and scope) issued while fn runs. */
    async record<T>(fn: () => Promise<T>) {
      recording = [];
      try {
        await fn();
        return recording;
      } finally {
        recording = null;
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Stores

export type Store = {
  kind: 'pglite' | 'postgres';
  /** The store as the app sees it (profiled). */
  db: Database;
  profile: ReturnType<typeof profiledDatabase>;
  /** PGlite only: the instance, for COPY. */
  pglite: PGlite | null;
  /** PostgreSQL only: the database's URL and name. */
  url: string | null;
  database: string | null;
  version: string;
  setupSeconds: number;
  /** A kept PostgreSQL database that already existed (its data is still there). */
  reused: boolean;
  close: () => Promise<void>;
};

/** Databases to drop should the run be interrupted or fail. */
const cleanups = new Set<() => Promise<void>>();
let exiting = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (exiting) return;
    exiting = true;
    process.stderr.write(`${signal}: dropping the bench databases\n`);
    void Promise.allSettled([...cleanups].map((c) => c())).finally(() => process.exit(130));
  });
}

/** A fresh, migrated store: in-memory PGlite, or a new PostgreSQL database (dropped by close()). */
export async function openStore(
  kind: string,
  options: { adminUrl: string; databaseName: string; poolMax?: number; keep?: boolean },
): Promise<Store> {
  const started = performance.now();
  if (kind === 'pglite') {
    const pglite = await openPglite(undefined);
    const profile = profiledDatabase(createPgliteDatabase(pglite));
    await migrate(profile.db);
    const version = (await pglite.query<{ v: string }>(`select current_setting('server_version') as v`)).rows[0]!.v;
    return {
      kind: 'pglite', db: profile.db, profile, pglite, url: null, database: null, version: `PGlite (PostgreSQL ${version})`,
      setupSeconds: round((performance.now() - started) / 1000, 2), close: () => profile.db.close(), reused: false,
    };
  }
  if (kind !== 'postgres') throw new Error(`unknown store "${kind}" (pglite | postgres)`);
  const name = options.databaseName;
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`bad database name ${name}`);
  const admin = new pg.Client({ connectionString: options.adminUrl });
  // An idle connection the server ends (another session's clean-up) must not crash the run; its next use fails.
  admin.on('error', () => undefined);
  await admin.connect();
  // keep: reuse the database if it exists (migrations still run) and leave it in place afterwards.
  const exists = (await admin.query('select 1 from pg_database where datname = $1', [name])).rows.length > 0;
  if (!options.keep || !exists) {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.query(`create database ${name}`);
  }
  const url = databaseUrlFor(options.adminUrl, name);
  const profile = profiledDatabase(createPostgresDatabase(url, options.poolMax ? { max: options.poolMax } : {}));
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    cleanups.delete(close);
    await profile.db.close().catch(() => undefined);
    if (!options.keep) await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  };
  cleanups.add(close);
  try {
    await migrate(profile.db);
    const version = (await admin.query<{ v: string }>(`select current_setting('server_version') as v`)).rows[0]!.v;
    return {
      kind: 'postgres', db: profile.db, profile, pglite: null, url, database: name, version: `PostgreSQL ${version}`,
      setupSeconds: round((performance.now() - started) / 1000, 2), close, reused: options.keep === true && exists,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The app and a tenant

export const BENCH_SECRET = 'bench-secret-0123456789-0123456789-0123456789';
export const BENCH_OPERATOR_TOKEN = 'smo_bench-operator-token-0123456789-abcdefgh';

/** The whole API over the store, as the tests build it (logger off, system clock). */
export function buildBenchApp(db: Database): Promise<SummitApp> {
  return buildApp({
    config: { SUMMIT_LOG_LEVEL: 'silent', SUMMIT_BODY_LIMIT: 1024 * 1024 },
    db,
    clock: systemClock,
    secret: BENCH_SECRET,
    operatorToken: BENCH_OPERATOR_TOKEN,
    logger: false,
  });
}

export type BenchTenant = { id: string; adminUserId: string; adminToken: string };

/** Creates a tenant through the API (POST /api/v1/tenants with the operator token), in-process or over HTTP. */
export async function createTenant(summit: SummitApp, name: string, baseUrl?: string): Promise<BenchTenant> {
  const body = { name, adminEmail: `admin@${name}.example` };
  const headers = { authorization: `Bearer ${BENCH_OPERATOR_TOKEN}`, 'content-type': 'application/json' };
  let status: number;
  let text: string;
  if (baseUrl) {
    const res = await fetch(`${baseUrl}/api/v1/tenants`, { method: 'POST', headers, body: JSON.stringify(body) });
    status = res.status;
    text = await res.text();
  } else {
    const res = await summit.app.inject({ method: 'POST', url: '/api/v1/tenants', headers, payload: body });
    status = res.statusCode;
    text = res.body;
  }
  if (status !== 201) throw new Error(`POST /api/v1/tenants: ${status} ${text}`);
  const created = JSON.parse(text) as { id: string; adminUserId: string; adminToken: string };
  return { id: created.id, adminUserId: created.adminUserId, adminToken: created.adminToken };
}

/** The scope the ingest service takes: the tenant's admin as the actor, as a POST by that admin would. */
export const scopeOf = (tenant: BenchTenant) => ({ tenantId: tenant.id, actor: { type: 'user' as const, id: tenant.adminUserId }, requestId: null });

// ---------------------------------------------------------------------------------------------------------------
// Data

export function generateGraph(seed: number, entities: number, relationshipsPerEntity: number) {
  const started = performance.now();
  const generated = generateDemoBundles({ seed, entities, relationshipsPerEntity });
  return { ...generated, seconds: round((performance.now() - started) / 1000, 2) };
}

/**
 * The sources' bundles as one bundle: objects in source order (each source's entities, then its relationships,
 * sightings and late objects), marking-definitions that several sources define once.
 */
export function concatenateBundles(bundles: DemoSourceBundle[], id: string) {
  const seen = new Set<string>();
  const objects: Record<string, unknown>[] = [];
  for (const { bundle } of bundles) {
    for (const object of bundle.objects) {
      if (object.type === 'marking-definition') {
        if (seen.has(object.id as string)) continue;
        seen.add(object.id as string);
      }
      objects.push(object);
    }
  }
  return { type: 'bundle' as const, id, objects };
}
