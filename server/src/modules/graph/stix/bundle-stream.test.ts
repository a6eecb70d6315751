import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BundleStreamError, createBundleStreamReader, MAX_DEPTH } from './bundle-stream.js';

const encoder = new TextEncoder();

/** Reads text split at the given byte positions; returns the objects and the header, or the error. */
function read(text: string, cuts: number[] = []) {
  const bytes = encoder.encode(text);
  const reader = createBundleStreamReader();
  const objects: unknown[] = [];
  const bounds = [0, ...[...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length];
  try {
    for (let i = 0; i + 1 < bounds.length; i++) {
      for (const o of reader.write(bytes.subarray(bounds[i], bounds[i + 1]))) objects.push(o);
    }
    return { objects, header: reader.end() };
  } catch (error) {
    if (error instanceof BundleStreamError) return { error };
    throw error;
  }
}

describe('createBundleStreamReader', () => {
  it('hands out each element of objects with its index and keeps the bundle id', () => {
    const result = read('{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{"type":"x","n":[1,{"a":null}]}, 7, "s"]}');
    expect(result.objects).toEqual([
      { index: 0, object: { type: 'x', n: [1, { a: null }] } },
      { index: 1, object: 7 },
      { index: 2, object: 's' },
    ]);
    expect(result.header).toEqual({ bundleId: 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d' });
  });

  it('gives the same objects however the bytes are split', () => {
    const value = fc.letrec((tie) => ({
      json: fc.oneof({ depthSize: 'small' }, fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), fc.array(tie('json'), { maxLength: 4 }), fc.dictionary(fc.string(), tie('json'), { maxKeys: 4 })),
    })).json;
    fc.assert(
      fc.property(fc.array(value, { maxLength: 8 }), fc.dictionary(fc.string().filter((k) => !['type', 'id', 'spec_version', 'objects'].includes(k)), value, { maxKeys: 3 }), fc.array(fc.nat(), { maxLength: 12 }), (objects, extra, cuts) => {
        const text = JSON.stringify({ ...extra, type: 'bundle', objects });
        const result = read(text, cuts);
        expect(result.error).toBeUndefined();
        expect(result.objects!.map((o) => (o as { object: unknown }).object)).toEqual(JSON.parse(JSON.stringify(objects)));
      }),
    );
  });

  it('refuses a body that is not one JSON object with "type": "bundle", as soon as it shows', () => {
    expect(read('[{"type":"bundle"}]').error).toMatchObject({ kind: 'not-a-bundle', offset: 0, reason: expect.stringContaining('got a list') });
    expect(read('{"type":"indicator","objects":[').error).toMatchObject({ kind: 'not-a-bundle', reason: expect.stringContaining('wrap it in a bundle') });
    expect(read('{"spec_version":"2.0","type":"bundle","objects":[]}').error).toMatchObject({ kind: 'not-a-bundle', reason: expect.stringContaining('not STIX 2.1') });
    expect(read('{"type":"bundle","objects":{"a":{}}}').error).toMatchObject({ kind: 'not-a-bundle', reason: 'bundle objects must be a list' });
    expect(read('{"objects":[]}').error).toMatchObject({ kind: 'not-a-bundle', reason: expect.stringContaining('got no type') });
  });

  it('names the byte offset of malformed JSON, including inside a skipped member', () => {
    const text = '{"type":"bundle","objects":[{"type":"x"},{"type" "y"}]}';
    expect(read(text, [5, 20, 33]).error).toMatchObject({ kind: 'malformed', offset: text.indexOf('"y"') });
    const skipped = '{"type":"bundle","x_extra":[1,2},"objects":[]}';
    expect(read(skipped).error).toMatchObject({ kind: 'malformed', offset: skipped.indexOf('}') });
    const badByte = '{"type":"bundle","objects":[tru]}';
    expect(read(badByte).error).toMatchObject({ kind: 'malformed', offset: badByte.indexOf(']') });
    expect(read('{"type":"bundle","objects":[{}').error).toMatchObject({ kind: 'malformed', reason: expect.stringContaining('truncated'), offset: 30 });
    expect(read('{"type":"bundle","objects":[]} {}').error).toMatchObject({ kind: 'malformed', reason: expect.stringContaining('after the bundle') });
    expect(read('').error).toMatchObject({ reason: 'the body is empty' });
  });

  it(`refuses JSON nested deeper than ${MAX_DEPTH} levels`, () => {
    const deep = `{"type":"bundle","objects":[${'['.repeat(MAX_DEPTH)}${']'.repeat(MAX_DEPTH)}]}`;
    expect(read(deep).error).toMatchObject({ kind: 'malformed', reason: expect.stringContaining('deeper') });
  });
});
