import { VALUE_SCO_TYPES } from './canonical.js';
import { isScoType, SDO_TYPES, type EntityType } from './model.js';

/**
 * Where each normalised entity field lives in a STIX object, per type. Import takes these properties out of
 * `properties`; export writes them back from the normalised fields. One table for both directions keeps the two
 * in step, which the round-trip tests check.
 */

/** Types whose STIX definition has first_seen/last_seen. Others carry Summit's view in x_summit_first_seen/…. */
const NATIVE_SEEN_TYPES: ReadonlySet<string> = new Set(['campaign', 'intrusion-set', 'threat-actor', 'infrastructure', 'malware']);

/** SDOs whose `name` is the identifying, required property (and so becomes the entity's name). */
export const NAMED_SDO_TYPES: ReadonlySet<string> = new Set(SDO_TYPES.filter((t) => t !== 'indicator' && t !== 'note'));

export function isValueScoType(type: string): type is (typeof VALUE_SCO_TYPES)[number] {
  return (VALUE_SCO_TYPES as readonly string[]).includes(type);
}

export function seenProperties(type: EntityType): [first: string, last: string] {
  return NATIVE_SEEN_TYPES.has(type) ? ['first_seen', 'last_seen'] : ['x_summit_first_seen', 'x_summit_last_seen'];
}

/**
 * STIX 2.1 gives confidence to SDOs and SROs only. Some producers put it on observables anyway; Summit reads
 * either spelling there and writes x_summit_confidence, keeping exported observables valid STIX.
 */
export function confidenceProperties(type: EntityType): string[] {
  return isScoType(type) ? ['x_summit_confidence', 'confidence'] : ['confidence'];
}

/** The properties import takes out of `properties` because a normalised field (or the key) carries them. */
export function normalisedProperties(type: EntityType): Set<string> {
  const names = new Set(['type', 'id', 'spec_version', 'object_marking_refs', ...seenProperties(type), ...confidenceProperties(type)]);
  if (!isScoType(type)) names.add('created').add('modified');
  if (isValueScoType(type)) names.add('value');
  if (type === 'autonomous-system') names.add('number');
  if (NAMED_SDO_TYPES.has(type)) names.add('name');
  return names;
}

/** Shortens free text for use as a display name (notes have content, not a name). */
export function displayExcerpt(text: string, limit = 120): string {
  const collapsed = text.trim().replace(/\s+/g, ' ');
  return collapsed.length > limit ? `${collapsed.slice(0, limit - 1)}…` : collapsed;
}
