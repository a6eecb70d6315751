import { quote } from './canonical.js';
import {
  isEntityType,
  type NormalizedEntity,
  type NormalizedRelationship,
  type NormalizedSighting,
  type Rejection,
  type Tlp,
} from './model.js';
import { normalizeEntity } from './normalize-entity.js';
import { normalizeRelationship, normalizeSighting } from './normalize-relation.js';
import { isRecord, STIX_TYPE_NAME, tlpOfMarkingDefinition, typeOfIdentifier } from './object-fields.js';

/**
 * STIX 2.1 bundle → normalised entities, relationships and sightings, plus a rejection (with a reason a person
 * can act on) for each object that is not valid. Never throws, whatever the input.
 */

/** STIX 2.1 types Summit does not model (yet): skipped with a reason rather than rejected, since they are valid. */
const UNMODELLED_STIX_TYPES: ReadonlySet<string> = new Set([
  'attack-pattern',
  'course-of-action',
  'grouping',
  'location',
  'malware-analysis',
  'observed-data',
  'opinion',
  'artifact',
  'directory',
  'email-message',
  'mutex',
  'network-traffic',
  'process',
  'software',
  'user-account',
  'windows-registry-key',
  'x509-certificate',
  'language-content',
  'extension-definition',
]);

/** What normalizeStixObject needs to know about the rest of the bundle; parseStixBundle builds it. */
export type BundleContext = {
  /** Identity ids used only as created_by_ref (never as a relationship end or a sighting's subject). */
  creatorOnlyIdentities?: ReadonlySet<string>;
  /** TLP marking-definitions the bundle defines under ids of its own. */
  bundleMarkings?: ReadonlyMap<string, Tlp>;
};

export type NormalizedObject =
  | { kind: 'entity'; entity: NormalizedEntity }
  | { kind: 'relationship'; relationship: NormalizedRelationship }
  | { kind: 'sighting'; sighting: NormalizedSighting }
  | { kind: 'skipped'; reason: string }
  | { kind: 'rejected'; rejection: Rejection };

function rejected(object: unknown, index: number, reason: string): NormalizedObject {
  let id: string | null = null;
  let type: string | null = null;
  try {
    if (isRecord(object)) {
      id = typeof object.id === 'string' ? object.id.slice(0, 300) : null;
      type = typeof object.type === 'string' ? object.type.slice(0, 250) : null;
    }
  } catch {
    // A hostile getter: report without id and type.
  }
  return { kind: 'rejected', rejection: { index, id, type, reason } };
}

function classify(object: unknown, index: number, context: BundleContext): NormalizedObject {
  if (!isRecord(object)) return rejected(object, index, `object ${index} is not a JSON object`);
  const type = object.type;
  if (type === undefined) return rejected(object, index, 'type is missing');
  if (typeof type !== 'string' || !STIX_TYPE_NAME.test(type)) {
    return rejected(object, index, `type ${quote(type)} is not a STIX type name (lower-case letters, digits and hyphens)`);
  }
  if (type.startsWith('x-')) return { kind: 'skipped', reason: `custom object type ${type} is not imported` };
  if (type === 'marking-definition') {
    return { kind: 'skipped', reason: 'marking-definition objects are not imported; their TLP level is applied to the objects that reference them' };
  }
  if (type === 'relationship') {
    const result = normalizeRelationship(object, context.bundleMarkings);
    return 'problem' in result ? rejected(object, index, result.problem) : { kind: 'relationship', relationship: result.relationship };
  }
  if (type === 'sighting') {
    const result = normalizeSighting(object);
    return 'problem' in result ? rejected(object, index, result.problem) : { kind: 'sighting', sighting: result.sighting };
  }
  if (isEntityType(type)) {
    if (type === 'identity' && typeof object.id === 'string' && context.creatorOnlyIdentities?.has(object.id)) {
      return { kind: 'skipped', reason: `identity ${object.id} is only a created_by_ref; sources are kept as provenance, not as graph entities` };
    }
    const result = normalizeEntity(type, object, context.bundleMarkings);
    return 'problem' in result ? rejected(object, index, result.problem) : { kind: 'entity', entity: result.entity };
  }
  if (type === 'bundle') return rejected(object, index, 'a bundle inside a bundle is not allowed');
  if (UNMODELLED_STIX_TYPES.has(type)) return { kind: 'skipped', reason: `${type} objects are not imported; Summit does not model this STIX type` };
  return rejected(object, index, `type ${quote(type)} is not a STIX 2.1 type (custom types start with x-)`);
}

/**
 * One STIX object → its normalised form, a skip (valid but not imported, with why) or a rejection. Pass the
 * bundle context to apply the bundle-wide rules (creator identities, bundle-defined TLP markings). Never throws.
 */
export function normalizeStixObject(
  object: unknown,
  index: number,
  context: BundleContext = {},
): NormalizedObject {
  try {
    return classify(object, index, context);
  } catch {
    return rejected(object, index, 'object could not be read as STIX (unexpected structure)');
  }
}

/**
 * The bundle-wide facts normalizeStixObject needs, gathered one object at a time (a streamed bundle is scanned as
 * it arrives): which identities are only creators, and which bundle-defined marking-definitions state a TLP level.
 */
export function createBundleContextScanner() {
  const creators = new Set<string>();
  const referenced = new Set<string>();
  const bundleMarkings = new Map<string, Tlp>();
  return {
    add(object: unknown) {
      try {
        if (!isRecord(object)) return;
        if (typeOfIdentifier(object.created_by_ref) === 'identity') creators.add(object.created_by_ref as string);
        for (const ref of [object.source_ref, object.target_ref, object.sighting_of_ref]) {
          if (typeof ref === 'string') referenced.add(ref);
        }
        const tlp = tlpOfMarkingDefinition(object);
        if (tlp !== null && typeof object.id === 'string') bundleMarkings.set(object.id, tlp);
      } catch {
        // Unreadable objects are rejected by normalizeStixObject; they contribute nothing here.
      }
    },
    context(): Required<BundleContext> {
      return { creatorOnlyIdentities: new Set([...creators].filter((id) => !referenced.has(id))), bundleMarkings };
    },
  };
}

/** The bundle context of a list of objects in one pass (see createBundleContextScanner). */
export function scanBundleContext(objects: readonly unknown[]): Required<BundleContext> {
  const scanner = createBundleContextScanner();
  for (const object of objects) scanner.add(object);
  return scanner.context();
}

export type ParsedBundle = {
  ok: true;
  bundleId: string | null;
  received: number;
  entities: NormalizedEntity[];
  relationships: NormalizedRelationship[];
  sightings: NormalizedSighting[];
  rejected: Rejection[];
};

export type NormalizedObjects = Pick<ParsedBundle, 'entities' | 'relationships' | 'sightings' | 'rejected'>;

/**
 * A run of a bundle's objects (the first at bundle index firstIndex) → normalised lists. Skipped objects are only
 * counted implicitly: received minus everything returned. Never throws.
 */
export function normalizeStixObjects(objects: readonly unknown[], firstIndex: number, context: BundleContext): NormalizedObjects {
  const result: NormalizedObjects = { entities: [], relationships: [], sightings: [], rejected: [] };
  for (let i = 0; i < objects.length; i += 1) {
    const normalized = normalizeStixObject(objects[i], firstIndex + i, context);
    if (normalized.kind === 'entity') result.entities.push(normalized.entity);
    else if (normalized.kind === 'relationship') result.relationships.push(normalized.relationship);
    else if (normalized.kind === 'sighting') result.sightings.push(normalized.sighting);
    else if (normalized.kind === 'rejected') result.rejected.push(normalized.rejection);
  }
  return result;
}

function readBundle(input: unknown): { bundleId: string | null; objects: unknown[] } | { reason: string } {
  if (!isRecord(input)) {
    return { reason: `expected a STIX bundle (a JSON object with "type": "bundle"), got ${Array.isArray(input) ? 'a list' : input === null ? 'null' : typeof input}` };
  }
  if (input.type !== 'bundle') {
    const hint = typeof input.type === 'string' && input.type !== '' ? `; to import a single ${quote(input.type)} object, wrap it in a bundle` : '';
    return { reason: `expected "type": "bundle", got ${quote(input.type ?? 'no type')}${hint}` };
  }
  // STIX 2.1 bundles carry no spec_version; STIX 2.0 bundles carry "2.0", and their objects lack what 2.1 requires.
  if (input.spec_version !== undefined && input.spec_version !== '2.1') {
    return { reason: `bundle spec_version ${quote(input.spec_version)} is not STIX 2.1; convert the bundle to STIX 2.1 first` };
  }
  const objects = input.objects ?? [];
  if (!Array.isArray(objects)) return { reason: 'bundle objects must be a list' };
  return { bundleId: typeOfIdentifier(input.id) === 'bundle' ? (input.id as string) : null, objects };
}

/** Never throws. ok:false only when the input is not a STIX 2.1 bundle at all (reason says why). */
export function parseStixBundle(input: unknown): ParsedBundle | { ok: false; reason: string } {
  try {
    const bundle = readBundle(input);
    if ('reason' in bundle) return { ok: false, reason: bundle.reason };
    const context = scanBundleContext(bundle.objects);
    const result: ParsedBundle = { ok: true, bundleId: bundle.bundleId, received: bundle.objects.length, ...normalizeStixObjects(bundle.objects, 0, context) };
    return result;
  } catch {
    return { ok: false, reason: 'the input could not be read as a STIX bundle' };
  }
}
