import { checkCanonicalKey, type KeyCheck } from './canonical.js';
import { confidenceProperties, displayExcerpt, isValueScoType, normalisedProperties, seenProperties } from './entity-fields.js';
import { checkHashes } from './hashes.js';
import { isScoType, type EntityType, type NormalizedEntity, type Tlp } from './model.js';
import { checkSpecVersion, readConfidence, readIdentifier, readInterval, readMarkings, readTimestamp, type Field } from './object-fields.js';

/**
 * One SDO or SCO of a type Summit models → NormalizedEntity, or the first problem found. Validation covers the
 * common properties and, per type, what identifies the object (canonical.ts) plus the properties STIX requires.
 */

/** Per-type required properties beyond the key, returned as the properties to store (timestamps normalised). */
function checkTypeProperties(type: EntityType, object: Record<string, unknown>): Field<Record<string, unknown>> {
  const replaced: Record<string, unknown> = {};
  if (type === 'indicator') {
    if (typeof object.pattern_type !== 'string' || object.pattern_type.trim() === '') {
      return { problem: "indicator needs pattern_type (such as 'stix', 'sigma' or 'yara')" };
    }
    const validity = readInterval(object, 'valid_from', 'valid_until');
    if ('problem' in validity) return validity;
    if (validity.value[0] === null) return { problem: 'indicator needs valid_from (an RFC 3339 timestamp)' };
    replaced.valid_from = validity.value[0];
    if (validity.value[1] !== null) replaced.valid_until = validity.value[1];
  }
  if (type === 'report') {
    const published = readTimestamp(object, 'published', true);
    if ('problem' in published) return { problem: `report ${published.problem}` };
    replaced.published = published.value;
  }
  if (type === 'malware' && object.is_family !== undefined && typeof object.is_family !== 'boolean') {
    return { problem: 'malware is_family must be true or false' };
  }
  if (type === 'file' && object.hashes !== undefined) {
    const hashes = checkHashes(object.hashes);
    if (!hashes.ok) return { problem: `file ${hashes.problem}` };
    replaced.hashes = hashes.hashes;
  }
  return { value: replaced };
}

function displayName(type: EntityType, object: Record<string, unknown>, key: Extract<KeyCheck, { ok: true }>): string {
  const named = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : null);
  if (isValueScoType(type) || type === 'autonomous-system') return key.value;
  if (type === 'file') return named(object.name) ?? key.value.slice(key.value.indexOf(':') + 1);
  if (type === 'indicator') return named(object.name) ?? (object.pattern as string).trim();
  if (type === 'note') return named(object.abstract) ?? displayExcerpt(object.content as string);
  return (object.name as string).trim();
}

function readCommon(type: EntityType, object: Record<string, unknown>) {
  const isSco = isScoType(type);
  const specProblem = checkSpecVersion(object, !isSco);
  if (specProblem) return { problem: specProblem };
  const lifetime = isSco ? { value: [null, null] as [string | null, string | null] } : readInterval(object, 'created', 'modified', true);
  if ('problem' in lifetime) return lifetime;
  let confidence: number | null = null;
  for (const property of confidenceProperties(type)) {
    const read = readConfidence(object, property);
    if ('problem' in read) return read;
    confidence ??= read.value;
  }
  const [firstProperty, lastProperty] = seenProperties(type);
  const seen = readInterval(object, firstProperty, lastProperty);
  if ('problem' in seen) return seen;
  return { value: { lifetime: lifetime.value, confidence, seen: seen.value } };
}

export function normalizeEntity(
  type: EntityType,
  object: Record<string, unknown>,
  bundleMarkings?: ReadonlyMap<string, Tlp>,
): { entity: NormalizedEntity } | { problem: string } {
  const id = readIdentifier(object, type);
  if ('problem' in id) return id;
  const common = readCommon(type, object);
  if ('problem' in common) return common;
  const markings = readMarkings(object, bundleMarkings);
  if ('problem' in markings) return markings;
  const key = checkCanonicalKey(type, object);
  if (!key.ok) return { problem: key.reason };
  const typed = checkTypeProperties(type, object);
  if ('problem' in typed) return typed;

  const dropped = normalisedProperties(type);
  const properties: Record<string, unknown> = Object.fromEntries([
    ...Object.entries(object).filter(([name]) => !dropped.has(name) && !(name in typed.value)),
    ...Object.entries(typed.value),
    ...(markings.value.others.length ? [['object_marking_refs', markings.value.others]] : []),
  ]);
  const [created, modified] = common.value.lifetime;
  const [firstSeen, lastSeen] = common.value.seen;
  return {
    entity: {
      stixId: id.value,
      type,
      key: key.key,
      name: displayName(type, object, key),
      properties,
      confidence: common.value.confidence,
      tlp: markings.value.tlp,
      firstSeen,
      lastSeen,
      created,
      modified,
    },
  };
}

