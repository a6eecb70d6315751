import { randomUUID } from 'node:crypto';
import { confidenceProperties, isValueScoType, NAMED_SDO_TYPES, normalisedProperties, seenProperties } from './entity-fields.js';
import {
  isScoType,
  TLP_MARKING_IDS,
  TLP_BY_MARKING_ID,
  type NormalizedEntity,
  type NormalizedRelationship,
  type NormalizedSighting,
  type Tlp,
} from './model.js';
import { tlpMarkingDefinition } from './object-fields.js';
import { compareTimestamps, normalizeTimestamp } from './timestamp.js';

/**
 * Normalised values → STIX 2.1 objects that parseStixBundle accepts and normalises back to the same values.
 * Entity properties (the STIX properties import kept) are written back as they are; the normalised fields win
 * over a property of the same name, so an edited confidence or TLP is what a consumer sees.
 */

export type ExportOptions = {
  /** Used for created/modified when an SDO or SRO has neither (an entity created in Summit, not imported). */
  fallbackTime?: string;
};

const EPOCH = '1970-01-01T00:00:00.000Z';

/** Timestamps as STIX wants them; tolerates Date objects and PostgreSQL's text form from database rows. */
function stixTime(value: unknown): string | null {
  return value === null || value === undefined ? null : normalizeTimestamp(value);
}

/** created and modified for an SDO/SRO: both required, modified never before created. */
function lifetime(created: unknown, modified: unknown, options: ExportOptions): [string, string] {
  const fallback = stixTime(options.fallbackTime) ?? EPOCH;
  const first = stixTime(created) ?? stixTime(modified) ?? fallback;
  const last = stixTime(modified) ?? first;
  return [first, compareTimestamps(last, first) < 0 ? first : last];
}

/** object_marking_refs: the TLP marking first, then any other markings import kept. */
function markingRefs(tlp: Tlp | null, kept: unknown): string[] {
  const others = Array.isArray(kept) ? kept.filter((ref): ref is string => typeof ref === 'string' && !TLP_BY_MARKING_ID.has(ref)) : [];
  return tlp ? [TLP_MARKING_IDS[tlp], ...others] : others;
}

function withOptional(entries: [string, unknown][], name: string, value: unknown): void {
  if (value !== null && value !== undefined) entries.push([name, value]);
}

export function toStixObject(entity: NormalizedEntity & { modified: string | null }, options: ExportOptions = {}): Record<string, unknown> {
  const { type } = entity;
  const isSco = isScoType(type);
  const entries: [string, unknown][] = [
    ['type', type],
    ['spec_version', '2.1'],
    ['id', entity.stixId],
  ];
  if (!isSco) {
    const [created, modified] = lifetime(entity.created, entity.modified, options);
    entries.push(['created', created], ['modified', modified]);
  }
  if (NAMED_SDO_TYPES.has(type)) entries.push(['name', entity.name]);
  // For value observables the name is the canonical value (the key may be a digest of it).
  if (isValueScoType(type)) entries.push(['value', entity.name]);
  if (type === 'autonomous-system') entries.push(['number', Number(entity.key.replace(/^AS/, ''))]);
  const written = normalisedProperties(type);
  for (const [name, value] of Object.entries(entity.properties ?? {})) {
    if (!written.has(name)) entries.push([name, value]);
  }
  withOptional(entries, confidenceProperties(type)[0]!, entity.confidence);
  const [firstSeen, lastSeen] = seenProperties(type);
  withOptional(entries, firstSeen, stixTime(entity.firstSeen));
  withOptional(entries, lastSeen, stixTime(entity.lastSeen));
  const markings = markingRefs(entity.tlp, entity.properties?.object_marking_refs);
  if (markings.length) entries.push(['object_marking_refs', markings]);
  return Object.fromEntries(entries);
}

export function toStixRelationship(rel: NormalizedRelationship, options: ExportOptions = {}): Record<string, unknown> {
  const [created, modified] = lifetime(rel.created, rel.modified, options);
  const entries: [string, unknown][] = [
    ['type', 'relationship'],
    ['spec_version', '2.1'],
    ['id', rel.stixId],
    ['created', created],
    ['modified', modified],
    ['relationship_type', rel.relationshipType],
    ['source_ref', rel.sourceRef],
    ['target_ref', rel.targetRef],
  ];
  withOptional(entries, 'description', rel.description);
  withOptional(entries, 'confidence', rel.confidence);
  withOptional(entries, 'start_time', stixTime(rel.firstSeen));
  withOptional(entries, 'stop_time', stixTime(rel.lastSeen));
  if (rel.tlp) entries.push(['object_marking_refs', [TLP_MARKING_IDS[rel.tlp]]]);
  return Object.fromEntries(entries);
}

export function toStixSighting(s: NormalizedSighting, options: ExportOptions = {}): Record<string, unknown> {
  // Sightings are not versioned in Summit, so modified is the creation time.
  const [created] = lifetime(s.created, null, options);
  const entries: [string, unknown][] = [
    ['type', 'sighting'],
    ['spec_version', '2.1'],
    ['id', s.stixId],
    ['created', created],
    ['modified', created],
    ['sighting_of_ref', s.sightingOfRef],
    ['count', s.count],
  ];
  if (s.whereSightedRefs.length) entries.push(['where_sighted_refs', [...s.whereSightedRefs]]);
  if (s.observedDataRefs.length) entries.push(['observed_data_refs', [...s.observedDataRefs]]);
  withOptional(entries, 'first_seen', stixTime(s.firstSeen));
  withOptional(entries, 'last_seen', stixTime(s.lastSeen));
  withOptional(entries, 'confidence', s.confidence);
  withOptional(entries, 'x_summit_true_positive', s.truePositive);
  return Object.fromEntries(entries);
}

/**
 * A STIX 2.1 bundle of the objects. The TLP 2.0 marking-definitions the objects reference are added (unless
 * already present), since TLP 2.0 ids, unlike the TLP 1.0 ones, are not defined by the STIX specification itself.
 */
export function toStixBundle(objects: Record<string, unknown>[], id?: string): Record<string, unknown> {
  const present = new Set(objects.map((object) => object.id));
  const referenced = new Set<Tlp>();
  for (const object of objects) {
    const refs = object.object_marking_refs;
    if (!Array.isArray(refs)) continue;
    for (const ref of refs) {
      const tlp = typeof ref === 'string' ? TLP_BY_MARKING_ID.get(ref) : undefined;
      if (tlp !== undefined && ref === TLP_MARKING_IDS[tlp] && !present.has(ref)) referenced.add(tlp);
    }
  }
  const markings = [...referenced].map((tlp) => tlpMarkingDefinition(tlp, TLP_MARKING_IDS[tlp]));
  return { type: 'bundle', id: id ?? `bundle--${randomUUID()}`, objects: [...markings, ...objects] };
}
