import { randomUUID } from 'node:crypto';

const T = '2026-11-01T10:00:00.000Z';
export const TLP_GREEN = 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb';

export const sid = (type: string) => `${type}--${randomUUID()}`;

export function ipv4(value: string, extra: Record<string, unknown> = {}) {
  return { type: 'ipv4-addr', spec_version: '2.1', id: sid('ipv4-addr'), value, ...extra };
}
export function domain(value: string) {
  return { type: 'domain-name', spec_version: '2.1', id: sid('domain-name'), value };
}
export function malware(name: string) {
  return { type: 'malware', spec_version: '2.1', id: sid('malware'), created: T, modified: T, name, is_family: true, malware_types: ['backdoor'] };
}
export function indicator(pattern: string, extra: Record<string, unknown> = {}) {
  return {
    type: 'indicator', spec_version: '2.1', id: sid('indicator'), created: T, modified: T,
    pattern, pattern_type: 'stix', valid_from: T, confidence: 70, object_marking_refs: [TLP_GREEN], ...extra,
  };
}
export function relationship(type: string, source: { id: string }, target: { id: string }) {
  return { type: 'relationship', spec_version: '2.1', id: sid('relationship'), created: T, modified: T, relationship_type: type, source_ref: source.id, target_ref: target.id };
}
export function sighting(of: { id: string }, count = 3) {
  return { type: 'sighting', spec_version: '2.1', id: sid('sighting'), created: T, modified: T, sighting_of_ref: of.id, count, first_seen: T, last_seen: T };
}
export function bundle(objects: unknown[]) {
  return { type: 'bundle', id: sid('bundle'), objects };
}

/** A small campaign: a malware family, its C2 address and domain, an indicator for the address, a sighting. */
export function campaignBundle() {
  const ip = ipv4('198.51.100.23');
  const dns = domain('evil-update.example.net');
  const family = malware('NightHawk');
  const ind = indicator("[ipv4-addr:value = '198.51.100.23']");
  return {
    ip, dns, family, ind,
    bundle: bundle([ip, dns, family, ind, relationship('resolves-to', dns, ip), relationship('communicates-with', family, ip), relationship('indicates', ind, family), sighting(ind)]),
  };
}

/** Every entity of a tenant as `type:name`, sorted: two graphs compare as plain text. Pages through the API. */
export async function entityNamesOf(client: { get(url: string): Promise<{ json(): unknown }> }): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = (await client.get(`/api/v1/entities?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).json() as {
      items: { type: string; name: string }[];
      nextCursor: string | null;
    };
    for (const e of page.items) names.push(`${e.type}:${e.name}`);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return names.sort();
}
