/**
 * Test factory for export models (used by the tests beside it and by bench/playbooks-export.ts): a realistic run
 * export with entity rows at every TLP, highlights, annotations and provenance, sized by `rows`.
 */
import type { ExportModel, ReportRow, Severity, Tlp } from './types.js';

// A 1×1 PNG (valid zlib stream and CRCs), so the logo path is exercised without a file on disk.
export const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

const TLPS: Tlp[] = ['clear', 'green', 'amber', 'amber+strict', 'red'];
const TYPES = ['domain-name', 'ipv4-addr', 'url', 'file', 'threat-actor'];
const SEVERITIES: Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

/** Row i's identifying value, unique and easy to grep for. */
export function valueOf(i: number): string {
  const type = TYPES[i % TYPES.length]!;
  if (type === 'ipv4-addr') return `198.51.${Math.floor(i / 250) % 250}.${i % 250}`;
  if (type === 'url') return `hxxp://malware-${i}.example.net/payload`;
  if (type === 'file') return `payload-${i}.exe`;
  if (type === 'threat-actor') return `Actor Group ${i}`;
  return `c2-${i}.evil-domain.example`;
}

export function buildRow(i: number, overrides: Partial<{ tlp: Tlp; type: string; name: string; highlight: ReportRow['highlight'] }> = {}): ReportRow {
  const tlp = overrides.tlp ?? TLPS[i % TLPS.length]!;
  const type = overrides.type ?? TYPES[i % TYPES.length]!;
  const name = overrides.name ?? valueOf(i);
  const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  return {
    entity: { id, type, tlp, name, properties: { value: name, labels: [`label-${i}`], created: '2025-03-01T00:00:00.000Z' } },
    cells: { name, type, tlp, confidence: 50 + (i % 50), firstSeen: '2025-03-01T00:00:00.000Z', sources: 'feed-alpha' },
    highlight:
      overrides.highlight !== undefined
        ? overrides.highlight
        : i % 7 === 0
          ? { severity: SEVERITIES[i % SEVERITIES.length]!, note: `beacons every ${i % 60} s`, rule: 'beaconing' }
          : null,
  };
}

export function buildExportModel(options: { rows?: number; logo?: boolean } = {}): ExportModel {
  const rows = Array.from({ length: options.rows ?? 12 }, (_, i) => buildRow(i));
  return {
    title: 'Weekly C2 infrastructure review',
    branding: {
      name: 'Acme Threat Intel',
      accentColor: '#1f6feb',
      footerText: 'Acme confidential - internal distribution',
      logo: options.logo ? { mediaType: 'image/png', data: TINY_PNG } : null,
    },
    playbook: { id: 'a1b2c3d4-0000-4000-8000-000000000001', name: 'C2 sweep', version: 3 },
    run: {
      id: 'f0e1d2c3-0000-4000-8000-0000000000aa',
      status: 'succeeded',
      trigger: 'schedule',
      requestedBy: 'analyst@acme.example',
      startedAt: '2025-03-02T08:00:00.000Z',
      finishedAt: '2025-03-02T08:00:04.210Z',
    },
    parameters: [
      { name: 'since', value: '7d' },
      { name: 'minConfidence', value: 60 },
      { name: 'types', value: ['domain-name', 'ipv4-addr'] },
    ],
    summary: [
      { label: 'Entities found', value: rows.length },
      { label: 'Highlighted', value: rows.filter((r) => r.highlight).length },
    ],
    sections: [
      {
        title: 'Infrastructure',
        description: 'Entities reached from the seed indicators within two hops.',
        columns: [
          { key: 'name', label: 'Value' },
          { key: 'type', label: 'Type' },
          { key: 'tlp', label: 'TLP' },
          { key: 'confidence', label: 'Confidence' },
          { key: 'firstSeen', label: 'First seen' },
          { key: 'sources', label: 'Sources' },
        ],
        rows,
      },
      {
        title: 'Top sources',
        columns: [
          { key: 'key', label: 'Source' },
          { key: 'count', label: 'Entities' },
        ],
        rows: [{ cells: { key: 'feed-alpha', count: rows.length } }],
      },
    ],
    annotations: [
      { author: 'dana@acme.example', createdAt: '2025-03-02T09:10:00.000Z', entityId: null, text: 'Reviewed with the SOC.\nEscalate the red items.' },
    ],
    provenance: [
      { source: 'feed-alpha', ingestRunId: 'ingest-run-0001', firstSeen: '2025-02-20T00:00:00.000Z', lastSeen: '2025-03-01T00:00:00.000Z', entities: rows.length },
      { source: 'stix-upload', ingestRunId: null, firstSeen: null, lastSeen: null, entities: 0 },
    ],
    generatedAt: '2025-03-02T10:00:00.000Z',
  };
}
