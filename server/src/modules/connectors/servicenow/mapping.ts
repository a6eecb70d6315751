/**
 * ServiceNow incident → STIX 2.1 objects for the graph's ingest. Pure: a record and its choice labels in, objects
 * out. STIX ids are derived from the ServiceNow sys_id (name-based UUID), so the same record always maps to the
 * same ids, and the graph merges re-deliveries instead of duplicating them. SDO names are stable identifiers (the
 * incident number, the referenced sys_id), because the graph keys SDOs by name: a changed short description must
 * update the incident, not create another.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncidentRecord } from './incident-record.js';

export type ChoiceLabels = Record<'state' | 'priority' | 'impact' | 'urgency', Record<string, string>>;
export type StixObject = Record<string, unknown> & { type: string; id: string };
export type ObservableType = 'ipv4-addr' | 'ipv6-addr' | 'domain-name' | 'url' | 'email-addr' | 'file';
export type Observable = { type: ObservableType; value: string; hash?: 'MD5' | 'SHA-1' | 'SHA-256' };

/** A name-based UUID (v5 layout over SHA-1), so ids are deterministic per ServiceNow record. */
export function stableUuid(seed: string): string {
  const h = createHash('sha1').update(seed).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const URL_RE = /\bhttps?:\/\/[^\s<>"'`)\]]+/gi;
const EMAIL_RE = /\b[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,24}\b/g;
const IPV4_RE = /\b(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\b/g;
// Candidates for IPv6 (hex digits and colons, at least two colons); node's isIP decides.
const IPV6_RE = /(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])/g;
const DOMAIN_RE = /\b(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}\b/g;
const HASH_RE = /\b(?:[0-9a-fA-F]{64}|[0-9a-fA-F]{40}|[0-9a-fA-F]{32})\b/g;
/** Words that look like domains in incident text but are file names. */
const FILE_SUFFIXES = new Set(['exe', 'dll', 'php', 'html', 'htm', 'txt', 'js', 'zip', 'pdf', 'doc', 'docx', 'xls', 'xlsx', 'ps1', 'sh', 'py', 'json', 'log', 'bat', 'vbs', 'jpg', 'png', 'csv', 'msi', 'tmp', 'ini', 'cfg', 'xml']);

function isIpv6(text: string): boolean {
  return isIP(text) === 6 && /[0-9a-f]/i.test(text);
}

/** Observables found in free text: URLs, e-mail addresses, IPs, domains and MD5/SHA-1/SHA-256 hashes, each once. */
export function extractObservables(text: string): Observable[] {
  const found = new Map<string, Observable>();
  const add = (o: Observable) => found.set(`${o.type}\u0000${o.value}`, o);
  let rest = text;
  for (const m of text.matchAll(URL_RE)) {
    const url = m[0].replace(/[.,;:!?]+$/, '');
    add({ type: 'url', value: url });
    rest = rest.replace(m[0], ' ');
  }
  for (const m of rest.matchAll(EMAIL_RE)) {
    add({ type: 'email-addr', value: m[0].toLowerCase() });
    rest = rest.replace(m[0], ' ');
  }
  for (const m of rest.matchAll(IPV4_RE)) add({ type: 'ipv4-addr', value: m[0] });
  for (const m of rest.matchAll(IPV6_RE)) if (isIpv6(m[0])) add({ type: 'ipv6-addr', value: m[0].toLowerCase() });
  for (const m of rest.matchAll(HASH_RE)) {
    const hash = m[0].length === 64 ? 'SHA-256' : m[0].length === 40 ? 'SHA-1' : 'MD5';
    add({ type: 'file', value: m[0].toLowerCase(), hash });
  }
  for (const m of rest.matchAll(DOMAIN_RE)) {
    const domain = m[0].toLowerCase();
    const tld = domain.slice(domain.lastIndexOf('.') + 1);
    if (FILE_SUFFIXES.has(tld) || /^[\d.]+$/.test(domain)) continue;
    add({ type: 'domain-name', value: domain });
  }
  return [...found.values()];
}

export type MappingOptions = {
  /** `servicenow:<connector name>`: the provenance source, also kept on the incident. */
  source: string;
  instanceUrl: string;
  table: string;
  labels: ChoiceLabels;
  /** Overrides: incident property name → ServiceNow field to read it from (raw record). */
  fieldMap?: Record<string, string>;
};

function label(labels: ChoiceLabels, field: keyof ChoiceLabels, value: number): string | null {
  return labels[field][String(value)] ?? null;
}

/** Maps one incident to its STIX objects: the incident, CI, people/groups, observables and the relationships. */
export function mapIncident(record: IncidentRecord, options: MappingOptions): StixObject[] {
  const at = record.updatedAt.toISOString();
  const created = (record.createdAt ?? record.openedAt ?? record.updatedAt).toISOString();
  const base = { spec_version: '2.1', created, modified: at };
  const idOf = (type: string, seed: string) => `${type}--${stableUuid(`${options.instanceUrl}|${seed}`)}`;
  const incidentId = idOf('incident', `${options.table}:${record.sysId}`);
  const extra: Record<string, unknown> = {};
  for (const [property, field] of Object.entries(options.fieldMap ?? {})) {
    const value = record.raw[field];
    if (value !== undefined) extra[`x_servicenow_${property}`] = typeof value === 'object' && value !== null && 'value' in value ? (value as { value: unknown }).value : value;
  }
  const objects: StixObject[] = [
    {
      type: 'incident',
      id: incidentId,
      ...base,
      name: record.number,
      description: record.description || record.shortDescription,
      x_servicenow_sys_id: record.sysId,
      x_servicenow_table: options.table,
      x_servicenow_number: record.number,
      x_servicenow_short_description: record.shortDescription,
      x_servicenow_state: record.state,
      x_servicenow_state_label: label(options.labels, 'state', record.state),
      x_servicenow_priority: record.priority,
      x_servicenow_priority_label: label(options.labels, 'priority', record.priority),
      x_servicenow_impact: record.impact,
      x_servicenow_impact_label: label(options.labels, 'impact', record.impact),
      x_servicenow_urgency: record.urgency,
      x_servicenow_urgency_label: label(options.labels, 'urgency', record.urgency),
      x_servicenow_category: record.category,
      x_servicenow_active: record.active,
      x_servicenow_opened_at: record.openedAt?.toISOString() ?? null,
      x_servicenow_updated_at: at,
      x_servicenow_mod_count: record.modCount,
      x_servicenow_source: options.source,
      ...extra,
    },
  ];
  const relate = (relationshipType: string, sourceRef: string, targetRef: string) =>
    objects.push({
      type: 'relationship',
      id: idOf('relationship', `${relationshipType}|${sourceRef}|${targetRef}`),
      ...base,
      relationship_type: relationshipType,
      source_ref: sourceRef,
      target_ref: targetRef,
    });
  if (record.cmdbCiId) {
    const id = idOf('infrastructure', `cmdb_ci:${record.cmdbCiId}`);
    objects.push({ type: 'infrastructure', id, ...base, name: `cmdb_ci ${record.cmdbCiId}`, x_servicenow_sys_id: record.cmdbCiId, x_servicenow_table: 'cmdb_ci' });
    relate('related-to', incidentId, id);
  }
  const people: Array<[string | null, string, 'individual' | 'group']> = [
    [record.callerId, 'sys_user', 'individual'],
    [record.assignmentGroupId, 'sys_user_group', 'group'],
  ];
  for (const [sysId, table, identityClass] of people) {
    if (!sysId) continue;
    const id = idOf('identity', `${table}:${sysId}`);
    if (!objects.some((o) => o.id === id)) {
      objects.push({ type: 'identity', id, ...base, name: `${table} ${sysId}`, identity_class: identityClass, x_servicenow_sys_id: sysId, x_servicenow_table: table });
    }
    relate('related-to', incidentId, id);
  }
  for (const o of extractObservables(`${record.shortDescription}\n${record.description}`)) {
    const id = idOf(o.type, `${o.type}:${o.value}`);
    objects.push(o.type === 'file' ? { type: 'file', id, spec_version: '2.1', hashes: { [o.hash!]: o.value } } : { type: o.type, id, spec_version: '2.1', value: o.value });
    relate('related-to', incidentId, id);
  }
  return objects;
}

/** A STIX bundle of several incidents' objects, each object once. */
export function bundleOf(objects: StixObject[], seed: string): { type: 'bundle'; id: string; objects: StixObject[] } {
  const unique = new Map<string, StixObject>();
  for (const o of objects) unique.set(o.id, o);
  return { type: 'bundle', id: `bundle--${stableUuid(seed)}`, objects: [...unique.values()] };
}
