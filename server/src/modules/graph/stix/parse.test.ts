import { describe, expect, it } from 'vitest';
import { TLP_MARKING_IDS } from './model.js';
import { normalizeStixObject, parseStixBundle } from './parse.js';

const T = '2024-05-01T12:00:00.000Z';
let counter = 0;
/** A fresh UUID-shaped id for a type, so tests do not share ids by accident. */
function idFor(type: string): string {
  counter += 1;
  return `${type}--00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`;
}
const sco = (type: string, extra: Record<string, unknown>): Record<string, unknown> => ({ type, id: idFor(type), ...extra });
const sdo = (type: string, extra: Record<string, unknown>): Record<string, unknown> => ({ type, spec_version: '2.1', id: idFor(type), created: T, modified: T, ...extra });
const indicator = (extra: Record<string, unknown> = {}) =>
  sdo('indicator', { pattern: "[ipv4-addr:value = '198.51.100.1']", pattern_type: 'stix', valid_from: T, ...extra });
const MD5 = 'd41d8cd98f00b204e9800998ecf8427e';

/** The outcome of normalising one object, flattened for tables: the key of an entity, or the reason it was refused. */
function outcome(object: unknown): string {
  const result = normalizeStixObject(object, 0);
  if (result.kind === 'entity') return `entity ${result.entity.key}`;
  if (result.kind === 'rejected') return `rejected: ${result.rejection.reason}`;
  if (result.kind === 'skipped') return `skipped: ${result.reason}`;
  return result.kind;
}

describe('entities: accepted', () => {
  it.each<[string, unknown, string]>([
    ['ipv4-addr', sco('ipv4-addr', { value: '198.51.100.1' }), 'entity 198.51.100.1'],
    ['ipv4-addr CIDR', sco('ipv4-addr', { value: '10.0.0.0/8' }), 'entity 10.0.0.0/8'],
    ['ipv6-addr', sco('ipv6-addr', { value: '2001:DB8::0:1' }), 'entity 2001:db8::1'],
    ['domain-name', sco('domain-name', { value: 'Evil.Example.' }), 'entity evil.example'],
    ['url', sco('url', { value: 'HTTP://Evil.Example/Gate' }), 'entity http://evil.example/Gate'],
    ['email-addr', sco('email-addr', { value: 'Ops@Evil.Example', display_name: 'Ops' }), 'entity ops@evil.example'],
    ['mac-addr', sco('mac-addr', { value: '00:1A:2B:3C:4D:5E' }), 'entity 00:1a:2b:3c:4d:5e'],
    ['autonomous-system', sco('autonomous-system', { number: 64496, name: 'EXAMPLE-AS' }), 'entity AS64496'],
    ['file by hash', sco('file', { hashes: { md5: MD5.toUpperCase() } }), `entity md5:${MD5}`],
    ['file by name', sco('file', { name: 'dropper.exe' }), 'entity name:dropper.exe'],
    ['SCO with spec_version', sco('ipv4-addr', { spec_version: '2.1', value: '198.51.100.1' }), 'entity 198.51.100.1'],
    ['indicator', indicator(), "entity [ipv4-addr:value='198.51.100.1']"],
    ['sigma indicator', indicator({ pattern: 'title: x', pattern_type: 'sigma' }), 'entity title: x'],
    ['threat-actor', sdo('threat-actor', { name: 'Fancy  Bear' }), 'entity fancy bear'],
    ['intrusion-set', sdo('intrusion-set', { name: 'APT28' }), 'entity apt28'],
    ['malware', sdo('malware', { name: 'Emotet', is_family: true }), 'entity emotet'],
    ['tool', sdo('tool', { name: 'Mimikatz' }), 'entity mimikatz'],
    ['campaign', sdo('campaign', { name: 'Op X', first_seen: T, last_seen: T }), 'entity op x'],
    ['vulnerability', sdo('vulnerability', { name: 'CVE-2021-44228' }), 'entity cve-2021-44228'],
    ['infrastructure', sdo('infrastructure', { name: 'C2 cluster' }), 'entity c2 cluster'],
    ['identity', sdo('identity', { name: 'ACME Corp', identity_class: 'organization' }), 'entity acme corp'],
    ['incident', sdo('incident', { name: 'IR-42' }), 'entity ir-42'],
    ['report', sdo('report', { name: 'Weekly', published: T, object_refs: [] }), 'entity weekly'],
    ['note', sdo('note', { content: 'Seen again', object_refs: [idFor('malware')] }), 'entity seen again'],
    ['confidence 0 and 100', sdo('tool', { name: 'x', confidence: 100 }), 'entity x'],
  ])('%s', (_label, object, expected) => {
    expect(outcome(object)).toBe(expected);
  });
});

describe('entities: rejected with a reason a person can act on', () => {
  it.each<[string, unknown, string]>([
    ['bad IPv4', sco('ipv4-addr', { value: '999.1.1.1' }), 'ipv4-addr value 999.1.1.1 is not an IPv4 address'],
    ['leading-zero IPv4', sco('ipv4-addr', { value: '010.1.1.1' }), 'ipv4-addr value 010.1.1.1 has an octet with a leading zero'],
    ['bad IPv6', sco('ipv6-addr', { value: '2001:db8::1::2' }), 'ipv6-addr value 2001:db8::1::2 is not an IPv6 address'],
    ['IPv4 in ipv6-addr', sco('ipv6-addr', { value: '1.2.3.4' }), 'ipv6-addr value 1.2.3.4 is not an IPv6 address'],
    ['bad domain', sco('domain-name', { value: 'evil..example' }), 'domain-name value evil..example has an empty label'],
    ['IP as domain', sco('domain-name', { value: '1.2.3.4' }), 'is it an IP address?'],
    ['bad e-mail', sco('email-addr', { value: 'not-an-address' }), 'email-addr value not-an-address is not an e-mail address'],
    ['bad MAC', sco('mac-addr', { value: '00:1a:2b' }), 'mac-addr value 00:1a:2b is not a MAC address'],
    ['defanged URL', sco('url', { value: 'hxxp://evil.example/' }), 'looks defanged'],
    ['missing value', sco('domain-name', {}), 'domain-name needs value'],
    ['numeric value', sco('ipv4-addr', { value: 16909060 }), 'ipv4-addr needs value, a string'],
    ['AS number as text', sco('autonomous-system', { number: '64496' }), 'autonomous-system number 64496 is not an AS number'],
    ['short MD5', sco('file', { hashes: { MD5: 'abc123' } }), 'file MD5 hash abc123 has 6 hex digits; MD5 has 32'],
    ['non-hex SHA-256', sco('file', { hashes: { 'SHA-256': 'g'.repeat(64) } }), 'is not hexadecimal'],
    ['SHA-1 of SHA-512 length', sco('file', { hashes: { SHA1: 'a'.repeat(128) } }), 'SHA-1 has 40'],
    ['file without hashes or name', sco('file', { size: 10 }), 'file needs hashes'],
    ['SCO of another spec_version', sco('ipv4-addr', { spec_version: '2.0', value: '1.2.3.4' }), 'spec_version 2.0 is not supported'],
    ['indicator without pattern', indicator({ pattern: undefined }), 'indicator needs pattern'],
    ['indicator without pattern_type', indicator({ pattern_type: undefined }), 'indicator needs pattern_type'],
    ['indicator without valid_from', indicator({ valid_from: undefined }), 'indicator needs valid_from'],
    ['indicator valid_until before valid_from', indicator({ valid_until: '2020-01-01T00:00:00Z' }), 'valid_until 2020-01-01T00:00:00.000Z is before valid_from'],
    ['truncated STIX pattern', indicator({ pattern: "[ipv4-addr:value = '1.2.3.4'" }), 'has unbalanced brackets'],
    ['malware without name', sdo('malware', { is_family: false }), 'malware needs name'],
    ['blank name', sdo('threat-actor', { name: '   ' }), 'threat-actor needs name'],
    ['report without published', sdo('report', { name: 'Weekly' }), 'report published is missing'],
    ['note without content', sdo('note', { abstract: 'x' }), 'note needs content'],
    ['SDO without spec_version', sdo('tool', { name: 'x', spec_version: undefined }), "spec_version is missing (STIX 2.1 objects carry spec_version '2.1')"],
    ['STIX 2.0 SDO', sdo('tool', { name: 'x', spec_version: '2.0' }), 'spec_version 2.0 is not supported'],
    ['missing created', sdo('tool', { name: 'x', created: undefined }), 'created is missing'],
    ['bad created', sdo('tool', { name: 'x', created: '01/05/2024' }), 'created 01/05/2024 is not an RFC 3339 timestamp'],
    ['modified before created', sdo('tool', { name: 'x', modified: '2020-01-01T00:00:00Z' }), 'modified 2020-01-01T00:00:00.000Z is before created'],
    ['last_seen before first_seen', sdo('campaign', { name: 'x', first_seen: T, last_seen: '2020-01-01T00:00:00Z' }), 'last_seen'],
    ['confidence 101', sdo('tool', { name: 'x', confidence: 101 }), 'confidence 101 must be an integer from 0 to 100'],
    ['fractional confidence', sdo('tool', { name: 'x', confidence: 50.5 }), 'confidence 50.5 must be an integer'],
    ['confidence as text', sdo('tool', { name: 'x', confidence: '50' }), 'must be an integer from 0 to 100'],
    ['id of another type', { ...sdo('tool', { name: 'x' }), id: idFor('malware') }, 'does not start with its type tool--'],
    ['id without a UUID', { ...sdo('tool', { name: 'x' }), id: 'tool--1234' }, 'id tool--1234 is not a STIX identifier'],
    ['missing id', { ...sdo('tool', { name: 'x' }), id: undefined }, 'id is missing'],
    ['bad marking ref', sdo('tool', { name: 'x', object_marking_refs: [idFor('identity')] }), 'which is not a marking-definition'],
    ['unknown type', { type: 'ipv4', id: idFor('ipv4') }, 'type ipv4 is not a STIX 2.1 type (custom types start with x-)'],
    ['type not a name', { type: 'Indicator' }, 'is not a STIX type name'],
    ['no type', { id: idFor('tool') }, 'type is missing'],
    ['nested bundle', { type: 'bundle', id: idFor('bundle') }, 'a bundle inside a bundle'],
    ['not an object', 'ipv4-addr', 'is not a JSON object'],
  ])('%s', (_label, object, reason) => {
    expect(outcome(object)).toContain(reason);
    expect(outcome(object)).toMatch(/^rejected: /);
  });
});

describe('relationships and sightings', () => {
  const rel = (extra: Record<string, unknown>) =>
    sdo('relationship', { relationship_type: 'indicates', source_ref: idFor('indicator'), target_ref: idFor('malware'), ...extra });
  const sighting = (extra: Record<string, unknown>) => sdo('sighting', { sighting_of_ref: idFor('indicator'), ...extra });

  it('normalises a relationship, reading start_time/stop_time as first/last seen', () => {
    const object = rel({ description: 'd', confidence: 80, start_time: T, stop_time: '2024-06-01T00:00:00Z', object_marking_refs: [TLP_MARKING_IDS.green] });
    const result = normalizeStixObject(object, 3);
    expect(result).toEqual({
      kind: 'relationship',
      relationship: {
        stixId: object.id,
        relationshipType: 'indicates',
        sourceRef: object.source_ref,
        targetRef: object.target_ref,
        description: 'd',
        confidence: 80,
        tlp: 'green',
        firstSeen: T,
        lastSeen: '2024-06-01T00:00:00.000Z',
        created: T,
        modified: T,
      },
    });
  });

  it('reads the spec appendix spelling exfiltrate-to as exfiltrates-to', () => {
    const result = normalizeStixObject(rel({ relationship_type: 'exfiltrate-to', source_ref: idFor('malware'), target_ref: idFor('infrastructure') }), 0);
    expect(result.kind === 'relationship' && result.relationship.relationshipType).toBe('exfiltrates-to');
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['unknown relationship_type', { relationship_type: 'likes' }, 'relationship_type likes is not one Summit imports'],
    ['missing relationship_type', { relationship_type: undefined }, 'relationship_type is missing'],
    ['target of an unmodelled type', { target_ref: idFor('attack-pattern') }, 'points at a attack-pattern, which is not a type Summit imports'],
    ['source of an unknown type', { source_ref: idFor('x-thing') }, 'source_ref'],
    ['ref not an identifier', { target_ref: 'malware-1' }, 'target_ref malware-1 is not a STIX identifier'],
    ['missing target_ref', { target_ref: undefined }, 'target_ref is missing'],
    ['self-relationship', { source_ref: 'malware--00000000-0000-4000-8000-000000000999', target_ref: 'malware--00000000-0000-4000-8000-000000000999' }, 'the same object'],
    ['stop_time before start_time', { start_time: T, stop_time: '2020-01-01T00:00:00Z' }, 'stop_time'],
    ['missing spec_version', { spec_version: undefined }, 'spec_version is missing'],
    ['missing modified', { modified: undefined }, 'modified is missing'],
  ])('rejects a relationship: %s', (_label, extra, reason) => {
    expect(outcome(rel(extra))).toContain(reason);
  });

  it('normalises a sighting, with count 1 when absent', () => {
    const object = sighting({ where_sighted_refs: [idFor('identity')], first_seen: T, last_seen: T, x_opencti_negative: true });
    const result = normalizeStixObject(object, 0);
    expect(result.kind === 'sighting' && result.sighting).toEqual({
      stixId: object.id,
      sightingOfRef: object.sighting_of_ref,
      whereSightedRefs: object.where_sighted_refs,
      observedDataRefs: [],
      count: 1,
      firstSeen: T,
      lastSeen: T,
      truePositive: false,
      confidence: null,
      created: T,
    });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['missing sighting_of_ref', { sighting_of_ref: undefined }, 'sighting_of_ref is missing'],
    ['sighting of an observable', { sighting_of_ref: idFor('ipv4-addr') }, 'which is not a domain object type Summit imports'],
    ['count 0', { count: 0 }, 'count is 0'],
    ['negative count', { count: -1 }, 'count -1 must be an integer'],
    ['observed_data_refs of another type', { observed_data_refs: [idFor('indicator')] }, 'is not an observed-data id'],
    ['where_sighted_refs not a list', { where_sighted_refs: idFor('identity') }, 'where_sighted_refs must be a list'],
  ])('rejects a sighting: %s', (_label, extra, reason) => {
    expect(outcome(sighting(extra))).toContain(reason);
  });
});

describe('skipped objects', () => {
  it.each<[string, unknown, string]>([
    ['marking-definition', { type: 'marking-definition', id: TLP_MARKING_IDS.red }, 'marking-definition objects are not imported'],
    ['custom object', { type: 'x-acme-widget', id: idFor('x-acme-widget') }, 'custom object type x-acme-widget is not imported'],
    ['unmodelled STIX type', sdo('attack-pattern', { name: 'Phishing' }), 'attack-pattern objects are not imported'],
  ])('%s', (_label, object, reason) => {
    expect(outcome(object)).toMatch(new RegExp(`^skipped: ${reason}`));
  });
});

describe('normalised entity fields', () => {
  it('keeps every STIX property that is not normalised, and only those', () => {
    const statement = 'marking-definition--33333333-3333-4333-8333-333333333333';
    const object = sdo('malware', {
      name: ' Emotet ',
      is_family: true,
      confidence: 70,
      first_seen: '2019-01-01T00:00:00+01:00',
      labels: ['banker'],
      external_references: [{ source_name: 'x' }],
      x_vendor_score: { deep: [1, 2] },
      object_marking_refs: [TLP_MARKING_IDS.amber, statement],
    });
    const result = normalizeStixObject(object, 0);
    expect(result).toEqual({
      kind: 'entity',
      entity: {
        stixId: object.id,
        type: 'malware',
        key: 'emotet',
        name: 'Emotet',
        properties: { is_family: true, labels: ['banker'], external_references: [{ source_name: 'x' }], x_vendor_score: { deep: [1, 2] }, object_marking_refs: [statement] },
        confidence: 70,
        tlp: 'amber',
        firstSeen: '2018-12-31T23:00:00.000Z',
        lastSeen: null,
        created: T,
        modified: T,
      },
    });
  });

  it('names files by name, else by hash, and indicators by name, else by pattern', () => {
    const name = (object: unknown) => {
      const result = normalizeStixObject(object, 0);
      return result.kind === 'entity' ? result.entity.name : null;
    };
    expect(name(sco('file', { name: 'a.exe', hashes: { MD5 } }))).toBe('a.exe');
    expect(name(sco('file', { hashes: { MD5 } }))).toBe(MD5);
    expect(name(indicator({ name: 'Bad IP' }))).toBe('Bad IP');
    expect(name(indicator())).toBe("[ipv4-addr:value = '198.51.100.1']");
    expect(name(sdo('note', { content: 'x '.repeat(200) }))).toHaveLength(120);
  });

  it('normalises hashes and timestamps it keeps in properties', () => {
    const file = normalizeStixObject(sco('file', { hashes: { sha256: 'A'.repeat(64), md5: MD5 } }), 0);
    expect(file.kind === 'entity' && file.entity.properties.hashes).toEqual({ 'SHA-256': 'a'.repeat(64), MD5 });
    const ind = normalizeStixObject(indicator({ valid_from: '2024-05-01T14:00:00+02:00' }), 0);
    expect(ind.kind === 'entity' && ind.entity.properties.valid_from).toBe(T);
  });
});
