import { z } from 'zod';
import { pageQuerySchema } from '../../platform/pagination.js';
import { ENTITY_TYPES, RELATIONSHIP_TYPES, TLP_LEVELS } from './stix/model.js';

/** `a,b,c` in a query string → a validated list. */
function listOf<T extends string>(values: readonly T[], what: string) {
  return z
    .string()
    .transform((s) => s.split(',').map((v) => v.trim()).filter(Boolean))
    .pipe(z.array(z.enum(values as [T, ...T[]]), { error: `each must be a known ${what}` }).min(1).max(50))
    .optional()
    .describe(`Comma-separated ${what}s.`);
}

const entityType = z.enum(ENTITY_TYPES as [string, ...string[]]);
const tlp = z.enum(TLP_LEVELS);
const confidence = z.number().int().min(0).max(100);
const instant = z.iso.datetime({ offset: true });

export const entitySchema = z.object({
  id: z.uuid(),
  stixId: z.string(),
  type: z.string(),
  key: z.string().describe('Canonical value: lower-cased domain, canonical IPv6, strongest hash, normalised pattern, name.'),
  name: z.string(),
  properties: z.record(z.string(), z.unknown()),
  confidence: z.number().int().nullable(),
  tlp: z.string().nullable(),
  firstSeen: z.iso.datetime().nullable(),
  lastSeen: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
  modifiedAt: z.iso.datetime(),
});
const provenanceSchema = z.object({ source: z.string(), runId: z.uuid().nullable(), originalId: z.string().nullable(), confidence: z.number().int().nullable(), at: z.iso.datetime() });
export const sightingSchema = z.object({
  id: z.uuid(),
  stixId: z.string(),
  entityId: z.uuid(),
  count: z.number().int(),
  firstSeen: z.iso.datetime().nullable(),
  lastSeen: z.iso.datetime().nullable(),
  whereSighted: z.array(z.string()),
  truePositive: z.boolean().nullable(),
  confidence: z.number().int().nullable(),
  createdAt: z.iso.datetime(),
});
export const entityDetailSchema = entitySchema.extend({
  provenance: z.array(provenanceSchema).describe('Every assertion of this entity: which source, which run, its own id.'),
  sources: z.array(z.string()),
  sightings: z.array(sightingSchema).describe('The latest 20 sightings.'),
});
export const relationshipSchema = z.object({
  id: z.uuid(),
  stixId: z.string(),
  type: z.string(),
  sourceId: z.uuid(),
  targetId: z.uuid(),
  description: z.string().nullable(),
  confidence: z.number().int().nullable(),
  tlp: z.string().nullable(),
  firstSeen: z.iso.datetime().nullable(),
  lastSeen: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
  modifiedAt: z.iso.datetime(),
});
export const edgeSchema = z.object({ id: z.uuid(), type: z.string(), sourceId: z.uuid(), targetId: z.uuid() });
export const neighbourhoodSchema = z.object({
  rootId: z.uuid(),
  nodes: z.array(entitySchema).describe('The start first, then nodes in the order the walk met them.'),
  edges: z.array(edgeSchema).describe('Relationships whose both ends are among the nodes, in the order the walk met them.'),
  truncated: z.boolean().describe('true when the limit (or the per-hop edge budget) cut the walk short: there is more.'),
});

export const createEntityBody = z.object({
  type: entityType,
  value: z.string().min(1).max(4096).optional().describe('The observable value (SCOs); the AS number for autonomous-system.'),
  name: z.string().trim().min(1).max(500).optional().describe('Name (SDOs; file name).'),
  hashes: z.record(z.string(), z.string()).optional().describe('File hashes by algorithm, e.g. {"SHA-256": "…"}.'),
  pattern: z.string().min(1).max(10_000).optional().describe('STIX pattern (indicator).'),
  properties: z.record(z.string(), z.unknown()).optional().describe('Further STIX properties.'),
  confidence: confidence.optional(),
  tlp: tlp.optional(),
  firstSeen: instant.optional(),
  lastSeen: instant.optional(),
  source: z.string().min(1).max(200).optional().describe('Who asserts it; defaults to the calling user.'),
});
export const updateEntityBody = z
  .object({
    name: z.string().trim().min(1).max(500),
    properties: z.record(z.string(), z.unknown()),
    confidence: confidence.nullable(),
    tlp: tlp.nullable(),
    firstSeen: instant.nullable(),
    lastSeen: instant.nullable(),
  })
  .partial()
  .refine((b) => Object.keys(b).length > 0, 'give at least one field to change');
export const listEntitiesQuery = pageQuerySchema.extend({
  type: listOf(ENTITY_TYPES, 'entity type'),
  q: z.string().trim().min(1).max(200).optional().describe('Prefix or substring of the name or value.'),
  minConfidence: z.coerce.number().int().min(0).max(100).optional(),
  tlp: listOf(TLP_LEVELS, 'TLP level'),
  source: z.string().min(1).max(200).optional().describe('Only entities this source asserted.'),
  since: instant.optional().describe('Only entities changed at or after this instant.'),
});
export const createRelationshipBody = z.object({
  type: z.enum(RELATIONSHIP_TYPES),
  sourceId: z.uuid(),
  targetId: z.uuid(),
  description: z.string().max(4000).optional(),
  confidence: confidence.optional(),
});
export const listRelationshipsQuery = pageQuerySchema.extend({
  direction: z.enum(['out', 'in', 'both']).default('both'),
  type: listOf(RELATIONSHIP_TYPES, 'relationship type'),
});
export const createSightingBody = z.object({
  entityId: z.uuid(),
  count: z.number().int().min(1).max(1_000_000_000).default(1),
  firstSeen: instant.optional(),
  lastSeen: instant.optional(),
  whereSighted: z.array(z.string().min(1).max(200)).max(100).default([]),
  truePositive: z.boolean().optional().describe('false marks a false positive.'),
  confidence: confidence.optional(),
});
export const neighborsQuery = z.object({
  depth: z.coerce.number().int().min(1).max(3).default(1),
  limit: z.coerce.number().int().min(1).max(1_000).default(200).describe('Most nodes returned; beyond it truncated is true.'),
  types: listOf(ENTITY_TYPES, 'entity type'),
  relationshipTypes: listOf(RELATIONSHIP_TYPES, 'relationship type'),
});
export const pathsQuery = z.object({
  from: z.uuid(),
  to: z.uuid(),
  maxDepth: z.coerce.number().int().min(1).max(6).default(4),
  maxPaths: z.coerce.number().int().min(1).max(20).default(5),
});
export const exportQuery = z.object({
  types: listOf(ENTITY_TYPES, 'entity type'),
  since: instant.optional(),
  minConfidence: z.coerce.number().int().min(0).max(100).optional(),
  tlp: listOf(TLP_LEVELS, 'TLP level'),
  limit: z.coerce.number().int().min(1).max(50_000).default(10_000),
  cursor: z.string().max(500).optional(),
});
export const runSchema = z.object({
  id: z.uuid(),
  kind: z.string(),
  source: z.string(),
  status: z.enum(['queued', 'running', 'succeeded', 'partial', 'failed']),
  counts: z.object({
    received: z.number().int(),
    created: z.number().int(),
    merged: z.number().int(),
    rejected: z.number().int(),
    skipped: z.number().int().describe('Neither stored nor rejected: marking definitions, creator identities, STIX types Summit does not model.'),
  }),
  rejections: z.array(z.object({ index: z.number().int(), id: z.string().nullable(), type: z.string().nullable(), reason: z.string() })),
  warnings: z.array(z.string()),
  error: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.iso.datetime(),
  startedAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
});
export const listRunsQuery = pageQuerySchema.extend({
  status: runSchema.shape.status.optional().describe('Only runs in this state, e.g. running.'),
  source: z.string().trim().min(1).max(200).optional().describe('Only runs from this feed or tool.'),
});
export const ingestQuery = z.object({
  source: z.string().trim().min(1).max(200).default('upload').describe('Name of the feed or tool this bundle comes from (provenance).'),
});
export const statsQuery = z.object({
  window: z.string().regex(/^\d{1,4}[mhd]$/, 'write the window as a number and m, h or d, e.g. 24h').default('24h'),
});
