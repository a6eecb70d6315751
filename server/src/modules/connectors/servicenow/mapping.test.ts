import { describe, expect, it } from 'vitest';
import { DEFAULT_CHOICE_LABELS, parseIncidentRecord } from './incident-record.js';
import { loadFixtureFile } from './fixtures.js';
import { extractObservables, mapIncident, stableUuid } from './mapping.js';

describe('extractObservables', () => {
  it('finds URLs, e-mail addresses, IPs, domains and hashes once each, without taking file names for domains', () => {
    const text = [
      'Mail from Billing@Paypa1-Secure.com linking to http://paypa1-secure.com/login.php, sender 203.0.113.45 and 203.0.113.45.',
      'Beacon to c2.evil-example.net over 2001:db8::1; dropped invoice.exe',
      'md5 44d88612fea8a8f36de82e1278abb02f sha1 3395856ce81f2b7382dee72602f798b642f14140',
      'sha256 275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f',
    ].join('\n');
    const found = extractObservables(text).map((o) => `${o.type}:${o.value}${o.hash ? `:${o.hash}` : ''}`);
    expect(found.sort()).toEqual(
      [
        'url:http://paypa1-secure.com/login.php',
        'email-addr:billing@paypa1-secure.com',
        'ipv4-addr:203.0.113.45',
        'ipv6-addr:2001:db8::1',
        'domain-name:c2.evil-example.net',
        'file:44d88612fea8a8f36de82e1278abb02f:MD5',
        'file:3395856ce81f2b7382dee72602f798b642f14140:SHA-1',
        'file:275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f:SHA-256',
      ].sort(),
    );
  });

  it('finds nothing in plain prose or version numbers', () => {
    expect(extractObservables('The printer on floor 3 is jammed again; tried v1.2 firmware.')).toEqual([]);
  });
});

describe('mapIncident', () => {
  const record = parseIncidentRecord(loadFixtureFile('incident')[0]);
  const options = { source: 'servicenow:prod', instanceUrl: 'https://acme.service-now.com', table: 'incident', labels: DEFAULT_CHOICE_LABELS };

  it('maps an incident with its labels, UTC times, CI, caller and group, observables, all related to the incident', () => {
    const objects = mapIncident(record, options);
    const incident = objects[0]!;
    expect(incident).toMatchObject({
      type: 'incident',
      name: 'INC0010001',
      x_servicenow_sys_id: 'e85f017ff9128009d0f8e5cda78293aa',
      x_servicenow_priority_label: 'High',
      x_servicenow_state_label: 'New',
      modified: '2026-01-05T08:00:00.000Z',
      created: '2026-01-05T07:00:00.000Z',
    });
    const types = objects.filter((o) => o.type !== 'relationship').map((o) => o.type);
    expect(types).toEqual(expect.arrayContaining(['infrastructure', 'identity', 'url', 'email-addr', 'ipv4-addr']));
    const rels = objects.filter((o) => o.type === 'relationship');
    expect(rels).toHaveLength(objects.length - rels.length - 1);
    expect(rels.every((r) => r.source_ref === incident.id)).toBe(true);
  });

  it('gives the same record the same ids every time, and another instance different ones', () => {
    const again = mapIncident(record, options).map((o) => o.id);
    expect(mapIncident(record, options).map((o) => o.id)).toEqual(again);
    expect(mapIncident(record, { ...options, instanceUrl: 'https://other.service-now.com' })[0]!.id).not.toBe(again[0]);
    expect(stableUuid('x')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('copies fieldMap overrides from the raw record', () => {
    expect(mapIncident(record, { ...options, fieldMap: { caller: 'caller_id' } })[0]).toMatchObject({ x_servicenow_caller: '4e6ab69555f99615801c085567d6088f' });
  });
});
