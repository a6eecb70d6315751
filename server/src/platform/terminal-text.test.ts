import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { printable } from './terminal-text.js';

describe('printable', () => {
  it('shows ANSI escapes, CR, LF, tabs and bidi overrides as visible escapes', () => {
    expect(printable('\u001b[31mred\u001b[0m')).toBe('\\x1b[31mred\\x1b[0m');
    expect(printable('evil\rgood')).toBe('evil\\rgood');
    expect(printable('a\nb\tc')).toBe('a\\nb\\tc');
    expect(printable('abc\u202Efed\u2066x\u2069')).toBe('abc\\u202efed\\u2066x\\u2069');
    expect(printable('c1\u009bcsi del\u007f')).toBe('c1\\x9bcsi del\\x7f');
  });

  it('leaves ordinary text alone, accents and emoji included', () => {
    expect(printable('Société Générale 🚀 東京')).toBe('Société Générale 🚀 東京');
  });

  it('never lets a control character through, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(printable(text)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
      }),
    );
  });
});
