import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deriveKey } from './crypto.js';
import { createSecretBox, SecretUnreadableError } from './secret-box.js';

const box = createSecretBox(deriveKey('a-server-secret-of-at-least-32-chars!', 'channel-secrets'));

describe('secret box', () => {
  it('opens what it sealed, for any text', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (plaintext, context) => {
        expect(box.open(box.seal(plaintext, context), context)).toBe(plaintext);
      }),
    );
  });

  it('never stores the plaintext and seals the same text differently each time', () => {
    const a = box.seal('hunter2-hunter2-hunter2', 't1:c1');
    const b = box.seal('hunter2-hunter2-hunter2', 't1:c1');
    expect(a).not.toBe(b);
    expect(a).not.toContain('hunter2');
    expect(a).toMatch(/^v1\./);
  });

  it('refuses a value sealed for another row or tenant', () => {
    const sealed = box.seal('s3cret', 'tenant-a:channel-1');
    expect(() => box.open(sealed, 'tenant-b:channel-1')).toThrow(SecretUnreadableError);
  });

  it('refuses a value sealed under another server secret', () => {
    const other = createSecretBox(deriveKey('another-server-secret-of-32-chars!!', 'channel-secrets'));
    expect(() => other.open(box.seal('s3cret', 'c'), 'c')).toThrow(SecretUnreadableError);
  });

  it('refuses a tampered or malformed value', () => {
    const sealed = box.seal('s3cret', 'c');
    const parts = sealed.split('.');
    const flipped = Buffer.from(parts[3]!, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    expect(() => box.open([parts[0], parts[1], parts[2], flipped.toString('base64url')].join('.'), 'c')).toThrow(SecretUnreadableError);
    expect(() => box.open('v2.a.b.c', 'c')).toThrow(SecretUnreadableError);
    expect(() => box.open('garbage', 'c')).toThrow(SecretUnreadableError);
  });
});
