/**
 * Fixtures for the Table API test server: recorded-style JSON under ./fixtures (one file per table), and a
 * generator for large volumes (contract storms, the benchmark) that produces records in the same shape.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatServiceNowTime } from './incident-record.js';

export type Row = Record<string, unknown>;
export type Tables = Record<string, Row[]>;

export const FIXTURES_DIR = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** The tables the default fixture set holds. */
export const FIXTURE_TABLES = ['incident', 'sys_choice', 'sys_user', 'sys_user_group', 'cmdb_ci'] as const;

/** Reads one fixture file (`<name>.json`, an array of rows). */
export function loadFixtureFile(name: string): Row[] {
  const rows: unknown = JSON.parse(readFileSync(join(FIXTURES_DIR, `${name}.json`), 'utf8'));
  if (!Array.isArray(rows)) throw new Error(`fixture ${name}.json is not an array of rows`);
  return rows as Row[];
}

/** The default fixture set, deep-copied so a test's mutations never leak into another's. */
export function loadFixtures(): Tables {
  return Object.fromEntries(FIXTURE_TABLES.map((table) => [table, loadFixtureFile(table)]));
}

/** A deterministic 32-hex sys_id from a seed text. */
export function sysIdFor(seed: string): string {
  return createHash('md5').update(seed).digest('hex');
}

/**
 * `count` incidents updated `stepMs` apart from `start` (several share a second when stepMs < 1000, which is
 * what exercises the keyset tie-break), references in alternating styles, observables in the text.
 */
export function generateIncidents(count: number, options: { start?: Date; stepMs?: number; prefix?: string } = {}): Row[] {
  const start = (options.start ?? new Date('2026-02-01T00:00:00Z')).getTime();
  const step = options.stepMs ?? 1000;
  const prefix = options.prefix ?? 'gen';
  const caller = sysIdFor('user:abel.tuter');
  const group = sysIdFor('group:Security Operations');
  const rows: Row[] = [];
  for (let i = 0; i < count; i++) {
    const at = formatServiceNowTime(new Date(start + i * step));
    const ci = sysIdFor(`ci:host-${i % 50}`);
    rows.push({
      sys_id: sysIdFor(`${prefix}:incident:${i}`),
      number: `INC${String(1_000_000 + i).padStart(7, '0')}`,
      short_description: `Generated incident ${i}`,
      description: `Traffic to 198.51.${Math.floor(i / 256) % 256}.${i % 256} from host-${i % 50}.example.com`,
      state: '1',
      priority: String((i % 5) + 1),
      impact: String((i % 3) + 1),
      urgency: String((i % 3) + 1),
      category: 'security',
      active: 'true',
      opened_at: at,
      sys_created_on: at,
      sys_updated_on: at,
      sys_mod_count: '0',
      correlation_id: '',
      caller_id: i % 2 === 0 ? caller : { link: `https://example.service-now.com/api/now/table/sys_user/${caller}`, value: caller },
      assignment_group: group,
      cmdb_ci: { link: `https://example.service-now.com/api/now/table/cmdb_ci/${ci}`, value: ci },
    });
  }
  return rows;
}
