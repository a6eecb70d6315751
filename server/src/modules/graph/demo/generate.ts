/**
 * A seeded, deterministic generator of realistic STIX 2.1 threat intelligence: one bundle per source, as if
 * several feeds had been subscribed to for 90 days. It seeds the demo tenant on a new data dir and feeds tests and
 * benchmarks, so the same seed must always give byte-identical JSON: every random choice comes from one mulberry32
 * stream consumed in a fixed order, ids included (never crypto.randomUUID), and the default clock is a fixed instant.
 *
 * Shape of the output:
 * - Each bundle is self-contained: every reference (source_ref, target_ref, sighting_of_ref, where_sighted_refs,
 *   object_refs, created_by_ref, object_marking_refs) names an object in the same bundle, so any bundle imports on
 *   its own. The TLP 2.0 marking-definitions a bundle uses are included in it.
 * - Corroboration is modelled the way it arrives: the same observable value asserted by 2-3 sources, each with its
 *   own STIX id, confidence, marking and timing. Context (malware families, campaigns, intrusion sets) is likewise
 *   defined by each source under the same names, a popular core shared by all and a long tail per source.
 * - Degree is skewed: picks favour the first items of each pool (u^3), and the first observables of every source are
 *   a handful of hub C2 addresses asserted by all sources, so a few nodes (a big campaign, popular C2 IPs) carry a
 *   large share of the edges, as in real intel.
 * - "Entities" are all objects except relationships, sightings and marking-definitions (SCOs, indicators and the
 *   other SDOs, including each source's own identity, reports and notes). `entities` is met within a few objects.
 *
 * The observable values are synthetic. Addresses are drawn from public ranges (a deliberate few private addresses
 * and well-known domains appear only under indicators labelled "benign"), so they may belong to real hosts:
 * this data is for demos and tests, never for blocking.
 */
import { TLP_LEVELS, TLP_MARKING_IDS, type Tlp } from '../stix/model.js';
import {
  AS_NAMES, AS_SUFFIXES, BENIGN_DOMAINS, BUSINESS_UNITS, DOMAIN_WORDS, EMAIL_LOCALS, FILE_EXTENSIONS, FILE_NAMES,
  HANDLE_HEADS, HANDLE_TAILS, INCIDENT_SUMMARIES, INFRASTRUCTURE_ROLES, MALICIOUS_TLDS, MALWARE_PREFIXES,
  MALWARE_SUFFIXES, NOTE_TEMPLATES, OPERATION_FIRST, OPERATION_SECOND, ORG_KINDS, ORG_PLACES, SET_ADJECTIVES,
  SET_ANIMALS, TOOLS, URL_FILES, URL_PATHS,
} from './names.js';

export type DemoGenerationOptions = {
  seed: number;
  /** Target number of entity objects across all bundles (met within ±2% from a few hundred up). */
  entities: number;
  /** Relationships per entity; 3 by default (100,000 entities → about 300,000 relationships). */
  relationshipsPerEntity?: number;
  sources?: string[];
  /** End of the 90-day activity window; a fixed instant by default so output is stable. */
  now?: Date;
};
export type StixBundle = { type: 'bundle'; id: string; objects: Record<string, unknown>[] };
export type DemoSourceBundle = { source: string; bundle: StixBundle };
export type DemoStats = { entities: number; relationships: number; sightings: number; byType: Record<string, number> };
export type DemoGeneration = { bundles: DemoSourceBundle[]; stats: DemoStats };

export const DEFAULT_DEMO_SOURCES: readonly string[] = ['alienvault-otx', 'abuse.ch', 'internal-soc', 'isac-feed'];
export const DEFAULT_DEMO_NOW = new Date('2025-06-01T12:00:00.000Z');
const DAY = 86_400_000;
const WINDOW = 90 * DAY;
const HOUR = 3_600_000;

type ObservableType = 'ipv4-addr' | 'ipv6-addr' | 'domain-name' | 'url' | 'email-addr' | 'file' | 'autonomous-system';
type ContextType =
  | 'malware' | 'tool' | 'threat-actor' | 'intrusion-set' | 'campaign' | 'vulnerability' | 'infrastructure'
  | 'identity' | 'incident' | 'report' | 'note';
type Weights<K extends string> = ReadonlyArray<readonly [K, number]>;

type SourceProfile = {
  label: string;
  description: string;
  share: number;
  confidence: readonly [number, number];
  tlp: Weights<Tlp>;
  /** How long after first activity the source reports it. */
  lagHours: number;
  indicatorRate: number;
  sightingRate: number;
  contextShare: number;
  /** Identities are the organisation's own business units (where its sightings happen), not victims. */
  ownUnits: boolean;
  observables: Weights<ObservableType>;
  context: Weights<ContextType>;
};

const PROFILES: Record<string, SourceProfile> = {
  'alienvault-otx': {
    label: 'AlienVault OTX', description: 'Community pulses (synthetic demo data).', share: 0.35, confidence: [25, 70],
    tlp: [['clear', 0.65], ['green', 0.35]], lagHours: 48, indicatorRate: 0.85, sightingRate: 0.04, contextShare: 0.1,
    ownUnits: false,
    observables: [['ipv4-addr', 0.3], ['ipv6-addr', 0.03], ['domain-name', 0.25], ['url', 0.15], ['email-addr', 0.05], ['file', 0.2], ['autonomous-system', 0.02]],
    context: [['malware', 0.25], ['tool', 0.04], ['intrusion-set', 0.08], ['threat-actor', 0.04], ['campaign', 0.06], ['vulnerability', 0.12], ['infrastructure', 0.06], ['identity', 0.05], ['report', 0.28], ['note', 0.02]],
  },
  'abuse.ch': {
    label: 'abuse.ch', description: 'Malware and botnet C2 trackers (synthetic demo data).', share: 0.3, confidence: [60, 95],
    tlp: [['clear', 1]], lagHours: 6, indicatorRate: 0.95, sightingRate: 0.02, contextShare: 0.06, ownUnits: false,
    observables: [['ipv4-addr', 0.3], ['domain-name', 0.15], ['url', 0.3], ['file', 0.23], ['autonomous-system', 0.02]],
    context: [['malware', 0.5], ['tool', 0.03], ['infrastructure', 0.22], ['vulnerability', 0.05], ['campaign', 0.05], ['report', 0.15]],
  },
  'internal-soc': {
    label: 'Internal SOC', description: 'Our own detections and incident response (synthetic demo data).', share: 0.12,
    confidence: [70, 100], tlp: [['amber', 0.5], ['amber+strict', 0.3], ['red', 0.2]], lagHours: 2, indicatorRate: 0.7,
    sightingRate: 0.35, contextShare: 0.2, ownUnits: true,
    observables: [['ipv4-addr', 0.35], ['ipv6-addr', 0.03], ['domain-name', 0.27], ['url', 0.08], ['email-addr', 0.12], ['file', 0.14], ['autonomous-system', 0.01]],
    context: [['incident', 0.35], ['identity', 0.12], ['note', 0.25], ['malware', 0.1], ['tool', 0.06], ['campaign', 0.04], ['infrastructure', 0.03], ['vulnerability', 0.05]],
  },
  'isac-feed': {
    label: 'Sector ISAC', description: 'Sector sharing community (synthetic demo data).', share: 0.23, confidence: [45, 85],
    tlp: [['green', 0.55], ['amber', 0.35], ['amber+strict', 0.1]], lagHours: 96, indicatorRate: 0.9, sightingRate: 0.12,
    contextShare: 0.15, ownUnits: false,
    observables: [['ipv4-addr', 0.35], ['ipv6-addr', 0.05], ['domain-name', 0.3], ['url', 0.08], ['email-addr', 0.1], ['file', 0.1], ['autonomous-system', 0.02]],
    context: [['threat-actor', 0.1], ['intrusion-set', 0.14], ['campaign', 0.12], ['vulnerability', 0.15], ['identity', 0.15], ['malware', 0.12], ['tool', 0.04], ['infrastructure', 0.03], ['report', 0.12], ['incident', 0.03]],
  },
};
const GENERIC_PROFILE: Omit<SourceProfile, 'label'> = {
  description: 'Threat feed (synthetic demo data).', share: 0.2, confidence: [40, 80], tlp: [['green', 0.7], ['amber', 0.3]],
  lagHours: 24, indicatorRate: 0.85, sightingRate: 0.05, contextShare: 0.1, ownUnits: false,
  observables: [['ipv4-addr', 0.35], ['ipv6-addr', 0.03], ['domain-name', 0.25], ['url', 0.12], ['email-addr', 0.05], ['file', 0.18], ['autonomous-system', 0.02]],
  context: [['malware', 0.3], ['tool', 0.05], ['intrusion-set', 0.08], ['threat-actor', 0.05], ['campaign', 0.08], ['vulnerability', 0.12], ['infrastructure', 0.07], ['identity', 0.05], ['report', 0.2]],
};

/** Share of new observables that a second (and sometimes third) source also asserts; tuned for ~25% overall. */
const CORROBORATION_RATE = 0.22;

// ---------------------------------------------------------------------------------------------- randomness

/** mulberry32: tiny, fast and good enough for test data; the whole generation draws from one instance. */
class Random {
  private state: number;
  constructor(seed: number) {
    this.state = Math.trunc(seed) >>> 0;
  }
  uint32(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = Math.imul(this.state ^ (this.state >>> 15), 1 | this.state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  }
  float(): number {
    return this.uint32() / 4_294_967_296;
  }
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  /** An index in [0, n) that favours the front: the first 1% of a pool gets about a fifth of the picks. */
  skewed(n: number): number {
    const u = this.float();
    return Math.floor(n * u * u * u);
  }
  weighted<K>(weights: ReadonlyArray<readonly [K, number]>): K {
    let total = 0;
    for (const [, w] of weights) total += w;
    let r = this.float() * total;
    for (const [key, w] of weights) {
      r -= w;
      if (r < 0) return key;
    }
    return weights[weights.length - 1]![0];
  }
  hex(length: number): string {
    let out = '';
    while (out.length < length) out += this.uint32().toString(16).padStart(8, '0');
    return out.slice(0, length);
  }
  /**
   * A STIX id, `type--` and an RFC 4122 version 4 layout filled from the seeded stream. Built from char codes so
   * the result is one flat string: hundreds of thousands of ids built by concatenation would each keep a rope.
   */
  stixId(type: string): string {
    const out: number[] = [];
    for (let i = 0; i < type.length; i++) out.push(type.charCodeAt(i));
    out.push(45, 45);
    const at = out.length;
    for (let word = 0; word < 4; word++) {
      const x = this.uint32();
      for (let shift = 28; shift >= 0; shift -= 4) {
        const n = out.length - at;
        if (n === 8 || n === 13 || n === 18 || n === 23) out.push(45);
        out.push(HEX_CODES[(x >>> shift) & 15]!);
      }
    }
    out[at + 14] = 52; // version 4
    out[at + 19] = HEX_CODES[8 + ((this.uint32() >>> 30) & 3)]!; // variant 10xx
    return String.fromCharCode(...out);
  }
}

const HEX_CODES = [...'0123456789abcdef'].map((ch) => ch.charCodeAt(0));

/** A stateless hash, so attributes tied to a canonical index (an actor's type) agree across sources. */
function hashInt(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ b;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}
function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
/** Maps 0..total-1 onto itself in a seed-dependent order, so name pools differ per seed but never repeat. */
function permute(i: number, total: number, salt: number): number {
  let stride = 7919;
  while (gcd(stride, total) !== 1) stride += 2;
  return ((i % total) * stride + (salt % total)) % total;
}
function iso(ms: number): string {
  return new Date(ms).toISOString();
}

// ---------------------------------------------------------------------------------------------- state

type Ctx = { rng: Random; now: number; start: number; salt: number };

type Canonical = {
  index: number;
  type: ObservableType;
  /** The value the indicator pattern matches (SHA-256 for files, the AS number for autonomous systems). */
  value: string;
  props: Record<string, unknown>;
  firstSeen: number;
  benign: boolean;
  hub: boolean;
  domain: Canonical | null;
};

type PoolName = ObservableType | ContextType | 'indicator' | 'benign';
type SourceGraph = {
  name: string;
  bundleId: string;
  profile: SourceProfile;
  identityId: string;
  identity: number;
  ids: string[];
  times: number[];
  entities: Record<string, unknown>[];
  late: Record<string, unknown>[];
  relationships: Record<string, unknown>[];
  sightings: Record<string, unknown>[];
  tlpUsed: Set<Tlp>;
  pools: Record<PoolName, number[]>;
  /** Parallel to pools.indicator: the handle of the observable each indicator's pattern describes. */
  indicatorObservable: number[];
  /** Parallel to pools.url: the handle of the url's domain-name in this bundle. */
  urlDomain: number[];
  domainByCanonical: Map<number, number>;
  /** Names of context objects, for report titles. */
  names: Map<number, string>;
  relationKeys: Set<number>;
  contextCounts: Record<ContextType, number>;
  observableBudget: number;
  relationshipBudget: number;
};

function emptyPools(): Record<PoolName, number[]> {
  const names: PoolName[] = [
    'ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'email-addr', 'file', 'autonomous-system', 'malware', 'tool',
    'threat-actor', 'intrusion-set', 'campaign', 'vulnerability', 'infrastructure', 'identity', 'incident', 'report',
    'note', 'indicator', 'benign',
  ];
  return Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<PoolName, number[]>;
}

function addHandle(g: SourceGraph, id: string, time: number): number {
  g.ids.push(id);
  g.times.push(time);
  return g.ids.length - 1;
}
function marking(ctx: Ctx, g: SourceGraph): string[] {
  const tlp = ctx.rng.weighted(g.profile.tlp);
  g.tlpUsed.add(tlp);
  return [TLP_MARKING_IDS[tlp]];
}
function confidence(ctx: Ctx, g: SourceGraph): number {
  return ctx.rng.between(g.profile.confidence[0], g.profile.confidence[1]);
}
function randomTime(ctx: Ctx): number {
  return ctx.start + ctx.rng.int(WINDOW);
}
function timeAfter(ctx: Ctx, t: number): number {
  return t + ctx.rng.int(Math.max(1, ctx.now - t));
}

/** An SDO with the common properties; returns its handle. `late` objects go after relationships in the bundle. */
function addSdo(ctx: Ctx, g: SourceGraph, type: string, created: number, extra: Record<string, unknown>, late = false): number {
  const id = ctx.rng.stixId(type);
  const createdText = iso(created);
  const modifiedText = ctx.rng.chance(0.3) ? iso(timeAfter(ctx, created)) : createdText;
  const object: Record<string, unknown> = {
    type, spec_version: '2.1', id, created_by_ref: g.identityId, created: createdText, modified: modifiedText,
    ...extra, confidence: confidence(ctx, g), object_marking_refs: marking(ctx, g),
  };
  (late ? g.late : g.entities).push(object);
  return addHandle(g, id, created);
}

// ---------------------------------------------------------------------------------------------- context (SDOs)

type NamedType = 'malware' | 'tool' | 'threat-actor' | 'intrusion-set' | 'campaign' | 'vulnerability' | 'identity';
const NAMED_TYPES: readonly NamedType[] = ['malware', 'tool', 'threat-actor', 'intrusion-set', 'campaign', 'vulnerability', 'identity'];

type World = {
  /** How many distinct names each kind of context draws from; index 0 is the most popular. */
  poolSize: Record<NamedType, number>;
  /** `type|value` of every canonical observable, so no value is minted twice. */
  values: Set<string>;
  /** Malicious canonical domains, on which urls and sender addresses are built. */
  domains: Canonical[];
  count: number;
  benignDomainsUsed: number;
};

/** Name i of a pool built as first × second words; past the combinations a generation number is appended. */
function comboName(ctx: Ctx, i: number, first: readonly string[], second: readonly string[], join: string, kind: number): string {
  const total = first.length * second.length;
  const j = permute(i, total, ctx.salt + kind);
  const generation = i < total ? '' : ` ${Math.floor(i / total) + 1}`;
  return `${first[j % first.length]}${join}${second[Math.floor(j / first.length)]}${generation}`;
}
/** A stable attribute of canonical context object i (the same in every source). */
function attribute<T>(ctx: Ctx, kind: number, i: number, values: readonly T[]): T {
  return values[hashInt(ctx.salt + kind, i) % values.length]!;
}
function seenAround(ctx: Ctx, created: number): { first_seen: string; last_seen: string } {
  return { first_seen: iso(ctx.start + ctx.rng.int(created - ctx.start + 1)), last_seen: iso(timeAfter(ctx, created)) };
}

function contextProperties(ctx: Ctx, g: SourceGraph, type: ContextType, i: number, created: number): Record<string, unknown> {
  switch (type) {
    case 'malware': {
      const j = permute(i, MALWARE_PREFIXES.length * MALWARE_SUFFIXES.length, ctx.salt);
      const [suffix, malwareType] = MALWARE_SUFFIXES[Math.floor(j / MALWARE_PREFIXES.length) % MALWARE_SUFFIXES.length]!;
      const total = MALWARE_PREFIXES.length * MALWARE_SUFFIXES.length;
      const name = `${MALWARE_PREFIXES[j % MALWARE_PREFIXES.length]}${suffix}${i < total ? '' : ` ${Math.floor(i / total) + 1}`}`;
      return { name, malware_types: [malwareType], is_family: true, ...seenAround(ctx, created) };
    }
    case 'tool': {
      const [name, toolType] = TOOLS[i % TOOLS.length]!;
      return { name, tool_types: [toolType] };
    }
    case 'intrusion-set':
      return {
        name: comboName(ctx, i, SET_ADJECTIVES, SET_ANIMALS, ' ', 1), ...seenAround(ctx, created),
        resource_level: attribute(ctx, 2, i, ['organization', 'government', 'team']),
        primary_motivation: attribute(ctx, 3, i, ['organizational-gain', 'personal-gain', 'ideology', 'dominance']),
      };
    case 'threat-actor':
      return {
        name: comboName(ctx, i, HANDLE_HEADS, HANDLE_TAILS, '', 4),
        threat_actor_types: [attribute(ctx, 5, i, ['crime-syndicate', 'criminal', 'nation-state', 'hacker', 'activist'])],
        sophistication: attribute(ctx, 6, i, ['minimal', 'intermediate', 'advanced', 'expert']),
        resource_level: attribute(ctx, 7, i, ['individual', 'team', 'organization', 'government']),
        primary_motivation: attribute(ctx, 8, i, ['personal-gain', 'organizational-gain', 'notoriety', 'ideology']),
        ...seenAround(ctx, created),
      };
    case 'campaign':
      return { name: `Operation ${comboName(ctx, i, OPERATION_FIRST, OPERATION_SECOND, ' ', 9)}`, ...seenAround(ctx, created) };
    case 'vulnerability': {
      const j = permute(i, 7 * 60_000, ctx.salt + 10);
      const cve = `CVE-${2019 + (j % 7)}-${1000 + Math.floor(j / 7)}`;
      return { name: cve, external_references: [{ source_name: 'cve', external_id: cve }] };
    }
    case 'identity': {
      if (g.profile.ownUnits) {
        const unit = BUSINESS_UNITS[i % BUSINESS_UNITS.length]!;
        const generation = i < BUSINESS_UNITS.length ? '' : ` ${Math.floor(i / BUSINESS_UNITS.length) + 1}`;
        return { name: `${unit}${generation} (Demo Corp)`, identity_class: 'group' };
      }
      const total = ORG_PLACES.length * ORG_KINDS.length;
      const j = permute(i, total, ctx.salt + 11);
      const [kind, sector] = ORG_KINDS[Math.floor(j / ORG_PLACES.length)]!;
      const generation = i < total ? '' : ` ${Math.floor(i / total) + 1}`;
      return { name: `${ORG_PLACES[j % ORG_PLACES.length]} ${kind}${generation}`, identity_class: 'organization', sectors: [sector] };
    }
    case 'infrastructure': {
      const [role, infrastructureType] = ctx.rng.pick(INFRASTRUCTURE_ROLES);
      const family = g.pools.malware.length > 0 ? g.names.get(g.pools.malware[ctx.rng.skewed(g.pools.malware.length)]!) : undefined;
      return { name: `${family ?? 'Unattributed'} ${role} ${i + 1}`, infrastructure_types: [infrastructureType], ...seenAround(ctx, created) };
    }
    case 'incident': {
      const year = new Date(created).getUTCFullYear();
      const summary = ctx.rng.pick(INCIDENT_SUMMARIES);
      return { name: `IR-${year}-${String(i + 1).padStart(4, '0')}: ${summary}`, description: `${summary}. Triage by ${g.profile.label}.` };
    }
    default:
      throw new Error(`reports and notes are added after the graph: ${type}`);
  }
}

/** k canonical indices for one source: the popular core (0..k/3) that every source shares, then a random tail. */
function selectCanonical(ctx: Ctx, k: number, poolSize: number): number[] {
  const core = Math.ceil(k / 3);
  const tail = Array.from({ length: poolSize - core }, (_, i) => core + i);
  for (let i = 0; i < k - core; i++) {
    const j = i + ctx.rng.int(tail.length - i);
    [tail[i], tail[j]] = [tail[j]!, tail[i]!];
  }
  return [...Array.from({ length: core }, (_, i) => i), ...tail.slice(0, k - core)].sort((a, b) => a - b);
}

function addContext(ctx: Ctx, world: World, g: SourceGraph): void {
  const order: ContextType[] = ['identity', 'vulnerability', 'tool', 'malware', 'threat-actor', 'intrusion-set', 'campaign', 'infrastructure', 'incident'];
  for (const type of order) {
    const k = g.contextCounts[type];
    const named = (NAMED_TYPES as readonly string[]).includes(type);
    const indices = named && !(type === 'identity' && g.profile.ownUnits)
      ? selectCanonical(ctx, k, world.poolSize[type as NamedType])
      : Array.from({ length: k }, (_, i) => i);
    for (const i of indices) {
      const created = randomTime(ctx);
      const properties = contextProperties(ctx, g, type, i, created);
      const handle = addSdo(ctx, g, type, created, properties);
      g.pools[type].push(handle);
      if (typeof properties.name === 'string') g.names.set(handle, properties.name);
    }
  }
}

// ---------------------------------------------------------------------------------------------- observables (SCOs)

/** Private, loopback, shared, link-local, documentation, benchmarking, multicast and reserved IPv4 space. */
function isReservedIpv4(x: number): boolean {
  const a = x >>> 24;
  const b = (x >>> 16) & 255;
  const c = (x >>> 8) & 255;
  return (
    a === 0 || a === 10 || a === 127 || a >= 224 ||
    (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 0 && (c === 0 || c === 2)) || (a === 192 && b === 88 && c === 99) || (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19)) || (a === 198 && b === 51 && c === 100) || (a === 203 && b === 0 && c === 113)
  );
}
function formatIpv4(x: number): string {
  return `${x >>> 24}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`;
}
function publicIpv4(rng: Random): string {
  for (;;) {
    const x = rng.uint32();
    const last = x & 255;
    if (!isReservedIpv4(x) && last !== 0 && last !== 255) return formatIpv4(x);
  }
}
function privateIpv4(rng: Random): string {
  const range = rng.int(3);
  const prefix = range === 0 ? `10.${rng.int(256)}` : range === 1 ? `172.${rng.between(16, 31)}` : '192.168';
  return `${prefix}.${rng.int(256)}.${rng.between(1, 254)}`;
}
/** Global unicast (2000::/3) outside 2001:db8::/32, written per RFC 5952 (lower case, no leading zeros). */
function publicIpv6(rng: Random): string {
  for (;;) {
    const head = 0x2000 + rng.int(0x2000);
    const second = rng.between(1, 0xffff);
    if (head === 0x2001 && second === 0xdb8) continue;
    const groups = [head, second, rng.between(1, 0xffff), rng.between(1, 0xffff)].map((n) => n.toString(16));
    if (rng.chance(0.5)) {
      for (let i = 0; i < 4; i++) groups.push(rng.between(1, 0xffff).toString(16));
      return groups.join(':');
    }
    return `${groups.join(':')}::${rng.between(1, 0xfff).toString(16)}`;
  }
}
function maliciousDomain(rng: Random): string {
  const tld = rng.pick(MALICIOUS_TLDS);
  const word = () => rng.pick(DOMAIN_WORDS);
  switch (rng.int(4)) {
    case 0:
      return `${word()}-${word()}.${tld}`;
    case 1:
      return `${word()}${word()}${rng.between(1, 99)}.${tld}`;
    case 2: {
      let label = '';
      for (let n = rng.between(10, 16); n > 0; n--) label += 'abcdefghijklmnopqrstuvwxyz'[rng.int(26)];
      return `${label}.${tld}`;
    }
    default:
      return `${word()}.${word()}-${word()}.${tld}`;
  }
}
function urlOn(rng: Random, domain: string): string {
  let path = rng.pick(URL_PATHS);
  if (path.endsWith('/')) path += `${rng.chance(0.5) ? `${rng.hex(6)}/` : ''}${rng.pick(URL_FILES)}`;
  else path += `?id=${rng.hex(8)}`;
  return `${rng.chance(0.6) ? 'http' : 'https'}://${domain}${path}`;
}
function autonomousSystemNumber(rng: Random): number {
  // Skips AS_TRANS (23456) and the documentation, private and reserved blocks 64496-131071.
  for (;;) {
    const n = rng.chance(0.7) ? rng.between(1000, 63_999) : rng.between(131_072, 399_999);
    if (n !== 23_456) return n;
  }
}

function uniqueValue(world: World, type: ObservableType, make: () => string): string {
  for (;;) {
    const value = make();
    const key = `${type}|${value}`;
    if (!world.values.has(key)) {
      world.values.add(key);
      return value;
    }
  }
}

/** A new observable as the world knows it, before any source asserts it. */
function newCanonical(ctx: Ctx, world: World, type: ObservableType, kind: 'malicious' | 'benign' | 'hub' = 'malicious'): Canonical {
  const { rng } = ctx;
  const benign = kind === 'benign';
  let props: Record<string, unknown>;
  let value: string;
  let domain: Canonical | null = null;
  switch (type) {
    case 'ipv4-addr':
      value = uniqueValue(world, type, () => (benign ? privateIpv4(rng) : publicIpv4(rng)));
      props = { value };
      break;
    case 'ipv6-addr':
      value = uniqueValue(world, type, () => publicIpv6(rng));
      props = { value };
      break;
    case 'domain-name':
      value = benign ? BENIGN_DOMAINS[world.benignDomainsUsed++]! : uniqueValue(world, type, () => maliciousDomain(rng));
      if (benign) world.values.add(`${type}|${value}`);
      props = { value };
      break;
    case 'url': {
      // Some domains host many urls (skewed pick), the way one compromised site serves a whole campaign.
      domain = world.domains.length > 0 && rng.chance(0.7)
        ? world.domains[rng.skewed(world.domains.length)]!
        : newCanonical(ctx, world, 'domain-name');
      const host = domain.value;
      value = uniqueValue(world, type, () => urlOn(rng, host));
      props = { value };
      break;
    }
    case 'email-addr': {
      const host = world.domains.length > 0 && rng.chance(0.8) ? rng.pick(world.domains).value : maliciousDomain(rng);
      value = uniqueValue(world, type, () => `${rng.pick(EMAIL_LOCALS)}${rng.chance(0.4) ? rng.between(1, 999) : ''}@${host}`);
      props = { value };
      break;
    }
    case 'file': {
      const hashes = { MD5: rng.hex(32), 'SHA-1': rng.hex(40), 'SHA-256': rng.hex(64) };
      value = hashes['SHA-256'];
      const name = `${rng.pick(FILE_NAMES)}${rng.chance(0.5) ? `_${rng.between(100, 9999)}` : ''}.${rng.pick(FILE_EXTENSIONS)}`;
      props = { hashes, name, size: rng.between(8_000, 9_000_000) };
      break;
    }
    case 'autonomous-system': {
      const n = Number(uniqueValue(world, type, () => String(autonomousSystemNumber(rng))));
      value = String(n);
      props = { number: n, name: `${rng.pick(AS_NAMES)} ${rng.pick(AS_SUFFIXES)}` };
      break;
    }
  }
  const canonical: Canonical = {
    index: world.count++, type, value, props, firstSeen: randomTime(ctx), benign, hub: kind === 'hub', domain,
  };
  if (type === 'domain-name' && !benign) world.domains.push(canonical);
  return canonical;
}

function escapePattern(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
}
function indicatorFor(ctx: Ctx, c: Canonical): Record<string, unknown> {
  const { rng } = ctx;
  const v = escapePattern(c.value);
  const pattern =
    c.type === 'file'
      ? rng.chance(0.2)
        ? `[file:hashes.'SHA-256' = '${v}' OR file:hashes.MD5 = '${escapePattern(String((c.props.hashes as Record<string, string>).MD5))}']`
        : `[file:hashes.'SHA-256' = '${v}']`
      : `[${c.type}:value = '${v}']`;
  const label: Record<ObservableType, string> = {
    'ipv4-addr': 'C2 address', 'ipv6-addr': 'C2 address', 'domain-name': 'Malicious domain', url: 'Malware distribution URL',
    'email-addr': 'Phishing sender', file: 'Malware sample', 'autonomous-system': 'Hosting network',
  };
  if (c.benign) {
    return { name: `Allow-listed: ${c.value}`, indicator_types: ['benign'], pattern, pattern_type: 'stix', pattern_version: '2.1', labels: ['benign', 'allowlist'] };
  }
  const display = c.type === 'file' ? `${c.value.slice(0, 16)}…` : c.value;
  return {
    name: `${label[c.type]} ${display}`,
    indicator_types: [rng.weighted([['malicious-activity', 0.8], ['compromised', 0.1], ['anomalous-activity', 0.1]] as const)],
    pattern, pattern_type: 'stix', pattern_version: '2.1',
  };
}

/** Source g asserts observable c: its own SCO (own id) and usually an indicator over it. Returns the SCO's handle. */
function assertObservable(ctx: Ctx, g: SourceGraph, c: Canonical): number {
  const { rng } = ctx;
  let domainHandle = -1;
  if (c.domain) domainHandle = g.domainByCanonical.get(c.domain.index) ?? assertObservable(ctx, g, c.domain);
  const seen = Math.min(ctx.now, c.firstSeen + rng.int(g.profile.lagHours * 2 * HOUR + 1));
  const id = rng.stixId(c.type);
  const props = c.type === 'file' ? { ...c.props, hashes: { ...(c.props.hashes as Record<string, string>) } } : { ...c.props };
  g.entities.push({ type: c.type, spec_version: '2.1', id, ...props, object_marking_refs: marking(ctx, g) });
  const handle = addHandle(g, id, seen);
  g.observableBudget -= 1;
  if (c.benign) g.pools.benign.push(handle);
  else g.pools[c.type].push(handle);
  if (c.type === 'url') g.urlDomain.push(domainHandle);
  if (c.type === 'domain-name') g.domainByCanonical.set(c.index, handle);
  if (c.type !== 'autonomous-system' && (c.benign || c.hub || rng.chance(g.profile.indicatorRate))) {
    const properties = indicatorFor(ctx, c);
    const validFrom = Math.max(ctx.start, seen - rng.int(6 * HOUR));
    const withValidity = { ...properties, valid_from: iso(validFrom), ...(rng.chance(0.25) ? { valid_until: iso(validFrom + rng.between(30, 90) * DAY) } : {}) };
    const indicator = addSdo(ctx, g, 'indicator', seen, withValidity);
    g.observableBudget -= 1;
    if (!c.benign) {
      g.pools.indicator.push(indicator);
      g.indicatorObservable.push(handle);
    }
  }
  return handle;
}

/**
 * Hands out observables until every source's budget is spent: a few hub C2 addresses every source reports, a
 * deliberate few benign addresses and domains (labelled so), then the bulk, each asserted by one source and about a
 * quarter of them by one or two more.
 */
function assignObservables(ctx: Ctx, world: World, graphs: SourceGraph[], entities: number): void {
  const { rng } = ctx;
  const hubs = Math.min(40, Math.max(2, Math.round(entities / 2500)));
  for (let i = 0; i < hubs; i++) {
    const c = newCanonical(ctx, world, 'ipv4-addr', 'hub');
    for (const g of graphs) if (g.observableBudget >= 2) assertObservable(ctx, g, c);
  }
  const benignHome = graphs.find((g) => g.profile.ownUnits) ?? graphs[0]!;
  const benign = Math.min(40, Math.max(2, Math.round(entities / 1500)));
  for (let i = 0; i < benign && benignHome.observableBudget >= 2; i++) {
    const asDomain = i % 3 === 2 && world.benignDomainsUsed < BENIGN_DOMAINS.length;
    assertObservable(ctx, benignHome, newCanonical(ctx, world, asDomain ? 'domain-name' : 'ipv4-addr', 'benign'));
  }
  for (;;) {
    const open = graphs.filter((g) => g.observableBudget > 0);
    if (open.length === 0) return;
    const primary = rng.weighted(open.map((g) => [g, g.observableBudget] as const));
    const type = rng.weighted(primary.profile.observables);
    const c = newCanonical(ctx, world, type);
    assertObservable(ctx, primary, c);
    if (open.length < 2 || !rng.chance(CORROBORATION_RATE)) continue;
    const others = open.filter((g) => g !== primary && g.profile.observables.some(([t, w]) => t === type && w > 0));
    for (let n = rng.chance(0.3) ? 2 : 1; n > 0 && others.length > 0; n--) {
      const g = rng.weighted(others.map((o) => [o, o.observableBudget] as const));
      assertObservable(ctx, g, c);
      others.splice(others.indexOf(g), 1);
    }
  }
}

// ---------------------------------------------------------------------------------------------- relationships

/** One relationship per ordered pair; refuses self-loops, missing ends and anything past the source's budget. */
function relate(ctx: Ctx, g: SourceGraph, source: number, type: string, target: number): boolean {
  if (source < 0 || target < 0 || source === target || g.relationships.length >= g.relationshipBudget) return false;
  const key = source * 4_194_304 + target;
  if (g.relationKeys.has(key)) return false;
  g.relationKeys.add(key);
  const created = iso(timeAfter(ctx, Math.max(g.times[source]!, g.times[target]!)));
  const id = ctx.rng.stixId('relationship');
  g.relationships.push({
    type: 'relationship', spec_version: '2.1', id, created_by_ref: g.identityId, created, modified: created,
    relationship_type: type, source_ref: g.ids[source], target_ref: g.ids[target], confidence: confidence(ctx, g),
    object_marking_refs: marking(ctx, g),
  });
  return true;
}

function skewedFrom(ctx: Ctx, pool: readonly number[]): number {
  return pool.length === 0 ? -1 : pool[ctx.rng.skewed(pool.length)]!;
}
function uniformFrom(ctx: Ctx, pool: readonly number[]): number {
  return pool.length === 0 ? -1 : pool[ctx.rng.int(pool.length)]!;
}
/** A skewed pick from one of the weighted pools that is not empty, or -1. */
function skewedAmong(ctx: Ctx, choices: ReadonlyArray<readonly [number[], number]>): number {
  const open = choices.filter(([pool]) => pool.length > 0);
  return open.length === 0 ? -1 : skewedFrom(ctx, ctx.rng.weighted(open));
}
function indicatesTarget(ctx: Ctx, g: SourceGraph): number {
  const p = g.pools;
  return skewedAmong(ctx, [[p.malware, 0.55], [p.campaign, 0.2], [p['intrusion-set'], 0.1], [p.tool, 0.05], [p.infrastructure, 0.05], [p['threat-actor'], 0.05]]);
}

/** The edges every object of a kind gets (in priority order, in case the budget is small). */
function addStructuralRelationships(ctx: Ctx, g: SourceGraph): void {
  const { rng } = ctx;
  const p = g.pools;
  const skewed = (pool: number[]) => skewedFrom(ctx, pool);
  // based-on from an indicator to the observable its pattern matches: OpenCTI's convention (the STIX 2.1 table
  // lists only observed-data as a based-on target, and relationship types are open-ended).
  p.indicator.forEach((indicator, i) => relate(ctx, g, indicator, 'based-on', g.indicatorObservable[i]!));
  for (const indicator of p.indicator) relate(ctx, g, indicator, 'indicates', indicatesTarget(ctx, g));
  p.url.forEach((url, i) => relate(ctx, g, url, 'related-to', g.urlDomain[i]!));
  for (const domain of p['domain-name']) {
    const useV6 = p['ipv6-addr'].length > 0 && rng.chance(0.15);
    relate(ctx, g, domain, 'resolves-to', skewed(useV6 ? p['ipv6-addr'] : p['ipv4-addr']));
  }
  for (const ip of p['ipv4-addr'].concat(p['ipv6-addr'])) if (rng.chance(0.85)) relate(ctx, g, ip, 'belongs-to', skewed(p['autonomous-system']));
  for (const campaign of p.campaign) relate(ctx, g, campaign, 'attributed-to', skewedAmong(ctx, [[p['intrusion-set'], 0.7], [p['threat-actor'], 0.3]]));
  for (const set of p['intrusion-set']) {
    if (rng.chance(0.5)) relate(ctx, g, set, 'attributed-to', skewed(p['threat-actor']));
    relate(ctx, g, set, 'uses', skewed(p.malware));
    if (rng.chance(0.5)) relate(ctx, g, set, 'uses', skewed(p.tool));
    if (rng.chance(0.4)) relate(ctx, g, set, 'targets', skewed(p.identity));
  }
  for (const actor of p['threat-actor']) {
    relate(ctx, g, actor, 'uses', skewed(p.malware));
    relate(ctx, g, actor, 'targets', skewed(p.identity));
  }
  for (const malware of p.malware) if (rng.chance(0.3)) relate(ctx, g, malware, 'exploits', skewed(p.vulnerability));
  for (const infrastructure of p.infrastructure) {
    for (let n = rng.between(2, 4); n > 0; n--) relate(ctx, g, infrastructure, 'consists-of', skewedAmong(ctx, [[p['ipv4-addr'], 0.6], [p['domain-name'], 0.4]]));
    if (rng.chance(0.6)) relate(ctx, g, infrastructure, rng.chance(0.5) ? 'hosts' : 'controls', skewed(p.malware));
  }
  for (const incident of p.incident) for (let n = rng.between(1, 4); n > 0; n--) relate(ctx, g, incident, 'related-to', skewed(p.indicator));
  for (const campaign of p.campaign) {
    if (rng.chance(0.6)) relate(ctx, g, campaign, 'targets', skewed(p.identity));
    if (rng.chance(0.4)) relate(ctx, g, campaign, 'targets', skewed(p.vulnerability));
  }
  for (const observable of p['ipv4-addr'].concat(p['domain-name'], p.url)) {
    if (rng.chance(0.4)) relate(ctx, g, skewed(p.malware), 'communicates-with', observable);
  }
  for (const file of p.file) if (rng.chance(0.4)) relate(ctx, g, skewed(p.malware), 'drops', file);
}

type FillerKind = 'indicates' | 'communicates' | 'resolves' | 'consists' | 'uses' | 'incident' | 'targets' | 'drops' | 'variant';
const FILLERS: Weights<FillerKind> = [
  ['indicates', 3], ['communicates', 3], ['resolves', 2], ['consists', 1], ['uses', 1], ['incident', 0.7],
  ['targets', 0.5], ['drops', 0.5], ['variant', 0.2],
];

/** One more edge of a sensible kind, its "popular" end picked with skew so hubs keep growing. */
function addFillerRelationship(ctx: Ctx, g: SourceGraph, kind: FillerKind): void {
  const p = g.pools;
  const skewed = (pool: number[]) => skewedFrom(ctx, pool);
  const uniform = (pool: number[]) => uniformFrom(ctx, pool);
  switch (kind) {
    case 'indicates':
      relate(ctx, g, uniform(p.indicator), 'indicates', indicatesTarget(ctx, g));
      return;
    case 'communicates':
      relate(ctx, g, skewed(p.malware), 'communicates-with', skewedAmong(ctx, [[p['ipv4-addr'], 0.55], [p['domain-name'], 0.3], [p.url, 0.1], [p['ipv6-addr'], 0.05]]));
      return;
    case 'resolves':
      relate(ctx, g, uniform(p['domain-name']), 'resolves-to', skewed(p['ipv4-addr']));
      return;
    case 'consists':
      relate(ctx, g, skewed(p.infrastructure), 'consists-of', skewedAmong(ctx, [[p['ipv4-addr'], 0.5], [p['domain-name'], 0.35], [p.url, 0.15]]));
      return;
    case 'uses': {
      const user = ctx.rng.weighted([[p['intrusion-set'], 0.4], [p.campaign, 0.3], [p['threat-actor'], 0.2], [p.malware, 0.1]] as const);
      const used = user === p.malware ? skewed(p.tool) : skewedAmong(ctx, [[p.malware, 0.6], [p.tool, 0.3], [p.infrastructure, 0.1]]);
      relate(ctx, g, uniform(user), 'uses', used);
      return;
    }
    case 'incident':
      relate(ctx, g, uniform(p.incident), 'related-to', skewedAmong(ctx, [[p.indicator, 0.6], [p['ipv4-addr'], 0.25], [p['domain-name'], 0.15]]));
      return;
    case 'targets': {
      const attacker = skewedAmong(ctx, [[p.campaign, 0.3], [p['intrusion-set'], 0.3], [p['threat-actor'], 0.2], [p.malware, 0.2]]);
      relate(ctx, g, attacker, 'targets', skewedAmong(ctx, [[p.identity, 0.6], [p.vulnerability, 0.4]]));
      return;
    }
    case 'drops':
      relate(ctx, g, skewed(p.malware), 'drops', uniform(p.file));
      return;
    case 'variant':
      relate(ctx, g, uniform(p.malware), 'variant-of', skewed(p.malware));
      return;
  }
}

function addRelationships(ctx: Ctx, g: SourceGraph): void {
  addStructuralRelationships(ctx, g);
  // Bounded, so a source whose pools cannot hold its budget (a tiny generation) stops rather than spins.
  for (let attempts = g.relationshipBudget * 8 + 100; g.relationships.length < g.relationshipBudget && attempts > 0; attempts--) {
    addFillerRelationship(ctx, g, ctx.rng.weighted(FILLERS));
  }
}

// ---------------------------------------------------------------------------------------------- sightings, reports, notes

function addSightings(ctx: Ctx, g: SourceGraph): void {
  const { rng } = ctx;
  const where = g.pools.identity.length > 0 ? g.pools.identity : [g.identity];
  const count = Math.round(g.pools.indicator.length * g.profile.sightingRate);
  for (let i = 0; i < count; i++) {
    const indicator = skewedFrom(ctx, g.pools.indicator);
    const firstSeen = timeAfter(ctx, g.times[indicator]!);
    const lastSeen = timeAfter(ctx, firstSeen);
    const sightedAt = new Set([skewedFrom(ctx, where), ...(rng.chance(0.3) ? [uniformFrom(ctx, where)] : [])]);
    const u = rng.float();
    const lastSeenText = iso(lastSeen);
    g.sightings.push({
      type: 'sighting', spec_version: '2.1', id: rng.stixId('sighting'), created_by_ref: g.identityId,
      created: lastSeenText, modified: lastSeenText, first_seen: iso(firstSeen), last_seen: lastSeenText,
      count: 1 + Math.floor(999 * u * u * u * u), sighting_of_ref: g.ids[indicator],
      where_sighted_refs: [...sightedAt].map((h) => g.ids[h]), confidence: confidence(ctx, g), object_marking_refs: marking(ctx, g),
    });
  }
}

const REPORT_TYPES: Record<string, string> = { malware: 'malware', campaign: 'campaign', 'intrusion-set': 'intrusion-set', 'threat-actor': 'threat-actor' };

function addReports(ctx: Ctx, g: SourceGraph): void {
  const { rng } = ctx;
  const p = g.pools;
  const anchors = ([['malware', 0.5], ['campaign', 0.25], ['intrusion-set', 0.15], ['threat-actor', 0.1]] as const).filter(([t]) => p[t].length > 0);
  for (let i = 0; i < g.contextCounts.report; i++) {
    const anchorType = anchors.length > 0 ? rng.weighted(anchors) : null;
    const anchor = anchorType ? skewedFrom(ctx, p[anchorType]) : -1;
    const refs = new Set<number>(anchor >= 0 ? [anchor] : []);
    for (let n = p.indicator.length > 0 ? rng.between(3, 25) : 0; n > 0; n--) {
      const k = rng.int(p.indicator.length);
      refs.add(p.indicator[k]!).add(g.indicatorObservable[k]!);
    }
    if (refs.size === 0) refs.add(g.identity);
    const handles = [...refs];
    const created = timeAfter(ctx, Math.max(...handles.map((h) => g.times[h]!)));
    const subject = (anchor >= 0 ? g.names.get(anchor) : undefined) ?? 'Threat activity';
    addSdo(ctx, g, 'report', created, {
      name: `${subject}: ${rng.pick(['indicators of compromise', 'activity update', 'new infrastructure', 'campaign analysis'])}`,
      report_types: [anchorType ? REPORT_TYPES[anchorType]! : 'threat-report'], published: iso(created),
      object_refs: handles.map((h) => g.ids[h]),
    }, true);
  }
}

function addNotes(ctx: Ctx, g: SourceGraph): void {
  const { rng } = ctx;
  const about = g.pools.incident.length > 0 ? g.pools.incident : g.pools.indicator.length > 0 ? g.pools.indicator : [g.identity];
  for (let i = 0; i < g.contextCounts.note; i++) {
    const refs = new Set([skewedFrom(ctx, about), ...(rng.chance(0.3) ? [uniformFrom(ctx, about)] : [])]);
    const handles = [...refs];
    const created = timeAfter(ctx, Math.max(...handles.map((h) => g.times[h]!)));
    addSdo(ctx, g, 'note', created, {
      abstract: `Analyst note ${i + 1}`, content: rng.pick(NOTE_TEMPLATES), authors: [`analyst${rng.between(1, 12)}`],
      object_refs: handles.map((h) => g.ids[h]),
    }, true);
  }
}

// ---------------------------------------------------------------------------------------------- assembly

/** Splits total into integers proportional to weights (largest remainder), summing exactly to total. */
function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (sum > 0 ? (total * w) / sum : 0));
  const out = exact.map(Math.floor);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0, left = total - out.reduce((a, b) => a + b, 0); k < left; k++) out[order[k % order.length]![1]]! += 1;
  return out;
}

function createSource(ctx: Ctx, name: string, entityBudget: number): SourceGraph {
  const known = PROFILES[name];
  const profile: SourceProfile = known ?? { ...GENERIC_PROFILE, label: name };
  const contextTotal = Math.round(Math.max(0, entityBudget - 1) * profile.contextShare);
  const split = apportion(contextTotal, profile.context.map(([, w]) => w));
  const contextCounts = Object.fromEntries(
    (['malware', 'tool', 'threat-actor', 'intrusion-set', 'campaign', 'vulnerability', 'infrastructure', 'identity', 'incident', 'report', 'note'] as const).map((t) => [t, 0]),
  ) as Record<ContextType, number>;
  profile.context.forEach(([type], i) => (contextCounts[type] = split[i]!));
  // Only so many tools exist; the rest become malware families.
  const extraTools = Math.max(0, contextCounts.tool - TOOLS.length);
  contextCounts.tool -= extraTools;
  contextCounts.malware += extraTools;
  const g: SourceGraph = {
    name, bundleId: ctx.rng.stixId('bundle'), profile, identityId: ctx.rng.stixId('identity'), identity: -1,
    ids: [], times: [], entities: [], late: [], relationships: [], sightings: [], tlpUsed: new Set(['clear']),
    pools: emptyPools(), indicatorObservable: [], urlDomain: [], domainByCanonical: new Map(), names: new Map(),
    relationKeys: new Set(), contextCounts, observableBudget: Math.max(0, entityBudget - 1 - contextTotal), relationshipBudget: 0,
  };
  g.entities.push({
    type: 'identity', spec_version: '2.1', id: g.identityId, created: iso(ctx.start), modified: iso(ctx.start),
    name: profile.label, description: profile.description, identity_class: 'organization',
    object_marking_refs: [TLP_MARKING_IDS.clear],
  });
  g.identity = addHandle(g, g.identityId, ctx.start);
  return g;
}

function markingDefinition(tlp: Tlp): Record<string, unknown> {
  return {
    type: 'marking-definition', spec_version: '2.1', id: TLP_MARKING_IDS[tlp], created: '2022-10-01T00:00:00.000Z',
    name: `TLP:${tlp.toUpperCase()}`,
    extensions: { 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d': { extension_type: 'property-extension', tlp_2_0: tlp } },
  };
}

function validate(options: DemoGenerationOptions, sources: readonly string[], now: number, perEntity: number): void {
  if (!Number.isFinite(options.seed)) throw new RangeError('seed must be a finite number');
  if (!Number.isInteger(options.entities) || options.entities < 1) throw new RangeError('entities must be a positive integer');
  if (!Number.isFinite(perEntity) || perEntity < 0) throw new RangeError('relationshipsPerEntity must be zero or more');
  if (sources.length === 0 || new Set(sources).size !== sources.length || sources.some((s) => s.trim() === '')) {
    throw new RangeError('sources must be a non-empty list of distinct names');
  }
  if (!Number.isFinite(now)) throw new RangeError('now must be a valid date');
}

/**
 * Generates one STIX 2.1 bundle per source. Deterministic: the same options give byte-identical JSON.
 * 100,000 entities with 300,000 relationships take about two seconds and ~150 MB of heap (the output itself).
 */
export function generateDemoBundles(options: DemoGenerationOptions): DemoGeneration {
  const sources = options.sources ?? DEFAULT_DEMO_SOURCES;
  const now = (options.now ?? DEFAULT_DEMO_NOW).getTime();
  const perEntity = options.relationshipsPerEntity ?? 3;
  validate(options, sources, now, perEntity);
  const rng = new Random(options.seed);
  const ctx: Ctx = { rng, now, start: now - WINDOW, salt: rng.uint32() };

  const budgets = apportion(options.entities, sources.map((s) => (PROFILES[s] ?? GENERIC_PROFILE).share));
  const graphs = sources.map((name, i) => createSource(ctx, name, budgets[i]!));
  const poolSize = Object.fromEntries(NAMED_TYPES.map((t) => [t, Math.max(1, graphs.reduce((n, g) => n + g.contextCounts[t], 0))])) as Record<NamedType, number>;
  poolSize.tool = TOOLS.length;
  const world: World = { poolSize, values: new Set(), domains: [], count: 0, benignDomainsUsed: 0 };

  for (const g of graphs) addContext(ctx, world, g);
  assignObservables(ctx, world, graphs, options.entities);
  for (const g of graphs) {
    g.relationshipBudget = Math.round((g.ids.length + g.contextCounts.report + g.contextCounts.note) * perEntity);
    addRelationships(ctx, g);
    addSightings(ctx, g);
    addReports(ctx, g);
    addNotes(ctx, g);
  }

  const byType: Record<string, number> = {};
  const bundles = graphs.map((g): DemoSourceBundle => {
    const markings = TLP_LEVELS.filter((t) => g.tlpUsed.has(t)).map(markingDefinition);
    const objects = markings.concat(g.entities, g.relationships, g.sightings, g.late);
    for (const object of objects) byType[object.type as string] = (byType[object.type as string] ?? 0) + 1;
    return { source: g.name, bundle: { type: 'bundle', id: g.bundleId, objects } };
  });
  const relationships = byType.relationship ?? 0;
  const sightings = byType.sighting ?? 0;
  const entities = Object.values(byType).reduce((a, b) => a + b, 0) - relationships - sightings - (byType['marking-definition'] ?? 0);
  return { bundles, stats: { entities, relationships, sightings, byType } };
}
