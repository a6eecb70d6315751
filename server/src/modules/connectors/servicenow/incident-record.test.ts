import { describe, expect, it } from 'vitest';
import { loadFixtureFile } from './fixtures.js';
import { formatServiceNowTime, IncidentSchemaError, parseIncidentRecord, parseServiceNowTime, referenceSysId } from './incident-record.js';

const incidents = loadFixtureFile('incident');

function schemaError(raw: unknown): IncidentSchemaError {
  try {
    parseIncidentRecord(raw);
  } catch (error) {
    if (error instanceof IncidentSchemaError) return error;
    throw error;
  }
  throw new Error('expected the record to be rejected');
}

describe('incident record', () => {
  it('parses ServiceNow UTC times and formats them back', () => {
    expect(parseServiceNowTime('2026-01-05 08:37:00')).toEqual(new Date('2026-01-05T08:37:00Z'));
    expect(formatServiceNowTime(new Date('2026-01-05T08:37:00.999Z'))).toBe('2026-01-05 08:37:00');
    for (const bad of ['2026-02-30 00:00:00', '2026-01-05T08:37:00Z', '2026-01-05 24:00:00', '05/01/2026 08:37', '']) {
      expect(parseServiceNowTime(bad)).toBeNull();
    }
  });

  it('normalises reference fields whether {link, value}, a bare sys_id or empty', () => {
    const id = 'fe8e54b855f489d7cf26f80524e68f92';
    expect(referenceSysId({ link: `https://x.service-now.com/api/now/table/sys_user_group/${id}`, value: id })).toBe(id);
    expect(referenceSysId(id)).toBe(id);
    expect(referenceSysId('')).toBeNull();
    expect(() => referenceSysId({ display_value: 'Network' })).toThrow();
  });

  it('normalises every fixture record, whatever its reference style', () => {
    const records = incidents.map(parseIncidentRecord);
    expect(records).toHaveLength(incidents.length);
    const first = records[0]!;
    expect(first).toMatchObject({ number: 'INC0010001', state: 1, priority: 2, updatedAt: new Date('2026-01-05T08:00:00Z'), modCount: 0, correlationId: null, active: true });
    expect(first.callerId).toMatch(/^[0-9a-f]{32}$/);
    // Record 1 carries bare sys_ids, record 0 link objects: both normalise to the same sys_id for the same user.
    expect(records[3]!.callerId).toBe(first.callerId);
    expect(records[4]!.assignmentGroupId).toBeNull();
    expect(records[2]!.correlationId).toBe('summit:finding:seed-0003');
  });

  describe('schema drift', () => {
    const drifted = loadFixtureFile('incident-drifted');

    it('names a renamed field (short_description → short_desc)', () => {
      const error = schemaError(drifted[0]);
      expect(error.fields).toEqual([{ field: 'short_description', problem: 'missing' }]);
      expect(error.message).toContain(`incident ${drifted[0]!.sys_id as string}`);
      expect(error.message).toContain('short_description (missing)');
    });

    it('names a removed field (sys_mod_count)', () => {
      expect(schemaError(drifted[1]).fields).toEqual([{ field: 'sys_mod_count', problem: 'missing' }]);
    });

    it('names a reference whose style changed (caller_id as a display-value object)', () => {
      const error = schemaError(drifted[2]);
      expect(error.fields.map((f) => f.field)).toEqual(['caller_id']);
      expect(error.message).toMatch(/caller_id \(expected a reference/);
    });

    it('names a time no longer in UTC "YYYY-MM-DD HH:MM:SS" (display values switched on)', () => {
      const error = schemaError({ ...incidents[0], sys_updated_on: '05/01/2026 09:00:00 AM' });
      expect(error.fields).toEqual([{ field: 'sys_updated_on', problem: 'expected UTC "YYYY-MM-DD HH:MM:SS"' }]);
    });
  });
});
