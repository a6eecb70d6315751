import { z } from 'zod';
import { pageQuerySchema } from '../../platform/pagination.js';
import { runSchema } from './graph.schemas.js';
import { mappingSchema } from './schema-mapping.js';
import { MAX_RECORDS } from './records.service.js';

const schemaName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, 'use lower-case letters, digits, ".", "_" and "-" (up to 100), starting with a letter or digit')
  .describe('The feed schema\'s name; with the version it names the provenance source schema:<name>@<version>.');
const schemaVersion = z.number().int().min(1).max(1_000_000).describe('A positive integer; a change to a schema is a new version.');
const status = z.enum(['pending', 'approved']);

export const createSchemaBody = z.object({
  name: schemaName,
  version: schemaVersion,
  jsonSchema: z
    .record(z.string(), z.unknown())
    .describe('A JSON Schema (draft 2020-12, or draft-07 when $schema says so) every record must satisfy. Compiled on submission; $ref must resolve within it.'),
  mapping: mappingSchema,
});

export const schemaSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  version: z.number().int(),
  source: z.string().describe('The provenance source of records ingested with this version.'),
  status,
  submittedBy: z.string(),
  submittedAt: z.iso.datetime(),
  approvedBy: z.string().nullable(),
  approvedAt: z.iso.datetime().nullable(),
});
export const overrideSchema = z.object({
  id: z.uuid(),
  schemaId: z.uuid(),
  reason: z.string(),
  expiresAt: z.iso.datetime(),
  grantedBy: z.string(),
  grantedAt: z.iso.datetime(),
  active: z.boolean(),
});
export const schemaDetailSchema = schemaSchema.extend({
  jsonSchema: z.record(z.string(), z.unknown()),
  mapping: mappingSchema,
  overrides: z.array(overrideSchema).describe('The latest 20 overrides, newest first.'),
});

export const listSchemasQuery = pageQuerySchema.extend({
  name: schemaName.optional(),
  status: status.optional(),
});

export const createOverrideBody = z.object({
  reason: z.string().trim().min(10, 'write at least 10 characters: why this feed must run before approval').max(2000),
  expiresAt: z.iso.datetime({ offset: true }).describe('When the override stops letting ingest through; in the future, at most 30 days away.'),
});

export const ingestRecordsBody = z.object({
  schema: schemaName.describe('The schema\'s name.'),
  version: schemaVersion,
  records: z
    .array(z.unknown())
    .min(1)
    .max(MAX_RECORDS, { error: `at most ${MAX_RECORDS} records per call: split the feed into several calls` }),
});

export const recordsRunSchema = runSchema.extend({
  schemaId: z.uuid(),
  records: z
    .object({ received: z.number().int(), accepted: z.number().int(), rejected: z.number().int() })
    .describe('Per record; the run counts are per STIX object, with each rejected record counted once.'),
});
