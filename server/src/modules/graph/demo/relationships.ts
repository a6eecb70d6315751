/** Relationships and sightings (SROs) within one source's bundle. */
import {
  confidence, iso, marking, skewedAmong, skewedFrom, timeAfter, uniformFrom, type Ctx, type SourceGraph, type Weights,
} from './context.js';

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

export function addRelationships(ctx: Ctx, g: SourceGraph): void {
  addStructuralRelationships(ctx, g);
  // Bounded, so a source whose pools cannot hold its budget (a tiny generation) stops rather than spins.
  for (let attempts = g.relationshipBudget * 8 + 100; g.relationships.length < g.relationshipBudget && attempts > 0; attempts--) {
    addFillerRelationship(ctx, g, ctx.rng.weighted(FILLERS));
  }
}

export function addSightings(ctx: Ctx, g: SourceGraph): void {
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
