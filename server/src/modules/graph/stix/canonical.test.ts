import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalKey, checkCanonicalKey, MAX_KEY_LENGTH, objectForKey } from './canonical.js';
import { normalizeHashAlgorithm } from './hashes.js';
import { ENTITY_TYPES, type EntityType } from './model.js';

const MD5 = 'd41d8cd98f00b204e9800998ecf8427e';
const SHA1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';
const SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const SHA512 = 'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e';

describe('canonicalKey equivalences', () => {
  it.each<[EntityType, Record<string, unknown>, Record<string, unknown>]>([
    ['ipv4-addr', { value: '1.2.3.4' }, { value: ' 1.2.3.4/32 ' }],
    ['ipv6-addr', { value: '2001:DB8:0:0:0:0:0:1' }, { value: '2001:db8::1' }],
    ['ipv6-addr', { value: '::ffff:0102:0304' }, { value: '::FFFF:1.2.3.4' }],
    ['domain-name', { value: 'Example.COM.' }, { value: 'example.com' }],
    ['url', { value: 'HTTPS://Example.com:443' }, { value: 'https://example.com/' }],
    ['email-addr', { value: 'Alice@Example.COM' }, { value: 'alice@example.com' }],
    ['mac-addr', { value: '00-1A-2B-3C-4D-5E' }, { value: '00:1a:2b:3c:4d:5e' }],
    ['autonomous-system', { number: 15169, name: 'GOOGLE' }, { number: 15169 }],
    ['file', { hashes: { 'SHA-256': SHA256.toUpperCase() } }, { hashes: { sha256: SHA256 } }],
    ['file', { hashes: { SHA256: SHA256, MD5 }, name: 'a.exe' }, { hashes: { 'sha-256': SHA256 }, name: 'b.exe' }],
    ['file', { name: ' invoice.pdf ' }, { name: 'invoice.pdf' }],
    ['indicator', { pattern: "[ipv4-addr:value = '1.2.3.4']" }, { pattern: "[ipv4-addr:value='1.2.3.4']" }],
    ['threat-actor', { name: '  APT  28 ' }, { name: 'apt 28' }],
    ['vulnerability', { name: 'CVE-2021-44228' }, { name: 'cve-2021-44228' }],
    ['note', { content: 'Seen  in\nthe wild' }, { content: 'seen in the wild' }],
  ])('%s: %j ≡ %j', (type, a, b) => {
    expect(canonicalKey(type, a)).toBe(canonicalKey(type, b));
  });

  it.each<[EntityType, Record<string, unknown>, Record<string, unknown>]>([
    ['ipv4-addr', { value: '10.2.4.5/24' }, { value: '10.2.4.0/24' }],
    ['url', { value: 'https://example.com/A' }, { value: 'https://example.com/a' }],
    ['url', { value: 'https://example.com/%41' }, { value: 'https://example.com/A' }],
    ['file', { hashes: { MD5 } }, { hashes: { 'SHA-1': SHA1 } }],
    ['indicator', { pattern: "[file:name = 'A']" }, { pattern: "[file:name = 'a']" }],
  ])('%s: %j and %j stay distinct', (type, a, b) => {
    expect(canonicalKey(type, a)).not.toBe(canonicalKey(type, b));
  });
});

describe('file keys', () => {
  it.each([
    [{ MD5, 'SHA-1': SHA1, 'SHA-256': SHA256, 'SHA-512': SHA512 }, `sha256:${SHA256}`],
    [{ MD5, 'SHA-1': SHA1, 'SHA-512': SHA512 }, `sha1:${SHA1}`],
    [{ MD5, SSDEEP: '3:a:b' }, `md5:${MD5}`],
    [{ 'SHA-512': SHA512 }, `sha512:${SHA512}`],
  ])('prefers the strongest shared hash: %j → %s', (hashes, key) => {
    expect(canonicalKey('file', { hashes })).toBe(key);
  });

  it.each([
    ['SHA-256', 'SHA-256'],
    ['SHA256', 'SHA-256'],
    ['sha256', 'SHA-256'],
    ['sha_256', 'SHA-256'],
    ['sha1', 'SHA-1'],
    ['md5', 'MD5'],
    ['SHA3-256', 'SHA3-256'],
    ['ssdeep', 'SSDEEP'],
    ['x-custom', 'x-custom'],
  ])('reads hash name %j as %j', (name, normalised) => {
    expect(normalizeHashAlgorithm(name)).toBe(normalised);
  });

  it.each([
    [{ hashes: { MD5: 'abc' } }, 'MD5 hash abc has 3 hex digits; MD5 has 32'],
    [{ hashes: { 'SHA-256': 'z'.repeat(64) } }, 'is not hexadecimal'],
    [{ hashes: { 'SHA-1': SHA256 } }, 'SHA-1 has 40'],
    [{ hashes: { 'SHA-512': SHA256 } }, 'SHA-512 has 128'],
    [{ hashes: { SHA256, 'SHA-256': SHA256.replace('e', 'f') } }, 'two different SHA-256 values'],
    [{ hashes: {} }, 'hashes is empty'],
    [{ hashes: 'abc' }, 'hashes must be an object'],
    [{ hashes: { SSDEEP: '3:a:b' } }, 'only fuzzy or custom hashes'],
    [{}, 'file needs hashes'],
  ])('rejects %j (%s)', (object, reason) => {
    const checked = checkCanonicalKey('file', object);
    expect(checked.ok ? checked.key : checked.reason).toContain(reason);
  });
});

describe('long keys', () => {
  it('replaces keys longer than MAX_KEY_LENGTH with a digest, and keeps the full value for display', () => {
    const url = `https://example.com/${'a'.repeat(MAX_KEY_LENGTH)}`;
    const checked = checkCanonicalKey('url', { value: url });
    expect(checked).toEqual({ ok: true, key: expect.stringMatching(/^digest:[0-9a-f]{64}$/), value: url });
    expect(canonicalKey('url', { value: url.replace('example', 'EXAMPLE') })).toBe(checked.ok && checked.key);
  });
});

describe('canonicalKey on invalid input', () => {
  it('falls back to the trimmed, lower-cased identifying text instead of throwing', () => {
    expect(canonicalKey('ipv4-addr', { value: ' 999.1.1.1 ' })).toBe('999.1.1.1');
    expect(canonicalKey('domain-name', { value: 'Not A Domain' })).toBe('not a domain');
    expect(canonicalKey('malware', {})).toBe('');
  });

  it('never throws, whatever the object', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ENTITY_TYPES), fc.dictionary(fc.constantFrom('value', 'name', 'number', 'hashes', 'pattern', 'content'), fc.anything()), (type, object) => {
        expect(typeof canonicalKey(type, object)).toBe('string');
      }),
    );
  });
});

const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: length, maxLength: length });
const name = fc.string({ unit: fc.constantFrom(...'abcXYZ 019-_.é\t'), minLength: 1, maxLength: 30 }).filter((text) => text.trim() !== '');

const pair = (type: EntityType, object: Record<string, unknown>): [EntityType, Record<string, unknown>] => [type, object];

/** (type, valid object) pairs covering every entity type. */
const keyedObject: fc.Arbitrary<[EntityType, Record<string, unknown>]> = fc.oneof(
  fc.ipV4().map((value) => pair('ipv4-addr', { value })),
  fc.ipV6().map((value) => pair('ipv6-addr', { value: value.toUpperCase() })),
  fc.domain().map((value) => pair('domain-name', { value: `${value.toUpperCase()}.` })),
  fc.webUrl({ withQueryParameters: true, withFragments: true }).map((value) => pair('url', { value })),
  fc.emailAddress().map((value) => pair('email-addr', { value: value.toUpperCase() })),
  hex(12).map((value) => pair('mac-addr', { value: value.match(/../g)!.join('-') })),
  fc.integer({ min: 0, max: 4_294_967_295 }).map((number) => pair('autonomous-system', { number })),
  fc.record({ MD5: hex(32), sha1: hex(40), 'sha-256': hex(64) }, { requiredKeys: [] }).chain((hashes) =>
    name.map((fileName) => pair('file', Object.keys(hashes).length ? { hashes } : { name: fileName })),
  ),
  fc.tuple(fc.ipV4(), fc.constantFrom(' = ', '=', '  =\n')).map(([ip, op]) => pair('indicator', { pattern: `[ ipv4-addr:value${op}'${ip}' ]` })),
  fc.tuple(fc.constantFrom<EntityType>('threat-actor', 'malware', 'tool', 'campaign', 'identity', 'report'), name).map(([type, text]) => pair(type, { name: text })),
  name.map((content) => pair('note', { content })),
);

describe('canonicalKey idempotence', () => {
  it('gives back the key for the object built from a key', () => {
    fc.assert(
      fc.property(keyedObject, ([type, object]) => {
        const key = canonicalKey(type, object);
        expect(checkCanonicalKey(type, object).ok).toBe(true);
        expect(canonicalKey(type, objectForKey(type, key))).toBe(key);
      }),
      { numRuns: 500 },
    );
  });
});
