/** Test helpers around poppler-utils (Debian's; CI installs it): what a standard reader makes of a PDF. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function withFile<T>(pdf: Buffer, fn: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'summit-report-'));
  try {
    const path = join(dir, 'export.pdf');
    writeFileSync(path, pdf);
    return fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `pdfinfo` fields (throws when poppler cannot open the file). */
export function pdfInfo(pdf: Buffer): Record<string, string> {
  const out = withFile(pdf, (path) => execFileSync('pdfinfo', [path], { encoding: 'utf8' }));
  return Object.fromEntries(out.split('\n').filter((l) => l.includes(':')).map((l) => [l.slice(0, l.indexOf(':')).trim(), l.slice(l.indexOf(':') + 1).trim()]));
}

/** The text `pdftotext` extracts, in layout mode (rows stay on one line), of all pages or of one page. */
export function pdfText(pdf: Buffer, page?: number): string {
  const range = page === undefined ? [] : ['-f', String(page), '-l', String(page)];
  return withFile(pdf, (path) => execFileSync('pdftotext', ['-layout', ...range, path, '-'], { encoding: 'utf8', maxBuffer: 64 << 20 }));
}

/** Image placements `pdfimages -list` finds (alpha masks, listed as `smask`, not counted). */
export function pdfImageCount(pdf: Buffer): number {
  const out = withFile(pdf, (path) => execFileSync('pdfimages', ['-list', path], { encoding: 'utf8' }));
  return out.trim().split('\n').slice(2).filter((l) => l.trim().split(/\s+/)[2] === 'image').length;
}
