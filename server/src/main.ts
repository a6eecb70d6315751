import path from 'node:path';
import { readdir, readFile } from 'node:fs/promises';
import { buildApp } from './app.js';
import { createModules, type Modules } from './modules.js';
import { createLogger } from './platform/logging.js';
import { createMetrics } from './platform/metrics.js';
import { systemClock } from './platform/clock.js';
import type { Config } from './platform/config.js';
import { actorOf, type Ctx, type Logger } from './platform/context.js';
import { randomSecret } from './platform/crypto.js';
import { ensureDir, lockDataDir, readOrCreateSecretFile, writeSecretFile } from './platform/data-dir.js';
import { createPgliteDatabase, createPostgresDatabase, openPglite, type Database } from './platform/db.js';
import { ConflictError } from './platform/errors.js';
import { assertAppRoleUsable, migrate } from './platform/migrations.js';
import { INITIAL_TOKEN_NAME } from './modules/tenancy/index.js';
import { defaultAutoReplayPolicy, serverRoot } from './platform/paths.js';
import { createServer } from 'node:net';

export type Store = { db: Database; dataDir: string; close: () => Promise<void> };

/**
 * Opens the store named by the configuration: PostgreSQL when DATABASE_URL is set, otherwise the embedded PGlite
 * store in the data dir, which one process at a time may hold (the lock says which).
 */
export async function openStore(config: Pick<Config, 'DATABASE_URL' | 'SUMMIT_DATA_DIR'>): Promise<Store> {
  const dataDir = ensureDir(config.SUMMIT_DATA_DIR);
  if (config.DATABASE_URL) {
    const db = createPostgresDatabase(config.DATABASE_URL);
    return { db, dataDir, close: () => db.close() };
  }
  const unlock = lockDataDir(dataDir);
  try {
    const db = createPgliteDatabase(await openPglite(path.join(dataDir, 'pgdata')));
    return {
      db,
      dataDir,
      close: async () => {
        await db.close();
        unlock();
      },
    };
  } catch (error) {
    unlock();
    throw error;
  }
}

/** Migrates the store and checks tenant-scoped transactions can run; every process that serves calls this. */
export async function prepareStore(db: Database): Promise<number[]> {
  const applied = await migrate(db);
  await assertAppRoleUsable(db);
  return applied;
}

/**
 * Fails fast when the address is taken, before the store is created and migrated for nothing. (Another process can
 * still take the port in between; listen() then reports it.)
 */
export async function assertAddressFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

export type Secrets = { secret: string; operatorToken: string; operatorTokenFile: string | null };

/** The signing secret and operator token: from the environment, or generated once into the data dir (0600). */
export function resolveSecrets(config: Pick<Config, 'SUMMIT_SECRET' | 'SUMMIT_OPERATOR_TOKEN'>, dataDir: string): Secrets {
  const secret = config.SUMMIT_SECRET ?? readOrCreateSecretFile(path.join(dataDir, 'secret.key'), () => randomSecret(48)).value;
  if (config.SUMMIT_OPERATOR_TOKEN) return { secret, operatorToken: config.SUMMIT_OPERATOR_TOKEN, operatorTokenFile: null };
  const file = path.join(dataDir, 'operator.token');
  const operatorToken = readOrCreateSecretFile(file, () => `smo_${randomSecret(32)}`).value;
  return { secret, operatorToken, operatorTokenFile: file };
}

export const DEMO_TENANT = { name: 'demo', adminEmail: 'admin@demo.example' };
const REISSUED_TOKEN_NAME = 'demo admin token (reissued)';

/**
 * Creates the demo tenant on first start and writes its admin token to <data dir>/demo-admin.token (0600). If the
 * tenant exists but the file was deleted, a new admin token is issued (the old one is unrecoverable by design).
 */
export async function ensureDemoTenant(modules: Pick<Modules, 'tenancy' | 'graph' | 'playbooks'>, dataDir: string, log: Logger): Promise<void> {
  const tenants = modules.tenancy.tenants;
  const file = path.join(dataDir, 'demo-admin.token');
  const principal = { kind: 'system', name: 'bootstrap' } as const;
  const ctx: Ctx = { principal, actor: actorOf(principal), requestId: 'bootstrap', log };
  const existing = await tenants.findTenantByName(DEMO_TENANT.name);
  if (!existing) {
    try {
      const created = await tenants.createTenant(ctx, DEMO_TENANT);
      writeSecretFile(file, created.adminToken);
      log.info({ tenantId: created.id, tokenFile: file }, 'created the demo tenant; its admin token is in the token file');
      const seeded = await modules.graph.seedDemo({ tenantId: created.id, actor: ctx.actor, requestId: ctx.requestId });
      log.info({ tenantId: created.id, ...seeded.stats, runs: seeded.runs.map((r) => r.status) }, 'seeded the demo graph');
      const examples = await modules.playbooks.playbooks.seed(
        { tenantId: created.id, actor: ctx.actor, requestId: ctx.requestId },
        created.adminUserId,
        await readExamplePlaybooks(log),
      );
      log.info({ tenantId: created.id, playbooks: examples }, 'saved the example playbooks in the demo tenant');
    } catch (error) {
      // Another replica created it first: that one wrote the token file.
      if (!(error instanceof ConflictError)) throw error;
    }
    return;
  }
  if (readOrCreateSecretFile(file, () => '').value === '') {
    const issued = await tenants.reissueBootstrapToken(ctx, existing.id, [INITIAL_TOKEN_NAME, REISSUED_TOKEN_NAME], REISSUED_TOKEN_NAME);
    writeSecretFile(file, issued.token);
    log.info(
      { tenantId: existing.id, tokenFile: file, revoked: issued.revoked },
      'reissued the demo admin token into the token file and revoked the previous one',
    );
  }
}

/** The example playbooks shipped in examples/playbooks (absent from a trimmed install: then none). */
async function readExamplePlaybooks(log: Logger): Promise<unknown[]> {
  const dir = path.join(serverRoot, '..', 'examples', 'playbooks');
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  } catch {
    log.warn({ dir }, 'no example playbooks to seed the demo tenant with');
    return [];
  }
  return Promise.all(files.map(async (f) => JSON.parse(await readFile(path.join(dir, f), 'utf8')) as unknown));
}

export type Role = 'api' | 'worker' | 'all';
export type RunningSummit = { modules: Modules; log: Logger; store: Store; url: string | null; stop: () => Promise<void> };

/**
 * A process that serves no HTTP: every module and the job queue, without Fastify. (`serve --role worker`)
 */
async function buildWorker(config: Config, db: Database, secrets: Secrets) {
  const log = createLogger(config.SUMMIT_LOG_LEVEL);
  const metrics = createMetrics({ collectDefaults: true });
  const modules = await createModules({ config, db, clock: systemClock, log, metrics, ...secrets });
  await modules.jobs.start();
  return {
    modules,
    log,
    close: async () => {
      await modules.jobsModule.scheduler.stop();
      await modules.jobs.stop();
    },
  };
}

/**
 * Composition root: config → store → migrations → modules → HTTP and/or workers. `api` serves HTTP only, `worker`
 * runs jobs and the scheduler only (no HTTP server is built), `all` (the default) both in one process.
 */
export async function startSummit(config: Config, options: { role?: Role } = {}): Promise<RunningSummit> {
  const role = options.role ?? 'all';
  const serves = role !== 'worker';
  if (serves) await assertAddressFree(config.SUMMIT_HOST, config.SUMMIT_PORT);
  const store = await openStore(config);
  try {
    await prepareStore(store.db);
    const secrets = resolveSecrets(config, store.dataDir);
    const host = serves
      ? await buildApp({ config, db: store.db, clock: systemClock, ...secrets }).then((summit) => ({
          modules: summit.modules,
          log: summit.app.log as Logger,
          app: summit.app,
          close: () => summit.app.close(),
        }))
      : { ...(await buildWorker(config, store.db, secrets)), app: null };
    const { modules, log } = host;
    if (store.db.kind === 'postgres' && !config.SUMMIT_SECRET) {
      log.warn('SUMMIT_SECRET is unset: this replica signs with a secret generated into its own data dir; replicas sharing one database need the same SUMMIT_SECRET (and SUMMIT_OPERATOR_TOKEN)');
    }
    if (secrets.operatorTokenFile) log.info({ tokenFile: secrets.operatorTokenFile }, 'operator token file');
    const replayPolicy = await modules.jobsModule.loadReplayPolicy(config.SUMMIT_AUTO_REPLAY_POLICY ?? defaultAutoReplayPolicy);
    if (config.SUMMIT_DEMO_TENANT) await ensureDemoTenant(modules, store.dataDir, log);
    const replayer = role !== 'api' ? modules.jobsModule.autoReplayer(replayPolicy) : null;
    if (replayer) {
      modules.jobs.startWorkers();
      modules.jobsModule.scheduler.start();
      replayer.start();
      log.info({ queues: modules.jobs.types().map((t) => t.name) }, 'job workers and scheduler started');
    }
    const url = host.app ? await host.app.listen({ host: config.SUMMIT_HOST, port: config.SUMMIT_PORT }) : null;
    log.info({ url, role, store: store.db.kind, dataDir: store.dataDir, env: config.SUMMIT_ENV }, 'Summit is serving');
    let stopped = false;
    return {
      modules,
      log,
      store,
      url,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await replayer?.stop();
        await host.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
