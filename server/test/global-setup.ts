import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import pg from 'pg';
import { createPgliteDatabase, createPostgresDatabase, databaseUrlFor, openPglite } from '../src/platform/db.js';
import { migrate } from '../src/platform/migrations.js';

declare module 'vitest' {
  interface ProvidedContext {
    /** pglite: a tarball of a migrated data dir; postgres: the name of a migrated template database. */
    storeTemplate: string;
  }
}


/**
 * Migrates once per run and hands test files a template: creating a PGlite database costs seconds, loading a
 * dumped one well under one; on PostgreSQL `create database … template` copies a migrated database in milliseconds.
 */
export default async function setup(project: TestProject) {
  if (process.env.SUMMIT_TEST_STORE === 'postgres' || project.config.env?.SUMMIT_TEST_STORE === 'postgres') {
    const base = process.env.DATABASE_URL!;
    const template = `summit_tpl_${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`create database ${template}`);
    const db = createPostgresDatabase(databaseUrlFor(base, template), { max: 1 });
    await migrate(db);
    await db.close();
    project.provide('storeTemplate', template);
    return async () => {
      await admin.query(`drop database if exists ${template} with (force)`);
      await admin.end();
    };
  }
  const pglite = await openPglite(undefined);
  await migrate(createPgliteDatabase(pglite));
  const dump = await pglite.dumpDataDir('none');
  await pglite.close();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'summit-test-'));
  const file = path.join(dir, 'template.tar');
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  project.provide('storeTemplate', file);
  return () => rmSync(dir, { recursive: true, force: true });
}
