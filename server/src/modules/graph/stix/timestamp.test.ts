import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareTimestamps, normalizeTimestamp } from './timestamp.js';

describe('normalizeTimestamp', () => {
  it.each([
    ['2024-05-01T12:00:00Z', '2024-05-01T12:00:00.000Z'],
    ['2024-05-01T12:00:00.5Z', '2024-05-01T12:00:00.500Z'],
    ['2024-05-01T12:00:00.123456Z', '2024-05-01T12:00:00.123456Z'],
    ['2024-05-01T12:00:00.123456789Z', '2024-05-01T12:00:00.123456Z'],
    ['2024-05-01t12:00:00z', '2024-05-01T12:00:00.000Z'],
    ['2024-05-01T14:30:00+02:30', '2024-05-01T12:00:00.000Z'],
    ['2024-01-01T00:30:00-01:00', '2024-01-01T01:30:00.000Z'],
    ['2024-01-01T00:30:00+01:00', '2023-12-31T23:30:00.000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['2024-05-01 12:00:00.123456+00', '2024-05-01T12:00:00.123456Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z'],
  ])('reads %j as %j', (input, canonical) => {
    expect(normalizeTimestamp(input)).toBe(canonical);
  });

  it.each([
    '2024-05-01',
    '2024-05-01T12:00:00',
    '2024-13-01T00:00:00Z',
    '2023-02-29T00:00:00Z',
    '2024-04-31T00:00:00Z',
    '2024-05-01T24:00:00Z',
    '2024-05-01T12:60:00Z',
    '2016-12-31T23:59:60Z',
    '2024-05-01T12:00:00+24:00',
    'yesterday',
    '',
    1714564800000,
    null,
  ])('refuses %j', (input) => {
    expect(normalizeTimestamp(input)).toBeNull();
  });

  it('names the same instant as Date for any millisecond timestamp, and is idempotent', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), (date) => {
        const text = normalizeTimestamp(date.toISOString());
        expect(text).toBe(date.toISOString());
        expect(normalizeTimestamp(text)).toBe(text);
      }),
    );
  });

  it('orders canonical timestamps of mixed precision by time', () => {
    expect(compareTimestamps('2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000001Z')).toBeLessThan(0);
    expect(compareTimestamps('2024-01-01T00:00:00.100Z', '2024-01-01T00:00:00.099999Z')).toBeGreaterThan(0);
    expect(compareTimestamps('2024-01-01T00:00:00.100Z', '2024-01-01T00:00:00.100000Z')).toBe(0);
  });
});
