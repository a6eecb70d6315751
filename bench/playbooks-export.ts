/**
 * Playbook export benchmark: a 1,000-row run export (highlights, annotations, provenance, a logo) rendered to
 * Markdown and to PDF N times each, plus the redaction pass a share link adds (a TLP rule, a property rule and an
 * RE2 regex rule, with the scrub of every redacted value across the model). The model comes from the same factory
 * the tests use, so every run renders the same bytes (the PDF is deterministic for a given model).
 *
 * Run: cd server && npx tsx ../bench/playbooks-export.ts [N]   (default N = 20). Prints one JSON object to stdout.
 */
import { buildExportModel } from '../server/src/modules/reports/export-model.fixture.js';
import { redact, renderMarkdown, renderPdf, type RedactionRule } from '../server/src/modules/reports/index.js';

const ROWS = 1_000;
const WARMUP = 3;
const N = Number(process.argv[2] ?? 20);
if (!Number.isInteger(N) || N < 1) throw new Error(`N must be a positive integer, got "${process.argv[2]}"`);

const RULES: RedactionRule[] = [
  { id: 'red', kind: 'tlp', tlp: ['red'] },
  { id: 'sources', kind: 'property', names: ['sources'] },
  { id: 'ips', kind: 'regex', pattern: '198\\.51\\.\\d+\\.\\d+' },
];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function measure<T>(fn: () => T | Promise<T>): Promise<{ ms: { p50: number; p95: number; min: number; max: number }; last: T }> {
  for (let i = 0; i < WARMUP; i++) await fn();
  const times: number[] = [];
  let last!: T;
  for (let i = 0; i < N; i++) {
    const start = performance.now();
    last = await fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 10) / 10;
  return { ms: { p50: round(percentile(times, 50)), p95: round(percentile(times, 95)), min: round(times[0]!), max: round(times.at(-1)!) }, last };
}

/** Page count from the page tree's /Count (pdfkit writes one root Pages object; its /Count is the total). */
function pageCount(pdf: Buffer): number {
  const counts = [...pdf.toString('latin1').matchAll(/\/Type \/Pages\s*\/Count (\d+)/g)].map((m) => Number(m[1]));
  return Math.max(0, ...counts);
}

const model = buildExportModel({ rows: ROWS, logo: true });
const markdown = await measure(() => renderMarkdown(model));
const pdf = await measure(() => renderPdf(model));
const redaction = await measure(() => redact(model, RULES, 'share-link'));
const redactedPdf = await measure(async () => renderPdf(redact(model, RULES, 'share-link').model));
const stable = (await renderPdf(model)).content.equals(pdf.last.content);

const result = {
  benchmark: 'playbooks-export',
  rows: ROWS,
  iterations: N,
  node: process.version,
  markdown: { ...markdown.ms, bytes: Buffer.byteLength(markdown.last.content, 'utf8') },
  pdf: { ...pdf.ms, bytes: pdf.last.content.length, pages: pageCount(pdf.last.content), byteStable: stable },
  redact: { ...redaction.ms, redactedValues: redaction.last.redactedValues.length, applied: redaction.last.applied },
  redactedPdf: { ...redactedPdf.ms, bytes: redactedPdf.last.content.length },
};
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
