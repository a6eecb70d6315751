/**
 * Checks every request's input at the edge, before validation and before any handler, for what no route can store or
 * handle safely:
 * - a NUL character or a lone UTF-16 surrogate in any string or object key (PostgreSQL refuses both in text and
 *   jsonb, so they used to surface as a 500 from deep inside a write);
 * - JSON nested deeper than MAX_JSON_DEPTH (JSON.stringify and every recursive reader overflow the stack around
 *   10,000 levels; the STIX stream parser has the same cap);
 * - the keys `__proto__` and `constructor.prototype`, which JSON.parse keeps as plain data but which turn into
 *   prototype changes as soon as code copies the object by assignment (zod records, Object.assign, merges). No field
 *   of ours has such a name, so refusing them costs nothing and closes the whole class.
 * The walk is iterative, so it cannot itself overflow on a hostile body.
 */
import { fieldPath } from './field-path.js';

export const MAX_JSON_DEPTH = 64;

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export type InputProblem = { path: string; message: string };

/** Why a string cannot be stored, or null when it can. */
export function badCharacterIn(text: string): string | null {
  if (text.includes('\u0000')) return 'contains a NUL character (\\u0000), which cannot be stored';
  if (LONE_SURROGATE.test(text)) return 'contains a lone UTF-16 surrogate (such as \\ud800), which is not text';
  return null;
}

/** A key as field paths show it: printable, so the path itself never carries the bad character. */
function shownKey(key: string): string {
  if (badCharacterIn(key) === null) return key;
  return JSON.stringify(key.replace(new RegExp(LONE_SURROGATE, 'g'), '\uFFFD'));
}

type Frame = { value: unknown; path: string[]; depth: number };

/**
 * The first problem in a parsed JSON value (or a query/params object), or null. `skip` names top-level keys whose
 * contents a handler checks itself, item by item (bulk ingest rejects one bad record and keeps the rest).
 */
export function findInputProblem(value: unknown, prefix: string, options: { maxDepth?: number; skip?: readonly string[] } = {}): InputProblem | null {
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH;
  const stack: Frame[] = [{ value, path: [], depth: 0 }];
  while (stack.length > 0) {
    const { value: current, path, depth } = stack.pop()!;
    if (typeof current === 'string') {
      const problem = badCharacterIn(current);
      if (problem) return { path: fieldPath(prefix, path), message: problem };
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    if (depth + 1 > maxDepth) {
      return { path: fieldPath(prefix, path), message: `nests JSON deeper than ${maxDepth} levels; flatten the value` };
    }
    const entries: Array<[string, unknown]> = Array.isArray(current) ? current.map((item, i) => [String(i), item]) : Object.entries(current);
    // Pushed in reverse so the walk reports the first problem in document order.
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i]!;
      if (depth === 0 && options.skip?.includes(key)) continue;
      if (!Array.isArray(current)) {
        const keyProblem = badCharacterIn(key);
        if (keyProblem) return { path: fieldPath(prefix, path), message: `has a key that ${keyProblem}: ${shownKey(key)}` };
        if (key === '__proto__') return { path: fieldPath(prefix, [...path, key]), message: 'uses the reserved key __proto__; rename the key' };
        if (key === 'constructor' && child !== null && typeof child === 'object' && !Array.isArray(child) && Object.hasOwn(child, 'prototype')) {
          return { path: fieldPath(prefix, [...path, key, 'prototype']), message: 'uses the reserved key path constructor.prototype; rename the key' };
        }
      }
      stack.push({ value: child, path: [...path, key], depth: depth + 1 });
    }
  }
  return null;
}

const UNDECODABLE = Symbol('undecodable query parameters');

/**
 * The query string as an object (a repeated name gives an array, `+` is a space, as in forms). Fastify's default
 * parser keeps a value whose %-escapes are not UTF-8 (`%ED%A0%80`, the bytes of a lone surrogate; `%FF`) as its raw
 * text, so a search for it silently searched for the escape itself; here such a name is remembered and the request
 * is refused (undecodableQueryParameters, checked with the other input checks).
 */
export function parseQueryString(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  const undecodable: string[] = [];
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawName = eq === -1 ? pair : pair.slice(0, eq);
    const rawValue = eq === -1 ? '' : pair.slice(eq + 1);
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(rawName.replaceAll('+', ' '));
    } catch {
      undecodable.push(rawName);
      continue;
    }
    try {
      value = decodeURIComponent(rawValue.replaceAll('+', ' '));
    } catch {
      undecodable.push(name);
      continue;
    }
    const existing = out[name];
    out[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  if (undecodable.length) Object.defineProperty(out, UNDECODABLE, { value: undecodable, enumerable: false });
  return out;
}

/** The first query problem parseQueryString found, or null. */
export function undecodableQueryParameter(query: unknown): InputProblem | null {
  const names = (query as { [UNDECODABLE]?: string[] } | null)?.[UNDECODABLE];
  if (!names?.length) return null;
  return { path: fieldPath('querystring', [names[0]!]), message: 'is not valid percent-encoded UTF-8 (a lone surrogate or a stray byte); encode the value as UTF-8' };
}
