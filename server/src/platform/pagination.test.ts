import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ValidationError } from './errors.js';
import { decodeCursor, encodeCursor, pageQuerySchema, toPage } from './pagination.js';

const positionShape = z.object({ createdAt: z.string(), id: z.string() });
const positionArb = fc.record({ createdAt: fc.string(), id: fc.string() });

/** Calls decodeCursor expecting a ValidationError and returns it. */
function cursorErrorOf(cursor: string): ValidationError {
  try {
    decodeCursor(cursor, positionShape);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error(`decodeCursor accepted ${JSON.stringify(cursor)}`);
}

describe('encodeCursor and decodeCursor', () => {
  it('round-trips any position of strings and numbers', () => {
    fc.assert(
      fc.property(positionArb, (position) => {
        expect(decodeCursor(encodeCursor(position), positionShape)).toEqual(position);
      }),
    );
    const numeric = z.object({ sequence: z.number().int(), id: z.string() });
    fc.assert(
      fc.property(fc.record({ sequence: fc.integer(), id: fc.uuid() }), (position) => {
        expect(decodeCursor(encodeCursor(position), numeric)).toEqual(position);
      }),
    );
  });

  it('issues cursors that are URL-safe without escaping', () => {
    fc.assert(
      fc.property(positionArb, (position) => {
        expect(encodeCursor(position)).toMatch(/^[A-Za-z0-9_-]*$/);
      }),
    );
  });

  it('returns undefined when no cursor is given (first page)', () => {
    expect(decodeCursor(undefined, positionShape)).toBeUndefined();
  });

  it.each([
    ['an empty string', ''],
    ['words', 'not-a-cursor'],
    ['base64 of non-JSON', Buffer.from('hello').toString('base64url')],
    ['JSON of the wrong shape', encodeCursor({ sequence: 5 })],
    ['JSON of the wrong types', Buffer.from(JSON.stringify({ createdAt: 1, id: 2 })).toString('base64url')],
    ['JSON null', Buffer.from('null').toString('base64url')],
  ])('refuses %s with a field error on cursor', (_, cursor) => {
    const error = cursorErrorOf(cursor);
    expect(error.code).toBe('validation_failed');
    expect(error.fields).toEqual([{ path: 'cursor', message: 'not a cursor issued by this endpoint' }]);
    expect(error.details).toEqual({ errors: error.fields });
  });

  it('either decodes a random string to a valid position or refuses it with a cursor field error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.base64String()), (cursor) => {
        let decoded: unknown;
        try {
          decoded = decodeCursor(cursor, positionShape);
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError);
          expect((error as ValidationError).fields.map((f) => f.path)).toEqual(['cursor']);
          return;
        }
        expect(positionShape.safeParse(decoded).success).toBe(true);
      }),
    );
  });
});

describe('toPage', () => {
  const positionOf = (row: { id: number }) => ({ id: row.id });
  const rowsArb = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i + 1 }));

  it('gives a nextCursor only when the query returned more rows than the limit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 60 }), (limit, count) => {
        const rows = rowsArb(count);
        const page = toPage(rows, limit, positionOf);
        expect(page.items).toEqual(rows.slice(0, limit));
        if (count > limit) {
          // The cursor points at the last row shown, not at the extra row fetched to detect another page.
          expect(decodeCursor(page.nextCursor!, z.object({ id: z.number() }))).toEqual({ id: limit });
        } else {
          expect(page.nextCursor).toBeNull();
        }
      }),
    );
  });

  it('gives no cursor for an exactly full page or an empty one', () => {
    expect(toPage(rowsArb(3), 3, positionOf)).toEqual({ items: rowsArb(3), nextCursor: null });
    expect(toPage([], 3, positionOf)).toEqual({ items: [], nextCursor: null });
    expect(toPage(rowsArb(4), 3, positionOf).nextCursor).toBe(encodeCursor({ id: 3 }));
  });
});

describe('pageQuerySchema', () => {
  it('defaults the limit to 50 and bounds it to 1–200', () => {
    expect(pageQuerySchema.parse({})).toEqual({ limit: 50 });
    expect(pageQuerySchema.parse({ limit: '200', cursor: 'c' })).toEqual({ limit: 200, cursor: 'c' });
    expect(pageQuerySchema.safeParse({ limit: '0' }).success).toBe(false);
    expect(pageQuerySchema.safeParse({ limit: '201' }).success).toBe(false);
  });
});
