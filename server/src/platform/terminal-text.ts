/**
 * Text from tenants (names, descriptions) printed to an operator's terminal. Control characters would act on the
 * terminal instead of showing: an ANSI escape can recolour or rewrite what is on screen, a CR can overwrite the start
 * of a line, and bidi overrides (Trojan Source) reorder what the reader sees. Each is shown as a visible escape
 * (`\x1b`, `\r`, `\u202e`) so the operator sees exactly what is stored.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function printable(text: string): string {
  return text.replace(UNSAFE, (ch) => {
    if (NAMED[ch]) return NAMED[ch];
    const code = ch.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
