import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mapRecord } from './records-mapper.js';
import { mappingSchema } from './schema-mapping.js';
import { TLP_MARKING_IDS } from './stix/model.js';
import { parseStixBundle } from './stix/parse.js';

const AT = '2026-03-01T00:00:00.000Z';
const mapping = mappingSchema.parse({
  entities: [{ type: 'ipv4-addr', value: '$.src_ip' }, { type: 'domain-name', value: '$.host' }],
  relationships: [{ type: 'resolves-to', source: 1, target: 0 }],
  confidence: '$.score',
  firstSeen: '$.first_seen',
  tlp: 'amber',
});

function objectsOf(record: unknown, m = mapping) {
  const mapped = mapRecord(record, m, AT);
  if (!mapped.ok) throw new Error(mapped.reason);
  return mapped.objects;
}

describe('mapRecord', () => {
  it('turns a record into STIX objects that import cleanly, with confidence, seen time and TLP', () => {
    const objects = objectsOf({ src_ip: '198.51.100.7', host: 'Evil.Example.com', score: 80, first_seen: '2026-02-01T10:00:00Z' });
    expect(objects.map((o) => o.type)).toEqual(['ipv4-addr', 'domain-name', 'relationship']);
    const parsed = parseStixBundle({ type: 'bundle', objects });
    expect(parsed.ok && parsed.rejected).toEqual([]);
    expect(parsed.ok && parsed.entities.map((e) => [e.key, e.confidence, e.tlp, e.firstSeen])).toEqual([
      ['198.51.100.7', 80, 'amber', '2026-02-01T10:00:00.000Z'],
      ['evil.example.com', 80, 'amber', '2026-02-01T10:00:00.000Z'],
    ]);
    expect(objects[2]).toMatchObject({ relationship_type: 'resolves-to', source_ref: objects[1]!.id, target_ref: objects[0]!.id, object_marking_refs: [TLP_MARKING_IDS.amber] });
  });

  it('gives the same record the same ids, and observables their STIX deterministic ids', () => {
    const record = { src_ip: '198.51.100.7', host: 'a.example' };
    expect(objectsOf(record).map((o) => o.id)).toEqual(objectsOf({ ...record }).map((o) => o.id));
    // STIX 2.1 section 2.9: UUIDv5 over {"value": …} in the STIX namespace.
    // (computed independently with Python's uuid.uuid5)
    expect(objectsOf({ src_ip: '198.51.100.3' })[0]!.id).toBe('ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4');
  });

  it('leaves out an absent field and the relationships that need it', () => {
    const objects = objectsOf({ src_ip: '198.51.100.7', host: null });
    expect(objects.map((o) => o.type)).toEqual(['ipv4-addr']);
  });

  it('rejects a record whose value is not what its entity type needs, naming the field', () => {
    expect(mapRecord({ src_ip: '999.1.1.1', host: 'a.example' }, mapping, AT)).toEqual({
      ok: false,
      reason: expect.stringMatching(/^ipv4-addr from \$\.src_ip: .*999\.1\.1\.1/),
    });
    expect(mapRecord({ src_ip: '198.51.100.7', score: 0.5 }, mapping, AT)).toMatchObject({ ok: false, reason: expect.stringContaining('0.5 must be an integer') });
    expect(mapRecord({ src_ip: 42 }, mapping, AT)).toMatchObject({ ok: false, reason: 'ipv4-addr from $.src_ip is number, not text' });
    expect(mapRecord({ other: 1 }, mapping, AT)).toMatchObject({ ok: false, reason: expect.stringContaining('no mapped field has a value') });
  });

  it('maps hashes, AS numbers, indicators and named objects', () => {
    const m = mappingSchema.parse({
      entities: [
        { type: 'file', value: '$.sha' },
        { type: 'autonomous-system', value: '$.asn' },
        { type: 'indicator', value: '$.pattern' },
        { type: 'threat-actor', value: '$.actor' },
      ],
      relationships: [{ type: 'indicates', source: 2, target: 3 }],
      firstSeen: '$.seen',
    });
    const objects = objectsOf({ sha: 'A'.repeat(64), asn: 'AS64500', pattern: "[ipv4-addr:value = '192.0.2.1']", actor: 'Night Owl', seen: '2026-01-01T00:00:00Z' }, m);
    const parsed = parseStixBundle({ type: 'bundle', objects });
    expect(parsed.ok && parsed.rejected).toEqual([]);
    expect(parsed.ok && parsed.entities.map((e) => e.key)).toEqual(['sha256:' + 'a'.repeat(64), 'AS64500', "[ipv4-addr:value='192.0.2.1']", 'night owl']);
    expect(parsed.ok && parsed.relationships).toHaveLength(1);
  });

  it('never throws, whatever the record', () => {
    fc.assert(fc.property(fc.jsonValue(), (record) => {
      const mapped = mapRecord(record, mapping, AT);
      expect(typeof mapped.ok).toBe('boolean');
    }));
  });
});
