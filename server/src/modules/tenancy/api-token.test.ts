import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../platform/crypto.js';
import { issueApiToken, parseApiToken, tokenStatus } from './api-token.js';

// The documented format, written out independently of the implementation's regex.
const FORMAT = /^smt_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const HEX = '0123456789abcdef'.split('');
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('');

const hexArb = fc.array(fc.constantFrom(...HEX), { minLength: 32, maxLength: 32 }).map((c) => c.join(''));
const secretArb = fc.array(fc.constantFrom(...B64URL), { minLength: 43, maxLength: 43 }).map((c) => c.join(''));

describe('issueApiToken and parseApiToken', () => {
  it('round-trips every issued token to its id and a secret whose hash was stored', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(fc.nat(), () => {
        const issued = issueApiToken();
        expect(issued.token).toMatch(FORMAT);
        expect(issued.id).toMatch(UUID);
        const parsed = parseApiToken(issued.token);
        expect(parsed?.id).toBe(issued.id);
        expect(sha256(parsed!.secret).equals(issued.secretHash)).toBe(true);
        expect(seen.has(issued.id)).toBe(false);
        seen.add(issued.id);
      }),
      { numRuns: 500 },
    );
  });

  it('parses any string of the documented format into a dashed id and the secret', () => {
    fc.assert(
      fc.property(hexArb, secretArb, (hex, secret) => {
        const parsed = parseApiToken(`smt_${hex}_${secret}`);
        expect(parsed).toEqual({
          id: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
          secret,
        });
      }),
    );
  });

  it('never parses a random string that does not match the format', () => {
    const anyString = fc.oneof(
      fc.string({ maxLength: 100 }),
      fc.string({ unit: 'binary', maxLength: 100 }),
      // Near misses: right prefix, arbitrary tail.
      fc.string({ maxLength: 90 }).map((s) => `smt_${s}`),
    );
    fc.assert(
      fc.property(anyString, (text) => {
        expect(parseApiToken(text) !== null).toBe(FORMAT.test(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects a valid token with any one character replaced by one the format forbids there', () => {
    const token = issueApiToken().token;
    fc.assert(
      fc.property(fc.nat({ max: token.length - 1 }), fc.constantFrom('G', 'Z', '=', '+', '/', ' ', '.', 'é', '\n'), (at, ch) => {
        const mutated = token.slice(0, at) + ch + token.slice(at + 1);
        fc.pre(!FORMAT.test(mutated));
        expect(parseApiToken(mutated)).toBeNull();
      }),
    );
  });

  it.each([
    ['an empty string', ''],
    ['the wrong prefix', (t: string) => t.replace(/^smt_/, 'sk_')],
    ['upper-case hex in the id', (t: string) => t.slice(0, 4) + t.slice(4, 36).toUpperCase() + t.slice(36)],
    ['a secret one character short', (t: string) => t.slice(0, -1)],
    ['a secret one character long', (t: string) => `${t}A`],
    ['a trailing newline', (t: string) => `${t}\n`],
    ['surrounding spaces', (t: string) => ` ${t} `],
    ['a Bearer prefix', (t: string) => `Bearer ${t}`],
  ] as const)('rejects %s', (_, change) => {
    // A fixed token with letters in its id, so the upper-casing case always changes something.
    const token = `smt_0190a0f0abcd7def8000000000000abc_${'Ab3-_'.repeat(8)}xyz`;
    expect(parseApiToken(token)).not.toBeNull();
    expect(parseApiToken(typeof change === 'string' ? change : change(token))).toBeNull();
  });
});

describe('tokenStatus', () => {
  const now = new Date('2026-06-01T12:00:00.000Z');
  const at = (offsetMs: number) => new Date(now.getTime() + offsetMs);

  it('is active without an expiry or revocation', () => {
    expect(tokenStatus({ expiresAt: null, revokedAt: null }, now)).toBe('active');
  });

  it('is active until the millisecond before expiry', () => {
    expect(tokenStatus({ expiresAt: at(1), revokedAt: null }, now)).toBe('active');
  });

  it('counts an expiry of exactly now as expired', () => {
    expect(tokenStatus({ expiresAt: at(0), revokedAt: null }, now)).toBe('expired');
    expect(tokenStatus({ expiresAt: at(-1), revokedAt: null }, now)).toBe('expired');
  });

  it('reports revoked before expired, whatever the expiry', () => {
    expect(tokenStatus({ expiresAt: at(-1000), revokedAt: at(-2000) }, now)).toBe('revoked');
    expect(tokenStatus({ expiresAt: at(1000), revokedAt: at(-1) }, now)).toBe('revoked');
    expect(tokenStatus({ expiresAt: null, revokedAt: at(-1) }, now)).toBe('revoked');
  });

  it('agrees with the expiry comparison for any expiry around now', () => {
    fc.assert(
      fc.property(fc.integer({ min: -86_400_000, max: 86_400_000 }), (offset) => {
        expect(tokenStatus({ expiresAt: at(offset), revokedAt: null }, now)).toBe(offset > 0 ? 'active' : 'expired');
      }),
    );
  });
});
