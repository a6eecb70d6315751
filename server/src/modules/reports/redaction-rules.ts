import { RE2JS, RE2JSException } from 're2js';
import { z } from 'zod';
import { AUDIENCES, TLPS, type RedactionRule } from './types.js';

/**
 * Regex redaction rules run on RE2 (re2js): matching is linear in the input, so a tenant's pattern cannot stall an
 * export however it is written (`(a+)+$` is accepted and harmless). RE2 has no backreferences and no lookaround;
 * patterns using them are refused at save time with a message naming the construct.
 */
export const MAX_PATTERN_LENGTH = 500;

const FLAG_BITS: Record<string, number> = {
  i: RE2JS.CASE_INSENSITIVE,
  m: RE2JS.MULTILINE,
  s: RE2JS.DOTALL,
};

export type PatternCheck = { ok: true } | { ok: false; message: string };

export function validateRedactionPattern(pattern: string, flags?: string): PatternCheck {
  const compiled = compilePattern(pattern, flags);
  return compiled.ok ? { ok: true } : compiled;
}

/** Compiles a pattern that `validateRedactionPattern` accepts; throws with the same message otherwise. */
export function compileRedactionPattern(pattern: string, flags?: string): RE2JS {
  const compiled = compilePattern(pattern, flags);
  if (!compiled.ok) throw new Error(compiled.message);
  return compiled.regex;
}

function compilePattern(pattern: string, flags = ''): { ok: true; regex: RE2JS } | { ok: false; message: string } {
  if (pattern.length === 0) return { ok: false, message: 'the pattern is empty' };
  if (pattern.length > MAX_PATTERN_LENGTH) {
    return { ok: false, message: `the pattern is ${pattern.length} characters long; the limit is ${MAX_PATTERN_LENGTH}` };
  }
  let bits = 0;
  for (const flag of flags) {
    const bit = FLAG_BITS[flag];
    if (bit === undefined) {
      return { ok: false, message: `unsupported flag "${flag}": use any of i (ignore case), m (multiline), s (dot matches newline); every match is always replaced` };
    }
    if ((bits & bit) !== 0) return { ok: false, message: `flag "${flag}" is given twice` };
    bits |= bit;
  }
  let regex: RE2JS;
  try {
    regex = RE2JS.compile(pattern, bits);
  } catch (error) {
    if (error instanceof RE2JSException) return { ok: false, message: explainSyntaxError(error.message, pattern) };
    throw error;
  }
  if (canMatchEmpty(regex)) {
    return { ok: false, message: 'the pattern can match the empty string (e.g. "a*" or "x?"); it must always match at least one character' };
  }
  return { ok: true, regex };
}

/** Turns RE2's parser messages into ones that say what to change. */
function explainSyntaxError(raw: string, pattern: string): string {
  const detail = raw.replace(/^error parsing regexp: /, '');
  const fragment = /`([^`]*)`/.exec(detail)?.[1] ?? '';
  if (/^\\[1-9]/.test(fragment) || fragment.startsWith('\\k')) {
    return `backreferences (${fragment.slice(0, 2)}) are not supported (RE2 syntax): match the text itself instead`;
  }
  if (fragment === '(?P' && pattern.includes('(?P=')) {
    return 'backreferences ((?P=name)) are not supported (RE2 syntax): match the text itself instead';
  }
  if (fragment.startsWith('(?=') || fragment.startsWith('(?!')) {
    return `lookahead assertions (${fragment.slice(0, 3)}…) are not supported (RE2 syntax)`;
  }
  if (fragment.startsWith('(?<=') || fragment.startsWith('(?<!')) {
    return `lookbehind assertions (${fragment.slice(0, 4)}…) are not supported (RE2 syntax)`;
  }
  if (fragment.startsWith('(?>')) return 'atomic groups (?>…) are not supported (RE2 syntax)';
  if (detail.startsWith('invalid nested repetition operator')) {
    return `possessive or nested repetition (${fragment}) is not supported (RE2 syntax): write a single quantifier`;
  }
  if (detail.startsWith('invalid repeat count')) {
    return `repeat count ${fragment} is too large: RE2 allows at most 1000 repetitions`;
  }
  return `invalid regular expression (RE2 syntax): ${detail}`;
}

/**
 * Whether the compiled program can reach a match without consuming a character, treating every zero-width
 * assertion (^, $, \b, …) as satisfiable. Such a pattern would "redact" the gaps between characters. This walks
 * re2js's compiled program (pinned version; the instruction codes are RE2's), and falls back to probing a few
 * inputs should that shape ever change.
 */
function canMatchEmpty(regex: RE2JS): boolean {
  const prog = (regex as unknown as { re2Input?: { prog?: { start: number; inst: { op: number; out: number; arg: number }[] } } }).re2Input?.prog;
  if (!prog || !Array.isArray(prog.inst)) return probeEmptyMatch(regex);
  const ALT = 1, ALT_MATCH = 2, CAPTURE = 3, EMPTY_WIDTH = 4, MATCH = 6, NOP = 7;
  const seen = new Set<number>();
  const stack = [prog.start];
  while (stack.length > 0) {
    const pc = stack.pop()!;
    if (seen.has(pc)) continue;
    seen.add(pc);
    const inst = prog.inst[pc];
    if (!inst) return probeEmptyMatch(regex);
    if (inst.op === MATCH) return true;
    if (inst.op === ALT || inst.op === ALT_MATCH) stack.push(inst.out, inst.arg);
    else if (inst.op === CAPTURE || inst.op === EMPTY_WIDTH || inst.op === NOP) stack.push(inst.out);
  }
  return false;
}

function probeEmptyMatch(regex: RE2JS): boolean {
  for (const probe of ['', 'a', ' ', '\n', 'a b\nc']) {
    for (const match of regex.matchAll(probe)) if (match[0] === '') return true;
  }
  return false;
}

const audiences = z
  .array(z.enum(AUDIENCES), { error: 'audiences must be a list of "member" and/or "share-link"' })
  .min(1, 'audiences, when given, must name at least one audience (omit it to apply the rule to everyone)')
  .optional();
const ruleId = z.string().trim().min(1, 'the rule needs an id').max(100, 'the rule id is at most 100 characters');
const names = (what: string) =>
  z
    .array(z.string().trim().min(1, `${what} cannot be empty`).max(200, `${what} are at most 200 characters`))
    .min(1, `list at least one ${what.replace(/s$/, '')}`)
    .max(100, `list at most 100 ${what}`);

/** Validates one redaction rule, with messages a tenant admin can act on. */
export const redactionRuleSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      id: ruleId,
      kind: z.literal('tlp'),
      tlp: z
        .array(z.enum(TLPS, { error: `TLP levels are ${TLPS.join(', ')}` }))
        .min(1, 'list at least one TLP level'),
      audiences,
    }),
    z.strictObject({ id: ruleId, kind: z.literal('entity-type'), types: names('entity types'), audiences }),
    z.strictObject({ id: ruleId, kind: z.literal('property'), names: names('property names'), audiences }),
    z
      .strictObject({
        id: ruleId,
        kind: z.literal('regex'),
        pattern: z.string({ error: 'pattern must be a string' }),
        flags: z.string().optional(),
        audiences,
      })
      .superRefine((rule, ctx) => {
        const check = validateRedactionPattern(rule.pattern, rule.flags);
        if (!check.ok) {
          const onFlags = /flag/.test(check.message) && !/empty string/.test(check.message);
          ctx.addIssue({ code: 'custom', path: [onFlags ? 'flags' : 'pattern'], message: check.message });
        }
      }),
  ],
  { error: 'kind must be one of tlp, entity-type, property, regex' },
);

// The schema's output and the public RedactionRule type must stay the same shape.
type SchemaRule = z.infer<typeof redactionRuleSchema>;
const schemaMatchesType: [SchemaRule] extends [RedactionRule] ? ([RedactionRule] extends [SchemaRule] ? true : false) : false = true;
void schemaMatchesType;
