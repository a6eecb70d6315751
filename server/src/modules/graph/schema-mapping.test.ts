import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkMapping, mappingSchema, pathSegments, readPath } from './schema-mapping.js';

const closed = {
  type: 'object',
  properties: { src_ip: { type: 'string' }, dns: { type: 'object', properties: { host: { type: 'string' } }, additionalProperties: false } },
  additionalProperties: false,
};

describe('mappingSchema', () => {
  it('accepts the documented example', () => {
    const parsed = mappingSchema.safeParse({
      entities: [{ type: 'ipv4-addr', value: '$.src_ip' }, { type: 'domain-name', value: '$.host' }],
      relationships: [{ type: 'resolves-to', source: 0, target: 1 }],
      confidence: '$.score',
      firstSeen: '$.first_seen',
    });
    expect(parsed.success).toBe(true);
  });

  it.each([
    [{ entities: [] }, 'entities'],
    [{ entities: [{ type: 'ip-address', value: '$.a' }] }, 'entities.0.type'],
    [{ entities: [{ type: 'url', value: 'src' }] }, 'entities.0.value'],
    [{ entities: [{ type: 'url', value: '$.a[0]' }] }, 'entities.0.value'],
    [{ entities: [{ type: 'url', value: '$.a' }], relationships: [{ type: 'knows', source: 0, target: 0 }] }, 'relationships.0.type'],
    [{ entities: [{ type: 'url', value: '$.a' }], script: 'x' }, ''],
  ])('refuses %j', (mapping, where) => {
    const parsed = mappingSchema.safeParse(mapping);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.path.join('.'))).toContain(where);
  });
});

describe('checkMapping', () => {
  it('refuses relationship ends outside the entities and self-relationships', () => {
    const mapping = mappingSchema.parse({ entities: [{ type: 'url', value: '$.a' }], relationships: [{ type: 'related-to', source: 0, target: 2 }, { type: 'related-to', source: 0, target: 0 }] });
    expect(checkMapping(mapping, {}).map((p) => p.path)).toEqual(['body.mapping.relationships[0].target', 'body.mapping.relationships[1]']);
  });

  it('names a path a closed JSON Schema can never fill, with the fields it has', () => {
    const mapping = mappingSchema.parse({ entities: [{ type: 'ipv4-addr', value: '$.src_ip' }, { type: 'domain-name', value: '$.dns.hots' }], firstSeen: '$.seen' });
    expect(checkMapping(mapping, closed)).toEqual([
      { path: 'body.mapping.entities[1].value', message: '$.dns.hots names no field the JSON Schema allows: $.dns has host' },
      { path: 'body.mapping.firstSeen', message: '$.seen names no field the JSON Schema allows: $ has src_ip, dns' },
    ]);
  });

  it('says nothing where the schema is open', () => {
    const mapping = mappingSchema.parse({ entities: [{ type: 'url', value: '$.anything.at.all' }] });
    expect(checkMapping(mapping, { type: 'object' })).toEqual([]);
    expect(checkMapping(mapping, { type: 'object', properties: { a: {} }, additionalProperties: false, patternProperties: { '^any': {} } })).toEqual([]);
  });
});

describe('readPath', () => {
  it('reads nested properties and list items, and gives undefined for anything missing', () => {
    const record = { a: { b: [{ c: 'x' }] }, n: null };
    expect(readPath(record, pathSegments('$.a.b.0.c'))).toBe('x');
    expect(readPath(record, pathSegments('$.a.b.1.c'))).toBeUndefined();
    expect(readPath(record, pathSegments('$.n.x'))).toBeUndefined();
    expect(readPath(record, pathSegments('$.a.constructor'))).toBeUndefined();
  });

  it('never throws, whatever the record', () => {
    fc.assert(fc.property(fc.jsonValue(), fc.array(fc.string(), { maxLength: 5 }), (record, segments) => {
      readPath(record, segments);
    }));
  });
});
