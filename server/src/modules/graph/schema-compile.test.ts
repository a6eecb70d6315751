import { describe, expect, it } from 'vitest';
import { compileJsonSchema, describeRecordError, MAX_JSON_SCHEMA_BYTES } from './schema-compile.js';

const feed = {
  type: 'object',
  properties: { src_ip: { type: 'string', format: 'ipv4' }, score: { type: 'integer', minimum: 0, maximum: 100 } },
  required: ['src_ip'],
  additionalProperties: false,
};

function compiled(schema: Record<string, unknown>) {
  const result = compileJsonSchema(schema);
  if (!result.ok) throw new Error(result.problem);
  return result;
}

describe('compileJsonSchema', () => {
  it('compiles draft 2020-12 by default and draft-07 when $schema says so', () => {
    expect(compiled(feed).draft).toBe('2020-12');
    const draft07 = compiled({ $schema: 'http://json-schema.org/draft-07/schema#', definitions: { ip: { type: 'string' } }, properties: { a: { $ref: '#/definitions/ip' } } });
    expect(draft07.draft).toBe('draft-07');
    expect(draft07.validate({ a: 1 })).toBe(false);
  });

  it('validates records, formats included, and names the first problem with its place', () => {
    const { validate } = compiled(feed);
    expect(validate({ src_ip: '192.0.2.1', score: 5 })).toBe(true);
    expect(validate({ src_ip: 'not-an-ip' })).toBe(false);
    expect(describeRecordError(validate.errors)).toBe('record/src_ip must match format "ipv4"');
    expect(validate({ src_ip: '192.0.2.1', extra: 1 })).toBe(false);
    expect(describeRecordError(validate.errors)).toBe('record must NOT have additional properties (extra)');
    expect(validate({})).toBe(false);
    expect(describeRecordError(validate.errors)).toContain("must have required property 'src_ip'");
  });

  it.each([
    [{ type: 'objekt' }, 'must be equal to one of the allowed values'],
    [{ type: 'string', format: 'no-such-format' }, 'unknown format "no-such-format"'],
    [{ type: 'object', requried: ['a'] }, 'unknown keyword: "requried"'],
    [{ $ref: 'https://example.com/remote.json' }, "can't resolve reference"],
    [{ $schema: 'http://json-schema.org/draft-04/schema#' }, 'is not supported'],
    [{ description: 'x'.repeat(MAX_JSON_SCHEMA_BYTES) }, 'at most'],
  ])('refuses %j with a reason', (schema, reason) => {
    const result = compileJsonSchema(schema as Record<string, unknown>);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problem).toContain(reason);
  });

  it('compiles two schemas with the same $id independently', () => {
    expect(compiled({ $id: 'https://feeds.example/a', type: 'string' }).validate('x')).toBe(true);
    expect(compiled({ $id: 'https://feeds.example/a', type: 'number' }).validate('x')).toBe(false);
  });
});
