import { describe, expect, it } from 'vitest';
import { buildExportModel } from './export-model.fixture.js';
import { compileRedactionPattern, MAX_PATTERN_LENGTH, redactionRuleSchema, validateRedactionPattern } from './redaction-rules.js';
import { redact } from './redact.js';

function messageOf(pattern: string, flags?: string): string {
  const check = validateRedactionPattern(pattern, flags);
  if (check.ok) throw new Error(`expected "${pattern}" to be refused`);
  return check.message;
}

describe('validateRedactionPattern', () => {
  it('accepts ordinary RE2 patterns', () => {
    for (const pattern of ['\\d{1,3}(\\.\\d{1,3}){3}', '[a-z0-9-]+\\.evil\\.example', '(?i)secret', 'a|b', '\\bword\\b']) {
      expect(validateRedactionPattern(pattern)).toEqual({ ok: true });
    }
    expect(validateRedactionPattern('token', 'ims')).toEqual({ ok: true });
  });

  it('refuses backreferences, lookaround and atomic groups, naming the construct', () => {
    expect(messageOf('(a)\\1')).toMatch(/^backreferences \(\\1\) are not supported \(RE2 syntax\)/);
    expect(messageOf('(?P<x>a)(?P=x)')).toMatch(/backreferences .* not supported/);
    expect(messageOf('foo(?=bar)')).toMatch(/^lookahead assertions .* not supported \(RE2 syntax\)/);
    expect(messageOf('foo(?!bar)')).toMatch(/^lookahead assertions/);
    expect(messageOf('(?<=a)b')).toMatch(/^lookbehind assertions .* not supported/);
    expect(messageOf('(?<!a)b')).toMatch(/^lookbehind assertions/);
    expect(messageOf('(?>a+)b')).toMatch(/^atomic groups/);
    expect(messageOf('a++')).toMatch(/possessive or nested repetition/);
  });

  it('refuses invalid syntax with the parser detail', () => {
    expect(messageOf('[a-')).toMatch(/^invalid regular expression \(RE2 syntax\): missing closing \]/);
    expect(messageOf('a{2000}')).toMatch(/at most 1000 repetitions/);
  });

  it('refuses patterns that can match the empty string', () => {
    for (const pattern of ['a*', 'x?', '(a|)', '^', '$', '\\b', '^$', '(?:)', '[a-z]{0,3}', '()']) {
      expect(messageOf(pattern), pattern).toMatch(/can match the empty string/);
    }
  });

  it('limits length and flags', () => {
    expect(messageOf('a'.repeat(MAX_PATTERN_LENGTH + 1))).toMatch(/limit is 500/);
    expect(validateRedactionPattern('a'.repeat(MAX_PATTERN_LENGTH))).toEqual({ ok: true });
    expect(messageOf('')).toMatch(/empty/);
    expect(messageOf('a', 'g')).toMatch(/unsupported flag "g"/);
    expect(messageOf('a', 'ii')).toMatch(/given twice/);
  });

  it('accepts (a+)+$, which RE2 matches in linear time, and redacting with it on an adversarial input completes', () => {
    expect(validateRedactionPattern('(a+)+$')).toEqual({ ok: true });
    // The classic catastrophic input for a backtracking engine: a long run of a's and a character that defeats $.
    expect(compileRedactionPattern('(a+)+$').test(`${'a'.repeat(100_000)}!`)).toBe(false);
    const model = buildExportModel({ rows: 1 });
    model.title = `${'a'.repeat(49_999)}!`;
    model.annotations[0]!.text = 'a'.repeat(50_000);
    const result = redact(model, [{ id: 'redos', kind: 'regex', pattern: '(a+)+$' }], 'member');
    expect(result.model.annotations[0]!.text).toBe('[REDACTED]');
    expect(result.redactedValues.some((v) => v.length === 50_000)).toBe(true);
    // The title has no match of its own (it ends in "!"), but "feed-alpha" ends in an "a": that "a" is a redacted
    // value too, so every "a" goes — a broad pattern over-redacts, it never leaks.
    expect(result.model.title).toMatch(/^(\[REDACTED\])+!$/);
    // The annotation, and "feed-alpha" in the sources cell, the aggregate row and the provenance.
    expect(result.applied).toEqual([{ ruleId: 'redos', count: 4 }]);
  });
});

describe('redactionRuleSchema', () => {
  it('accepts one rule of each kind', () => {
    const rules = [
      { id: 'red', kind: 'tlp', tlp: ['red', 'amber+strict'], audiences: ['share-link'] },
      { id: 'actors', kind: 'entity-type', types: ['threat-actor'] },
      { id: 'emails', kind: 'property', names: ['email'] },
      { id: 'ips', kind: 'regex', pattern: '\\d+\\.\\d+\\.\\d+\\.\\d+', flags: 'i' },
    ];
    for (const rule of rules) expect(redactionRuleSchema.parse(rule)).toEqual(rule);
  });

  it('points at the field at fault with a message a person can act on', () => {
    const issues = (input: unknown) => {
      const result = redactionRuleSchema.safeParse(input);
      expect(result.success).toBe(false);
      return result.error!.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    };
    expect(issues({ id: 'r', kind: 'regex', pattern: '(a)\\1' })).toEqual([
      { path: 'pattern', message: expect.stringMatching(/backreferences .* not supported \(RE2 syntax\)/) },
    ]);
    expect(issues({ id: 'r', kind: 'regex', pattern: 'x', flags: 'gy' })).toEqual([{ path: 'flags', message: expect.stringMatching(/unsupported flag "g"/) }]);
    expect(issues({ id: 'r', kind: 'tlp', tlp: [] })).toEqual([{ path: 'tlp', message: 'list at least one TLP level' }]);
    expect(issues({ id: 'r', kind: 'tlp', tlp: ['purple'] })[0]!.message).toMatch(/TLP levels are clear, green/);
    expect(issues({ id: 'r', kind: 'nope' })[0]!.message).toMatch(/kind must be one of tlp, entity-type, property, regex/);
    expect(issues({ id: '', kind: 'property', names: ['a'] })).toEqual([{ path: 'id', message: 'the rule needs an id' }]);
    expect(issues({ id: 'r', kind: 'property', names: ['a'], audiences: ['everyone'] })[0]!.path).toBe('audiences.0');
    expect(issues({ id: 'r', kind: 'property', names: ['a'], extra: 1 })[0]!.path).toBe('');
  });
});
