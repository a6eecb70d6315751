/**
 * State shared by every step of one demo generation: the clock window, the world of canonical observables, and each
 * source's graph under construction, with the helpers that add an object to a source and pick from its pools.
 */
import { TLP_MARKING_IDS, type Tlp } from '../stix/model.js';
import type { Random } from './random.js';

export const DAY = 86_400_000;
export const WINDOW = 90 * DAY;
export const HOUR = 3_600_000;

export type ObservableType = 'ipv4-addr' | 'ipv6-addr' | 'domain-name' | 'url' | 'email-addr' | 'file' | 'autonomous-system';
export type ContextType =
  | 'malware' | 'tool' | 'threat-actor' | 'intrusion-set' | 'campaign' | 'vulnerability' | 'infrastructure'
  | 'identity' | 'incident' | 'report' | 'note';
export type Weights<K extends string> = ReadonlyArray<readonly [K, number]>;

export type SourceProfile = {
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

export type Ctx = { rng: Random; now: number; start: number; salt: number };

export type Canonical = {
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

export type PoolName = ObservableType | ContextType | 'indicator' | 'benign';
export type SourceGraph = {
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

export function emptyPools(): Record<PoolName, number[]> {
  const names: PoolName[] = [
    'ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'email-addr', 'file', 'autonomous-system', 'malware', 'tool',
    'threat-actor', 'intrusion-set', 'campaign', 'vulnerability', 'infrastructure', 'identity', 'incident', 'report',
    'note', 'indicator', 'benign',
  ];
  return Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<PoolName, number[]>;
}

export function addHandle(g: SourceGraph, id: string, time: number): number {
  g.ids.push(id);
  g.times.push(time);
  return g.ids.length - 1;
}
export function marking(ctx: Ctx, g: SourceGraph): string[] {
  const tlp = ctx.rng.weighted(g.profile.tlp);
  g.tlpUsed.add(tlp);
  return [TLP_MARKING_IDS[tlp]];
}
export function confidence(ctx: Ctx, g: SourceGraph): number {
  return ctx.rng.between(g.profile.confidence[0], g.profile.confidence[1]);
}
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
export function randomTime(ctx: Ctx): number {
  return ctx.start + ctx.rng.int(WINDOW);
}
export function timeAfter(ctx: Ctx, t: number): number {
  return t + ctx.rng.int(Math.max(1, ctx.now - t));
}

/** An SDO with the common properties; returns its handle. `late` objects go after relationships in the bundle. */
export function addSdo(ctx: Ctx, g: SourceGraph, type: string, created: number, extra: Record<string, unknown>, late = false): number {
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

export type NamedType = 'malware' | 'tool' | 'threat-actor' | 'intrusion-set' | 'campaign' | 'vulnerability' | 'identity';
export const NAMED_TYPES: readonly NamedType[] = ['malware', 'tool', 'threat-actor', 'intrusion-set', 'campaign', 'vulnerability', 'identity'];

export type World = {
  /** How many distinct names each kind of context draws from; index 0 is the most popular. */
  poolSize: Record<NamedType, number>;
  /** `type|value` of every canonical observable, so no value is minted twice. */
  values: Set<string>;
  /** Malicious canonical domains, on which urls and sender addresses are built. */
  domains: Canonical[];
  count: number;
  benignDomainsUsed: number;
};

export function skewedFrom(ctx: Ctx, pool: readonly number[]): number {
  return pool.length === 0 ? -1 : pool[ctx.rng.skewed(pool.length)]!;
}
export function uniformFrom(ctx: Ctx, pool: readonly number[]): number {
  return pool.length === 0 ? -1 : pool[ctx.rng.int(pool.length)]!;
}
/** A skewed pick from one of the weighted pools that is not empty, or -1. */
export function skewedAmong(ctx: Ctx, choices: ReadonlyArray<readonly [number[], number]>): number {
  const open = choices.filter(([pool]) => pool.length > 0);
  return open.length === 0 ? -1 : skewedFrom(ctx, ctx.rng.weighted(open));
}
