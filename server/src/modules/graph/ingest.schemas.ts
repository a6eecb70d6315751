import { z } from 'zod';
import { CHUNK, INLINE_OBJECTS } from './ingest.service.js';

/**
 * The STIX bundle body. It is read as a stream (stix/bundle-stream.ts), never validated by zod as a whole: zod sees
 * the byte stream and lets it through, and each object is validated on its own as it arrives. The JSON Schema
 * given to OpenAPI describes the bundle for readers and client generators.
 */
export const stixBundleBody = z.unknown().meta({
  description: 'A STIX 2.1 bundle. Streamed: objects are read and checked one by one as the bytes arrive.',
  type: 'object',
  required: ['type'],
  properties: {
    type: { const: 'bundle' },
    id: { type: 'string', description: 'bundle--<uuid>' },
    objects: { type: 'array', items: { type: 'object', required: ['type', 'id'], additionalProperties: true } },
  },
  example: { type: 'bundle', id: 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d', objects: [{ type: 'ipv4-addr', id: 'ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd', value: '198.51.100.7' }] },
});

export const stixBundleDescription = [
  'The body is a STIX 2.1 bundle (`application/json`, `application/stix+json` or `application/taxii+json`), up to 64 MB,',
  'read as a stream: the server never holds it whole. A body that is not JSON, not one object with `"type": "bundle"`,',
  'or not STIX 2.1 is refused with 400 as soon as the bytes show it, naming the byte offset; nothing is written. A larger',
  `body gets 413. Bundles of up to ${INLINE_OBJECTS.toLocaleString('en')} objects are ingested during the request (the run comes back`,
  `finished); larger ones are stored in chunks of ${CHUNK} objects and ingested by a job (the run comes back \`queued\`).`,
  'Each object that is not valid STIX is rejected on its own with a reason in the run; the others land.',
].join(' ');
