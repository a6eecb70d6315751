import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TLP_MARKING_IDS } from './model.js';
import { normalizeStixObject, parseStixBundle } from './parse.js';

const T = '2024-05-01T12:00:00.000Z';
const ids = {
  bundle: 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d',
  author: 'identity--f431f809-377b-45e0-aa1c-6a4751cae5ff',
  victim: 'identity--a1b2c3d4-377b-45e0-aa1c-6a4751cae5ff',
  indicator: 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f',
  malware: 'malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b',
  ip: 'ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd',
  rel: 'relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad',
  targets: 'relationship--55298a74-ba52-4f0c-87a3-1824e67d7fad',
  ownTlp: 'marking-definition--aa298a74-ba52-4f0c-87a3-1824e67d7fad',
};

function sampleBundle(): Record<string, unknown> {
  const common = { spec_version: '2.1', created: T, modified: T, created_by_ref: ids.author };
  return {
    type: 'bundle',
    id: ids.bundle,
    objects: [
      { type: 'identity', id: ids.author, ...common, name: 'Feed Inc', identity_class: 'organization' },
      { type: 'identity', id: ids.victim, ...common, name: 'Victim Co', identity_class: 'organization' },
      { type: 'marking-definition', id: TLP_MARKING_IDS.amber, spec_version: '2.1', created: T, definition_type: 'tlp', definition: { tlp: 'amber' } },
      { type: 'marking-definition', id: ids.ownTlp, spec_version: '2.1', created: T, definition_type: 'tlp', definition: { tlp: 'red' } },
      { type: 'indicator', id: ids.indicator, ...common, pattern: "[ipv4-addr:value = '198.51.100.7']", pattern_type: 'stix', valid_from: T, object_marking_refs: [ids.ownTlp] },
      { type: 'malware', id: ids.malware, ...common, name: 'Emotet', is_family: true },
      { type: 'ipv4-addr', id: ids.ip, value: '198.51.100.7' },
      { type: 'relationship', id: ids.rel, ...common, relationship_type: 'indicates', source_ref: ids.indicator, target_ref: ids.malware },
      { type: 'relationship', id: ids.targets, ...common, relationship_type: 'targets', source_ref: ids.malware, target_ref: ids.victim },
      { type: 'ipv4-addr', id: 'ipv4-addr--ee26c055-6336-5bc5-b98d-13d6226742dd', value: '999.1.1.1' },
      { type: 'x-acme-thing', id: 'x-acme-thing--ee26c055-6336-5bc5-b98d-13d6226742dd' },
    ],
  };
}

describe('parseStixBundle', () => {
  it('splits a bundle into entities, relationships, sightings and rejections, skipping what it does not import', () => {
    const parsed = parseStixBundle(sampleBundle());
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(parsed.bundleId).toBe(ids.bundle);
    expect(parsed.received).toBe(11);
    // The author identity is only a created_by_ref, so it is provenance, not an entity; the victim is a target.
    expect(parsed.entities.map((e) => e.stixId)).toEqual([ids.victim, ids.indicator, ids.malware, ids.ip]);
    expect(parsed.relationships.map((r) => r.stixId)).toEqual([ids.rel, ids.targets]);
    expect(parsed.sightings).toEqual([]);
    expect(parsed.rejected).toEqual([{ index: 9, id: 'ipv4-addr--ee26c055-6336-5bc5-b98d-13d6226742dd', type: 'ipv4-addr', reason: 'ipv4-addr value 999.1.1.1 is not an IPv4 address (each octet must be 0-255)' }]);
  });

  it('applies TLP marking-definitions the bundle defines under its own ids', () => {
    const parsed = parseStixBundle(sampleBundle());
    expect(parsed.ok && parsed.entities.find((e) => e.stixId === ids.indicator)?.tlp).toBe('red');
    // Without the bundle context the same indicator has no known TLP marking.
    const indicator = (sampleBundle().objects as unknown[])[4];
    const alone = normalizeStixObject(indicator, 4);
    expect(alone.kind === 'entity' && alone.entity.tlp).toBeNull();
    expect(alone.kind === 'entity' && alone.entity.properties.object_marking_refs).toEqual([ids.ownTlp]);
  });

  it('keeps a creator identity as an entity when a relationship points at it', () => {
    const bundle = sampleBundle();
    (bundle.objects as Record<string, unknown>[])[8]!.target_ref = ids.author;
    const parsed = parseStixBundle(bundle);
    expect(parsed.ok && parsed.entities.map((e) => e.stixId)).toContain(ids.author);
  });

  it('accepts a bundle without objects, or without a valid id', () => {
    expect(parseStixBundle({ type: 'bundle', id: ids.bundle })).toEqual({ ok: true, bundleId: ids.bundle, received: 0, entities: [], relationships: [], sightings: [], rejected: [] });
    expect(parseStixBundle({ type: 'bundle', id: 'bundle-1', objects: [] })).toMatchObject({ ok: true, bundleId: null });
    expect(parseStixBundle({ type: 'bundle', spec_version: '2.1', objects: [] })).toMatchObject({ ok: true });
  });

  it.each<[string, unknown, string]>([
    ['null', null, 'expected a STIX bundle'],
    ['a list', [], 'got a list'],
    ['a string', '{"type":"bundle"}', 'got string'],
    ['a lone object', { type: 'indicator', id: ids.indicator }, 'wrap it in a bundle'],
    ['no type', { objects: [] }, 'expected "type": "bundle"'],
    ['a STIX 2.0 bundle', { type: 'bundle', spec_version: '2.0', objects: [] }, 'bundle spec_version 2.0 is not STIX 2.1'],
    ['objects not a list', { type: 'bundle', objects: { a: 1 } }, 'bundle objects must be a list'],
  ])('is not ok for %s', (_label, input, reason) => {
    const parsed = parseStixBundle(input);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toContain(reason);
  });
});

describe('parseStixBundle on hostile input', () => {
  /** A result that holds together: every returned item comes from a distinct received object, reasons are text. */
  const isWellFormed = (parsed: ReturnType<typeof parseStixBundle>) => {
    if (!parsed.ok) return typeof parsed.reason === 'string' && parsed.reason !== '';
    const returned = parsed.entities.length + parsed.relationships.length + parsed.sightings.length + parsed.rejected.length;
    return returned <= parsed.received && parsed.rejected.every((r) => r.index >= 0 && r.index < parsed.received && r.reason !== '');
  };

  it('never throws on arbitrary JSON', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => {
      expect(isWellFormed(parseStixBundle(value))).toBe(true);
    }), { numRuns: 500 });
  });

  it('never throws on arbitrary values, as a bundle or as its objects', () => {
    fc.assert(
      fc.property(fc.anything(), fc.array(fc.anything()), (value, objects) => {
        expect(isWellFormed(parseStixBundle(value))).toBe(true);
        const parsed = parseStixBundle({ type: 'bundle', objects });
        expect(parsed.ok).toBe(true);
        // Every object that is not a JSON object is rejected, never silently dropped.
        const notObjects = objects.filter((o) => typeof o !== 'object' || o === null || Array.isArray(o)).length;
        expect(parsed.ok && parsed.rejected.length).toBeGreaterThanOrEqual(notObjects);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws when any field of a valid object is replaced by anything', () => {
    const fields = ['type', 'id', 'spec_version', 'created', 'modified', 'value', 'name', 'pattern', 'pattern_type', 'valid_from', 'hashes', 'number', 'confidence',
      'object_marking_refs', 'relationship_type', 'source_ref', 'target_ref', 'sighting_of_ref', 'count', 'first_seen', 'created_by_ref', 'content', 'published'];
    const base = { type: 'indicator', id: ids.indicator, spec_version: '2.1', created: T, modified: T, pattern: "[ipv4-addr:value = '1.2.3.4']", pattern_type: 'stix', valid_from: T };
    const types = fc.constantFrom('indicator', 'ipv4-addr', 'file', 'autonomous-system', 'relationship', 'sighting', 'malware', 'note', 'report', 'identity');
    fc.assert(
      fc.property(types, fc.dictionary(fc.constantFrom(...fields), fc.anything()), (type, replaced) => {
        const object = { ...base, type, id: `${type}--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f`, ...replaced };
        expect(isWellFormed(parseStixBundle({ type: 'bundle', objects: [object, { ...object, created_by_ref: object.id }] }))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('survives deep nesting, huge strings and objects whose properties throw when read', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i += 1) deep = i % 2 ? [deep] : { d: deep };
    const hostile = new Proxy({}, { get: () => { throw new Error('boom'); }, ownKeys: () => { throw new Error('boom'); } });
    const huge = 'a'.repeat(5_000_000);
    const parsed = parseStixBundle({
      type: 'bundle',
      objects: [
        { type: 'malware', id: ids.malware, spec_version: '2.1', created: T, modified: T, name: 'x', x_deep: deep },
        { type: 'ipv4-addr', id: ids.ip, value: huge },
        { type: 'url', id: 'url--ff26c055-6336-5bc5-b98d-13d6226742dd', value: `http://x.example/${huge}` },
        hostile,
        deep,
      ],
    });
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(parsed.entities.map((e) => e.type)).toEqual(['malware', 'url']);
    expect(parsed.entities[1]!.key).toMatch(/^digest:/);
    expect(parsed.rejected.map((r) => r.index)).toEqual([1, 3, 4]);
    expect(parsed.rejected[0]!.reason.length).toBeLessThan(200);
    expect(parseStixBundle(hostile)).toMatchObject({ ok: false });
    expect(parseStixBundle(deep)).toMatchObject({ ok: false });
  });
});
