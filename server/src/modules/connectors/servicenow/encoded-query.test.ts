import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertValidEncodedQuery, compareValues, matchesQuery, parseEncodedQuery } from './encoded-query.js';

describe('encoded query', () => {
  it('reads conditions joined by ^ and ^OR, and ORDERBY / ORDERBYDESC', () => {
    expect(parseEncodedQuery('active=true^priority<=2^ORurgency=1^sys_updated_on>=2026-01-05 08:00:00^ORDERBYsys_updated_on^ORDERBYDESCsys_id')).toEqual({
      groups: [
        [{ field: 'active', op: '=', value: 'true' }],
        [{ field: 'priority', op: '<=', value: '2' }, { field: 'urgency', op: '=', value: '1' }],
        [{ field: 'sys_updated_on', op: '>=', value: '2026-01-05 08:00:00' }],
      ],
      orderBy: [{ field: 'sys_updated_on', descending: false }, { field: 'sys_id', descending: true }],
      invalid: [],
    });
  });

  it('reports the parts ServiceNow would silently ignore, and refuses them in our own queries', () => {
    expect(parseEncodedQuery('Priority=1^active=true^garbage').invalid).toEqual(['Priority=1', 'garbage']);
    expect(() => assertValidEncodedQuery('active=true^sys_updated_on=>2026')).not.toThrow(); // `=` then a value starting with `>`
    expect(() => assertValidEncodedQuery('active=true^oops')).toThrow(/silently ignore: oops/);
  });

  it('compares numbers as numbers and ServiceNow times as text', () => {
    expect(compareValues('10', '9')).toBeGreaterThan(0);
    expect(compareValues('2026-01-05 10:00:00', '2026-01-05 09:59:59')).toBeGreaterThan(0);
    const row: Record<string, string> = { priority: '10', state: '', sys_updated_on: '2026-01-05 10:00:00' };
    const valueOf = (f: string) => row[f] ?? '';
    expect(matchesQuery(parseEncodedQuery('priority>9^stateISEMPTY'), valueOf)).toBe(true);
    expect(matchesQuery(parseEncodedQuery('priority>9^stateISNOTEMPTY'), valueOf)).toBe(false);
    expect(matchesQuery(parseEncodedQuery('priority=1^ORsys_updated_on>2026-01-05 09:00:00'), valueOf)).toBe(true);
    expect(matchesQuery(parseEncodedQuery('priority!=10'), valueOf)).toBe(false);
  });

  it('orders ServiceNow UTC times as text the same way as the instants they name', () => {
    const time = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 19).replace('T', ' '));
    fc.assert(fc.property(time, time, (a, b) => Math.sign(compareValues(a, b)) === Math.sign(Date.parse(`${a}Z`) - Date.parse(`${b}Z`))));
  });
});
