import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkStixPatternShape, normalizePattern, parseSimplePattern } from './pattern.js';

const SHA256 = 'a'.repeat(64);

describe('parseSimplePattern', () => {
  it.each([
    ["[ipv4-addr:value = '1.2.3.4']", { type: 'ipv4-addr', property: 'value', value: '1.2.3.4' }],
    ["  [ ipv6-addr:value='2001:db8::1' ]  ", { type: 'ipv6-addr', property: 'value', value: '2001:db8::1' }],
    ["[domain-name:value = 'x.com']", { type: 'domain-name', property: 'value', value: 'x.com' }],
    ["[url:value = 'http://x.com/a?b=c d']", { type: 'url', property: 'value', value: 'http://x.com/a?b=c d' }],
    ["[email-addr:value = 'a@x.com']", { type: 'email-addr', property: 'value', value: 'a@x.com' }],
    ["[mac-addr:value = '00:1a:2b:3c:4d:5e']", { type: 'mac-addr', property: 'value', value: '00:1a:2b:3c:4d:5e' }],
    [`[file:hashes.'SHA-256' = '${SHA256}']`, { type: 'file', property: 'hashes.SHA-256', value: SHA256 }],
    [`[file:hashes.SHA256 = '${SHA256}']`, { type: 'file', property: 'hashes.SHA-256', value: SHA256 }],
    ["[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']", { type: 'file', property: 'hashes.MD5', value: 'd41d8cd98f00b204e9800998ecf8427e' }],
    ["[file:name = 'invoice.pdf.exe']", { type: 'file', property: 'name', value: 'invoice.pdf.exe' }],
    ['[autonomous-system:number = 15169]', { type: 'autonomous-system', property: 'number', value: '15169' }],
  ])('reads %j', (pattern, expected) => {
    expect(parseSimplePattern(pattern)).toEqual(expected);
  });

  it('unescapes quotes and backslashes inside the value', () => {
    expect(parseSimplePattern("[url:value = 'http://x.com/it\\'s']")).toEqual({ type: 'url', property: 'value', value: "http://x.com/it's" });
    expect(parseSimplePattern("[file:name = 'C:\\\\temp\\\\a.exe']")).toEqual({ type: 'file', property: 'name', value: 'C:\\temp\\a.exe' });
    expect(parseSimplePattern("[url:value = 'a\\'] OR [b']")).toEqual({ type: 'url', property: 'value', value: "a'] OR [b" });
  });

  it.each([
    "[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'x.com']",
    "[ipv4-addr:value = '1.2.3.4' OR ipv4-addr:value = '5.6.7.8']",
    "[ipv4-addr:value != '1.2.3.4']",
    "[ipv4-addr:value = '1.2.3.4'] WITHIN 5 SECONDS",
    "[ipv4-addr:value ISSUBSET '10.0.0.0/8']",
    "[network-traffic:dst_port = 443]",
    "[email-addr:display_name = 'Alice']",
    "[ipv4-addr:value = 1]",
    "[autonomous-system:number = '15169']",
    "[ipv4-addr:value = '1.2.3.4'",
    "[ipv4-addr:value = 'unterminated]",
    'not a pattern',
    '',
  ])('gives null for %j', (pattern) => {
    expect(parseSimplePattern(pattern)).toBeNull();
  });

  it('recovers any value written with escapes', () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        const escaped = value.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
        expect(parseSimplePattern(`[url:value = '${escaped}']`)).toEqual({ type: 'url', property: 'value', value });
      }),
    );
  });
});

describe('normalizePattern', () => {
  it('makes spacing variants of one STIX pattern equal, and leaves quoted text alone', () => {
    const forms = ["[ipv4-addr:value = '1.2.3.4']", "[ipv4-addr:value='1.2.3.4']", " [ ipv4-addr:value  =\n'1.2.3.4' ] "];
    expect(new Set(forms.map((form) => normalizePattern(form)))).toEqual(new Set(["[ipv4-addr:value='1.2.3.4']"]));
    expect(normalizePattern("[file:name = 'a  b']")).toBe("[file:name='a  b']");
    expect(normalizePattern("[a:b = 'x'] AND  ([c:d IN ('y', 'z')])")).toBe("[a:b='x']AND([c:d IN('y','z')])");
  });

  it('only collapses whitespace for other pattern languages', () => {
    expect(normalizePattern('title:  x\n  detection: "a   b"', 'sigma')).toBe('title: x detection: "a   b"');
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom('stix', 'sigma'), (pattern, type) => {
        const once = normalizePattern(pattern, type);
        expect(normalizePattern(once, type)).toBe(once);
      }),
    );
  });
});

describe('checkStixPatternShape', () => {
  it.each([
    "[ipv4-addr:value = '1.2.3.4']",
    "[email-message:to_refs[*].value = 'a@x.com'] AND [file:size > 10]",
    "[EXISTS windows-registry-key:values]",
    "([a:b LIKE 'x%'] OR [c:d MATCHES '^a']) REPEATS 2 TIMES",
  ])('accepts %j', (pattern) => {
    expect(checkStixPatternShape(pattern)).toBeNull();
  });

  it.each([
    ["[ipv4-addr:value = '1.2.3.4'", 'unbalanced'],
    ["ipv4-addr:value = '1.2.3.4']", 'unbalanced'],
    ["[ipv4-addr:value = '1.2.3.4]", 'never closed'],
    ['1.2.3.4', 'no comparison'],
    ['[]', 'no comparison'],
  ])('refuses %j (%s)', (pattern, problem) => {
    expect(checkStixPatternShape(pattern)).toContain(problem);
  });

  // Linear in the input: a backtracking check would not return within the test's timeout on these.
  it('answers hostile input with a problem instead of hanging', () => {
    expect(checkStixPatternShape('[a:'.repeat(50_000))).toEqual(expect.any(String));
    expect(checkStixPatternShape(`[a:${'b'.repeat(200_000)}`)).toEqual(expect.any(String));
  });
});

describe('checkStixPatternShape on quoted path segments', () => {
  it('accepts a comparison whose object path has a quoted segment', async () => {
    const { checkStixPatternShape } = await import('./pattern.js');
    expect(checkStixPatternShape("[file:hashes.'SHA-256' = 'b858cc09a95d075d3cd115809eb25282ac317e1203b85e543f7d7dc019074383']")).toBeNull();
    expect(checkStixPatternShape("[file:hashes.'SHA-256' = 'aa' OR file:hashes.MD5 = 'bb']")).toBeNull();
    expect(checkStixPatternShape("[file:hashes.'SHA-256']")).not.toBeNull();
  });
});
