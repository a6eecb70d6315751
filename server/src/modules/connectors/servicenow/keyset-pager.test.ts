import { describe, expect, it } from 'vitest';
import { ServiceNowError } from './errors.js';
import { keysetQuery, nextCursor, readKeysetPages, START_CURSOR, type RawPage } from './keyset-pager.js';

const row = (sysId: string, updatedOn: string, modCount = '0') => ({ sys_id: sysId, sys_updated_on: updatedOn, sys_mod_count: modCount });

describe('keyset pager', () => {
  it('writes the query of each phase, with an extra filter first', () => {
    expect(keysetQuery(START_CURSOR)).toBe('ORDERBYsys_updated_on^ORDERBYsys_id');
    expect(keysetQuery({ phase: 'from', updatedOn: '2026-01-05 08:00:00', afterSysId: 'a' }, 'active=true')).toBe('active=true^sys_updated_on>=2026-01-05 08:00:00^ORDERBYsys_updated_on^ORDERBYsys_id');
    expect(keysetQuery({ phase: 'tie', updatedOn: '2026-01-05 08:00:00', afterSysId: 'abc' })).toBe('sys_updated_on=2026-01-05 08:00:00^sys_id>abc^ORDERBYsys_id');
    expect(keysetQuery({ phase: 'after', updatedOn: '2026-01-05 08:00:00', afterSysId: null })).toBe('sys_updated_on>2026-01-05 08:00:00^ORDERBYsys_updated_on^ORDERBYsys_id');
    expect(() => keysetQuery({ phase: 'from', updatedOn: '2026-01-05^ORDERBYnumber', afterSysId: null })).toThrow(/cannot appear/);
  });

  it('moves the watermark to the last row, enters the tie phase on a page stuck at one second, and leaves it strictly after', () => {
    const w = '2026-01-05 08:00:00';
    expect(nextCursor(START_CURSOR, row('b', w), true)).toEqual({ phase: 'from', updatedOn: w, afterSysId: 'b' });
    expect(nextCursor({ phase: 'from', updatedOn: w, afterSysId: 'b' }, row('e', w), true)).toEqual({ phase: 'tie', updatedOn: w, afterSysId: 'e' });
    expect(nextCursor({ phase: 'tie', updatedOn: w, afterSysId: 'e' }, row('h', w), true)).toEqual({ phase: 'tie', updatedOn: w, afterSysId: 'h' });
    expect(nextCursor({ phase: 'tie', updatedOn: w, afterSysId: 'h' }, row('j', w), false)).toEqual({ phase: 'after', updatedOn: w, afterSysId: null });
    expect(nextCursor({ phase: 'after', updatedOn: w, afterSysId: null }, row('a', '2026-01-05 08:00:01'), false)).toBeNull();
  });

  it('stops with a paging error instead of looping when ACLs hide whole pages at one position', async () => {
    const queries: string[] = [];
    const pages = readKeysetPages({
      fetchPage: async (query): Promise<RawPage> => {
        queries.push(query);
        return { rows: [], hasMore: true };
      },
      parse: (r) => r,
    });
    const error = await (async () => {
      for await (const _ of pages) void _;
    })().then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceNowError);
    expect((error as ServiceNowError).kind).toBe('paging');
    expect(queries).toHaveLength(2);
  });

  it('drops a version it already delivered but keeps a newer version of the same record', async () => {
    const w = '2026-01-05 08:00:00';
    const answers: RawPage[] = [
      { rows: [row('a', w), row('b', w)], hasMore: true },
      { rows: [row('b', w), row('a', '2026-01-05 08:00:09', '1')], hasMore: false },
    ];
    const delivered: string[] = [];
    let duplicates = 0;
    for await (const page of readKeysetPages({ fetchPage: async () => answers.shift()!, parse: (r) => `${String(r.sys_id)}:${String(r.sys_mod_count)}` })) {
      delivered.push(...page.records);
      duplicates += page.duplicates;
    }
    expect([delivered, duplicates]).toEqual([['a:0', 'b:0', 'a:1'], 1]);
  });
});
