/**
 * Incremental reading by keyset, the cursor that survives concurrent edits (offsets drift while records change;
 * keysets do not):
 *
 *   from   `sys_updated_on>=W^ORDERBYsys_updated_on^ORDERBYsys_id`   the normal step (the query)
 *   tie    `sys_updated_on=W^sys_id>S^ORDERBYsys_id`                 when a whole page shares one second W, so
 *                                                                     `>=W` could not move past it
 *   after  `sys_updated_on>W^ORDERBYsys_updated_on^ORDERBYsys_id`    once, after the tie is drained
 *
 * `>=` re-reads the rows at W that the previous page ended on; they are dropped by de-duplicating on
 * `sys_id` + `sys_mod_count` (a changed record has a new mod count, so its new version is kept). "More rows
 * exist" comes from X-Total-Count (or Link rel="next"), never from a short page: ServiceNow applies
 * sysparm_limit before ACLs, so a page can come back short while more rows exist. No offset is ever sent.
 *
 * The cursor is plain JSON; persisting it with a page's upserts lets a crashed sync resume where it stopped.
 */
import { assertSafeQueryValue, assertValidEncodedQuery } from './encoded-query.js';
import { ServiceNowError } from './errors.js';

export type KeysetCursor = { phase: 'from' | 'tie' | 'after'; updatedOn: string | null; afterSysId: string | null };
export type RawPage = { rows: Array<Record<string, unknown>>; hasMore: boolean };
export type PagerPage<T> = { records: T[]; duplicates: number; cursor: KeysetCursor };

export const START_CURSOR: KeysetCursor = { phase: 'from', updatedOn: null, afterSysId: null };

/** The encoded query for a cursor, with the caller's extra filter first so an `^OR` in it cannot bind to ours. */
export function keysetQuery(cursor: KeysetCursor, extraQuery?: string): string {
  const parts: string[] = [];
  if (extraQuery) parts.push(extraQuery);
  const w = cursor.updatedOn === null ? null : assertSafeQueryValue(cursor.updatedOn);
  if (cursor.phase === 'tie' && w !== null && cursor.afterSysId !== null) {
    parts.push(`sys_updated_on=${w}`, `sys_id>${assertSafeQueryValue(cursor.afterSysId)}`, 'ORDERBYsys_id');
    return parts.join('^');
  }
  if (w !== null) parts.push(cursor.phase === 'after' ? `sys_updated_on>${w}` : `sys_updated_on>=${w}`);
  parts.push('ORDERBYsys_updated_on', 'ORDERBYsys_id');
  return parts.join('^');
}

/** An extra filter from configuration: every part must be one ServiceNow reads, and ordering stays ours. */
export function validateExtraQuery(extraQuery: string): void {
  assertValidEncodedQuery(extraQuery);
  if (/(^|\^)ORDERBY/.test(extraQuery)) throw new Error('the extra query must not set an order (the sync orders by sys_updated_on, sys_id)');
  if (/^OR/.test(extraQuery)) throw new Error('the extra query must not start with ^OR');
}

const text = (row: Record<string, unknown>, field: string) => (typeof row[field] === 'string' ? (row[field] as string) : '');

/**
 * Reads every row from `start` onwards, page by page. `fetchPage(query)` performs one request; `parse` turns a
 * raw row into the caller's record (and may throw on schema drift).
 */
export async function* readKeysetPages<T>(options: {
  start?: KeysetCursor | null;
  extraQuery?: string;
  fetchPage: (query: string) => Promise<RawPage>;
  parse: (row: Record<string, unknown>) => T;
}): AsyncGenerator<PagerPage<T>> {
  if (options.extraQuery) validateExtraQuery(options.extraQuery);
  let cursor: KeysetCursor = options.start ?? START_CURSOR;
  // Versions already delivered at or after the watermark; older entries can never come back, so they are pruned.
  const seen = new Map<string, string>();
  let lastQuery: string | null = null;
  for (;;) {
    const query = keysetQuery(cursor, options.extraQuery);
    const page = await options.fetchPage(query);
    const records: T[] = [];
    let duplicates = 0;
    for (const row of page.rows) {
      const key = `${text(row, 'sys_id')}:${text(row, 'sys_mod_count')}`;
      if (seen.has(key)) {
        duplicates++;
        continue;
      }
      records.push(options.parse(row));
      seen.set(key, text(row, 'sys_updated_on'));
    }
    const last = page.rows[page.rows.length - 1];
    const next = nextCursor(cursor, last, page.hasMore);
    if (next !== null) {
      for (const [key, updatedOn] of seen) if (next.updatedOn !== null && updatedOn < next.updatedOn) seen.delete(key);
    }
    yield { records, duplicates, cursor: next ?? cursor };
    if (next === null) return;
    const nextQuery = keysetQuery(next, options.extraQuery);
    if (nextQuery === query && records.length === 0 && nextQuery === lastQuery) {
      throw new ServiceNowError('paging', `paging made no progress at ${JSON.stringify(next)}: rows hidden by ACLs fill whole pages; raise pageSize`, { retryable: false });
    }
    lastQuery = query;
    cursor = next;
  }
}

/** Where the next page starts; null when nothing is left. */
export function nextCursor(cursor: KeysetCursor, last: Record<string, unknown> | undefined, hasMore: boolean): KeysetCursor | null {
  if (cursor.phase === 'tie') {
    if (hasMore && last) return { phase: 'tie', updatedOn: cursor.updatedOn, afterSysId: text(last, 'sys_id') };
    // The second is drained: continue strictly after it.
    return { phase: 'after', updatedOn: cursor.updatedOn, afterSysId: null };
  }
  if (!hasMore) return null;
  if (!last) return cursor; // every row of this page was hidden; ask again (the guard above stops a stall)
  const updatedOn = text(last, 'sys_updated_on');
  if (cursor.updatedOn !== null && updatedOn <= cursor.updatedOn) {
    // A full page without moving past W: walk the rows at W by sys_id.
    return { phase: 'tie', updatedOn: cursor.updatedOn, afterSysId: text(last, 'sys_id') };
  }
  return { phase: 'from', updatedOn, afterSysId: text(last, 'sys_id') };
}
