/**
 * The pieces of the OpenAPI fuzz suite (fuzz-openapi.test.ts): fast-check arbitraries from the JSON schemas in
 * /openapi.json, hostile values and body mutations, and the checks every answer must pass.
 */
import fc from 'fast-check';

export type JsonSchema = { [key: string]: unknown };
type Resolve = (ref: string) => JsonSchema;

/** Strings that have broken servers: NUL, lone surrogates, bidi and ANSI controls, injections, huge and odd values. */
export const HOSTILE_STRINGS: readonly string[] = [
  '\u0000',
  'name\u0000suffix',
  '\ud800',
  'lone \udfff low',
  '\u202Egnp.exe',
  '\u001b[2J\u001b[31mred',
  'line\r\nbreak',
  "' OR '1'='1' --",
  '"; drop table tenants; --',
  '$1',
  '{{7*7}}${7*7}',
  '../../../../etc/passwd',
  '%00%ED%A0%80',
  '\ufeffbom',
  '𝕊𝕦𝕞𝕞𝕚𝕥'.repeat(40),
  'x'.repeat(5_000),
  '__proto__',
  'constructor',
  '',
  ' ',
  '-1',
  '1e309',
  'NaN',
  'null',
  'true',
  '2026-02-30T25:61:61Z',
  '00000000-0000-0000-0000-000000000000',
  'slk_forged.token',
  '<script>alert(1)</script>',
  '\\',
];

/** Values of the wrong type for whatever field they land in. */
export const WRONG_TYPES: readonly unknown[] = [null, true, 0, -1, 1.5, 2 ** 53, -1e308, '', 'text', [], [1, 'a'], {}, { a: 1 }];

/** A string matching a regular expression, or null when fast-check cannot build one for it. */
function matching(pattern: string, min: number, max: number): fc.Arbitrary<string> | null {
  try {
    return fc.stringMatching(new RegExp(pattern)).filter((s) => s.length >= min && s.length <= max);
  } catch {
    return null;
  }
}

function stringArbitrary(schema: JsonSchema): fc.Arbitrary<string> {
  const min = Number(schema.minLength ?? 0);
  const max = Math.min(Number(schema.maxLength ?? 40), Math.max(min, 40));
  switch (schema.format) {
    case 'uuid':
      return fc.uuid();
    case 'date-time':
      return fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2040-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
    case 'email':
      return fc.emailAddress();
    case 'uri':
    case 'url':
      return fc.webUrl();
  }
  if (typeof schema.pattern === 'string') {
    const byPattern = matching(schema.pattern, min, max);
    if (byPattern) return byPattern;
  }
  return fc.string({ minLength: min, maxLength: max });
}

function numberArbitrary(schema: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const min = typeof schema.minimum === 'number' ? schema.minimum : typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum + 1 : -1_000_000;
  const max = typeof schema.maximum === 'number' ? schema.maximum : typeof schema.exclusiveMaximum === 'number' ? schema.exclusiveMaximum - 1 : 1_000_000;
  const lo = Math.max(min, -Number.MAX_SAFE_INTEGER);
  const hi = Math.min(max, Number.MAX_SAFE_INTEGER);
  if (integer) return fc.integer({ min: Math.ceil(Math.max(lo, -2_147_483_648)), max: Math.floor(Math.min(hi, 2_147_483_647)) });
  return fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });
}

/** A fast-check arbitrary producing values of a JSON schema (as @fastify/swagger writes them from zod). */
export function arbitraryFor(schema: JsonSchema | undefined, resolve: Resolve, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 6) return fc.jsonValue({ maxDepth: 1 });
  if (typeof schema.$ref === 'string') return arbitraryFor(resolve(schema.$ref), resolve, depth + 1);
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  for (const key of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(schema[key])) return fc.oneof(...(schema[key] as JsonSchema[]).map((s) => arbitraryFor(s, resolve, depth + 1)));
  }
  if (Array.isArray(schema.allOf)) return arbitraryFor((schema.allOf as JsonSchema[])[0], resolve, depth + 1);
  const type = Array.isArray(schema.type) ? (schema.type as string[]) : schema.type === undefined ? undefined : [schema.type as string];
  if (type && type.length > 1) return fc.oneof(...type.map((t) => arbitraryFor({ ...schema, type: t }, resolve, depth)));
  switch (type?.[0]) {
    case 'string':
      return stringArbitrary(schema);
    case 'integer':
      return numberArbitrary(schema, true);
    case 'number':
      return numberArbitrary(schema, false);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = Number(schema.minItems ?? 0);
      const maxLength = Math.max(minLength, Math.min(Number(schema.maxItems ?? 3), 3));
      return fc.array(arbitraryFor(schema.items as JsonSchema, resolve, depth + 1), { minLength, maxLength });
    }
    case 'object':
    case undefined:
      if (!schema.properties && type === undefined) return fc.jsonValue({ maxDepth: 2 });
      return objectArbitrary(schema, resolve, depth);
  }
  return fc.jsonValue({ maxDepth: 1 });
}

function objectArbitrary(schema: JsonSchema, resolve: Resolve, depth: number): fc.Arbitrary<unknown> {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  const shape = Object.fromEntries(Object.entries(properties).map(([key, s]) => [key, arbitraryFor(s, resolve, depth + 1)]));
  const known = fc.record(shape, { requiredKeys: Object.keys(properties).filter((k) => required.has(k)) });
  if (Object.keys(properties).length > 0 || schema.additionalProperties === false) return known;
  const values = typeof schema.additionalProperties === 'object' ? arbitraryFor(schema.additionalProperties as JsonSchema, resolve, depth + 1) : fc.jsonValue({ maxDepth: 2 });
  return fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), values, { maxKeys: 4 });
}

/** Paths to every leaf of a JSON value, for mutations that replace one. */
function leafPaths(value: unknown, path: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
    if (entries.length === 0) out.push(path);
    for (const [key, child] of entries) leafPaths(child, [...path, key], out);
  } else {
    out.push(path);
  }
  return out;
}

function setAt(value: unknown, path: Array<string | number>, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const copy = Array.isArray(value) ? [...value] : { ...(value as Record<string, unknown>) };
  const [head, ...rest] = path;
  (copy as Record<string | number, unknown>)[head!] = setAt((copy as Record<string | number, unknown>)[head!], rest, replacement);
  return copy;
}

/** Objects nested `levels` deep, built without recursion. */
export function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

/**
 * One mutation of a valid body: a hostile string or a wrong type in one field, a `__proto__` key, nesting past the
 * cap, an unknown field, a string past the body limit, or no object at all.
 */
export function mutatedBody(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.tuple(valid, fc.nat(99), fc.nat(1_000_000), fc.constantFrom(...HOSTILE_STRINGS), fc.constantFrom(...WRONG_TYPES)).map(([body, roll, pick, hostile, wrong]) => {
    const leaves = leafPaths(body);
    const leaf = leaves[pick % leaves.length] ?? [];
    const isObject = body !== null && typeof body === 'object' && !Array.isArray(body);
    if (roll < 45) return setAt(body, leaf, hostile);
    if (roll < 65) return setAt(body, leaf, wrong);
    if (roll < 73) return isObject ? { ...body, ...JSON.parse('{"__proto__": {"isAdmin": true}}') } : body;
    if (roll < 81) return setAt(body, leaf.length ? leaf : ['deep'], nested(65 + (pick % 300)));
    if (roll < 87) return isObject ? { ...body, unexpectedField: hostile } : body;
    if (roll < 93) return setAt(body, leaf, 'x'.repeat(70_000));
    return WRONG_TYPES[pick % WRONG_TYPES.length];
  });
}

/** Percent-encodes every UTF-16 code unit, a lone surrogate as the three bytes a careless client sends for it. */
export function percentEncode(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code >= 0xd800 && code <= 0xdfff) {
      out += [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    } else {
      out += encodeURIComponent(ch);
    }
  }
  return out;
}

/** PostgreSQL's own error phrases: in no answer at all (an ingest run's rejection reasons included). */
export const DATABASE_ERROR_TEXT = /\b(sqlstate|duplicate key|violates (unique|foreign key|not-null|check) constraint|invalid byte sequence|invalid input syntax|syntax error at|unsupported unicode escape|relation "[^"]*" does not exist|column "[^"]*" (does not exist|of relation))/i;

/** Words of PostgreSQL and SQL that no error answer may carry (a 2xx may: /readyz names its store). */
export const DATABASE_VOCABULARY = /\b(sql|sqlstate|select\s.+\sfrom|insert into|delete from|update \w+ set|duplicate key|violates|constraint "|relation "|column "|invalid byte sequence|invalid input syntax|syntax error at|pglite|postgres(ql)?|pg_\w+|tenant_id|unsupported unicode escape)\b/i;

export type Answer = { status: number; headers: Record<string, unknown>; body: string };

/** What is wrong with an answer, or null: no 5xx; errors are complete problem+json; no database text. */
export function answerProblem(answer: Answer, sent: readonly string[]): string | null {
  // 502 upstream_failed is the designed answer when an upstream (ServiceNow, a provider) fails; the fuzz's outbound
  // stub answers every call with a web server's 404, so that path is taken on purpose. Any other 5xx is a bug.
  const isUpstreamFailure = answer.status === 502 && /"code":"upstream_failed"/.test(answer.body);
  if (answer.status >= 500 && !isUpstreamFailure) return `answered ${answer.status}: ${answer.body.slice(0, 300)}`;
  // What we sent may come back in a message ("name 'select x' is taken"): only the server's own words count.
  let own = answer.body;
  for (const s of sent) if (s.length >= 3) own = own.split(JSON.stringify(s).slice(1, -1)).join('').split(s).join('');
  const vocabulary = own.match(DATABASE_ERROR_TEXT) ?? (answer.status >= 400 ? own.match(DATABASE_VOCABULARY) : null);
  if (vocabulary) return `carries database vocabulary "${vocabulary[0]}": ${answer.body.slice(0, 300)}`;
  if (answer.status < 400) return null;
  if (!String(answer.headers['content-type'] ?? '').includes('application/problem+json')) return `error ${answer.status} is not problem+json: ${String(answer.headers['content-type'])}`;
  let problem: Record<string, unknown>;
  try {
    problem = JSON.parse(answer.body);
  } catch {
    return `error ${answer.status} body is not JSON`;
  }
  for (const field of ['type', 'title', 'detail', 'code', 'requestId'] as const) {
    if (typeof problem[field] !== 'string' || problem[field] === '') return `error ${answer.status} has no ${field}: ${answer.body.slice(0, 300)}`;
  }
  if (problem.status !== answer.status) return `problem status ${String(problem.status)} is not the HTTP status ${answer.status}`;
  if (problem.requestId !== answer.headers['x-request-id']) return 'problem requestId is not the x-request-id header';
  return null;
}

/** Every string in a JSON value (keys included), for the echo allowance and the log checks. */
export function stringsIn(value: unknown, out: string[] = []): string[] {
  const stack = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') out.push(v);
    else if (v !== null && typeof v === 'object') for (const [k, child] of Object.entries(v)) out.push(k), stack.push(child);
  }
  return out;
}
