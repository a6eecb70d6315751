/**
 * The subset of ServiceNow's encoded query language that the connector writes and the test server evaluates:
 * conditions `field<op>value` joined by `^` (AND) and `^OR` (OR with the previous condition), with operators
 * `=`, `!=`, `>`, `>=`, `<`, `<=`, `ISEMPTY`, `ISNOTEMPTY`, and `ORDERBY<field>` / `ORDERBYDESC<field>`.
 *
 * ServiceNow silently ignores parts it cannot read, which turns a typo into "sync everything" or "sync nothing".
 * `parseEncodedQuery` reports those parts in `invalid` so the client can refuse its own bad queries, while the
 * test server ignores them exactly as an instance would.
 */
export type Operator = '=' | '!=' | '>' | '>=' | '<' | '<=' | 'ISEMPTY' | 'ISNOTEMPTY';
export type Condition = { field: string; op: Operator; value: string };
export type OrderBy = { field: string; descending: boolean };
export type EncodedQuery = { groups: Condition[][]; orderBy: OrderBy[]; invalid: string[] };

const FIELD = /^[a-z_][a-z0-9_.]*$/;
// Longest operators first so `>=` is not read as `>` followed by a value starting with `=`.
const BINARY_OPS: Operator[] = ['>=', '<=', '!=', '>', '<', '='];

function parseCondition(part: string): Condition | null {
  for (const op of ['ISNOTEMPTY', 'ISEMPTY'] as const) {
    if (part.endsWith(op) && FIELD.test(part.slice(0, -op.length))) return { field: part.slice(0, -op.length), op, value: '' };
  }
  let best: { index: number; op: Operator } | null = null;
  for (const op of BINARY_OPS) {
    const index = part.indexOf(op);
    if (index > 0 && (best === null || index < best.index)) best = { index, op };
  }
  if (!best) return null;
  const field = part.slice(0, best.index);
  if (!FIELD.test(field)) return null;
  return { field, op: best.op, value: part.slice(best.index + best.op.length) };
}

export function parseEncodedQuery(text: string): EncodedQuery {
  const query: EncodedQuery = { groups: [], orderBy: [], invalid: [] };
  if (text.trim() === '') return query;
  for (const part of text.split('^')) {
    if (part === '') continue;
    const orderDesc = /^ORDERBYDESC([a-z_][a-z0-9_.]*)$/.exec(part);
    const orderAsc = orderDesc ? null : /^ORDERBY([a-z_][a-z0-9_.]*)$/.exec(part);
    if (orderDesc || orderAsc) {
      query.orderBy.push({ field: (orderDesc ?? orderAsc)![1]!, descending: orderDesc !== null });
      continue;
    }
    const isOr = part.startsWith('OR') && query.groups.length > 0;
    const condition = parseCondition(isOr ? part.slice(2) : part);
    if (!condition) {
      query.invalid.push(part);
      continue;
    }
    if (isOr) query.groups[query.groups.length - 1]!.push(condition);
    else query.groups.push([condition]);
  }
  return query;
}

/** Numbers compare as numbers, everything else as text (ServiceNow's UTC date format sorts as text). */
export function compareValues(a: string, b: string): number {
  const numeric = /^-?\d+(\.\d+)?$/;
  if (numeric.test(a) && numeric.test(b)) return Number(a) - Number(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

function matchesCondition(value: string, condition: Condition): boolean {
  const c = compareValues(value, condition.value);
  switch (condition.op) {
    case '=': return value === condition.value;
    case '!=': return value !== condition.value;
    case '>': return c > 0;
    case '>=': return c >= 0;
    case '<': return c < 0;
    case '<=': return c <= 0;
    case 'ISEMPTY': return value === '';
    case 'ISNOTEMPTY': return value !== '';
  }
}

/** True when a record (its fields read through `valueOf`, which resolves references to sys_ids) matches. */
export function matchesQuery(query: EncodedQuery, valueOf: (field: string) => string): boolean {
  return query.groups.every((group) => group.some((condition) => matchesCondition(valueOf(condition.field), condition)));
}

export function compareByOrder(orderBy: OrderBy[], a: (field: string) => string, b: (field: string) => string): number {
  for (const { field, descending } of orderBy) {
    const c = compareValues(a(field), b(field));
    if (c !== 0) return descending ? -c : c;
  }
  return 0;
}

/** Values we put into our own queries must not smuggle in another condition. */
export function assertSafeQueryValue(value: string): string {
  if (value.includes('^') || /[\r\n]/.test(value)) throw new Error(`value ${JSON.stringify(value)} cannot appear in an encoded query`);
  return value;
}

/** Throws when any part of a query we wrote would be silently ignored by ServiceNow. */
export function assertValidEncodedQuery(text: string): void {
  const { invalid } = parseEncodedQuery(text);
  if (invalid.length > 0) throw new Error(`encoded query has parts ServiceNow would silently ignore: ${invalid.join(', ')}`);
}
