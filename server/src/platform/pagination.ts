import { z } from 'zod';
import { ValidationError } from './errors.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/** `?limit=&cursor=` for every list route. */
export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE)
    .describe(`Page size, 1–${MAX_PAGE_SIZE}.`),
  cursor: z.string().max(500).optional().describe('Opaque cursor from the previous page\'s nextCursor.'),
});

export type Page<T> = { items: T[]; nextCursor: string | null };

/** Cursors are opaque to clients: base64url JSON of the last item's sort key. */
export function encodeCursor(position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodeCursor<T extends z.ZodType>(cursor: string | undefined, shape: T): z.output<T> | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = shape.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (parsed.success) return parsed.data;
  } catch {
    // fall through to the error below
  }
  throw new ValidationError('The cursor is not valid: pass the nextCursor of a previous page unchanged.', [
    { path: 'cursor', message: 'not a cursor issued by this endpoint' },
  ]);
}

/**
 * Builds a page from a query that fetched limit + 1 rows: the extra row only tells that another page exists.
 */
export function toPage<T>(rows: T[], limit: number, positionOf: (last: T) => Record<string, string | number>): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(positionOf(last)) : null };
}

/** The response schema of a list route. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}
