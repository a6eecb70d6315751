import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { inject } from 'vitest';
import { buildApp, type AppDeps, type SummitApp } from '../src/app.js';
import type { LogStream } from '../src/platform/http.js';
import { createManualClock } from '../src/platform/clock.js';
import { createPgliteDatabase, createPostgresDatabase, databaseUrlFor, openPglite, type Database } from '../src/platform/db.js';
import type { Role } from '../src/platform/context.js';

export const TEST_SECRET = 'test-secret-0123456789-0123456789-0123456789';
export const OPERATOR_TOKEN = 'smo_test-operator-token-0123456789-abcdefgh';
export const storeKind = process.env.SUMMIT_TEST_STORE === 'postgres' ? 'postgres' : 'pglite';

export type TestDb = { db: Database; close: () => Promise<void>; /** PostgreSQL only: the test database's URL, for child processes. */ url?: string };

/** A fresh, migrated database for one test file, copied from the run's template. */
export async function createTestDb(): Promise<TestDb> {
  const template = inject('storeTemplate');
  if (storeKind === 'pglite') {
    const pglite = await openPglite(undefined, new Blob([readFileSync(template)]));
    const db = createPgliteDatabase(pglite);
    return { db, close: () => db.close() };
  }
  const base = process.env.DATABASE_URL!;
  const name = `summit_test_${randomUUID().replaceAll('-', '')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  // Two files copying one template at the same moment can collide (55006): try again shortly.
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.query(`create database ${name} template ${template}`);
      break;
    } catch (error) {
      if ((error as { code?: string }).code !== '55006' || attempt > 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
    }
  }
  const url = databaseUrlFor(base, name);
  const db = createPostgresDatabase(url, { max: 4 });
  return {
    db,
    url,
    close: async () => {
      await db.close();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

type Body = Record<string, unknown> | unknown[] | string | undefined;

/** A small HTTP client over app.inject, optionally bearing a token. */
export function client(summit: SummitApp, token?: string) {
  const send = (method: InjectOptions['method'], url: string, body?: Body, headers: Record<string, string> = {}) =>
    summit.app.inject({
      method,
      url,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      ...(body === undefined ? {} : typeof body === 'string' ? { payload: body } : { payload: body as object }),
    });
  return {
    get: (url: string) => send('GET', url),
    post: (url: string, body?: Body, headers?: Record<string, string>) => send('POST', url, body ?? {}, headers),
    patch: (url: string, body?: Body) => send('PATCH', url, body ?? {}),
    delete: (url: string) => send('DELETE', url),
    send,
  };
}
export type Client = ReturnType<typeof client>;

export type TestTenant = { id: string; name: string; adminToken: string; adminUserId: string; admin: Client };

export type TestApp = Awaited<ReturnType<typeof createTestApp>>;

/** The whole API on a fresh database with a manual clock; helpers create tenants and users through HTTP. */
export type TestAppOptions = {
  maxSchedulesPerTenant?: number;
  /** prod applies the production rules (outbound URL policy, schema approvals). */
  env?: 'dev' | 'prod';
  /** Captures log lines (at info) instead of silencing them. */
  logStream?: LogStream;
  outbound?: AppDeps['outbound'];
  requestTimeoutMs?: number;
};

export async function createTestApp(options: TestAppOptions = {}) {
  const store = await createTestDb();
  const clock = createManualClock(new Date());
  const summit = await buildApp({
    config: {
      SUMMIT_LOG_LEVEL: options.logStream ? 'info' : 'silent',
      SUMMIT_BODY_LIMIT: 64 * 1024,
      SUMMIT_MAX_SCHEDULES_PER_TENANT: options.maxSchedulesPerTenant,
      SUMMIT_ENV: options.env,
      SUMMIT_REQUEST_TIMEOUT_MS: options.requestTimeoutMs,
    },
    jobPollIntervalMs: 20,
    db: store.db,
    clock,
    secret: TEST_SECRET,
    operatorToken: OPERATOR_TOKEN,
    logger: options.logStream !== undefined,
    logStream: options.logStream,
    outbound: options.outbound,
  });
  const operator = client(summit, OPERATOR_TOKEN);
  let counter = 0;

  async function createTenant(name = `tenant-${randomUUID().slice(0, 8)}`): Promise<TestTenant> {
    const res = await operator.post('/api/v1/tenants', { name, adminEmail: `admin@${name}.example` });
    if (res.statusCode !== 201) throw new Error(`createTenant: ${res.statusCode} ${res.body}`);
    const body = res.json();
    return { ...body, admin: client(summit, body.adminToken) };
  }

  /** Adds a user with the given roles and returns it with a client bearing a fresh token of theirs. */
  async function createUser(tenant: TestTenant, roles: Role[]) {
    const email = `user${++counter}-${roles.join('-')}@example.com`;
    const created = await tenant.admin.post('/api/v1/users', { email, roles });
    if (created.statusCode !== 201) throw new Error(`createUser: ${created.statusCode} ${created.body}`);
    const user = created.json();
    const token = await tenant.admin.post('/api/v1/tokens', { name: 'test', userId: user.id });
    if (token.statusCode !== 201) throw new Error(`createToken: ${token.statusCode} ${token.body}`);
    return { user, token: token.json().token as string, tokenId: token.json().id as string, client: client(summit, token.json().token) };
  }

  return {
    summit,
    db: store.db,
    /** PostgreSQL only: the test database's URL, for child processes. */
    url: store.url,
    clock,
    operator,
    anonymous: client(summit),
    client: (token?: string) => client(summit, token),
    createTenant,
    createUser,
    close: async () => {
      await summit.app.close();
      await store.close();
    },
  };
}

export function problemOf(res: LightMyRequestResponse) {
  return res.json() as { type: string; title: string; status: number; detail: string; code: string; requestId: string; errors?: { path: string; message: string }[] };
}

/** Polls until check() returns a value other than undefined/false; fails with `what` after timeoutMs. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
