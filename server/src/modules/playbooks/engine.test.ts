import { describe, expect, it, vi } from 'vitest';
import { validateDefinition, type PlaybookDefinition } from './definition.js';
import { defaultFindingKey, fillIncidentText, runPlaybook, StepFailure, type EntitySummary, type GraphReader, type IncidentRequest, type RunOptions } from './engine.js';
import type { SearchFilter } from './graph-reader.js';
import { resolveParams } from './params.js';

const NOW = new Date('2025-06-01T12:00:00.000Z');
const id = (n: number) => `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`;

function entity(n: number, type: string, name: string, extra: Partial<EntitySummary> = {}): EntitySummary {
  return { id: id(n), stixId: `${type}--${id(n)}`, type, name, confidence: null, tlp: 'clear', firstSeen: null, lastSeen: null, properties: {}, sources: ['feed-a'], ...extra };
}

/** A small campaign: two indicators of it, the address and domain they match, and a domain resolving to the address. */
const campaign = entity(1, 'campaign', 'Operation Night Owl', { confidence: 80, tlp: 'green' });
const strong = entity(2, 'indicator', 'C2 address 198.51.100.7', { confidence: 90, sources: ['feed-a', 'feed-b'], properties: { pattern: "[ipv4-addr:value = '198.51.100.7']", indicator_types: ['malicious-activity'] }, lastSeen: '2025-05-30T00:00:00.000Z' });
const weak = entity(3, 'indicator', 'C2 domain night-owl.example', { confidence: 50, properties: { pattern: "[domain-name:value = 'night-owl.example']", indicator_types: ['anomalous-activity'] }, lastSeen: '2025-04-01T00:00:00.000Z' });
const address = entity(4, 'ipv4-addr', '198.51.100.7', { sources: ['feed-a', 'feed-b', 'feed-c'], tlp: 'amber' });
const domain = entity(5, 'domain-name', 'night-owl.example', { tlp: null });
const unrelated = entity(6, 'malware', 'Lonely', { confidence: 70 });
const ALL = [campaign, strong, weak, address, domain, unrelated];
const EDGES: Array<[number, string, number]> = [[2, 'indicates', 1], [3, 'indicates', 1], [2, 'based-on', 4], [3, 'based-on', 5], [5, 'resolves-to', 4]];

type Calls = { search: SearchFilter[]; expandLimits: number[] };
function memoryReader(overrides: Partial<GraphReader> = {}): GraphReader & { calls: Calls } {
  const byId = new Map(ALL.map((e) => [e.id, e]));
  const calls: Calls = { search: [], expandLimits: [] };
  return {
    calls,
    async search(filter, limit) {
      calls.search.push(filter);
      const found = ALL.filter((e) =>
        (!filter.ids || filter.ids.includes(e.id)) && (!filter.types || filter.types.includes(e.type)) &&
        (!filter.q || e.name.toLowerCase().includes(filter.q.toLowerCase())) &&
        (filter.minConfidence === undefined || (e.confidence ?? -1) >= filter.minConfidence) &&
        (!filter.tlp || (e.tlp !== null && filter.tlp.includes(e.tlp))) && (!filter.source || e.sources.includes(filter.source)),
      ).sort((a, b) => (b.confidence ?? -1) - (a.confidence ?? -1) || a.id.localeCompare(b.id));
      return { entities: found.slice(0, limit), truncated: found.length > limit };
    },
    async expand(ids, options) {
      calls.expandLimits.push(options.limit);
      const visited = new Set(ids);
      const found: EntitySummary[] = [];
      let frontier = ids;
      let truncated = false;
      for (let hop = 0; hop < options.depth && !truncated; hop++) {
        const next: string[] = [];
        for (const [s, type, t] of EDGES) {
          if (options.relationshipTypes && !options.relationshipTypes.includes(type)) continue;
          for (const [from, to] of [[id(s), id(t)], [id(t), id(s)]] as const) {
            if (!frontier.includes(from) || visited.has(to)) continue;
            if (found.length >= options.limit) {
              truncated = true;
              continue;
            }
            visited.add(to);
            next.push(to);
            found.push(byId.get(to)!);
          }
        }
        frontier = next;
      }
      return { ids: found.filter((e) => !options.entityTypes || options.entityTypes.includes(e.type)).map((e) => e.id), truncated };
    },
    async entities(ids) {
      return ids.map((i) => byId.get(i)).filter((e): e is EntitySummary => e !== undefined);
    },
    async provenance(ids) {
      return Object.fromEntries(ids.map((i) => [i, byId.get(i)!.sources.map((source) => ({ source, runId: null, at: '2025-05-01T00:00:00.000Z', confidence: null }))]));
    },
    ...overrides,
  };
}

function definition(input: unknown): PlaybookDefinition {
  const result = validateDefinition(input);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.definition;
}
const options = (extra: Partial<RunOptions> = {}): RunOptions => ({ signal: new AbortController().signal, stepTimeoutMs: 5_000, rowLimit: 1_000, now: NOW, ...extra });
const searchCampaign = { id: 'seed', type: 'search', types: ['campaign'] };

describe('runPlaybook: the five-step shape', () => {
  const fiveSteps = definition({
    name: 'C2 of a campaign',
    parameters: [{ name: 'campaign', type: 'string', default: 'night owl' }, { name: 'depth', type: 'integer', min: 1, max: 3, default: 2 }],
    steps: [
      { ...searchCampaign, q: { $param: 'campaign' } },
      { id: 'grow', type: 'expand', depth: { $param: 'depth' } },
      { id: 'c2', type: 'filter', types: ['ipv4-addr', 'domain-name'] },
      { id: 'mark', type: 'annotate', rules: [
        { id: 'hub', when: { minSources: 3 }, severity: 'high', note: 'asserted by three sources' },
        { id: 'seen-twice', when: { minSources: 2 }, severity: 'medium', note: 'corroborated' },
        { id: 'amber', when: { tlp: ['amber'] }, severity: 'info', note: 'amber' },
      ] },
      { id: 'out', type: 'report', title: 'C2 report', sections: [{ title: 'C2', from: 'c2', columns: [{ key: 'name', label: 'Value' }, { key: 'sources' }, { key: 'highlight' }], orderBy: { field: 'sourceCount', direction: 'desc' } }] },
    ],
  });

  it('searches, expands, filters, annotates and reports, with a trace and provenance', async () => {
    const params = resolveParams(fiveSteps.parameters, {});
    expect(params.ok).toBe(true);
    const outcome = await runPlaybook(fiveSteps, params.ok ? params.values : {}, memoryReader(), options());
    expect(outcome.status).toBe('succeeded');
    expect(outcome.results.outputs).toEqual({
      seed: [campaign.id],
      grow: [campaign.id, strong.id, weak.id, address.id, domain.id],
      c2: [address.id, domain.id],
      mark: [address.id, domain.id],
    });
    expect(outcome.results.highlights).toEqual([
      { entityId: address.id, severity: 'high', note: 'asserted by three sources', rule: 'mark/hub' },
      { entityId: address.id, severity: 'medium', note: 'corroborated', rule: 'mark/seen-twice' },
      { entityId: address.id, severity: 'info', note: 'amber', rule: 'mark/amber' },
    ]);
    expect(outcome.results.report).toEqual({
      title: 'C2 report',
      sections: [{
        title: 'C2', from: 'c2', truncated: false,
        columns: [{ key: 'name', label: 'Value' }, { key: 'sources', label: 'Sources' }, { key: 'highlight', label: 'Highlight' }],
        rows: [
          { entityId: address.id, cells: { name: '198.51.100.7', sources: 'feed-a, feed-b, feed-c', highlight: 'high' } },
          { entityId: domain.id, cells: { name: 'night-owl.example', sources: 'feed-a', highlight: null } },
        ],
      }],
    });
    expect(outcome.trace.map((t) => [t.stepId, t.type, t.inputCount, t.outputCount])).toEqual([
      ['seed', 'search', 0, 1], ['grow', 'expand', 1, 5], ['c2', 'filter', 5, 2], ['mark', 'annotate', 2, 2], ['out', 'report', 0, 1],
    ]);
    expect(Object.keys(outcome.results.entities).sort()).toEqual([campaign, strong, weak, address, domain].map((e) => e.id).sort());
    expect(outcome.results.provenance[address.id]!.map((p) => p.source)).toEqual(['feed-a', 'feed-b', 'feed-c']);
    expect(outcome.error).toBeUndefined();
  });

  it('passes parameters into the step configs', async () => {
    const reader = memoryReader();
    const outcome = await runPlaybook(fiveSteps, { campaign: 'no such campaign', depth: 1 }, reader, options());
    expect(reader.calls.search[0]!.q).toBe('no such campaign');
    expect(outcome.status).toBe('succeeded');
    expect(outcome.results.outputs.seed).toEqual([]);
    expect(outcome.trace[0]!.warnings).toContain('the search matched no entities');
  });
});

describe('runPlaybook: inputs, aggregates and the default report', () => {
  it('reads the latest entity output by default, skipping aggregates, or the named input', async () => {
    const def = definition({ name: 'x', steps: [
      { id: 'all', type: 'search', types: ['indicator', 'ipv4-addr'] },
      { id: 'confident', type: 'filter', minConfidence: 60 },
      { id: 'byType', type: 'aggregate', by: 'type' },
      { id: 'count', type: 'filter', types: ['indicator'] },
      { id: 'again', type: 'filter', input: 'all', types: ['ipv4-addr'] },
    ] });
    const outcome = await runPlaybook(def, {}, memoryReader(), options());
    expect(outcome.results.outputs.count).toEqual([strong.id]);
    expect(outcome.results.outputs.again).toEqual([address.id]);
    expect(outcome.results.aggregates.byType).toEqual([{ key: 'indicator', count: 1 }]);
    expect(outcome.results.outputs.byType).toBeUndefined();
  });

  it('counts each source once per entity, ranks by count and keeps the top N', async () => {
    const def = definition({ name: 'Sources', steps: [
      { id: 'all', type: 'search', types: ['indicator', 'ipv4-addr', 'domain-name'] },
      { id: 'bySource', type: 'aggregate', by: 'sources', top: 2 },
      { id: 'byTlp', type: 'aggregate', input: 'all', by: 'tlp' },
    ] });
    const outcome = await runPlaybook(def, {}, memoryReader(), options());
    expect(outcome.results.aggregates.bySource).toEqual([{ key: 'feed-a', count: 4 }, { key: 'feed-b', count: 2 }]);
    expect(outcome.results.aggregates.byTlp).toEqual([{ key: 'clear', count: 2 }, { key: '(none)', count: 1 }, { key: 'amber', count: 1 }]);
    // Without a report step the default report shows the last output: here aggregate rows.
    expect(outcome.results.report.sections[0]).toMatchObject({ title: 'Results', from: 'byTlp', columns: [{ key: 'key' }, { key: 'count' }] });
    expect(outcome.results.report.sections[0]!.rows[0]).toEqual({ entityId: null, cells: { key: 'clear', count: 2 } });
  });

  it('reports the last entity output with type, name, confidence, tlp and sources by default', async () => {
    const outcome = await runPlaybook(definition({ name: 'Indicators', steps: [{ id: 'i', type: 'search', types: ['indicator'] }] }), {}, memoryReader(), options());
    expect(outcome.results.report.title).toBe('Indicators');
    expect(outcome.results.report.sections[0]!.columns.map((c) => c.key)).toEqual(['type', 'name', 'confidence', 'tlp', 'sources']);
    expect(outcome.results.report.sections[0]!.rows.map((r) => r.cells)).toEqual([
      { type: 'indicator', name: strong.name, confidence: 90, tlp: 'clear', sources: 'feed-a, feed-b' },
      { type: 'indicator', name: weak.name, confidence: 50, tlp: 'clear', sources: 'feed-a' },
    ]);
  });

  it('leaves the input out of an expansion when asked, and narrows by entity type', async () => {
    const def = definition({ name: 'x', steps: [searchCampaign, { id: 'n', type: 'expand', depth: 2, includeInput: false, entityTypes: ['ipv4-addr'] }] });
    const outcome = await runPlaybook(def, {}, memoryReader(), options());
    expect(outcome.results.outputs.n).toEqual([address.id]);
  });

  it('orders and limits report sections, saying when rows were left out', async () => {
    const def = definition({ name: 'x', steps: [{ id: 'i', type: 'search', types: ['indicator', 'campaign', 'malware'] }, {
      id: 'r', type: 'report', sections: [{ title: 'Lowest', from: 'i', columns: [{ key: 'name' }, { key: 'properties.indicator_types' }], orderBy: { field: 'confidence', direction: 'asc' }, limit: 2 }],
    }] });
    const section = (await runPlaybook(def, {}, memoryReader(), options())).results.report.sections[0]!;
    expect(section.rows.map((r) => r.cells.name)).toEqual([weak.name, unrelated.name]);
    expect(section.rows[0]!.cells['properties.indicator_types']).toBe('anomalous-activity');
    expect(section.truncated).toBe(true);
  });
});

describe('runPlaybook: matching', () => {
  async function keep(where: unknown[], extra: Record<string, unknown> = {}) {
    const def = definition({ name: 'x', steps: [{ id: 'all', type: 'search', types: ['indicator', 'ipv4-addr', 'domain-name'] }, { id: 'f', type: 'filter', ...(where.length ? { where } : {}), ...extra }] });
    const outcome = await runPlaybook(def, {}, memoryReader(), options());
    return outcome.results.outputs.f!.map((i) => outcome.results.entities[i]!.name);
  }

  it('applies property predicates, ignoring case for contains and startsWith', async () => {
    expect(await keep([{ path: 'properties.pattern', op: 'contains', value: 'IPV4-ADDR' }])).toEqual([strong.name]);
    expect(await keep([{ path: 'name', op: 'startsWith', value: 'c2 domain' }])).toEqual([weak.name]);
    expect(await keep([{ path: 'properties.indicator_types', op: 'contains', value: 'malicious-activity' }])).toEqual([strong.name]);
    expect(await keep([{ path: 'confidence', op: 'gte', value: 60 }])).toEqual([strong.name]);
    expect(await keep([{ path: 'type', op: 'in', value: ['ipv4-addr', 'domain-name'] }])).toEqual([address.name, domain.name]);
    expect(await keep([{ path: 'properties.pattern', op: 'exists', value: false }])).toEqual([address.name, domain.name]);
    expect(await keep([{ path: 'properties.indicator_types', op: 'neq', value: 'malicious-activity' }])).toEqual([weak.name, address.name, domain.name]);
    expect(await keep([{ path: 'lastSeen', op: 'gt', value: '2025-05-01T00:00:00Z' }])).toEqual([strong.name]);
  });

  it('treats missing confidence, TLP and times as not matching', async () => {
    expect(await keep([], { maxConfidence: 100 })).toEqual([strong.name, weak.name]);
    expect(await keep([], { tlp: ['clear', 'amber'] })).toEqual([strong.name, weak.name, address.name]);
    // 7d back from NOW (2025-06-01T12:00Z) is 2025-05-25T12:00Z: only the strong indicator was seen since.
    expect(await keep([], { lastSeenAfter: '7d' })).toEqual([strong.name]);
    expect(await keep([], { lastSeenBefore: 'P7D' })).toEqual([weak.name]);
    expect(await keep([], { sources: ['feed-c'], minSources: 2 })).toEqual([address.name]);
  });

  it('turns a duration parameter into an instant before the run', async () => {
    const reader = memoryReader();
    const def = definition({ name: 'x', parameters: [{ name: 'window', type: 'duration', default: '24h' }], steps: [{ ...searchCampaign, since: { $param: 'window' } }] });
    const params = resolveParams(def.parameters, {});
    await runPlaybook(def, params.ok ? params.values : {}, reader, options());
    expect(reader.calls.search[0]!.since).toEqual(new Date('2025-05-31T12:00:00.000Z'));
  });

  it('leaves a field out when its optional parameter has no value, and wraps single values into lists', async () => {
    const reader = memoryReader();
    const def = definition({ name: 'x', parameters: [{ name: 'q', type: 'string' }, { name: 'kind', type: 'enum', values: ['campaign', 'malware'], default: 'malware' }], steps: [{ id: 's', type: 'search', q: { $param: 'q' }, types: { $param: 'kind' } }] });
    const outcome = await runPlaybook(def, { kind: 'malware' }, reader, options());
    expect(reader.calls.search[0]).toMatchObject({ types: ['malware'] });
    expect(reader.calls.search[0]!.q).toBeUndefined();
    expect(outcome.results.outputs.s).toEqual([unrelated.id]);
  });
});

describe('runPlaybook: limits, failures and cancellation', () => {
  it('truncates a step above the row limit with a warning instead of failing', async () => {
    const reader = memoryReader();
    const def = definition({ name: 'x', steps: [{ id: 'all', type: 'search', types: ['indicator', 'ipv4-addr', 'domain-name', 'campaign'], limit: 100 }, { id: 'more', type: 'expand', depth: 1 }] });
    const outcome = await runPlaybook(def, {}, reader, options({ rowLimit: 2 }));
    expect(outcome.status).toBe('succeeded');
    expect(outcome.results.outputs.all).toEqual([strong.id, campaign.id]);
    expect(outcome.trace[0]!.warnings[0]).toContain('row limit of 2');
    // The two inputs fill the row limit, so the walk gets no room and says so.
    expect(outcome.results.outputs.more).toEqual([strong.id, campaign.id]);
    expect(reader.calls.expandLimits).toEqual([]);
    expect(outcome.trace[1]!.warnings.join(' ')).toContain('to stay within the row limit of 2');
  });

  it('gives an expansion the room left under the row limit after its input', async () => {
    const reader = memoryReader();
    const def = definition({ name: 'x', steps: [searchCampaign, { id: 'more', type: 'expand', depth: 2, limit: 100 }] });
    const outcome = await runPlaybook(def, {}, reader, options({ rowLimit: 3 }));
    expect(reader.calls.expandLimits).toEqual([2]);
    expect(outcome.results.outputs.more).toHaveLength(3);
    expect(outcome.results.outputs.more![0]).toBe(campaign.id);
    expect(outcome.trace[1]!.warnings).toEqual([expect.stringContaining('to stay within the row limit of 3')]);
  });

  it('warns when a search hits its own limit', async () => {
    const outcome = await runPlaybook(definition({ name: 'x', steps: [{ id: 'i', type: 'search', types: ['indicator'], limit: 1 }] }), {}, memoryReader(), options());
    expect(outcome.results.outputs.i).toEqual([strong.id]);
    expect(outcome.trace[0]!.warnings[0]).toContain("step's limit of 1");
  });

  it('fails a step that runs past its timeout, aborting its reads, and names the step', async () => {
    let seen: AbortSignal | undefined;
    const reader = memoryReader({
      expand: (_ids, _options, signal) => {
        seen = signal;
        return new Promise(() => undefined);
      },
    });
    const def = definition({ name: 'x', steps: [searchCampaign, { id: 'slow', type: 'expand', depth: 3 }, { id: 'after', type: 'filter', types: ['file'] }] });
    const outcome = await runPlaybook(def, {}, reader, options({ stepTimeoutMs: 20 }));
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toEqual({ stepId: 'slow', message: expect.stringContaining('did not finish within 20 ms') });
    expect(seen?.aborted).toBe(true);
    expect(outcome.trace.map((t) => t.stepId)).toEqual(['seed', 'slow']);
    expect(outcome.results.outputs.seed).toEqual([campaign.id]);
  });

  it('ends as cancelled with the trace so far when the run is cancelled mid-step', async () => {
    const controller = new AbortController();
    const reader = memoryReader({
      expand: (_ids, _options, signal) => {
        controller.abort();
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      },
    });
    const def = definition({ name: 'x', steps: [searchCampaign, { id: 'grow', type: 'expand' }, { id: 'never', type: 'filter', types: ['file'] }] });
    const outcome = await runPlaybook(def, {}, reader, options({ signal: controller.signal }));
    expect(outcome.status).toBe('cancelled');
    expect(outcome.error?.stepId).toBe('grow');
    expect(outcome.trace.map((t) => [t.stepId, t.warnings])).toEqual([['seed', []], ['grow', ['cancelled while running']]]);
  });

  it('does not start when cancelled before the first step', async () => {
    const controller = new AbortController();
    controller.abort();
    const reader = memoryReader();
    const outcome = await runPlaybook(definition({ name: 'x', steps: [searchCampaign] }), {}, reader, options({ signal: controller.signal }));
    expect(outcome).toMatchObject({ status: 'cancelled', trace: [] });
    expect(reader.calls.search).toEqual([]);
  });

  it('fails with a message a person can act on, keeping database details for the log', async () => {
    const cause = new Error('relation "entities" does not exist');
    const onUnexpectedError = vi.fn();
    const reader = memoryReader({ search: () => Promise.reject(cause) });
    const outcome = await runPlaybook(definition({ name: 'x', steps: [searchCampaign] }), {}, reader, options({ onUnexpectedError }));
    expect(outcome.status).toBe('failed');
    expect(outcome.error!.stepId).toBe('seed');
    expect(outcome.error!.message).toContain('step "seed" (search) failed while reading the graph');
    expect(outcome.error!.message).not.toContain('relation');
    expect(onUnexpectedError).toHaveBeenCalledWith('seed', cause);
  });

  it('fails a run whose parameter value does not fit the field, naming step and field', async () => {
    const def = definition({ name: 'x', parameters: [{ name: 'kind', type: 'string', default: 'campaign' }], steps: [{ id: 's', type: 'search', types: { $param: 'kind' } }] });
    const outcome = await runPlaybook(def, { kind: 'widget' }, memoryReader(), options());
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toEqual({ stepId: 's', message: expect.stringContaining('step "s", field types[0]: must be one of') });
  });
});

describe('runPlaybook: create-incident', () => {
  const connectorId = '01900000-0000-7000-8000-000000000001';
  const withIncident = (extra: Record<string, unknown> = {}) => definition({
    name: 'Night Owl triage',
    steps: [{ id: 'seed', type: 'search', types: ['indicator'] }, { id: 'snow', type: 'create-incident', connectorId, shortDescription: '{{count}} indicators from {{playbook}}', priority: 2, ...extra }],
  });
  const recorder = () => {
    const requests: IncidentRequest[] = [];
    return { requests, incidents: { create: async (r: IncidentRequest) => (requests.push(r), { requestId: `req-${requests.length}` }) } };
  };

  it('asks for one incident with the filled text, the input entities and a default finding key; the trace keeps the request id', async () => {
    const { requests, incidents } = recorder();
    const outcome = await runPlaybook(withIncident(), {}, memoryReader(), options({ incidents, playbookId: 'pb-1' }));
    expect(outcome.status).toBe('succeeded');
    expect(requests).toEqual([{ stepId: 'snow', connectorId, findingKey: defaultFindingKey('pb-1', 'snow', [strong.id, weak.id]), shortDescription: '2 indicators from Night Owl triage', description: undefined, priority: 2, entityIds: [strong.id, weak.id] }]);
    expect(outcome.trace[1]).toMatchObject({ stepId: 'snow', inputCount: 2, outputCount: 2, requestId: 'req-1' });
    expect(outcome.results.outputs.snow).toEqual([strong.id, weak.id]);
  });

  it('keys the finding by the entity set, not its order; an explicit findingKey wins', async () => {
    expect(defaultFindingKey('pb', 's', ['b', 'a'])).toBe(defaultFindingKey('pb', 's', ['a', 'b']));
    expect(defaultFindingKey('pb', 's', ['a'])).not.toBe(defaultFindingKey('pb', 's', ['a', 'b']));
    const { requests, incidents } = recorder();
    await runPlaybook(withIncident({ findingKey: 'night-owl' }), {}, memoryReader(), options({ incidents, playbookId: 'pb-1' }));
    expect(requests[0]!.findingKey).toBe('night-owl');
    expect(fillIncidentText('{{ count }} of {{playbook}} {{other}}', { count: 3, playbook: 'P' })).toBe('3 of P {{other}}');
  });

  it('fails the run with the requester\'s message (an unknown connector), and names what is missing without a requester', async () => {
    const failing = { create: async () => { throw new StepFailure('connector 0190 does not exist in this tenant'); } };
    const outcome = await runPlaybook(withIncident(), {}, memoryReader(), options({ incidents: failing }));
    expect(outcome).toMatchObject({ status: 'failed', error: { stepId: 'snow', message: 'connector 0190 does not exist in this tenant' } });
    const without = await runPlaybook(withIncident(), {}, memoryReader(), options());
    expect(without).toMatchObject({ status: 'failed', error: { stepId: 'snow' } });
    expect(without.error!.message).toContain('ServiceNow connector');
  });

  it('asks for nothing when the input is empty', async () => {
    const { requests, incidents } = recorder();
    const def = definition({ name: 'Empty', steps: [{ id: 'seed', type: 'search', types: ['tool'] }, { id: 'snow', type: 'create-incident', connectorId, shortDescription: 'x' }] });
    const outcome = await runPlaybook(def, {}, memoryReader(), options({ incidents }));
    expect(outcome.status).toBe('succeeded');
    expect(requests).toEqual([]);
    expect(outcome.trace[1]!.warnings[0]).toContain('no incident');
  });
});
