import { normalizeHashAlgorithm } from './hashes.js';
import { isScoType, type ScoType } from './model.js';

/**
 * What Summit needs from indicator patterns: a canonical text for identity (two feeds that write the same
 * pattern with different spacing assert the same indicator), a shape check that catches truncated or mangled
 * STIX patterns, and the observable behind the common one-comparison pattern. Full STIX pattern evaluation is
 * not needed by the graph and not attempted.
 */

type Segment = { quoted: boolean; text: string };

/**
 * Splits a pattern into text outside and inside quotes. A backslash escapes the next character inside quotes
 * (STIX defines \' and \\). Returns null when a quote is never closed.
 */
function splitQuoted(pattern: string, quotes: string): Segment[] | null {
  const segments: Segment[] = [];
  let outside = '';
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern[i]!;
    if (!quotes.includes(ch)) {
      outside += ch;
      i += 1;
      continue;
    }
    let j = i + 1;
    while (j < pattern.length && pattern[j] !== ch) j += pattern[j] === '\\' ? 2 : 1;
    if (j >= pattern.length) return null;
    segments.push({ quoted: false, text: outside }, { quoted: true, text: pattern.slice(i, j + 1) });
    outside = '';
    i = j + 1;
  }
  segments.push({ quoted: false, text: outside });
  return segments;
}

/**
 * Canonical pattern text. Outside quotes, runs of whitespace become one space; for STIX patterns the spaces next
 * to brackets, parentheses, commas and comparison operators go too, so "[ipv4-addr:value = '1.2.3.4']" and
 * "[ipv4-addr:value='1.2.3.4']" are one key. Quoted text is kept exactly. Other pattern languages (sigma, yara,
 * snort, …) only get whitespace collapsed, outside both kinds of quotes, since their punctuation rules differ.
 */
export function normalizePattern(pattern: string, patternType = 'stix'): string {
  const isStix = patternType === 'stix';
  const segments = splitQuoted(pattern, isStix ? "'" : `'"`) ?? [{ quoted: false, text: pattern }];
  const text = segments
    .map((segment) => {
      if (segment.quoted) return segment.text;
      const collapsed = segment.text.replace(/\s+/g, ' ');
      return isStix ? collapsed.replace(/ ?([[\](),=!<>]) ?/g, '$1') : collapsed;
    })
    .join('');
  return text.trim();
}

/**
 * Why a STIX pattern cannot be one (unclosed quote, unbalanced brackets, no [type:property op value] comparison),
 * or null when its shape is plausible.
 */
export function checkStixPatternShape(pattern: string): string | null {
  const segments = splitQuoted(pattern, "'");
  if (!segments) return 'has a quote that is never closed';
  const outside = segments.map((segment) => (segment.quoted ? "''" : segment.text)).join('');
  let square = 0;
  let round = 0;
  for (const ch of outside) {
    if (ch === '[') square += 1;
    if (ch === ']') square -= 1;
    if (ch === '(') round += 1;
    if (ch === ')') round -= 1;
    if (square < 0 || round < 0) return 'has unbalanced brackets';
  }
  if (square !== 0 || round !== 0) return 'has unbalanced brackets';
  // Object paths may index lists ("email-message:to_refs[*].value"); other brackets end the search, which keeps
  // the scan linear on hostile input.
  // Quoted path segments (file:hashes.'SHA-256') were masked to '' above; they are part of the path.
  if (!/\[\s*(?:EXISTS\s+[a-z0-9-]+:|[a-z0-9-]+:(?:[^'[\]]|''|\[(?:\*|\d+)\])*?(?:=|<|>|\bIN\b|\bLIKE\b|\bMATCHES\b|\bISSUBSET\b|\bISSUPERSET\b))/.test(outside)) {
    return 'has no comparison such as [ipv4-addr:value = \'198.51.100.1\']';
  }
  return null;
}

/** Which property of each observable type carries its key, as parseSimplePattern reports it. */
function keyProperty(type: ScoType, path: string): string | null {
  if (type === 'file') {
    if (path === 'name') return 'name';
    const hash = /^hashes\.(?:'([^']+)'|"([^"]+)"|([A-Za-z0-9_-]+))$/.exec(path);
    const algorithm = hash?.[1] ?? hash?.[2] ?? hash?.[3];
    return algorithm === undefined ? null : `hashes.${normalizeHashAlgorithm(algorithm)}`;
  }
  if (type === 'autonomous-system') return path === 'number' ? 'number' : null;
  return path === 'value' ? 'value' : null;
}

const SIMPLE = /^\s*\[\s*([a-z0-9-]+):(\S+?)\s*=\s*(?:'((?:[^'\\]|\\[\s\S])*)'|(\d+))\s*\]\s*$/;

/**
 * The observable a one-comparison STIX pattern names, e.g. "[ipv4-addr:value = '1.2.3.4']" →
 * { type: 'ipv4-addr', property: 'value', value: '1.2.3.4' }; "[file:hashes.'SHA-256' = 'ab…']" →
 * { type: 'file', property: 'hashes.SHA-256', value: 'ab…' } (hash names normalised). Escaped quotes (\') and
 * backslashes (\\) are unescaped. Anything else — several comparisons, other operators, qualifiers, types or
 * properties that do not identify an observable — gives null. The value is not validated here; build the
 * observable and normalise it (normalizeStixObject) to check it.
 */
export function parseSimplePattern(pattern: string): { type: ScoType; property: string; value: string } | null {
  if (typeof pattern !== 'string' || pattern.length > 10_000) return null;
  const match = SIMPLE.exec(pattern);
  if (!match) return null;
  const [, type = '', path = '', quoted, number] = match;
  if (!isScoType(type)) return null;
  const property = keyProperty(type, path);
  if (property === null) return null;
  // Numbers are only meaningful for autonomous-system:number, and strings only elsewhere.
  if ((number !== undefined) !== (property === 'number')) return null;
  const value = number ?? quoted!.replace(/\\([\s\S])/g, '$1');
  return { type, property, value };
}
