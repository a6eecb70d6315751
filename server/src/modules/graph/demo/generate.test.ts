import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseStixBundle } from '../stix/parse.js';
import { DEFAULT_DEMO_NOW, DEFAULT_DEMO_SOURCES, generateDemoBundles, type DemoGeneration } from './generate.js';

type StixObject = Record<string, unknown> & { type: string; id: string };

const DAY = 86_400_000;
const TLP_IDS = new Set([
  'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
  'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
  'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
  'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
  'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
]);
const SCO_TYPES = new Set(['ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'email-addr', 'file', 'autonomous-system']);
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const STIX_ID = /^([a-z0-9-]+)--[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** source type → relationship type → target types this generator may use (STIX 2.1 section 4 and appendix B). */
const ALLOWED: Record<string, Record<string, string[]>> = {
  indicator: {
    indicates: ['malware', 'campaign', 'intrusion-set', 'tool', 'infrastructure', 'threat-actor'],
    'based-on': [...SCO_TYPES],
  },
  url: { 'related-to': ['domain-name'] },
  'domain-name': { 'resolves-to': ['ipv4-addr', 'ipv6-addr'] },
  'ipv4-addr': { 'belongs-to': ['autonomous-system'] },
  'ipv6-addr': { 'belongs-to': ['autonomous-system'] },
  campaign: {
    'attributed-to': ['intrusion-set', 'threat-actor'], uses: ['malware', 'tool', 'infrastructure'], targets: ['identity', 'vulnerability'],
  },
  'intrusion-set': {
    'attributed-to': ['threat-actor'], uses: ['malware', 'tool', 'infrastructure'], targets: ['identity', 'vulnerability'],
  },
  'threat-actor': { uses: ['malware', 'tool', 'infrastructure'], targets: ['identity', 'vulnerability'] },
  malware: {
    exploits: ['vulnerability'], 'communicates-with': ['ipv4-addr', 'ipv6-addr', 'domain-name', 'url'], drops: ['file'],
    'variant-of': ['malware'], uses: ['tool'], targets: ['identity', 'vulnerability'],
  },
  infrastructure: { 'consists-of': ['ipv4-addr', 'domain-name', 'url'], hosts: ['malware'], controls: ['malware'] },
  incident: { 'related-to': ['indicator', 'ipv4-addr', 'domain-name'] },
};

function objectsOf(generation: DemoGeneration): StixObject[] {
  return generation.bundles.flatMap((b) => b.bundle.objects as StixObject[]);
}
function typeOfId(id: string): string {
  return id.slice(0, id.indexOf('--'));
}
/** What makes two observables the same thing, whichever source said it. */
function observableKey(o: StixObject): string | null {
  if (!SCO_TYPES.has(o.type)) return null;
  if (o.type === 'file') return `file|${(o.hashes as Record<string, string>)['SHA-256']}`;
  if (o.type === 'autonomous-system') return `autonomous-system|${String(o.number)}`;
  return `${o.type}|${String(o.value)}`;
}
function octets(value: string): number[] {
  return value.split('.').map(Number);
}
/** 10/8, 172.16/12, 192.168/16, 127/8, plus the other ranges no real C2 lives in (0/8, link-local, docs, multicast). */
function isNonPublicIpv4(value: string): boolean {
  const [a = -1, b = -1, c = -1] = octets(value);
  return (
    a === 10 || a === 127 || a === 0 || a >= 224 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) ||
    (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127) || (a === 192 && b === 0 && c === 2) ||
    (a === 198 && b === 51 && c === 100) || (a === 203 && b === 0 && c === 113)
  );
}
/** Observable keys asserted by two or more sources, over all distinct observable keys. */
function corroborationRate(generation: DemoGeneration): number {
  const sourcesByKey = new Map<string, Set<string>>();
  for (const { source, bundle } of generation.bundles) {
    for (const o of bundle.objects as StixObject[]) {
      const key = observableKey(o);
      if (key) sourcesByKey.set(key, (sourcesByKey.get(key) ?? new Set()).add(source));
    }
  }
  let corroborated = 0;
  for (const sources of sourcesByKey.values()) if (sources.size > 1) corroborated += 1;
  return corroborated / sourcesByKey.size;
}
/** Every reference an object makes, by property. */
function referencesOf(o: StixObject): string[] {
  const refs: string[] = [];
  for (const key of ['source_ref', 'target_ref', 'sighting_of_ref', 'created_by_ref']) {
    if (typeof o[key] === 'string') refs.push(o[key] as string);
  }
  for (const key of ['where_sighted_refs', 'object_refs', 'object_marking_refs']) {
    if (Array.isArray(o[key])) refs.push(...(o[key] as string[]));
  }
  return refs;
}
/** References that do not resolve inside the bundle that holds the object. */
function danglingReferences(generation: DemoGeneration): string[] {
  const dangling: string[] = [];
  for (const { bundle } of generation.bundles) {
    const ids = new Set(bundle.objects.map((o) => o.id as string));
    for (const o of bundle.objects as StixObject[]) for (const ref of referencesOf(o)) if (!ids.has(ref)) dangling.push(`${o.id} → ${ref}`);
  }
  return dangling;
}
function duplicateIds(generation: DemoGeneration): string[] {
  const seen = new Set<string>();
  const duplicates: string[] = [];
  for (const o of objectsOf(generation)) {
    // The TLP marking-definitions are the standard ones, so each bundle that uses one carries the same object.
    if (o.type === 'marking-definition') continue;
    if (seen.has(o.id)) duplicates.push(o.id);
    seen.add(o.id);
  }
  return duplicates;
}
function withinPercent(actual: number, target: number, percent: number): boolean {
  return Math.abs(actual - target) <= (target * percent) / 100;
}

const standard = generateDemoBundles({ seed: 42, entities: 3000 });
const standardObjects = objectsOf(standard);

describe('generateDemoBundles: determinism', () => {
  it('gives byte-identical JSON for the same options', () => {
    const a = generateDemoBundles({ seed: 7, entities: 2000 });
    const b = generateDemoBundles({ seed: 7, entities: 2000 });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });

  it('gives different graphs, ids and values for different seeds', () => {
    const a = generateDemoBundles({ seed: 7, entities: 2000 });
    const b = generateDemoBundles({ seed: 8, entities: 2000 });
    expect(JSON.stringify(b)).not.toBe(JSON.stringify(a));
    const idsA = new Set(objectsOf(a).map((o) => o.id));
    const sharedIds = objectsOf(b).filter((o) => o.type !== 'marking-definition' && idsA.has(o.id));
    expect(sharedIds).toEqual([]);
  });

  it('anchors every timestamp to the fixed default clock, or to `now` when given', () => {
    const now = new Date('2030-01-15T00:00:00.000Z');
    const shifted = generateDemoBundles({ seed: 42, entities: 3000, now });
    const latest = (objects: StixObject[]) =>
      objects.filter((o) => o.type !== 'marking-definition' && typeof o.created === 'string').reduce((max, o) => (String(o.created) > max ? String(o.created) : max), '');
    expect(latest(standardObjects) <= DEFAULT_DEMO_NOW.toISOString()).toBe(true);
    expect(latest(standardObjects) > new Date(DEFAULT_DEMO_NOW.getTime() - DAY).toISOString()).toBe(true);
    expect(latest(objectsOf(shifted)) <= now.toISOString()).toBe(true);
    expect(latest(objectsOf(shifted)) > '2030-01-01').toBe(true);
  });
});

describe('generateDemoBundles: size', () => {
  it.each([1000, 3000, 20_000])('meets a target of %i entities, with 3 relationships each, within two percent', (entities) => {
    const { stats, bundles } = generateDemoBundles({ seed: entities, entities });
    expect(withinPercent(stats.entities, entities, 2)).toBe(true);
    expect(withinPercent(stats.relationships, entities * 3, 2)).toBe(true);
    const objects = bundles.flatMap((b) => b.bundle.objects);
    expect(objects.length).toBe(Object.values(stats.byType).reduce((a, b) => a + b, 0));
    expect(objects.filter((o) => o.type === 'relationship').length).toBe(stats.relationships);
    expect(objects.filter((o) => o.type === 'sighting').length).toBe(stats.sightings);
    expect(stats.sightings).toBeGreaterThan(0);
  });

  it.each([0, 1, 5])('honours relationshipsPerEntity = %i', (perEntity) => {
    const { stats } = generateDemoBundles({ seed: 3, entities: 3000, relationshipsPerEntity: perEntity });
    expect(withinPercent(stats.relationships, 3000 * perEntity, 2)).toBe(true);
  });

  it('covers every kind of entity the issue asks for, observables first among them', () => {
    const { byType } = standard.stats;
    for (const type of [
      'ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'email-addr', 'file', 'autonomous-system', 'indicator', 'threat-actor',
      'intrusion-set', 'malware', 'tool', 'campaign', 'vulnerability', 'infrastructure', 'identity', 'incident', 'report', 'note',
    ]) {
      expect(byType[type], type).toBeGreaterThan(0);
    }
    const observables = [...SCO_TYPES].reduce((n, t) => n + (byType[t] ?? 0), 0);
    expect(observables / standard.stats.entities).toBeGreaterThan(0.35);
    expect((byType.indicator ?? 0) / standard.stats.entities).toBeGreaterThan(0.3);
  });

  it('makes one bundle per source, in the order given, defaulting to four feeds', () => {
    expect(standard.bundles.map((b) => b.source)).toEqual([...DEFAULT_DEMO_SOURCES]);
    const custom = generateDemoBundles({ seed: 1, entities: 800, sources: ['vendor-x', 'honeypot'] });
    expect(custom.bundles.map((b) => b.source)).toEqual(['vendor-x', 'honeypot']);
    expect(withinPercent(custom.stats.entities, 800, 2)).toBe(true);
    expect(danglingReferences(custom)).toEqual([]);
  });

  it('generates 100,000 entities with about 300,000 relationships', () => {
    const big = generateDemoBundles({ seed: 2025, entities: 100_000 });
    expect(withinPercent(big.stats.entities, 100_000, 2)).toBe(true);
    expect(withinPercent(big.stats.relationships, 300_000, 2)).toBe(true);
    expect(duplicateIds(big)).toEqual([]);
    expect(danglingReferences(big)).toEqual([]);
  });

  it('rejects options it cannot honour', () => {
    expect(() => generateDemoBundles({ seed: 1, entities: 0 })).toThrow(RangeError);
    expect(() => generateDemoBundles({ seed: 1, entities: 10.5 })).toThrow(RangeError);
    expect(() => generateDemoBundles({ seed: Number.NaN, entities: 10 })).toThrow(RangeError);
    expect(() => generateDemoBundles({ seed: 1, entities: 10, relationshipsPerEntity: -1 })).toThrow(RangeError);
    expect(() => generateDemoBundles({ seed: 1, entities: 10, sources: [] })).toThrow(RangeError);
    expect(() => generateDemoBundles({ seed: 1, entities: 10, sources: ['a', 'a'] })).toThrow(RangeError);
    expect(() => generateDemoBundles({ seed: 1, entities: 10, now: new Date('nope') })).toThrow(RangeError);
  });
});

describe('generateDemoBundles: STIX validity', () => {
  it('keeps every reference inside the bundle that makes it, so each bundle imports on its own', () => {
    expect(danglingReferences(standard)).toEqual([]);
  });

  it('gives every object a unique, typed UUIDv4 id', () => {
    expect(duplicateIds(standard)).toEqual([]);
    for (const o of standardObjects) {
      const match = STIX_ID.exec(o.id);
      expect(match?.[1], o.id).toBe(o.type);
    }
    for (const { bundle } of standard.bundles) expect(bundle.id).toMatch(/^bundle--/);
  });

  it('writes the common properties: spec_version, RFC 3339 times with milliseconds, creator, confidence, TLP 2.0', () => {
    const now = DEFAULT_DEMO_NOW.getTime();
    for (const o of standardObjects) {
      expect(o.spec_version, o.id).toBe('2.1');
      if (o.type === 'marking-definition') continue;
      expect((o.object_marking_refs as string[]).every((ref) => TLP_IDS.has(ref)), o.id).toBe(true);
      if (SCO_TYPES.has(o.type)) {
        expect(o.created, o.id).toBeUndefined();
        continue;
      }
      expect(o.created, o.id).toMatch(TIMESTAMP);
      expect(o.modified, o.id).toMatch(TIMESTAMP);
      expect(String(o.modified) >= String(o.created), o.id).toBe(true);
      const created = Date.parse(String(o.created));
      expect(created >= now - 90 * DAY && created <= now, o.id).toBe(true);
      if (o.confidence !== undefined) expect(Number.isInteger(o.confidence) && (o.confidence as number) >= 0 && (o.confidence as number) <= 100).toBe(true);
      expect(typeof o.created_by_ref === 'string' || o.type === 'identity', o.id).toBe(true);
    }
  });

  it('includes the standard TLP 2.0 marking-definition for each level a bundle uses', () => {
    for (const { bundle } of standard.bundles) {
      const objects = bundle.objects as StixObject[];
      const markings = objects.filter((o) => o.type === 'marking-definition');
      expect(markings.length).toBeGreaterThan(0);
      for (const m of markings) {
        expect(TLP_IDS.has(m.id)).toBe(true);
        const extension = (m.extensions as Record<string, Record<string, string>>)['extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d'];
        expect(extension?.extension_type).toBe('property-extension');
        expect(m.name).toBe(`TLP:${extension?.tlp_2_0?.toUpperCase()}`);
      }
    }
  });

  it('uses only relationship types STIX defines for each pair of types', () => {
    const unexpected = new Set<string>();
    for (const o of standardObjects.filter((x) => x.type === 'relationship')) {
      const source = typeOfId(String(o.source_ref));
      const target = typeOfId(String(o.target_ref));
      const type = String(o.relationship_type);
      if (!ALLOWED[source]?.[type]?.includes(target)) unexpected.add(`${source} ${type} ${target}`);
      expect(o.source_ref).not.toBe(o.target_ref);
    }
    expect([...unexpected]).toEqual([]);
  });

  it('gives each indicator a STIX pattern over an observable its own bundle defines', () => {
    for (const { bundle } of standard.bundles) {
      const objects = bundle.objects as StixObject[];
      const values = new Set(objects.flatMap((o) => (o.type === 'file' ? Object.values(o.hashes as object) : [String(o.value)])));
      for (const o of objects.filter((x) => x.type === 'indicator')) {
        expect(o.pattern_type).toBe('stix');
        expect(o.valid_from).toMatch(TIMESTAMP);
        if (o.valid_until !== undefined) expect(String(o.valid_until) > String(o.valid_from)).toBe(true);
        const match = /^\[(ipv4-addr|ipv6-addr|domain-name|url|email-addr):value = '([^']+)'\]$|^\[file:hashes\.'SHA-256' = '([0-9a-f]{64})'( OR file:hashes\.MD5 = '[0-9a-f]{32}')?\]$/.exec(String(o.pattern));
        expect(match, String(o.pattern)).not.toBeNull();
        expect(values.has(match![2] ?? match![3]!), String(o.pattern)).toBe(true);
      }
    }
  });

  it('writes file hashes of the right length in lower-case hex', () => {
    const files = standardObjects.filter((o) => o.type === 'file');
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const hashes = f.hashes as Record<string, string>;
      expect(hashes.MD5).toMatch(/^[0-9a-f]{32}$/);
      expect(hashes['SHA-1']).toMatch(/^[0-9a-f]{40}$/);
      expect(hashes['SHA-256']).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('gives sightings an indicator, identities where sighted, a count and an ordered window', () => {
    const sightings = standardObjects.filter((o) => o.type === 'sighting');
    expect(sightings.length).toBeGreaterThan(0);
    for (const s of sightings) {
      expect(typeOfId(String(s.sighting_of_ref))).toBe('indicator');
      expect((s.where_sighted_refs as string[]).length).toBeGreaterThan(0);
      expect((s.where_sighted_refs as string[]).every((ref) => typeOfId(ref) === 'identity')).toBe(true);
      expect(Number.isInteger(s.count) && (s.count as number) >= 1).toBe(true);
      expect(String(s.first_seen) <= String(s.last_seen)).toBe(true);
    }
  });

  it('gives reports and notes object_refs and reports a publication time', () => {
    for (const o of standardObjects.filter((x) => x.type === 'report' || x.type === 'note')) {
      expect((o.object_refs as string[]).length).toBeGreaterThan(0);
      if (o.type === 'report') expect(o.published).toMatch(TIMESTAMP);
    }
  });

  it('parses with the graph importer without a single rejection', () => {
    for (const { source, bundle } of standard.bundles) {
      const parsed = parseStixBundle(bundle);
      if (!parsed.ok) throw new Error(`${source}: ${parsed.reason}`);
      expect(parsed.rejected, source).toEqual([]);
      expect(parsed.relationships.length).toBe(bundle.objects.filter((o) => o.type === 'relationship').length);
      expect(parsed.sightings.length).toBe(bundle.objects.filter((o) => o.type === 'sighting').length);
    }
  });
});

describe('generateDemoBundles: realism', () => {
  it('keeps private, loopback and documentation IPv4 space out, except a few addresses labelled benign', () => {
    let benign = 0;
    for (const { bundle } of standard.bundles) {
      const objects = bundle.objects as StixObject[];
      const benignPatterns = new Set(
        objects.filter((o) => o.type === 'indicator' && (o.labels as string[] | undefined)?.includes('benign')).map((o) => String(o.pattern)),
      );
      for (const o of objects.filter((x) => x.type === 'ipv4-addr' && isNonPublicIpv4(String(x.value)))) {
        expect(benignPatterns.has(`[ipv4-addr:value = '${String(o.value)}']`), String(o.value)).toBe(true);
        benign += 1;
      }
      for (const o of objects.filter((x) => x.type === 'ipv6-addr')) expect(String(o.value)).not.toMatch(/^2001:db8:/);
    }
    expect(benign).toBeGreaterThan(0);
    expect(benign).toBeLessThan(standard.stats.byType['ipv4-addr']! * 0.02);
  });

  it('has about a quarter of observables asserted by two or three sources, each under its own id', () => {
    expect(corroborationRate(standard)).toBeGreaterThanOrEqual(0.2);
    expect(corroborationRate(standard)).toBeLessThanOrEqual(0.3);
    for (const { bundle } of standard.bundles) {
      const keys = (bundle.objects as StixObject[]).map(observableKey).filter((k) => k !== null);
      expect(new Set(keys).size).toBe(keys.length);
    }
    const sourcesByKey = new Map<string, number>();
    for (const o of standardObjects) {
      const key = observableKey(o);
      if (key) sourcesByKey.set(key, (sourcesByKey.get(key) ?? 0) + 1);
    }
    expect(Math.max(...sourcesByKey.values())).toBe(DEFAULT_DEMO_SOURCES.length);
  });

  it('lets confidence vary by source: the SOC and abuse.ch above the community feed', () => {
    const mean = (source: string) => {
      const bundle = standard.bundles.find((b) => b.source === source)!.bundle;
      const values = bundle.objects.map((o) => o.confidence).filter((c): c is number => typeof c === 'number');
      return values.reduce((a, b) => a + b, 0) / values.length;
    };
    expect(mean('internal-soc')).toBeGreaterThan(mean('alienvault-otx') + 20);
    expect(mean('abuse.ch')).toBeGreaterThan(mean('alienvault-otx') + 20);
  });

  it('spreads activity over the 90 days before now', () => {
    const times = standardObjects.filter((o) => o.type === 'indicator').map((o) => Date.parse(String(o.valid_from)));
    const now = DEFAULT_DEMO_NOW.getTime();
    expect(Math.min(...times)).toBeGreaterThanOrEqual(now - 90 * DAY);
    expect(Math.max(...times)).toBeLessThanOrEqual(now);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(80 * DAY);
  });

  it('skews degree: a few hubs (C2 addresses, popular families, a big campaign) carry many edges', () => {
    const degree = new Map<string, number>();
    for (const o of standardObjects.filter((x) => x.type === 'relationship')) {
      for (const end of [String(o.source_ref), String(o.target_ref)]) degree.set(end, (degree.get(end) ?? 0) + 1);
    }
    const sorted = [...degree.values()].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    expect(sorted[sorted.length - 1]!).toBeGreaterThan(median * 30);
    const hubOf = (type: string) => Math.max(...[...degree].filter(([id]) => typeOfId(id) === type).map(([, d]) => d));
    expect(hubOf('ipv4-addr')).toBeGreaterThan(median * 10);
    expect(hubOf('campaign')).toBeGreaterThan(median * 10);
  });

  it('stays within a few objects of the requested size when five sources split a small budget', () => {
    // Found by the property below (fast-check seed 78290995): each source's last url could pull in a domain and two
    // indicators past its budget, 11 objects over in all.
    const sources = ['internal-soc', 'alienvault-otx', 'abuse.ch', 'vendor-x', 'isac-feed'];
    const generation = generateDemoBundles({ seed: 2002873889, entities: 311, sources });
    expect(Math.abs(generation.stats.entities - 311)).toBeLessThanOrEqual(sources.length);
  });

  it('holds its invariants for any seed, size and set of sources', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.integer({ min: 300, max: 2500 }),
        fc.uniqueArray(fc.constantFrom('alienvault-otx', 'abuse.ch', 'internal-soc', 'isac-feed', 'vendor-x'), { minLength: 1, maxLength: 5 }),
        (seed, entities, sources) => {
          const generation = generateDemoBundles({ seed, entities, sources });
          expect(Math.abs(generation.stats.entities - entities)).toBeLessThanOrEqual(Math.max(entities * 0.02, 8));
          expect(danglingReferences(generation)).toEqual([]);
          expect(duplicateIds(generation)).toEqual([]);
        },
      ),
      { numRuns: 25 },
    );
  });
});
