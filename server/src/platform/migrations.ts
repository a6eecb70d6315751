import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Database, Sql } from './db.js';
import { migrationsDir } from './paths.js';

export type Migration = { version: number; name: string; sql: string; checksum: string };
export type MigrationStatus = { applied: number[]; pending: number[] };

const FILE_RE = /^(\d{4})_([a-z0-9_]+)\.sql$/;
// One constant key: every process that migrates this database queues on the same advisory lock.
const MIGRATION_LOCK_KEY = 7_151_823;

export async function loadMigrations(dir = migrationsDir): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_RE.exec(file);
    if (!match) throw new Error(`Migration file ${file} must be named NNNN_snake_case.sql`);
    const sql = await readFile(path.join(dir, file), 'utf8');
    migrations.push({
      version: Number(match[1]),
      name: match[2]!,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  migrations.forEach((m, i) => {
    if (i > 0 && m.version === migrations[i - 1]!.version) throw new Error(`Two migrations share version ${m.version}`);
  });
  return migrations;
}

async function ensureLedger(tx: Sql): Promise<void> {
  await tx.query(`create table if not exists summit_migrations (
    version integer primary key,
    name text not null,
    checksum text not null,
    applied_at timestamptz not null default now()
  )`);
}

async function readLedger(tx: Sql): Promise<Map<number, string>> {
  const { rows } = await tx.query<{ version: number; checksum: string }>(
    'select version, checksum from summit_migrations order by version',
  );
  return new Map(rows.map((r) => [r.version, r.checksum]));
}

function assertUnedited(migrations: Migration[], ledger: Map<number, string>): void {
  for (const m of migrations) {
    const recorded = ledger.get(m.version);
    if (recorded && recorded !== m.checksum) {
      throw new Error(
        `Migration ${m.version}_${m.name} was edited after it was applied (checksum differs). ` +
          'Landed migrations are never edited: restore the file and add a new migration instead.',
      );
    }
  }
}

/**
 * Applies pending migrations, each in its own transaction under a transaction-scoped advisory lock, so two
 * processes starting at once against one PostgreSQL apply each migration exactly once.
 */
export async function migrate(db: Database, migrations?: Migration[]): Promise<number[]> {
  const all = migrations ?? (await loadMigrations());
  const applied: number[] = [];
  for (const migration of all) {
    const didApply = await db.withSystem(async (tx) => {
      await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      await ensureLedger(tx);
      const ledger = await readLedger(tx);
      assertUnedited(all, ledger);
      if (ledger.has(migration.version)) return false;
      await tx.exec(migration.sql);
      await tx.query('insert into summit_migrations (version, name, checksum) values ($1, $2, $3)', [
        migration.version,
        migration.name,
        migration.checksum,
      ]);
      return true;
    });
    if (didApply) applied.push(migration.version);
  }
  return applied;
}

export async function migrationStatus(db: Database, migrations?: Migration[]): Promise<MigrationStatus> {
  const all = migrations ?? (await loadMigrations());
  const ledger = await db.withSystem(async (tx) => {
    const exists = await tx.query(`select to_regclass('summit_migrations') is not null as present`);
    return exists.rows[0]?.present ? readLedger(tx) : new Map<number, string>();
  });
  return {
    applied: all.filter((m) => ledger.has(m.version)).map((m) => m.version),
    pending: all.filter((m) => !ledger.has(m.version)).map((m) => m.version),
  };
}

/**
 * Proves a tenant-scoped transaction can run: the connecting user must be able to `set role summit_app`. A role
 * created beforehand without granting it to this user passes the migrations (the grant is only a warning) and would
 * otherwise fail every request later.
 */
export async function assertAppRoleUsable(db: Database): Promise<void> {
  try {
    await db.withTenant('00000000-0000-0000-0000-000000000000', (tx) => tx.query('select 1'));
  } catch (error) {
    throw new Error(
      `The database user cannot act as the role summit_app (${(error as Error).message}). ` +
        'Grant it with: GRANT summit_app TO <the DATABASE_URL user>;',
      { cause: error },
    );
  }
}
