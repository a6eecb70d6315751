import { quote } from './canonical.js';
import {
  isEntityType,
  isSdoType,
  RELATIONSHIP_TYPE_ALIASES,
  RELATIONSHIP_TYPES,
  type NormalizedRelationship,
  type NormalizedSighting,
  type RelationshipType,
  type Tlp,
} from './model.js';
import {
  checkSpecVersion,
  readConfidence,
  readIdentifier,
  readInterval,
  readMarkings,
  readOptionalString,
  readRefList,
  typeOfIdentifier,
  type Field,
} from './object-fields.js';

/**
 * SROs: relationship and sighting → their normalised forms. Refs are checked for shape and for pointing at a type
 * Summit imports; whether they resolve (to this bundle or the graph) is the importer's check.
 */

const KNOWN_RELATIONSHIP_TYPES: ReadonlySet<string> = new Set(RELATIONSHIP_TYPES);

function readRelationshipType(object: Record<string, unknown>): Field<RelationshipType> {
  const raw = object.relationship_type;
  if (typeof raw !== 'string' || raw === '') return { problem: 'relationship_type is missing' };
  const type = RELATIONSHIP_TYPE_ALIASES[raw] ?? raw;
  if (!KNOWN_RELATIONSHIP_TYPES.has(type)) {
    return { problem: `relationship_type ${quote(raw)} is not one Summit imports (use a STIX 2.1 type such as uses, indicates or related-to)` };
  }
  return { value: type as RelationshipType };
}

function readEntityRef(object: Record<string, unknown>, property: string, domainOnly = false): Field<string> {
  const raw = object[property];
  if (raw === undefined) return { problem: `${property} is missing` };
  const type = typeOfIdentifier(raw);
  if (type === null) return { problem: `${property} ${quote(raw)} is not a STIX identifier (<type>--<uuid>)` };
  if (domainOnly ? !isSdoType(type) : !isEntityType(type)) {
    const what = domainOnly ? 'a domain object type Summit imports (indicator, malware, threat-actor, …)' : 'a type Summit imports';
    return { problem: `${property} ${quote(raw)} points at a ${type}, which is not ${what}` };
  }
  return { value: raw as string };
}

/** spec_version, id and created/modified: what every SRO must carry. */
function readSroCommon(object: Record<string, unknown>, type: string) {
  const specProblem = checkSpecVersion(object, true);
  if (specProblem) return { problem: specProblem };
  const id = readIdentifier(object, type);
  if ('problem' in id) return id;
  const lifetime = readInterval(object, 'created', 'modified', true);
  if ('problem' in lifetime) return lifetime;
  const confidence = readConfidence(object, 'confidence');
  if ('problem' in confidence) return confidence;
  return { value: { id: id.value, created: lifetime.value[0], modified: lifetime.value[1], confidence: confidence.value } };
}

export function normalizeRelationship(
  object: Record<string, unknown>,
  bundleMarkings?: ReadonlyMap<string, Tlp>,
): { relationship: NormalizedRelationship } | { problem: string } {
  const common = readSroCommon(object, 'relationship');
  if ('problem' in common) return common;
  const relationshipType = readRelationshipType(object);
  if ('problem' in relationshipType) return relationshipType;
  const source = readEntityRef(object, 'source_ref');
  if ('problem' in source) return source;
  const target = readEntityRef(object, 'target_ref');
  if ('problem' in target) return target;
  if (source.value === target.value) return { problem: 'source_ref and target_ref are the same object' };
  const description = readOptionalString(object, 'description');
  if ('problem' in description) return description;
  const markings = readMarkings(object, bundleMarkings);
  if ('problem' in markings) return markings;
  const active = readInterval(object, 'start_time', 'stop_time');
  if ('problem' in active) return active;
  return {
    relationship: {
      stixId: common.value.id,
      relationshipType: relationshipType.value,
      sourceRef: source.value,
      targetRef: target.value,
      description: description.value,
      confidence: common.value.confidence,
      tlp: markings.value.tlp,
      firstSeen: active.value[0],
      lastSeen: active.value[1],
      created: common.value.created,
      modified: common.value.modified,
    },
  };
}

/** STIX has no true-positive flag on sightings; Summit writes x_summit_true_positive and reads OpenCTI's negative flag. */
function readTruePositive(object: Record<string, unknown>): Field<boolean | null> {
  const own = object.x_summit_true_positive;
  if (own !== undefined && own !== null) {
    return typeof own === 'boolean' ? { value: own } : { problem: 'x_summit_true_positive must be true or false' };
  }
  const negative = object.x_opencti_negative;
  return typeof negative === 'boolean' ? { value: !negative } : { value: null };
}

function readCount(object: Record<string, unknown>): Field<number> {
  const raw = object.count;
  if (raw === undefined || raw === null) return { value: 1 };
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 0 || raw > 999_999_999) {
    return { problem: `count ${quote(raw)} must be an integer from 1 to 999999999` };
  }
  // STIX allows 0, but a sighting that saw nothing is not a sighting the graph can count.
  if (raw === 0) return { problem: 'count is 0; a sighting must have been seen at least once' };
  return { value: raw };
}

export function normalizeSighting(object: Record<string, unknown>): { sighting: NormalizedSighting } | { problem: string } {
  const common = readSroCommon(object, 'sighting');
  if ('problem' in common) return common;
  const sightingOf = readEntityRef(object, 'sighting_of_ref', true);
  if ('problem' in sightingOf) return sightingOf;
  const where = readRefList(object, 'where_sighted_refs');
  if ('problem' in where) return where;
  const observed = readRefList(object, 'observed_data_refs');
  if ('problem' in observed) return observed;
  const notObservedData = observed.value.find((ref) => typeOfIdentifier(ref) !== 'observed-data');
  if (notObservedData !== undefined) return { problem: `observed_data_refs has ${quote(notObservedData)}, which is not an observed-data id` };
  const count = readCount(object);
  if ('problem' in count) return count;
  const seen = readInterval(object, 'first_seen', 'last_seen');
  if ('problem' in seen) return seen;
  const truePositive = readTruePositive(object);
  if ('problem' in truePositive) return truePositive;
  const markings = readMarkings(object);
  if ('problem' in markings) return markings;
  return {
    sighting: {
      stixId: common.value.id,
      sightingOfRef: sightingOf.value,
      whereSightedRefs: [...where.value],
      observedDataRefs: [...observed.value],
      count: count.value,
      firstSeen: seen.value[0],
      lastSeen: seen.value[1],
      truePositive: truePositive.value,
      confidence: common.value.confidence,
      created: common.value.created,
    },
  };
}
