import { z } from 'zod';
import type { FieldProblem } from '../../platform/errors.js';
import { ENTITY_TYPES, RELATIONSHIP_TYPES, TLP_LEVELS, type EntityType } from './stix/model.js';
import { isRecord } from './stix/object-fields.js';

/**
 * How a custom feed's records become graph objects. Paths are deliberately simple: `$` then dot-separated property
 * names (a number steps into a list), e.g. `$.src_ip` or `$.dns.answers.0`. No wildcards, filters or expressions:
 * one record field gives one value, which keeps a mapping reviewable by the admin who approves it.
 */

const PATH = /^\$(\.[A-Za-z0-9_-]{1,100}){1,10}$/;
const recordPath = z.string().regex(PATH, 'write a dot path such as $.src_ip or $.host.name (letters, digits, _ and - between dots)');

export const mappingSchema = z
  .object({
    entities: z
      .array(
        z
          .object({
            type: z.enum(ENTITY_TYPES as [EntityType, ...EntityType[]]).describe('The entity type (STIX 2.1) this field becomes.'),
            value: recordPath.describe('The field giving the identifying value: the address, domain, hash, pattern, AS number or name.'),
          })
          .strict(),
      )
      .min(1)
      .max(20)
      .describe('One graph entity per item; a record whose field is absent or null simply has no such entity.'),
    relationships: z
      .array(
        z
          .object({
            type: z.enum(RELATIONSHIP_TYPES),
            source: z.number().int().min(0).describe('Index into entities.'),
            target: z.number().int().min(0).describe('Index into entities.'),
          })
          .strict(),
      )
      .max(50)
      .default([]),
    confidence: recordPath.optional().describe('A field holding an integer 0–100.'),
    firstSeen: recordPath.optional().describe('A field holding an RFC 3339 timestamp.'),
    lastSeen: recordPath.optional().describe('A field holding an RFC 3339 timestamp.'),
    tlp: z.enum(TLP_LEVELS).optional().describe('A TLP level for everything this feed asserts.'),
  })
  .strict();
export type Mapping = z.output<typeof mappingSchema>;

export function pathSegments(path: string): string[] {
  return path.split('.').slice(1);
}

/** The value at a dot path, or undefined when any step is missing. Never throws. */
export function readPath(record: unknown, segments: readonly string[]): unknown {
  let node: unknown = record;
  for (const segment of segments) {
    if (Array.isArray(node) && /^\d+$/.test(segment)) node = node[Number(segment)];
    else if (isRecord(node) && Object.hasOwn(node, segment)) node = node[segment];
    else return undefined;
  }
  return node;
}

/**
 * Whether the JSON Schema can ever give a record a value at this path. Only a closed object (additionalProperties
 * false, no patternProperties) is conclusive; anywhere the schema is open, composed or referenced, we cannot tell
 * and say nothing. Catches the common mistake, a typo in a field name, at submission rather than at ingest.
 */
function pathProblem(jsonSchema: Record<string, unknown>, path: string): string | null {
  let node: unknown = jsonSchema;
  const walked = ['$'];
  for (const segment of pathSegments(path)) {
    if (!isRecord(node)) return null;
    const properties = isRecord(node.properties) ? node.properties : undefined;
    if (properties && Object.hasOwn(properties, segment)) {
      node = properties[segment];
      walked.push(segment);
      continue;
    }
    if (node.additionalProperties === false && node.patternProperties === undefined) {
      const allowed = Object.keys(properties ?? {});
      return `${path} names no field the JSON Schema allows: ${walked.join('.')} has ${allowed.length ? allowed.join(', ') : 'no properties'}`;
    }
    return null;
  }
  return null;
}

/** Cross-field checks zod cannot express: relationship ends, and paths against the JSON Schema. */
export function checkMapping(mapping: Mapping, jsonSchema: Record<string, unknown>, prefix = 'body.mapping'): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const count = mapping.entities.length;
  mapping.relationships.forEach((rel, i) => {
    for (const end of ['source', 'target'] as const) {
      if (rel[end] >= count) {
        problems.push({ path: `${prefix}.relationships[${i}].${end}`, message: `is ${rel[end]}, but entities has only ${count} item(s) (indices 0–${count - 1})` });
      }
    }
    if (rel.source === rel.target) problems.push({ path: `${prefix}.relationships[${i}]`, message: 'source and target are the same entity' });
  });
  const paths: [string, string | undefined][] = [
    ...mapping.entities.map((e, i) => [`${prefix}.entities[${i}].value`, e.value] as [string, string]),
    [`${prefix}.confidence`, mapping.confidence],
    [`${prefix}.firstSeen`, mapping.firstSeen],
    [`${prefix}.lastSeen`, mapping.lastSeen],
  ];
  for (const [where, path] of paths) {
    const problem = path === undefined ? null : pathProblem(jsonSchema, path);
    if (problem) problems.push({ path: where, message: problem });
  }
  return problems;
}
