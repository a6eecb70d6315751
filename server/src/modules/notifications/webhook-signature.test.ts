import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyDeliveryStatus, signWebhookBody, verifyWebhookSignature } from './webhook-signature.js';

describe('webhook signatures', () => {
  it('signs the exact body bytes with HMAC-SHA256 of the channel secret', () => {
    // A known vector, computed independently of the function under test.
    const expected = createHmac('sha256', 'shh-its-a-secret').update('{"a":1}').digest('hex');
    expect(signWebhookBody('shh-its-a-secret', '{"a":1}')).toBe(`sha256=${expected}`);
    expect(signWebhookBody('key', 'The quick brown fox jumps over the lazy dog')).toBe(
      'sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
  });

  it('verifies its own signatures and refuses a changed body, secret or header', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string(), fc.string({ minLength: 1 }), (secret, body, extra) => {
        const header = signWebhookBody(secret, body);
        expect(verifyWebhookSignature(secret, body, header)).toBe(true);
        expect(verifyWebhookSignature(secret, body + extra, header)).toBe(false);
        expect(verifyWebhookSignature(secret + extra, body, header)).toBe(false);
      }),
    );
    expect(verifyWebhookSignature('s', 'b', undefined)).toBe(false);
    expect(verifyWebhookSignature('s', 'b', 'sha256=00')).toBe(false);
  });

  it('signs bytes, not characters: a re-encoded body does not verify', () => {
    const body = '{"title":"café"}';
    const header = signWebhookBody('s', Buffer.from(body, 'utf8'));
    expect(verifyWebhookSignature('s', body, header)).toBe(true);
    expect(verifyWebhookSignature('s', Buffer.from(body, 'latin1'), header)).toBe(false);
  });
});

describe('classifyDeliveryStatus', () => {
  it.each([
    [200, 'delivered'],
    [204, 'delivered'],
    [299, 'delivered'],
    [408, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [503, 'retry'],
    [301, 'permanent'],
    [400, 'permanent'],
    [401, 'permanent'],
    [404, 'permanent'],
    [410, 'permanent'],
  ] as const)('classifies HTTP %i as %s', (status, outcome) => {
    expect(classifyDeliveryStatus(status)).toBe(outcome);
  });
});
