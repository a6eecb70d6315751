/**
 * The STIX 2.1 vocabulary Summit's graph understands, and the normalised shapes the importer stores. Everything in
 * stix/ is pure: values in, values out, no database and no I/O.
 */

export const SCO_TYPES = [
  'ipv4-addr',
  'ipv6-addr',
  'domain-name',
  'url',
  'email-addr',
  'file',
  'mac-addr',
  'autonomous-system',
] as const;
export const SDO_TYPES = [
  'indicator',
  'threat-actor',
  'intrusion-set',
  'malware',
  'tool',
  'campaign',
  'vulnerability',
  'infrastructure',
  'identity',
  'incident',
  'report',
  'note',
] as const;
export type ScoType = (typeof SCO_TYPES)[number];
export type SdoType = (typeof SDO_TYPES)[number];
export type EntityType = ScoType | SdoType;
export const ENTITY_TYPES: readonly EntityType[] = [...SCO_TYPES, ...SDO_TYPES];

/**
 * The relationship types of STIX 2.1 (section 4 per object, appendix B summary) that connect types Summit models.
 * Left out on purpose: the malware-analysis verbs (analysis-of, static-analysis-of, dynamic-analysis-of,
 * av-analysis-of, characterizes), whose source type Summit does not import. Appendix B spells one verb
 * "exfiltrate-to" where section 4.11 says "exfiltrates-to"; both are accepted on input (see RELATIONSHIP_TYPE_ALIASES).
 */
export const RELATIONSHIP_TYPES = [
  'indicates',
  'related-to',
  'uses',
  'targets',
  'attributed-to',
  'communicates-with',
  'resolves-to',
  'located-at',
  'based-on',
  'derived-from',
  'duplicate-of',
  'variant-of',
  'delivers',
  'drops',
  'exploits',
  'authored-by',
  'owns',
  'hosts',
  'consists-of',
  'controls',
  'has',
  'belongs-to',
  'compromises',
  'originates-from',
  'investigates',
  'mitigates',
  'remediates',
  'impersonates',
  'downloads',
  'beacons-to',
  'exfiltrates-to',
] as const;
export type RelationshipType = (typeof RELATIONSHIP_TYPES)[number];
/** Spellings seen in the wild (and in the spec's own appendix) that mean a listed relationship type. */
export const RELATIONSHIP_TYPE_ALIASES: Readonly<Record<string, RelationshipType>> = { 'exfiltrate-to': 'exfiltrates-to' };

/** Ordered from least to most restrictive; when an object carries several TLP markings the most restrictive wins. */
export const TLP_LEVELS = ['clear', 'green', 'amber', 'amber+strict', 'red'] as const;
export type Tlp = (typeof TLP_LEVELS)[number];

/** The TLP 2.0 marking-definition ids (OASIS cti-stix-common-objects, created 2022-10-01). Export writes these. */
export const TLP_MARKING_IDS: Record<Tlp, string> = {
  clear: 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
  green: 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
  amber: 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
  'amber+strict': 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
  red: 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
};

/**
 * Every marking-definition id read as a TLP level: the TLP 2.0 ids above, the TLP 1.0 ids defined in the STIX 2.1
 * specification (section 7.2.1.4; TLP:WHITE became TLP:CLEAR), and OpenCTI's own TLP:AMBER+STRICT id, which
 * OpenCTI-produced feeds carry because TLP 1.0 had no such level.
 */
export const TLP_BY_MARKING_ID: ReadonlyMap<string, Tlp> = new Map<string, Tlp>([
  ...(Object.entries(TLP_MARKING_IDS) as [Tlp, string][]).map(([tlp, id]) => [id, tlp] as [string, Tlp]),
  ['marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9', 'clear'],
  ['marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da', 'green'],
  ['marking-definition--f88d31f6-486f-44da-b317-01333bde0b82', 'amber'],
  ['marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed', 'red'],
  ['marking-definition--826578e1-40ad-459f-bc73-ede076f81f37', 'amber+strict'],
]);

export function isTlpMarkingId(ref: string, bundleMarkings?: ReadonlyMap<string, Tlp>): boolean {
  return TLP_BY_MARKING_ID.has(ref) || (bundleMarkings?.has(ref) ?? false);
}

/**
 * The most restrictive TLP level among marking refs, or null when none is a TLP marking (or refs is not a list).
 * bundleMarkings adds TLP marking-definitions a bundle defines with ids of its own (see markingsDefinedIn).
 */
export function tlpFromMarkingRefs(refs: unknown, bundleMarkings?: ReadonlyMap<string, Tlp>): Tlp | null {
  if (!Array.isArray(refs)) return null;
  let rank = -1;
  for (const ref of refs) {
    if (typeof ref !== 'string') continue;
    const tlp = TLP_BY_MARKING_ID.get(ref) ?? bundleMarkings?.get(ref);
    if (tlp !== undefined) rank = Math.max(rank, TLP_LEVELS.indexOf(tlp));
  }
  return rank < 0 ? null : TLP_LEVELS[rank]!;
}

export type NormalizedEntity = {
  stixId: string;
  type: EntityType;
  key: string;
  name: string;
  properties: Record<string, unknown>;
  confidence: number | null;
  tlp: Tlp | null;
  firstSeen: string | null;
  lastSeen: string | null;
  created: string | null;
  modified: string | null;
};
export type NormalizedRelationship = {
  stixId: string;
  relationshipType: RelationshipType;
  sourceRef: string;
  targetRef: string;
  description: string | null;
  confidence: number | null;
  tlp: Tlp | null;
  firstSeen: string | null;
  lastSeen: string | null;
  created: string | null;
  modified: string | null;
};
export type NormalizedSighting = {
  stixId: string;
  sightingOfRef: string;
  whereSightedRefs: string[];
  observedDataRefs: string[];
  count: number;
  firstSeen: string | null;
  lastSeen: string | null;
  truePositive: boolean | null;
  confidence: number | null;
  created: string | null;
};
export type Rejection = { index: number; id: string | null; type: string | null; reason: string };

const SCO_SET: ReadonlySet<string> = new Set(SCO_TYPES);
const SDO_SET: ReadonlySet<string> = new Set(SDO_TYPES);
export function isScoType(type: string): type is ScoType {
  return SCO_SET.has(type);
}
export function isSdoType(type: string): type is SdoType {
  return SDO_SET.has(type);
}
export function isEntityType(type: string): type is EntityType {
  return SCO_SET.has(type) || SDO_SET.has(type);
}
