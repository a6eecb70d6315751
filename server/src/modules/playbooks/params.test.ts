import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Param } from './definition.js';
import { checkParamValue, MAX_DURATION_MS, parseDuration, resolveParams } from './params.js';

const p = (param: Partial<Param> & Pick<Param, 'name' | 'type'>): Param => param as Param;
const UUID = '0190a3c2-7b1d-7c2e-8f00-1234567890ab';

function errorsOf(result: ReturnType<typeof resolveParams>) {
  if (result.ok) throw new Error(`expected errors, got ${JSON.stringify(result.values)}`);
  return result.errors;
}
function valuesOf(result: ReturnType<typeof resolveParams>) {
  if (!result.ok) throw new Error(`expected values, got ${JSON.stringify(result.errors)}`);
  return result.values;
}

describe('resolveParams', () => {
  it('refuses unknown parameters and names them along with the declared ones', () => {
    const errors = errorsOf(resolveParams([p({ name: 'depth', type: 'integer' })], { dept: 2, extra: true }));
    expect(errors.map((e) => e.path)).toEqual(['params.dept', 'params.extra']);
    expect(errors[0]!.message).toContain('unknown parameter "dept"');
    expect(errors[0]!.message).toContain('depth');
  });

  it('requires required parameters without a default and applies defaults otherwise', () => {
    const declared = [p({ name: 'campaign', type: 'string', required: true }), p({ name: 'depth', type: 'integer', default: 2 }), p({ name: 'note', type: 'string' })];
    expect(errorsOf(resolveParams(declared, {}))).toEqual([{ path: 'params.campaign', message: expect.stringContaining('is required') }]);
    expect(valuesOf(resolveParams(declared, { campaign: 'X' }))).toEqual({ campaign: 'X', depth: 2 });
    expect(valuesOf(resolveParams(declared, { campaign: 'X', depth: 3, note: 'n' }))).toEqual({ campaign: 'X', depth: 3, note: 'n' });
  });

  it('checks each type strictly, without coercing JSON', () => {
    const cases: Array<[Param, unknown, boolean]> = [
      [p({ name: 'a', type: 'string' }), 'x', true],
      [p({ name: 'a', type: 'string' }), 5, false],
      [p({ name: 'a', type: 'integer' }), 42, true],
      [p({ name: 'a', type: 'integer' }), '42', false],
      [p({ name: 'a', type: 'integer' }), 4.5, false],
      [p({ name: 'a', type: 'number' }), 4.5, true],
      [p({ name: 'a', type: 'number' }), Number.POSITIVE_INFINITY, false],
      [p({ name: 'a', type: 'boolean' }), false, true],
      [p({ name: 'a', type: 'boolean' }), 'false', false],
      [p({ name: 'a', type: 'enum', values: ['x', 'y'] }), 'y', true],
      [p({ name: 'a', type: 'enum', values: ['x', 'y'] }), 'z', false],
      [p({ name: 'a', type: 'entityRef' }), UUID, true],
      [p({ name: 'a', type: 'entityRef' }), 'not-a-uuid', false],
      [p({ name: 'a', type: 'duration' }), 'P7D', true],
      [p({ name: 'a', type: 'duration' }), '7 days', false],
      [p({ name: 'a', type: 'list', items: 'integer' }), [1, 2], true],
      [p({ name: 'a', type: 'list', items: 'integer' }), [1, 'two'], false],
      [p({ name: 'a', type: 'list', items: 'integer' }), 1, false],
    ];
    for (const [param, value, ok] of cases) expect(resolveParams([param], { a: value }).ok, `${param.type} ${JSON.stringify(value)}`).toBe(ok);
  });

  it('turns durations into milliseconds and entity refs into lower case', () => {
    const declared = [p({ name: 'window', type: 'duration' }), p({ name: 'seed', type: 'entityRef' }), p({ name: 'windows', type: 'list', items: 'duration' })];
    expect(valuesOf(resolveParams(declared, { window: 'PT24H', seed: UUID.toUpperCase(), windows: ['30m', 'P1DT12H'] }))).toEqual({
      window: 86_400_000, seed: UUID, windows: [1_800_000, 129_600_000],
    });
  });

  it('enforces min and max for numbers, string lengths, list sizes and durations', () => {
    const declared = [
      p({ name: 'n', type: 'integer', min: 1, max: 3 }),
      p({ name: 's', type: 'string', min: 2, max: 4 }),
      p({ name: 'l', type: 'list', items: 'string', min: 1, max: 2 }),
      p({ name: 'd', type: 'duration', min: '1h', max: 'P7D' }),
    ];
    expect(resolveParams(declared, { n: 3, s: 'abcd', l: ['a', 'b'], d: '7d' }).ok).toBe(true);
    const errors = errorsOf(resolveParams(declared, { n: 4, s: 'a', l: [], d: '30m' }));
    expect(errors.map((e) => e.path)).toEqual(['params.n', 'params.s', 'params.l', 'params.d']);
    expect(errors[0]!.message).toContain('above the maximum of 3');
    expect(errors[1]!.message).toContain('below the minimum of 2 characters');
    expect(errors[2]!.message).toContain('below the minimum of 1 items');
    expect(errors[3]!.message).toContain('below the minimum of 1h');
  });

  it('checks list items against their own spec', () => {
    const declared = [p({ name: 'tlp', type: 'list', items: { type: 'enum', values: ['clear', 'green'] } })];
    expect(valuesOf(resolveParams(declared, { tlp: ['green'] }))).toEqual({ tlp: ['green'] });
    expect(errorsOf(resolveParams(declared, { tlp: ['green', 'red'] }))[0]!.message).toContain('item 1');
  });

  it('matches patterns over the whole value with RE2, so a catastrophic pattern stays fast', () => {
    const declared = [p({ name: 'host', type: 'string', pattern: '[a-z0-9.-]+\\.example' })];
    expect(resolveParams(declared, { host: 'c2.example' }).ok).toBe(true);
    expect(resolveParams(declared, { host: 'c2.example.org' }).ok).toBe(false);
    // (a+)+$ backtracks exponentially in a backtracking engine; RE2 answers in linear time.
    const evil = [p({ name: 'x', type: 'string', pattern: '(a+)+$' })];
    expect(resolveParams(evil, { x: `${'a'.repeat(5_000)}!` }).ok).toBe(false);
  });

  it('parses text per declared type only when asked to (query strings, CLI flags)', () => {
    const declared = [
      p({ name: 'n', type: 'integer' }), p({ name: 'b', type: 'boolean' }), p({ name: 'l', type: 'list', items: 'integer' }), p({ name: 's', type: 'string' }),
    ];
    const given = { n: '42', b: 'true', l: '1, 2,3', s: '42' };
    expect(resolveParams(declared, given).ok).toBe(false);
    expect(valuesOf(resolveParams(declared, given, { fromStrings: true }))).toEqual({ n: 42, b: true, l: [1, 2, 3], s: '42' });
    expect(resolveParams(declared, { n: 'forty' }, { fromStrings: true }).ok).toBe(false);
  });

  it('refuses params that are not an object', () => {
    for (const given of [null, [], 'depth=2']) expect(errorsOf(resolveParams([], given as never))[0]!.path).toBe('params');
  });

  it('checks defaults like given values', () => {
    expect(errorsOf(resolveParams([p({ name: 'n', type: 'integer', default: 'two' })], {}))[0]!.path).toBe('params.n');
  });
});

describe('parseDuration', () => {
  it('reads ISO 8601 and shorthand durations', () => {
    expect(parseDuration('P7D')).toBe(604_800_000);
    expect(parseDuration('PT24H')).toBe(86_400_000);
    expect(parseDuration('P1W')).toBe(604_800_000);
    expect(parseDuration('PT1.5S')).toBe(1_500);
    expect(parseDuration('P1DT2H3M4S')).toBe(93_784_000);
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('7d')).toBe(604_800_000);
  });

  it('refuses years, months, empty parts and junk', () => {
    for (const text of ['P1Y', 'P1M', 'P', 'PT', 'P1DT', '7', 'd', '7 d', '-7d', '7D', 'PT-1H', '', '1.5h']) expect(parseDuration(text), text).toBeUndefined();
  });

  it('gives n × unit for every shorthand up to the maximum (property)', () => {
    const units = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom(...(Object.keys(units) as Array<keyof typeof units>)), (n, unit) => {
        const ms = n * units[unit];
        expect(parseDuration(`${n}${unit}`)).toBe(ms <= MAX_DURATION_MS ? ms : undefined);
      }),
    );
  });

  it('sums the parts of an ISO duration (property)', () => {
    const part = fc.option(fc.integer({ min: 0, max: 500 }), { nil: undefined });
    fc.assert(
      fc.property(part, part, part, part, part, (w, d, h, m, s) => {
        const date = `${w !== undefined ? `${w}W` : ''}${d !== undefined ? `${d}D` : ''}`;
        const time = `${h !== undefined ? `${h}H` : ''}${m !== undefined ? `${m}M` : ''}${s !== undefined ? `${s}S` : ''}`;
        const text = `P${date}${time ? `T${time}` : ''}`;
        const expected = (w ?? 0) * 604_800_000 + (d ?? 0) * 86_400_000 + (h ?? 0) * 3_600_000 + (m ?? 0) * 60_000 + (s ?? 0) * 1_000;
        expect(parseDuration(text)).toBe(text === 'P' ? undefined : expected);
      }),
    );
  });

  it('never throws and never returns a negative or oversized value (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (text) => {
        const ms = parseDuration(text);
        if (ms !== undefined) expect(ms >= 0 && ms <= MAX_DURATION_MS && Number.isInteger(ms)).toBe(true);
      }),
    );
  });

  it('is what checkParamValue uses for duration parameters', () => {
    expect(checkParamValue({ type: 'duration' }, '90d')).toEqual({ ok: true, value: 90 * 86_400_000 });
    expect(checkParamValue({ type: 'duration' }, 5)).toMatchObject({ ok: false });
  });
});
