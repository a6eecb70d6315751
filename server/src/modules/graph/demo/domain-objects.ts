/** Domain objects (SDOs): the named context each source defines, then its reports and notes over the finished graph. */
import {
  BUSINESS_UNITS, HANDLE_HEADS, HANDLE_TAILS, INCIDENT_SUMMARIES, INFRASTRUCTURE_ROLES, MALWARE_PREFIXES,
  MALWARE_SUFFIXES, NOTE_TEMPLATES, OPERATION_FIRST, OPERATION_SECOND, ORG_KINDS, ORG_PLACES, SET_ADJECTIVES,
  SET_ANIMALS, TOOLS,
} from './names.js';
import {
  addSdo, iso, NAMED_TYPES, randomTime, skewedFrom, timeAfter, uniformFrom, type ContextType, type Ctx, type NamedType,
  type SourceGraph, type World,
} from './context.js';
import { hashInt, permute } from './random.js';

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

export function addContext(ctx: Ctx, world: World, g: SourceGraph): void {
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

const REPORT_TYPES: Record<string, string> = { malware: 'malware', campaign: 'campaign', 'intrusion-set': 'intrusion-set', 'threat-actor': 'threat-actor' };

export function addReports(ctx: Ctx, g: SourceGraph): void {
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

export function addNotes(ctx: Ctx, g: SourceGraph): void {
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
