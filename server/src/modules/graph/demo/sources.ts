/** The feeds a demo generation simulates: how each one behaves, and the empty graph it starts from. */
import { TLP_MARKING_IDS } from '../stix/model.js';
import { TOOLS } from './names.js';
import { addHandle, emptyPools, iso, type ContextType, type Ctx, type SourceGraph, type SourceProfile } from './context.js';

export const PROFILES: Record<string, SourceProfile> = {
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
export const GENERIC_PROFILE: Omit<SourceProfile, 'label'> = {
  description: 'Threat feed (synthetic demo data).', share: 0.2, confidence: [40, 80], tlp: [['green', 0.7], ['amber', 0.3]],
  lagHours: 24, indicatorRate: 0.85, sightingRate: 0.05, contextShare: 0.1, ownUnits: false,
  observables: [['ipv4-addr', 0.35], ['ipv6-addr', 0.03], ['domain-name', 0.25], ['url', 0.12], ['email-addr', 0.05], ['file', 0.18], ['autonomous-system', 0.02]],
  context: [['malware', 0.3], ['tool', 0.05], ['intrusion-set', 0.08], ['threat-actor', 0.05], ['campaign', 0.08], ['vulnerability', 0.12], ['infrastructure', 0.07], ['identity', 0.05], ['report', 0.2]],
};

/** Splits total into integers proportional to weights (largest remainder), summing exactly to total. */
export function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (sum > 0 ? (total * w) / sum : 0));
  const out = exact.map(Math.floor);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0, left = total - out.reduce((a, b) => a + b, 0); k < left; k++) out[order[k % order.length]![1]]! += 1;
  return out;
}

export function createSource(ctx: Ctx, name: string, entityBudget: number): SourceGraph {
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
