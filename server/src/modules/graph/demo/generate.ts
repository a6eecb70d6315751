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
import { NAMED_TYPES, WINDOW, type Ctx, type NamedType, type World } from './context.js';
import { addContext, addNotes, addReports } from './domain-objects.js';
import { TOOLS } from './names.js';
import { assignObservables } from './observables.js';
import { Random } from './random.js';
import { addRelationships, addSightings } from './relationships.js';
import { apportion, createSource, GENERIC_PROFILE, PROFILES } from './sources.js';

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
