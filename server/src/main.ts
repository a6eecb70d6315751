import path from 'node:path';
import { buildApp, type SummitApp } from './app.js';
import { systemClock } from './platform/clock.js';
import type { Config } from './platform/config.js';
import { actorOf, type Ctx, type Logger } from './platform/context.js';
import { randomSecret } from './platform/crypto.js';
import { ensureDir, lockDataDir, readOrCreateSecretFile, writeSecretFile } from './platform/data-dir.js';
import { createPgliteDatabase, createPostgresDatabase, openPglite, type Database } from './platform/db.js';
import { ConflictError } from './platform/errors.js';
import { migrate } from './platform/migrations.js';

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

/**
 * Creates the demo tenant on first start and writes its admin token to <data dir>/demo-admin.token (0600). If the
 * tenant exists but the file was deleted, a new admin token is issued (the old one is unrecoverable by design).
 */
export async function ensureDemoTenant(summit: SummitApp, dataDir: string, log: Logger): Promise<void> {
  const tenants = summit.modules.tenancy.tenants;
  const file = path.join(dataDir, 'demo-admin.token');
  const principal = { kind: 'system', name: 'bootstrap' } as const;
  const ctx: Ctx = { principal, actor: actorOf(principal), requestId: 'bootstrap', log };
  const existing = await tenants.findTenantByName(DEMO_TENANT.name);
  if (!existing) {
    try {
      const created = await tenants.createTenant(ctx, DEMO_TENANT);
      writeSecretFile(file, created.adminToken);
      log.info({ tenantId: created.id, tokenFile: file }, 'created the demo tenant; its admin token is in the token file');
    } catch (error) {
      // Another replica created it first: that one wrote the token file.
      if (!(error instanceof ConflictError)) throw error;
    }
    return;
  }
  if (readOrCreateSecretFile(file, () => '').value === '') {
    const issued = await tenants.issueAdminToken(ctx, existing.id, 'demo admin token (reissued)');
    writeSecretFile(file, issued.token);
    log.info({ tenantId: existing.id, tokenFile: file }, 'reissued the demo admin token into the token file');
  }
}

export type RunningSummit = { summit: SummitApp; store: Store; url: string; stop: () => Promise<void> };

/** Composition root: config → store → migrations → modules → HTTP. */
export async function startSummit(config: Config): Promise<RunningSummit> {
  const store = await openStore(config);
  try {
    await migrate(store.db);
    const secrets = resolveSecrets(config, store.dataDir);
    const summit = await buildApp({ config, db: store.db, clock: systemClock, ...secrets });
    const log = summit.app.log;
    if (secrets.operatorTokenFile) log.info({ tokenFile: secrets.operatorTokenFile }, 'operator token file');
    if (config.SUMMIT_DEMO_TENANT) await ensureDemoTenant(summit, store.dataDir, log);
    const url = await summit.app.listen({ host: config.SUMMIT_HOST, port: config.SUMMIT_PORT });
    log.info({ url, store: store.db.kind, dataDir: store.dataDir, env: config.SUMMIT_ENV }, 'Summit is serving');
    let stopped = false;
    return {
      summit,
      store,
      url,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await summit.app.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
