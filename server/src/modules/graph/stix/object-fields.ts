import { quote } from './canonical.js';
import { isTlpMarkingId, tlpFromMarkingRefs, TLP_LEVELS, type Tlp } from './model.js';
import { compareTimestamps, normalizeTimestamp } from './timestamp.js';

/**
 * Readers for the properties every STIX object shares. Each returns the normalised value or a `problem` string
 * that becomes a rejection reason, so a caller can stop at the first problem without exceptions.
 */
export type Field<T> = { value: T } | { problem: string };

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** STIX type names: lower-case ASCII letters, digits and hyphens, 3-250 characters (spec section 3.1). */
export const STIX_TYPE_NAME = /^[a-z][a-z0-9-]{1,248}[a-z0-9]$/;
const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const IDENTIFIER = new RegExp(`^([a-z][a-z0-9-]{1,248}[a-z0-9])--${UUID}$`);

/** The type named by a STIX identifier ("indicator--…" → "indicator"), or null when it is not an identifier. */
export function typeOfIdentifier(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 300) return null;
  return IDENTIFIER.exec(value)?.[1] ?? null;
}

export function readIdentifier(object: Record<string, unknown>, type: string): Field<string> {
  const id = object.id;
  if (id === undefined) return { problem: 'id is missing' };
  if (typeOfIdentifier(id) === null) return { problem: `id ${quote(id)} is not a STIX identifier (<type>--<uuid>)` };
  if (typeOfIdentifier(id) !== type) return { problem: `id ${quote(id)} does not start with its type ${type}--` };
  return { value: id as string };
}

export function readTimestamp(object: Record<string, unknown>, property: string, required: boolean): Field<string | null> {
  const raw = object[property];
  if (raw === undefined || raw === null) return required ? { problem: `${property} is missing (an RFC 3339 timestamp such as 2024-05-01T12:00:00.000Z)` } : { value: null };
  const value = normalizeTimestamp(raw);
  return value === null ? { problem: `${property} ${quote(raw)} is not an RFC 3339 timestamp such as 2024-05-01T12:00:00.000Z` } : { value };
}

/** Reads two timestamps that bound an interval, checking the second is not before the first. */
export function readInterval(object: Record<string, unknown>, from: string, to: string, required = false): Field<[string | null, string | null]> {
  const start = readTimestamp(object, from, required);
  if ('problem' in start) return start;
  const end = readTimestamp(object, to, required);
  if ('problem' in end) return end;
  if (start.value !== null && end.value !== null && compareTimestamps(end.value, start.value) < 0) {
    return { problem: `${to} ${end.value} is before ${from} ${start.value}` };
  }
  return { value: [start.value, end.value] };
}

export function readConfidence(object: Record<string, unknown>, property: string): Field<number | null> {
  const raw = object[property];
  if (raw === undefined || raw === null) return { value: null };
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 0 || raw > 100) {
    return { problem: `${property} ${quote(raw)} must be an integer from 0 to 100` };
  }
  return { value: raw };
}

export function readOptionalString(object: Record<string, unknown>, property: string): Field<string | null> {
  const raw = object[property];
  if (raw === undefined || raw === null) return { value: null };
  return typeof raw === 'string' ? { value: raw } : { problem: `${property} must be a string` };
}

/** A list of STIX identifiers (absent means empty). */
export function readRefList(object: Record<string, unknown>, property: string): Field<string[]> {
  const raw = object[property];
  if (raw === undefined || raw === null) return { value: [] };
  if (!Array.isArray(raw)) return { problem: `${property} must be a list of STIX identifiers` };
  const bad = raw.find((ref) => typeOfIdentifier(ref) === null);
  if (bad !== undefined) return { problem: `${property} has ${quote(bad)}, which is not a STIX identifier` };
  return { value: raw as string[] };
}

/** The spec_version check: required '2.1' on SDOs and SROs; optional on SCOs, but '2.1' when present. */
export function checkSpecVersion(object: Record<string, unknown>, required: boolean): string | null {
  const version = object.spec_version;
  if (version === undefined && !required) return null;
  if (version === undefined) return "spec_version is missing (STIX 2.1 objects carry spec_version '2.1')";
  if (version !== '2.1') return `spec_version ${quote(version)} is not supported; Summit imports STIX 2.1`;
  return null;
}

/**
 * Splits object_marking_refs into the TLP level (most restrictive present) and the other markings (statements,
 * PAP, …), which the caller keeps so export can write them back.
 */
export function readMarkings(object: Record<string, unknown>, bundleMarkings?: ReadonlyMap<string, Tlp>): Field<{ tlp: Tlp | null; others: string[] }> {
  const refs = readRefList(object, 'object_marking_refs');
  if ('problem' in refs) return refs;
  const bad = refs.value.find((ref) => typeOfIdentifier(ref) !== 'marking-definition');
  if (bad !== undefined) return { problem: `object_marking_refs has ${quote(bad)}, which is not a marking-definition` };
  return {
    value: {
      tlp: tlpFromMarkingRefs(refs.value, bundleMarkings),
      others: refs.value.filter((ref) => !isTlpMarkingId(ref, bundleMarkings)),
    },
  };
}

const TLP2_EXTENSION = 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d';
const TLP1_LEVELS: Readonly<Record<string, Tlp>> = { white: 'clear', clear: 'clear', green: 'green', amber: 'amber', red: 'red' };

/**
 * The TLP level a marking-definition object states, whether as a TLP 1.0 definition (definition_type "tlp") or
 * through the TLP 2.0 extension; null for other markings. Lets a bundle that mints its own TLP marking ids be read.
 */
export function tlpOfMarkingDefinition(object: Record<string, unknown>): Tlp | null {
  if (object.type !== 'marking-definition') return null;
  const definition = object.definition;
  if (object.definition_type === 'tlp' && isRecord(definition) && typeof definition.tlp === 'string') {
    return TLP1_LEVELS[definition.tlp.toLowerCase()] ?? null;
  }
  const extensions = object.extensions;
  const extension = isRecord(extensions) ? extensions[TLP2_EXTENSION] : undefined;
  if (isRecord(extension) && typeof extension.tlp_2_0 === 'string') {
    const level = extension.tlp_2_0.toLowerCase();
    return (TLP_LEVELS as readonly string[]).includes(level) ? (level as Tlp) : null;
  }
  return null;
}

/** The TLP 2.0 marking-definition object for a level, as OASIS publishes it, for bundles that carry their markings. */
export function tlpMarkingDefinition(tlp: Tlp, id: string): Record<string, unknown> {
  return {
    type: 'marking-definition',
    spec_version: '2.1',
    id,
    created: '2022-10-01T00:00:00.000Z',
    name: `TLP:${tlp.toUpperCase()}`,
    extensions: { [TLP2_EXTENSION]: { extension_type: 'property-extension', tlp_2_0: tlp } },
  };
}
