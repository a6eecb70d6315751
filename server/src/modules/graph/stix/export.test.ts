import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toStixBundle, toStixObject, toStixRelationship, toStixSighting } from './export.js';
import {
  ENTITY_TYPES,
  RELATIONSHIP_TYPES,
  TLP_BY_MARKING_ID,
  TLP_MARKING_IDS,
  type NormalizedEntity,
  type NormalizedRelationship,
  type NormalizedSighting,
} from './model.js';
import { normalizeStixObject, parseStixBundle } from './parse.js';

// ---- Generators of valid STIX 2.1 objects, deliberately written in non-canonical forms (case, offsets, spacing).

const uuid = fc.uuid();
const idOf = (type: string) => uuid.map((u) => `${type}--${u}`);
const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: length, maxLength: length });
const text = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== '');
const instant = fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2090-01-01T00:00:00Z'), noInvalidDate: true });
type Form = 'ms' | 'seconds' | 'micro' | 'offset';
/** An instant written as producers write them: Z with 0, 3 or 6 fraction digits, or with an offset. */
function written(date: Date, form: Form, extraMicros = '000'): string {
  const iso = date.toISOString();
  if (form === 'seconds' && date.getUTCMilliseconds() === 0) return `${iso.slice(0, 19)}Z`;
  if (form === 'micro') return `${iso.slice(0, 23)}${extraMicros}Z`;
  if (form !== 'offset') return iso;
  return `${new Date(date.getTime() + 90 * 60_000).toISOString().slice(0, 23)}+01:30`;
}
const form = fc.constantFrom<Form>('ms', 'seconds', 'micro', 'offset');
const timestamp = fc.tuple(instant, form, fc.integer({ min: 0, max: 999 })).map(([date, f, micros]) => written(date, f, String(micros).padStart(3, '0')));
/** Two timestamps in order, as [earlier, later], each in its own written form (forms that keep the instant exactly). */
const ordered = fc.tuple(instant, instant, form, form).map(([a, b, fa, fb]) => {
  const [early, late] = a <= b ? [a, b] : [b, a];
  return [written(early, fa), written(late, fb)] as [string, string];
});
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const markingRefs = fc.subarray([...TLP_BY_MARKING_ID.keys(), 'marking-definition--33333333-3333-4333-8333-333333333333']);
const confidence = optional(fc.integer({ min: 0, max: 100 }));
/** Properties a producer adds that Summit keeps verbatim. */
const extras = fc.record(
  {
    description: text,
    labels: fc.array(text, { maxLength: 3 }),
    // Through JSON once: a bundle travels as JSON, which has no -0.
    x_vendor: fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.parse(JSON.stringify(value)) as unknown),
    external_references: fc.array(fc.record({ source_name: text, url: fc.webUrl() }), { maxLength: 2 }),
  },
  { requiredKeys: [] },
);

/** Drops undefined members so generated objects look like parsed JSON. */
const compact = (object: Record<string, unknown>) => Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined));
const marked = (marks: string[]) => (marks.length ? marks : undefined);

const fileIdentity = fc.record(
  {
    hashes: fc.record({ MD5: hex(32), sha1: hex(40), 'SHA-256': hex(64), SHA512: hex(128) }, { requiredKeys: ['MD5'] }),
    name: text,
    size: fc.nat(),
  },
  { requiredKeys: ['hashes'] },
);
const scoIdentity: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  'ipv4-addr': fc.ipV4().map((value) => ({ value })),
  'ipv6-addr': fc.ipV6().map((value) => ({ value: value.toUpperCase() })),
  'domain-name': fc.domain().map((value) => ({ value: value.toUpperCase() })),
  url: fc.webUrl({ withQueryParameters: true, withFragments: true }).map((value) => ({ value })),
  'email-addr': fc.emailAddress().map((value) => ({ value, display_name: 'Someone' })),
  'mac-addr': hex(12).map((value) => ({ value: value.match(/../g)!.join('-') })),
  'autonomous-system': fc.integer({ min: 0, max: 4_294_967_295 }).map((number) => ({ number, name: 'AS-NAME' })),
  file: fileIdentity,
};

const sco = fc.constantFrom(...Object.keys(scoIdentity)).chain((type) =>
  fc
    .record({ id: idOf(type), identity: scoIdentity[type]!, marks: markingRefs, confidence, spec: fc.boolean(), extras })
    .map((o) =>
      compact({
        type,
        id: o.id,
        spec_version: o.spec ? '2.1' : undefined,
        ...o.extras,
        ...o.identity,
        object_marking_refs: marked(o.marks),
        x_summit_confidence: o.confidence,
      }),
    ),
);

const sdoIdentity: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  indicator: fc.record({ name: optional(text), ip: fc.ipV4(), validity: ordered }).map(({ name, ip, validity }) =>
    compact({ name, pattern: `[ipv4-addr:value =  '${ip}']`, pattern_type: 'stix', valid_from: validity[0], valid_until: validity[1] }),
  ),
  note: text.map((content) => ({ content, object_refs: ['malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b'] })),
  report: fc.tuple(text, timestamp).map(([name, published]) => ({ name, published, object_refs: [] })),
};
const namedTypes = ['threat-actor', 'intrusion-set', 'malware', 'tool', 'campaign', 'vulnerability', 'infrastructure', 'identity', 'incident'];
const nativeSeenTypes = ['campaign', 'intrusion-set', 'threat-actor', 'infrastructure', 'malware'];

const sdo = fc.constantFrom(...namedTypes, ...Object.keys(sdoIdentity)).chain((type) =>
  fc
    .record({
      id: idOf(type),
      identity: sdoIdentity[type] ?? text.map((name) => ({ name: `  ${name} ` })),
      lifetime: ordered,
      seen: optional(ordered),
      marks: markingRefs,
      confidence,
      extras,
    })
    .map((o) => {
      const [first, last] = nativeSeenTypes.includes(type) ? ['first_seen', 'last_seen'] : ['x_summit_first_seen', 'x_summit_last_seen'];
      return compact({
        type,
        spec_version: '2.1',
        id: o.id,
        created: o.lifetime[0],
        modified: o.lifetime[1],
        ...o.extras,
        ...o.identity,
        confidence: o.confidence,
        [first!]: o.seen?.[0],
        [last!]: o.seen?.[1],
        object_marking_refs: marked(o.marks),
      });
    }),
);

const relationshipEnds = fc
  .tuple(fc.constantFrom(...ENTITY_TYPES), fc.constantFrom(...ENTITY_TYPES))
  .chain(([a, b]) => fc.tuple(idOf(a), idOf(b)))
  .filter(([a, b]) => a !== b);
const relationship = fc
  .record({
    id: idOf('relationship'),
    relationshipType: fc.constantFrom(...RELATIONSHIP_TYPES, 'exfiltrate-to'),
    ends: relationshipEnds,
    lifetime: ordered,
    active: optional(ordered),
    description: optional(text),
    confidence,
    marks: markingRefs,
  })
  .map((r) =>
    compact({
      type: 'relationship',
      spec_version: '2.1',
      id: r.id,
      created: r.lifetime[0],
      modified: r.lifetime[1],
      relationship_type: r.relationshipType,
      source_ref: r.ends[0],
      target_ref: r.ends[1],
      description: r.description,
      confidence: r.confidence,
      start_time: r.active?.[0],
      stop_time: r.active?.[1],
      object_marking_refs: marked(r.marks),
    }),
  );

const sighting = fc
  .record({
    id: idOf('sighting'),
    of: fc.constantFrom('indicator', 'malware', 'campaign').chain(idOf),
    where: fc.array(idOf('identity'), { maxLength: 2 }),
    observed: fc.array(idOf('observed-data'), { maxLength: 2 }),
    created: timestamp,
    count: optional(fc.integer({ min: 1, max: 999_999_999 })),
    seen: optional(ordered),
    confidence,
    truePositive: optional(fc.boolean()),
  })
  .map((s) =>
    compact({
      type: 'sighting',
      spec_version: '2.1',
      id: s.id,
      created: s.created,
      modified: s.created,
      sighting_of_ref: s.of,
      where_sighted_refs: s.where,
      observed_data_refs: s.observed,
      count: s.count,
      first_seen: s.seen?.[0],
      last_seen: s.seen?.[1],
      confidence: s.confidence,
      x_summit_true_positive: s.truePositive,
    }),
  );
const anyObject = fc.oneof(sco, sdo, relationship, sighting);

// ---- Properties

function normalised(object: unknown) {
  const result = normalizeStixObject(object, 0);
  if (result.kind === 'rejected') throw new Error(`rejected: ${result.rejection.reason}\n${JSON.stringify(object)}`);
  return result;
}

function exported(result: ReturnType<typeof normalizeStixObject>): Record<string, unknown> {
  if (result.kind === 'entity') return toStixObject(result.entity);
  if (result.kind === 'relationship') return toStixRelationship(result.relationship);
  if (result.kind === 'sighting') return toStixSighting(result.sighting);
  throw new Error(`nothing to export for ${result.kind}`);
}

function exportAll(parsed: { entities: NormalizedEntity[]; relationships: NormalizedRelationship[]; sightings: NormalizedSighting[] }) {
  return [
    ...parsed.entities.map((e) => toStixObject(e)),
    ...parsed.relationships.map((r) => toStixRelationship(r)),
    ...parsed.sightings.map((s) => toStixSighting(s)),
  ];
}

describe('import → export → import', () => {
  it('accepts every generated object (the generators make valid STIX)', () => {
    fc.assert(
      fc.property(anyObject, (object) => {
        expect(['entity', 'relationship', 'sighting']).toContain(normalised(object).kind);
      }),
      { numRuns: 300 },
    );
  });

  it('is the identity on normalised values, object by object', () => {
    fc.assert(
      fc.property(anyObject, (object) => {
        const first = normalised(object);
        const second = normalised(exported(first));
        expect(second).toEqual(first);
        expect(exported(second)).toEqual(exported(first));
      }),
      { numRuns: 1000 },
    );
  });

  it('is the identity on whole bundles, which parse without rejections', () => {
    const objects = fc.uniqueArray(anyObject, { selector: (o) => o.id, maxLength: 12 });
    fc.assert(
      fc.property(objects, (list) => {
        const first = parseStixBundle({ type: 'bundle', id: 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d', objects: list });
        if (!first.ok) throw new Error(first.reason);
        const second = parseStixBundle(JSON.parse(JSON.stringify(toStixBundle(exportAll(first)))));
        if (!second.ok) throw new Error(second.reason);
        expect(second.rejected).toEqual([]);
        expect(exportAll(second)).toEqual(exportAll(first));
        expect([second.entities, second.relationships, second.sightings]).toEqual([first.entities, first.relationships, first.sightings]);
      }),
      { numRuns: 200 },
    );
  });
});

describe('export', () => {
  const entity: NormalizedEntity = {
    stixId: 'tool--9b8e2d2b-17d4-4cbf-938f-98ee46b3cd3f',
    type: 'tool',
    key: 'mimikatz',
    name: 'Mimikatz',
    properties: { tool_types: ['credential-exploitation'] },
    confidence: 60,
    tlp: 'amber+strict',
    firstSeen: null,
    lastSeen: null,
    created: null,
    modified: null,
  };

  it('writes the TLP 2.0 marking and adds its marking-definition to the bundle', () => {
    const object = toStixObject(entity, { fallbackTime: '2024-05-01T12:00:00Z' });
    expect(object).toEqual({
      type: 'tool',
      spec_version: '2.1',
      id: entity.stixId,
      created: '2024-05-01T12:00:00.000Z',
      modified: '2024-05-01T12:00:00.000Z',
      name: 'Mimikatz',
      tool_types: ['credential-exploitation'],
      confidence: 60,
      object_marking_refs: [TLP_MARKING_IDS['amber+strict']],
    });
    const bundle = toStixBundle([object], 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d');
    const marking = { type: 'marking-definition', id: TLP_MARKING_IDS['amber+strict'], name: 'TLP:AMBER+STRICT' };
    expect(bundle.objects).toEqual([expect.objectContaining(marking), object]);
    const parsed = parseStixBundle(bundle);
    expect(parsed.ok && parsed.entities[0]?.tlp).toBe('amber+strict');
  });

  it('gives each bundle a fresh bundle--<uuid> id unless one is passed', () => {
    const a = toStixBundle([]).id as string;
    expect(a).toMatch(/^bundle--[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(toStixBundle([]).id).not.toBe(a);
  });

  it('reads times from database rows (Date objects, PostgreSQL text) and never writes modified before created', () => {
    const row = { ...entity, created: new Date('2024-05-02T00:00:00Z') as unknown as string, modified: '2024-05-01 00:00:00.5+00', firstSeen: '2024-04-01 10:00:00+02' };
    const object = toStixObject(row);
    expect(object).toMatchObject({ created: '2024-05-02T00:00:00.000Z', modified: '2024-05-02T00:00:00.000Z', x_summit_first_seen: '2024-04-01T08:00:00.000Z' });
    expect(normalizeStixObject(object, 0).kind).toBe('entity');
  });
});
