/** Observables (SCOs) and the indicators over them: minted once in the world, then asserted by one or more sources. */
import { AS_NAMES, AS_SUFFIXES, BENIGN_DOMAINS, EMAIL_LOCALS, FILE_EXTENSIONS, FILE_NAMES } from './names.js';
import {
  addHandle, addSdo, DAY, HOUR, iso, marking, randomTime, type Canonical, type Ctx, type ObservableType, type SourceGraph,
  type World,
} from './context.js';
import { autonomousSystemNumber, maliciousDomain, privateIpv4, publicIpv4, publicIpv6, urlOn } from './observable-values.js';

/** Share of new observables that a second (and sometimes third) source also asserts; tuned for ~25% overall. */
const CORROBORATION_RATE = 0.22;

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
  // The indicator is optional for the bulk: a source whose budget is spent asserts the bare observable, so the
  // output overshoots the requested size by at most one object per source (a url's domain, asserted first).
  const wantsIndicator = c.benign || c.hub || (g.observableBudget > 0 && rng.chance(g.profile.indicatorRate));
  if (c.type !== 'autonomous-system' && wantsIndicator) {
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
export function assignObservables(ctx: Ctx, world: World, graphs: SourceGraph[], entities: number): void {
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
