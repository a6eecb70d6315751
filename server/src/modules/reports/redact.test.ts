import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../platform/errors.js';
import { buildExportModel, buildRow, valueOf } from './export-model.fixture.js';
import { redact } from './redact.js';
import { REDACTION_MARKER, TLPS, type ExportModel, type RedactionRule } from './types.js';

/** Every string value in the model (keys excluded), the way JSON.stringify would show them. */
function stringsOf(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') into.push(value);
  else if (typeof value === 'number') into.push(String(value));
  else if (Buffer.isBuffer(value)) return into;
  else if (Array.isArray(value)) for (const v of value) stringsOf(v, into);
  else if (value !== null && typeof value === 'object') for (const v of Object.values(value)) stringsOf(v, into);
  return into;
}
function keysOf(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) keysOf(v, into);
  else if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const [k, v] of Object.entries(value)) {
      into.add(k);
      keysOf(v, into);
    }
  }
  return into;
}
/** Structural strings redaction leaves by design (see model-text.ts). */
function structuralStrings(model: ExportModel): string[] {
  const rows = model.sections.flatMap((s) => s.rows);
  return [
    model.run.id,
    model.playbook.id,
    model.generatedAt,
    model.branding.accentColor,
    String(model.playbook.version),
    ...model.sections.flatMap((s) => s.columns.map((c) => c.key)),
    ...model.provenance.map((p) => String(p.entities)),
    ...rows.flatMap((r) => (r.entity ? [r.entity.id, r.entity.type, r.entity.tlp] : [])),
    ...rows.flatMap((r) => (r.highlight ? [r.highlight.severity] : [])),
    ...model.annotations.flatMap((a) => (a.entityId ? [a.entityId] : [])),
  ];
}
/** The text a reader sees: everything between the markers. */
const piecesOf = (text: string) => text.split(REDACTION_MARKER);

describe('redact', () => {
  const model = buildExportModel({ rows: 10 });

  it('applies a rule only to its audiences', () => {
    const rule: RedactionRule = { id: 'red-for-links', kind: 'tlp', tlp: ['red'], audiences: ['share-link'] };
    expect(redact(model, [rule], 'member')).toEqual({ model, redactedValues: [], applied: [] });
    const shared = redact(model, [rule], 'share-link');
    expect(shared.applied).toEqual([{ ruleId: 'red-for-links', count: 2 }]);
  });

  it('redacts the identifying values of rows at a TLP, keeps the entity id, type and TLP, and scrubs them elsewhere', () => {
    const input = structuredClone(model);
    input.annotations.push({ author: 'dana', createdAt: '2025-03-03T00:00:00Z', entityId: null, text: `Block ${valueOf(4).toUpperCase()} now` });
    input.parameters.push({ name: 'seed', value: valueOf(9) });
    const { model: out, redactedValues, applied } = redact(input, [{ id: 'red', kind: 'tlp', tlp: ['red'] }], 'share-link');
    const red = out.sections[0]!.rows.filter((r) => r.entity?.tlp === 'red');
    expect(red).toHaveLength(2);
    for (const row of red) {
      expect(row.entity!.name).toBe(REDACTION_MARKER);
      expect(row.entity!.id).toMatch(/^00000000-/);
      expect(row.cells).toMatchObject({ name: REDACTION_MARKER, type: 'threat-actor', tlp: 'red', sources: 'feed-alpha' });
      expect(row.entity!.properties).toEqual({ value: REDACTION_MARKER, labels: [REDACTION_MARKER], created: '2025-03-01T00:00:00.000Z' });
    }
    expect(redactedValues).toEqual(['Actor Group 4', 'Actor Group 9', 'label-4', 'label-9']);
    expect(out.annotations[1]!.text).toBe('Block [REDACTED] now');
    expect(out.parameters[3]!.value).toBe(REDACTION_MARKER);
    expect(out.sections[0]!.rows[3]!.cells.name).toBe(valueOf(3));
    expect(applied).toEqual([{ ruleId: 'red', count: 2 }]);
  });

  it('redacts rows by entity type, ignoring case', () => {
    const { model: out, applied } = redact(model, [{ id: 'ips', kind: 'entity-type', types: ['IPv4-Addr'] }], 'member');
    expect(out.sections[0]!.rows.filter((r) => r.cells.name === REDACTION_MARKER).map((r) => r.entity!.type)).toEqual(['ipv4-addr', 'ipv4-addr']);
    expect(applied).toEqual([{ ruleId: 'ips', count: 2 }]);
  });

  it('blanks cells, properties.* columns, entity properties and parameters named by a property rule', () => {
    const input = structuredClone(model);
    input.sections[0]!.columns.push({ key: 'properties.labels', label: 'Labels' });
    input.sections[0]!.rows[0]!.cells['properties.labels'] = 'label-0';
    const { model: out, redactedValues, applied } = redact(input, [{ id: 'p', kind: 'property', names: ['labels', 'SINCE'] }], 'member');
    expect(out.sections[0]!.rows[0]!.cells['properties.labels']).toBe(REDACTION_MARKER);
    expect(out.sections[0]!.rows[1]!.entity!.properties!.labels).toBe(REDACTION_MARKER);
    expect(out.parameters[0]).toEqual({ name: 'since', value: REDACTION_MARKER });
    expect(redactedValues).toContain('7d');
    expect(redactedValues).toContain('label-5');
    // 10 entities' labels, one cell, one parameter.
    expect(applied).toEqual([{ ruleId: 'p', count: 12 }]);
  });

  it('replaces regex matches in every text: title, parameters, cells, notes, annotations, provenance', () => {
    const input = structuredClone(model);
    input.title = 'Review of 198.51.0.1';
    input.annotations[0]!.text = 'see 198.51.0.6';
    input.provenance[0]!.source = 'sensor 198.51.0.11';
    input.sections[0]!.rows[1]!.highlight = { severity: 'high', note: 'talks to 198.51.0.1', rule: 'r' };
    const { model: out } = redact(input, [{ id: 'ip', kind: 'regex', pattern: '\\d+\\.\\d+\\.\\d+\\.\\d+' }], 'member');
    const text = JSON.stringify(out);
    expect(text).not.toMatch(/198\.51\./);
    expect(out.title).toBe('Review of [REDACTED]');
    expect(out.sections[0]!.rows[1]!.highlight!.note).toBe('talks to [REDACTED]');
    expect(out.run.id).toBe(model.run.id);
  });

  it('refuses to apply an invalid pattern with a validation error instead of exporting unredacted', () => {
    expect(() => redact(model, [{ id: 'bad', kind: 'regex', pattern: '(a)\\1' }], 'member')).toThrow(ValidationError);
  });

  it('leaves no redacted value anywhere in the model, whatever the values and rules (property)', () => {
    // Values with regex and Markdown metacharacters, overlaps with one another and with the marker's letters.
    const value = fc.stringMatching(/^[a-zA-Z0-9.|*()\-\[\] ]{2,16}$/).filter((v) => v.trim().length > 1);
    const rule = fc.oneof(
      fc.record({ id: fc.constant('t'), kind: fc.constant('tlp' as const), tlp: fc.subarray([...TLPS], { minLength: 1 }) }),
      fc.record({ id: fc.constant('e'), kind: fc.constant('entity-type' as const), types: fc.subarray(['url', 'file', 'domain-name'], { minLength: 1 }) }),
      fc.record({ id: fc.constant('p'), kind: fc.constant('property' as const), names: fc.subarray(['sources', 'value', 'since', 'labels'], { minLength: 1 }) }),
      fc.record({ id: fc.constant('r'), kind: fc.constant('regex' as const), pattern: fc.constantFrom('[0-9]{2,}', 'evil', '[A-Z][a-z]+', 'c2-[0-9]+') }),
    );
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 6 }), fc.array(rule, { minLength: 1, maxLength: 3 }), (values, rules) => {
        const input = buildExportModel({ rows: 0 });
        const rows = values.map((v, i) => buildRow(i, { name: v }));
        input.sections[0]!.rows = rows;
        // The same values leak into free text: an annotation, a parameter, a highlight note, a provenance source.
        input.annotations[0]!.text = `about ${values.join(' and ')}`;
        input.parameters.push({ name: 'seeds', value: values });
        input.provenance[0]!.source = `via ${values[0]}`;
        if (rows[0]) rows[0].highlight = { severity: 'high', note: `see ${values.at(-1)}`, rule: 'x' };

        const { model: out, redactedValues } = redact(input, rules, 'member');
        const structural = new Set(structuralStrings(out));
        const pieces = stringsOf(out).filter((s) => !structural.has(s)).flatMap(piecesOf).map((p) => p.toLowerCase());
        for (const removed of redactedValues) {
          expect(pieces.some((p) => p.includes(removed.toLowerCase())), removed).toBe(false);
        }
        // And in the serialised model, apart from JSON keys and structural fields a value may coincide with.
        const json = piecesOf(JSON.stringify(out));
        const exempt = [...keysOf(out), ...structuralStrings(out)];
        for (const removed of redactedValues) {
          const encoded = JSON.stringify(removed).slice(1, -1);
          if (exempt.some((s) => s.includes(removed))) continue;
          expect(json.some((p) => p.includes(encoded)), removed).toBe(false);
        }
      }),
      { numRuns: 150 },
    );
  });
});
