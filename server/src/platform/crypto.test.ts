import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, constantTimeEqual, deriveKey, deriveSigningKey, sha256Hex, signText, verifyText } from './crypto.js';

const SECRET_A = 'a'.repeat(32);
const SECRET_B = 'b'.repeat(32);

describe('constantTimeEqual', () => {
  it('is true exactly when the two values are equal, whatever their lengths', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(constantTimeEqual(a, b)).toBe(a === b);
        expect(constantTimeEqual(a, a)).toBe(true);
      }),
    );
  });

  it('compares a string and a Buffer by their bytes', () => {
    expect(constantTimeEqual('secret', Buffer.from('secret'))).toBe(true);
    expect(constantTimeEqual('secret', 'secreT')).toBe(false);
    expect(constantTimeEqual('secret', 'secret ')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
  });
});

/** Rebuilds every object of a JSON value with its keys in reverse order. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverseKeys(v)]));
  }
  return value;
}

describe('canonicalJson (RFC 8785)', () => {
  it('orders object keys', () => {
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
    expect(canonicalJson({ z: { y: 1, x: [{ d: 1, c: 2 }] }, a: null })).toBe('{"a":null,"z":{"x":[{"c":2,"d":1}],"y":1}}');
  });

  it('orders keys by UTF-16 code units, not by locale', () => {
    expect(canonicalJson({ b: 1, B: 2, a: 3, é: 4, '1': 5 })).toBe('{"1":5,"B":2,"a":3,"b":1,"é":4}');
  });

  it('writes numbers the ECMAScript way and drops no array entries', () => {
    expect(canonicalJson([1.0, 1e21, 0.1, -0, 1e-7])).toBe('[1,1e+21,0.1,0,1e-7]');
  });

  it('gives the same text for any key order and parses back to the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(canonicalJson(reverseKeys(value))).toBe(text);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it('refuses a value that has no JSON form', () => {
    expect(() => canonicalJson(undefined)).toThrow(/cannot be serialised/);
  });
});

describe('deriveKey and deriveSigningKey', () => {
  it('derives the same key for the same secret and purpose', () => {
    const one = deriveSigningKey(SECRET_A, 'audit-checkpoint');
    const two = deriveSigningKey(SECRET_A, 'audit-checkpoint');
    expect(two.keyId).toBe(one.keyId);
    expect(two.publicKeyPem).toBe(one.publicKeyPem);
    expect(one.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(one.publicKeyPem).toContain('BEGIN PUBLIC KEY');
    expect(deriveKey(SECRET_A, 'share-links').equals(deriveKey(SECRET_A, 'share-links'))).toBe(true);
  });

  it('derives different keys for different secrets or purposes', () => {
    const base = deriveSigningKey(SECRET_A, 'audit-checkpoint');
    expect(deriveSigningKey(SECRET_B, 'audit-checkpoint').keyId).not.toBe(base.keyId);
    expect(deriveSigningKey(SECRET_A, 'exports').keyId).not.toBe(base.keyId);
    expect(deriveKey(SECRET_A, 'a').equals(deriveKey(SECRET_A, 'b'))).toBe(false);
    expect(deriveKey(SECRET_A, 'a', 16)).toHaveLength(16);
  });

  it('never derives the same key for two distinct purposes', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (p, q) => {
        fc.pre(p !== q);
        expect(deriveKey(SECRET_A, p).equals(deriveKey(SECRET_A, q))).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});

describe('signText and verifyText', () => {
  const key = deriveSigningKey(SECRET_A, 'audit-checkpoint');

  it('verifies what it signed, with the public key alone', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const signature = signText(key, text);
        expect(verifyText({ publicKey: key.publicKey }, text, signature)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a tampered text', () => {
    const text = canonicalJson({ sequence: 42, hash: sha256Hex('x') });
    const signature = signText(key, text);
    expect(verifyText(key, text.replace('42', '43'), signature)).toBe(false);
    expect(verifyText(key, `${text} `, signature)).toBe(false);
  });

  it('refuses a signature from another key, a tampered signature and garbage without throwing', () => {
    const text = 'checkpoint';
    const signature = signText(key, text);
    const other = deriveSigningKey(SECRET_B, 'audit-checkpoint');
    expect(verifyText(other, text, signature)).toBe(false);
    const flipped = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
    expect(verifyText(key, text, flipped)).toBe(false);
    expect(verifyText(key, text, 'not a signature')).toBe(false);
    expect(verifyText(key, text, '')).toBe(false);
  });

  it('signs deterministically (Ed25519)', () => {
    expect(signText(key, 'same')).toBe(signText(deriveSigningKey(SECRET_A, 'audit-checkpoint'), 'same'));
  });
});
