import { v5 as uuidv5 } from 'uuid';
import { quote } from './stix/canonical.js';
import { confidenceProperties, isValueScoType, seenProperties } from './stix/entity-fields.js';
import { isScoType, TLP_MARKING_IDS, type EntityType } from './stix/model.js';
import { normalizeStixObject } from './stix/parse.js';
import { pathSegments, readPath, type Mapping } from './schema-mapping.js';

/**
 * A validated record → STIX 2.1 objects, by a schema's mapping. Each object is checked with the same normalisation
 * a STIX bundle goes through, so a record whose value is not what its entity type needs (an IPv4 field holding
 * "999.1.1.1") is rejected here with its record index, and the bundle built from the rest imports cleanly.
 *
 * Ids are deterministic, so sending the same record again merges into what is there and adds no provenance:
 * observables use STIX's own deterministic SCO ids (UUIDv5 in the STIX namespace over the identifying property),
 * everything else a UUIDv5 in Summit's namespace over type and value.
 */

const STIX_SCO_NAMESPACE = '00abedb4-aa42-466c-9c01-fed23315a9b7';
const SUMMIT_RECORDS_NAMESPACE = '6f1c1d4e-2b53-4c1e-9a8e-5d0c3b7e9a41';
const HASH_BY_HEX_LENGTH: Readonly<Record<number, string>> = { 32: 'MD5', 40: 'SHA-1', 64: 'SHA-256', 128: 'SHA-512' };

export type MappedRecord = { ok: true; objects: Record<string, unknown>[] } | { ok: false; reason: string };

/** The identifying property (or properties) of an entity from its record value, or why the value cannot be one. */
function identifyingProperties(type: EntityType, raw: unknown, at: string, firstSeen: unknown): Record<string, unknown> | { problem: string } {
  if (type === 'autonomous-system') {
    const digits = typeof raw === 'string' ? /^(?:AS)?(\d{1,10})$/i.exec(raw.trim())?.[1] : undefined;
    const number = typeof raw === 'number' ? raw : digits !== undefined ? Number(digits) : NaN;
    return Number.isNaN(number) ? { problem: `${quote(raw)} is not an AS number (such as 64500 or "AS64500")` } : { number };
  }
  if (typeof raw !== 'string') return { problem: `is ${Array.isArray(raw) ? 'a list' : typeof raw}, not text` };
  if (isValueScoType(type)) return { value: raw };
  if (type === 'file') {
    const algorithm = /^[0-9a-f]+$/i.test(raw) ? HASH_BY_HEX_LENGTH[raw.length] : undefined;
    return algorithm ? { hashes: { [algorithm]: raw.toLowerCase() } } : { name: raw };
  }
  if (type === 'indicator') return { pattern: raw, pattern_type: 'stix', valid_from: firstSeen ?? at };
  if (type === 'note') return { content: raw };
  if (type === 'report') return { name: raw, published: firstSeen ?? at };
  return { name: raw };
}

function stixIdOf(type: string, identifying: Record<string, unknown>): string {
  if (isScoType(type)) {
    // STIX 2.1 section 2.9: the contributing property as canonical JSON (a single key here, so JSON.stringify is it).
    const [name, value] = Object.entries(identifying)[0]!;
    return `${type}--${uuidv5(JSON.stringify({ [name]: value }), STIX_SCO_NAMESPACE)}`;
  }
  return `${type}--${uuidv5(`${type}|${JSON.stringify(identifying.name ?? identifying.pattern ?? identifying.content)}`, SUMMIT_RECORDS_NAMESPACE)}`;
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

/** What every object of one record shares: the ingest time and the record's confidence, seen times and TLP. */
type Common = { at: string; confidence: unknown; firstSeen: unknown; lastSeen: unknown; markings: Record<string, unknown> };

function entityObject(entity: Mapping['entities'][number], raw: unknown, c: Common): { object: Record<string, unknown> } | { problem: string } {
  const identifying = identifyingProperties(entity.type, raw, c.at, c.firstSeen);
  if ('problem' in identifying) return { problem: `${entity.type} from ${entity.value} ${identifying.problem}` };
  const [firstProperty, lastProperty] = seenProperties(entity.type);
  return {
    object: {
      type: entity.type,
      spec_version: '2.1',
      id: stixIdOf(entity.type, identifying),
      ...(isScoType(entity.type) ? {} : { created: c.at, modified: c.at }),
      ...identifying,
      ...(present(c.confidence) ? { [confidenceProperties(entity.type)[0]!]: c.confidence } : {}),
      ...(present(c.firstSeen) ? { [firstProperty]: c.firstSeen } : {}),
      ...(present(c.lastSeen) ? { [lastProperty]: c.lastSeen } : {}),
      ...c.markings,
    },
  };
}

function relationshipObject(type: string, source: string, target: string, c: Common): Record<string, unknown> {
  return {
    type: 'relationship',
    spec_version: '2.1',
    id: `relationship--${uuidv5(`${type}|${source}|${target}`, SUMMIT_RECORDS_NAMESPACE)}`,
    created: c.at,
    modified: c.at,
    relationship_type: type,
    source_ref: source,
    target_ref: target,
    ...(present(c.confidence) ? { confidence: c.confidence } : {}),
    ...(present(c.firstSeen) ? { start_time: c.firstSeen } : {}),
    ...(present(c.lastSeen) ? { stop_time: c.lastSeen } : {}),
    ...c.markings,
  };
}

/** Maps one record (already valid against the JSON Schema). `at` is the ingest time, for SDOs' created/modified. */
export function mapRecord(record: unknown, mapping: Mapping, at: string): MappedRecord {
  const read = (path: string | undefined) => (path === undefined ? undefined : readPath(record, pathSegments(path)));
  const common: Common = {
    at,
    confidence: read(mapping.confidence),
    firstSeen: read(mapping.firstSeen) ?? undefined,
    lastSeen: read(mapping.lastSeen),
    markings: mapping.tlp ? { object_marking_refs: [TLP_MARKING_IDS[mapping.tlp]] } : {},
  };
  const objects: Record<string, unknown>[] = [];
  const ids: (string | null)[] = [];

  for (const [i, entity] of mapping.entities.entries()) {
    const raw = read(entity.value);
    if (!present(raw)) {
      ids.push(null);
      continue;
    }
    const built = entityObject(entity, raw, common);
    if ('problem' in built) return { ok: false, reason: built.problem };
    const checked = normalizeStixObject(built.object, i);
    if (checked.kind === 'rejected') return { ok: false, reason: `${entity.type} from ${entity.value}: ${checked.rejection.reason}` };
    objects.push(built.object);
    ids.push(built.object.id as string);
  }
  if (objects.length === 0) {
    return { ok: false, reason: `no mapped field has a value (looked at ${mapping.entities.map((e) => e.value).join(', ')})` };
  }

  for (const rel of mapping.relationships) {
    const source = ids[rel.source];
    const target = ids[rel.target];
    // A relationship needs both ends; a record without one of them simply asserts no such relationship.
    if (!source || !target || source === target) continue;
    const object = relationshipObject(rel.type, source, target, common);
    const checked = normalizeStixObject(object, objects.length);
    if (checked.kind === 'rejected') return { ok: false, reason: `${rel.type} relationship: ${checked.rejection.reason}` };
    objects.push(object);
  }
  return { ok: true, objects };
}
