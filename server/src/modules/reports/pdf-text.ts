/**
 * The PDF uses the standard Helvetica fonts, which every reader has built in: nothing to embed or ship, text stays
 * real, selectable text. Their encoding (WinAnsi) covers Latin-1 and a few typographic characters only; pdfkit
 * does not refuse the rest, it writes wrong glyphs. So every string goes through `toPdfText`: a character outside
 * WinAnsi becomes its unaccented base letter when it has one (ő → o) and `?` otherwise (Ω, 日, emoji). The
 * Markdown export keeps the original characters.
 */
const CP1252_EXTRAS = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');

function isWinAnsi(char: string): boolean {
  const code = char.codePointAt(0)!;
  return (code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || CP1252_EXTRAS.has(char);
}

export function toPdfText(text: string): string {
  let out = '';
  for (const char of text.normalize('NFC')) {
    if (char === '\n') out += char;
    else if (isWinAnsi(char)) out += char;
    else if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(char)) out += ' ';
    else out += baseLetter(char) ?? '?';
  }
  return out;
}

function baseLetter(char: string): string | null {
  const base = char.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  return base !== '' && base !== char && [...base].every(isWinAnsi) ? base : null;
}
