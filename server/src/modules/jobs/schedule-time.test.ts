import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cronProblems, dueFires, nextFires } from './schedule-time.js';

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

describe('cronProblems', () => {
  it('accepts five- and six-field expressions in a real zone', () => {
    expect(cronProblems('0 9 * * MON', 'America/Denver')).toEqual([]);
    expect(cronProblems('*/10 * * * * *', 'UTC')).toEqual([]);
  });

  it('names a bad field, a wrong field count and an unknown zone', () => {
    expect(cronProblems('61 * * * *', 'UTC')).toEqual([{ path: 'cron', message: expect.stringContaining('minute') }]);
    expect(cronProblems('* * *', 'UTC')[0]).toMatchObject({ path: 'cron', message: expect.stringContaining('3 fields') });
    expect(cronProblems('* * * * * * *', 'UTC')[0]!.message).toContain('7 fields');
    expect(cronProblems('0 9 * * *', 'Mars/Olympus_Mons')).toEqual([
      { path: 'timezone', message: expect.stringContaining('not an IANA time zone') },
    ]);
  });
});

describe('nextFires', () => {
  it('follows the wall clock of the zone across a DST change', () => {
    // Denver moves from UTC-7 to UTC-6 on 2026-03-08.
    expect(iso(nextFires('0 9 * * MON', 'America/Denver', new Date('2026-03-01T00:00:00Z'), 3))).toEqual([
      '2026-03-02T16:00:00.000Z',
      '2026-03-09T15:00:00.000Z',
      '2026-03-16T15:00:00.000Z',
    ]);
  });

  it('runs a time the spring-forward gap skips an hour later, and a repeated autumn time once', () => {
    expect(iso(nextFires('30 2 * * *', 'America/Denver', new Date('2026-03-07T12:00:00Z'), 2))).toEqual([
      '2026-03-08T09:30:00.000Z',
      '2026-03-09T08:30:00.000Z',
    ]);
    expect(iso(nextFires('30 1 * * *', 'America/Denver', new Date('2026-10-31T12:00:00Z'), 2))).toEqual([
      '2026-11-01T07:30:00.000Z',
      '2026-11-02T08:30:00.000Z',
    ]);
  });
});

describe('dueFires', () => {
  const everyMinute = { cron: '* * * * *', timezone: 'UTC', catchUp: 'skip' as const };

  it('runs the fire time that is due now and points at the next one', () => {
    const result = dueFires(everyMinute, new Date('2026-01-01T10:00:00Z'), new Date('2026-01-01T10:00:00.400Z'));
    expect(iso(result.fires)).toEqual(['2026-01-01T10:00:00.000Z']);
    expect(result).toMatchObject({ missed: 0, next: new Date('2026-01-01T10:01:00Z') });
  });

  it('skips what downtime missed under skip, and runs the latest missed once under run-once', () => {
    const downSince = new Date('2026-01-01T10:00:00Z');
    const back = new Date('2026-01-01T11:00:30Z');
    const skip = dueFires(everyMinute, downSince, back);
    expect(iso(skip.fires)).toEqual(['2026-01-01T11:00:00.000Z']);
    expect(skip.missed).toBe(60);
    const once = dueFires({ ...everyMinute, catchUp: 'run-once' }, downSince, back);
    expect(iso(once.fires)).toEqual(['2026-01-01T10:59:00.000Z', '2026-01-01T11:00:00.000Z']);
    expect(once.next).toEqual(new Date('2026-01-01T11:01:00Z'));
  });

  it('never returns a fire twice across consecutive ticks', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 4_000 }), { minLength: 1, maxLength: 30 }), (gaps) => {
        const spec = { cron: '*/2 * * * * *', timezone: 'Europe/Berlin', catchUp: 'skip' as const };
        let now = new Date('2026-03-29T00:59:00Z').getTime();
        let next: Date | null = nextFires(spec.cron, spec.timezone, new Date(now), 1)[0]!;
        const fired: number[] = [];
        for (const gap of gaps) {
          now += gap;
          if (next && next.getTime() <= now) {
            const result = dueFires(spec, next, new Date(now));
            fired.push(...result.fires.map((d) => d.getTime()));
            next = result.next;
          }
        }
        expect(new Set(fired).size).toBe(fired.length);
        expect([...fired].sort((a, b) => a - b)).toEqual(fired);
      }),
    );
  });
});
