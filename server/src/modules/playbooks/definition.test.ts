import { describe, expect, it } from 'vitest';
import { checkBoundStep, validateDefinition, type DefinitionError } from './definition.js';

const search = { id: 'seed', type: 'search', types: ['campaign'], limit: 5 };
const expand = { id: 'grow', type: 'expand', depth: 2 };
const report = { id: 'out', type: 'report', sections: [{ title: 'Found', from: 'grow', columns: [{ key: 'name' }] }] };

function errorsOf(input: unknown): DefinitionError[] {
  const result = validateDefinition(input);
  if (result.ok) throw new Error('expected the definition to be refused');
  return result.errors;
}
/** The one error at `path`; fails if there is none. */
function errorAt(input: unknown, path: string): DefinitionError {
  const errors = errorsOf(input);
  const found = errors.find((e) => e.path === path);
  if (!found) throw new Error(`no error at ${path}; got ${JSON.stringify(errors)}`);
  return found;
}
const withSteps = (steps: unknown[], extra: Record<string, unknown> = {}) => ({ name: 'Test', steps, ...extra });

describe('validateDefinition: a valid definition', () => {
  it('accepts a five-step playbook and returns the parsed definition', () => {
    const result = validateDefinition({
      name: 'C2 of a campaign',
      tags: ['c2', 'campaign-triage'],
      parameters: [{ name: 'campaign', type: 'string', default: 'Operation X' }, { name: 'depth', type: 'integer', min: 1, max: 3, default: 2 }],
      steps: [
        { ...search, q: { $param: 'campaign' } },
        { ...expand, depth: { $param: 'depth' } },
        { id: 'c2', type: 'filter', types: ['ipv4-addr', 'domain-name'], where: [{ path: 'properties.value', op: 'exists' }] },
        { id: 'mark', type: 'annotate', rules: [{ id: 'hub', when: { minSources: 3 }, severity: 'high', note: 'shared hub' }] },
        { ...report, sections: [{ title: 'C2', from: 'c2', columns: [{ key: 'name', label: 'Address' }, { key: 'highlight' }], orderBy: { field: 'sourceCount', direction: 'desc' } }] },
      ],
    });
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.definition.steps).toHaveLength(5);
  });

  it('fills parameters with an empty list when left out', () => {
    const result = validateDefinition(withSteps([search]));
    expect(result.ok && result.definition.parameters).toEqual([]);
  });
});

describe('validateDefinition: shape errors name the step and field', () => {
  it('refuses unknown fields at the top and in steps', () => {
    expect(errorAt({ ...withSteps([search]), parameter: [] }, 'parameter').message).toContain('unknown field "parameter"');
    const e = errorAt(withSteps([{ ...search, limt: 5 }]), 'steps[0].limt');
    expect(e).toMatchObject({ stepId: 'seed' });
    expect(e.message).toMatch(/^step "seed", field limt: unknown field "limt"/);
  });

  it('says which step type is unknown and lists the known ones', () => {
    const e = errorAt(withSteps([search, { id: 'odd', type: 'pivot' }]), 'steps[1].type');
    expect(e.stepId).toBe('odd');
    expect(e.message).toContain('unknown step type "pivot"');
    expect(e.message).toContain('search, expand, filter');
  });

  it('gives bounds in plain words', () => {
    expect(errorAt(withSteps([search, { ...expand, depth: 5 }]), 'steps[1].depth').message).toBe('step "grow", field depth: must be at most 3 (got 5)');
    expect(errorAt(withSteps([{ ...search, limit: 0 }]), 'steps[0].limit').message).toContain('must be at least 1');
    expect(errorAt(withSteps([{ ...search, minConfidence: 'high' }]), 'steps[0].minConfidence').message).toContain('expected number, got "high"');
    expect(errorAt(withSteps([{ ...search, types: ['campain'] }]), 'steps[0].types[0]').message).toContain('must be one of');
  });

  it('checks name, tags and the number of steps', () => {
    expect(errorAt({ name: '', steps: [search] }, 'name').message).toContain('must not be empty');
    expect(errorAt({ name: 'x', steps: [] }, 'steps').message).toContain('at least 1 items');
    expect(errorAt({ name: 'x', tags: ['Not A Slug'], steps: [search] }, 'tags[0]').message).toContain('lower-case slug');
    expect(errorAt({ name: 'x', steps: Array.from({ length: 51 }, (_, i) => ({ ...search, id: `s${i}` })) }, 'steps').message).toContain('at most 50');
  });
});

describe('validateDefinition: references between steps', () => {
  it('requires unique step ids and outputs', () => {
    expect(errorAt(withSteps([search, { ...search }]), 'steps[1].id').message).toContain('ids must be unique');
    const e = errorAt(withSteps([search, { ...expand, output: 'seed' }]), 'steps[1].output');
    expect(e.message).toContain('"seed" is already used by step "seed"');
  });

  it('requires input to name an earlier entity output', () => {
    expect(errorAt(withSteps([search, { ...expand, input: 'nowhere' }]), 'steps[1].input').message).toContain('no earlier step has the output "nowhere": name one of seed');
    expect(errorAt(withSteps([search, { ...expand, input: 'later' }, { id: 'later', type: 'filter', types: ['file'] }]), 'steps[1].input').message).toContain('later step');
    const agg = { id: 'counts', type: 'aggregate', by: 'type' };
    expect(errorAt(withSteps([search, agg, { ...expand, input: 'counts' }]), 'steps[2].input').message).toContain('aggregate rows, not entities');
  });

  it('requires a search first and refuses input on search and report', () => {
    expect(errorAt(withSteps([expand]), 'steps[0].input').message).toContain('start the playbook with a search step');
    expect(errorAt(withSteps([search, { ...search, id: 'again', input: 'seed' }]), 'steps[1].input').message).toContain('a search reads the graph');
    expect(errorAt(withSteps([search, expand, { ...report, input: 'grow' }]), 'steps[2].input').message).toContain("reads each section's from");
  });

  it('allows one report, last, whose sections show earlier outputs with valid columns', () => {
    expect(errorAt(withSteps([search, report, expand]), 'steps[1].type').message).toContain('must be the last step');
    expect(errorAt(withSteps([search, expand, report, { ...report, id: 'out2' }]), 'steps[3].type').message).toContain('only one report step');
    const bad = { ...report, sections: [{ title: 'x', from: 'ghost', columns: [{ key: 'name' }] }] };
    expect(errorAt(withSteps([search, expand, bad]), 'steps[2].sections[0].from').message).toContain('"ghost"');
    const badColumn = { ...report, sections: [{ title: 'x', from: 'grow', columns: [{ key: 'value' }] }] };
    expect(errorAt(withSteps([search, expand, badColumn]), 'steps[2].sections[0].columns[0].key').message).toContain('properties.<name>');
    const aggColumns = { ...report, sections: [{ title: 'x', from: 'counts', columns: [{ key: 'name' }], orderBy: { field: 'total' } }] };
    const errors = errorsOf(withSteps([search, { id: 'counts', type: 'aggregate', by: 'tlp' }, aggColumns]));
    expect(errors.map((e) => e.path)).toEqual(['steps[2].sections[0].columns[0].key', 'steps[2].sections[0].orderBy.field']);
    expect(errors[0]!.message).toContain('use key or count');
  });
});

describe('validateDefinition: steps this Summit cannot run yet', () => {
  it('rejects enrich with the reason and the issue', () => {
    const e = errorAt(withSteps([search, { id: 'vt', type: 'enrich', provider: 'virustotal' }]), 'steps[1].type');
    expect(e.stepId).toBe('vt');
    expect(e.message).toContain('the enrich step needs Threat Intel enrichment, which this Summit does not have yet (issue 7)');
  });

});

describe('validateDefinition: create-incident', () => {
  const connectorId = '01900000-0000-7000-8000-000000000001';
  it('accepts a connector, a short description with {{count}}, a priority and a finding key; its output is an entity set', () => {
    const result = validateDefinition(withSteps([
      search,
      { id: 'snow', type: 'create-incident', connectorId, shortDescription: '{{count}} campaigns in {{playbook}}', priority: 2, findingKey: 'campaigns' },
      { id: 'out', type: 'report', sections: [{ title: 'Pushed', from: 'snow', columns: [{ key: 'name' }] }] },
    ]));
    expect(result.ok, JSON.stringify(result)).toBe(true);
  });

  it('needs connectorId and shortDescription, and refuses unknown fields and a bad priority', () => {
    expect(errorAt(withSteps([search, { id: 'snow', type: 'create-incident', shortDescription: 'x' }]), 'steps[1].connectorId').stepId).toBe('snow');
    expect(errorAt(withSteps([search, { id: 'snow', type: 'create-incident', connectorId }]), 'steps[1].shortDescription')).toBeDefined();
    expect(errorAt(withSteps([search, { id: 'snow', type: 'create-incident', connectorId: 'not-a-uuid', shortDescription: 'x' }]), 'steps[1].connectorId')).toBeDefined();
    expect(errorsOf(withSteps([search, { id: 'snow', type: 'create-incident', connectorId, shortDescription: 'x', assignmentGroup: 'SOC' }])).map((e) => e.message).join(' ')).toContain('assignmentGroup');
    expect(errorAt(withSteps([search, { id: 'snow', type: 'create-incident', connectorId, shortDescription: 'x', priority: 9 }]), 'steps[1].priority')).toBeDefined();
  });

  it('needs an earlier entity output as input', () => {
    expect(errorAt(withSteps([{ id: 'snow', type: 'create-incident', connectorId, shortDescription: 'x' }]), 'steps[0].input').message).toContain('start the playbook with a search step');
  });
});

describe('validateDefinition: filters, rules and predicates', () => {
  it('refuses a filter without conditions and an impossible confidence range', () => {
    expect(errorAt(withSteps([search, { id: 'f', type: 'filter' }]), 'steps[1]').message).toContain('has no conditions');
    expect(errorAt(withSteps([search, { id: 'f', type: 'filter', minConfidence: 80, maxConfidence: 20 }]), 'steps[1].minConfidence').message).toContain('nothing can match');
  });

  it('checks that predicate values fit their op', () => {
    const where = (op: string, value?: unknown) => withSteps([search, { id: 'f', type: 'filter', where: [{ path: 'properties.x', op, ...(value === undefined ? {} : { value }) }] }]);
    expect(errorAt(where('in', 'a'), 'steps[1].where[0].value').message).toContain('needs a list');
    expect(errorAt(where('startsWith', 3), 'steps[1].where[0].value').message).toContain('needs a text value');
    expect(errorAt(where('gt', true), 'steps[1].where[0].value').message).toContain('number or an ISO instant');
    expect(errorAt(where('eq'), 'steps[1].where[0].value').message).toContain('needs one value');
    expect(validateDefinition(where('exists')).ok).toBe(true);
    expect(errorAt(withSteps([search, { id: 'f', type: 'filter', where: [{ path: 'value', op: 'exists' }] }]), 'steps[1].where[0].path').message).toContain('properties.<name>');
  });

  it('requires unique rule ids and a condition per rule', () => {
    const rule = { id: 'r', when: { minConfidence: 90 }, severity: 'high', note: 'n' };
    expect(errorAt(withSteps([search, { id: 'a', type: 'annotate', rules: [rule, rule] }]), 'steps[1].rules[1].id').message).toContain('rule ids must be unique');
    expect(errorAt(withSteps([search, { id: 'a', type: 'annotate', rules: [{ ...rule, when: {} }] }]), 'steps[1].rules[0].when').message).toContain('rule "r" has no conditions');
    expect(errorAt(withSteps([search, { id: 'a', type: 'annotate', rules: [{ ...rule, severity: 'urgent' }] }]), 'steps[1].rules[0].severity').message).toContain('info, low, medium, high, critical');
  });

  it('checks time fields', () => {
    expect(validateDefinition(withSteps([{ ...search, since: '7d' }])).ok).toBe(true);
    expect(validateDefinition(withSteps([{ ...search, since: '2025-06-01T00:00:00Z' }])).ok).toBe(true);
    expect(errorAt(withSteps([{ ...search, since: 'last week' }]), 'steps[0].since').message).toContain('look-back duration');
  });
});

describe('validateDefinition: parameters', () => {
  const params = (parameters: unknown[], steps: unknown[] = [search]) => withSteps(steps, { parameters });

  it('refuses a reference to an undeclared parameter', () => {
    const e = errorAt(params([], [{ ...search, q: { $param: 'campaign' } }]), 'steps[0].q');
    expect(e.message).toContain('parameter "campaign" is not declared');
  });

  it('refuses a parameter of the wrong type for the field', () => {
    const e = errorAt(params([{ name: 'depth', type: 'string' }], [search, { ...expand, depth: { $param: 'depth' } }]), 'steps[1].depth');
    expect(e).toMatchObject({ stepId: 'grow' });
    expect(e.message).toContain('declare the parameter as integer');
    expect(errorAt(params([{ name: 'since', type: 'integer', min: 0, max: 5 }], [{ ...search, since: { $param: 'since' } }]), 'steps[0].since').message).toContain('duration');
  });

  it('requires an integer parameter to declare bounds within the field', () => {
    const steps = [search, { ...expand, depth: { $param: 'd' } }];
    expect(errorAt(params([{ name: 'd', type: 'integer', default: 2 }], steps), 'steps[1].depth').message).toContain('declare min ≥ 1 and max ≤ 3');
    expect(errorAt(params([{ name: 'd', type: 'integer', min: 1, max: 5 }], steps), 'steps[1].depth').message).toContain('max ≤ 3');
    expect(validateDefinition(params([{ name: 'd', type: 'integer', min: 1, max: 3 }], steps)).ok).toBe(true);
  });

  it('checks enum values against the field', () => {
    const steps = [{ ...search, types: { $param: 'kinds' } }];
    expect(validateDefinition(params([{ name: 'kinds', type: 'list', items: { type: 'enum', values: ['campaign', 'malware'] } }], steps)).ok).toBe(true);
    expect(validateDefinition(params([{ name: 'kinds', type: 'enum', values: ['campaign'] }], steps)).ok).toBe(true);
    expect(errorAt(params([{ name: 'kinds', type: 'enum', values: ['campaign', 'widget'] }], steps), 'steps[0].types').message).toContain('widget');
  });

  it('checks predicate parameters against the op', () => {
    const steps = (op: string) => [search, { id: 'f', type: 'filter', where: [{ path: 'properties.x', op, value: { $param: 'v' } }] }];
    expect(errorAt(params([{ name: 'v', type: 'string' }], steps('in')), 'steps[1].where[0].value').message).toContain('op "in" compares with a list');
    expect(validateDefinition(params([{ name: 'v', type: 'list', items: 'string' }], steps('in'))).ok).toBe(true);
    expect(validateDefinition(params([{ name: 'v', type: 'number' }], steps('gte'))).ok).toBe(true);
  });

  it('checks declarations: unique names, items, values, bounds, patterns and defaults', () => {
    expect(errorAt(params([{ name: 'a', type: 'string' }, { name: 'a', type: 'integer' }]), 'parameters[1].name').message).toContain('must be unique');
    expect(errorAt(params([{ name: 'l', type: 'list' }]), 'parameters[0].items').message).toContain('a list needs items');
    expect(errorAt(params([{ name: 'e', type: 'enum' }]), 'parameters[0].values').message).toContain('an enum needs values');
    expect(errorAt(params([{ name: 'e', type: 'enum', values: [] }]), 'parameters[0].values').message).toContain('at least 1 items');
    expect(errorAt(params([{ name: 'n', type: 'integer', min: 5, max: 1 }]), 'parameters[0].min').message).toContain('greater than max');
    expect(errorAt(params([{ name: 'b', type: 'boolean', min: 1 }]), 'parameters[0].min').message).toContain('does not apply to boolean');
    expect(errorAt(params([{ name: 'd', type: 'duration', max: 'a week' }]), 'parameters[0].max').message).toContain('must be a duration');
    expect(errorAt(params([{ name: 's', type: 'string', pattern: '(a)\\1' }]), 'parameters[0].pattern').message).toContain('not a valid RE2');
    expect(errorAt(params([{ name: 'n', type: 'integer', min: 1, max: 3, default: 7 }]), 'parameters[0].default').message).toContain('above the maximum of 3');
    expect(errorAt(params([{ name: 'n', type: 'integer', default: '2' }]), 'parameters[0].default').message).toContain('whole number');
    expect(errorAt(params([{ name: 'e', type: 'enum', values: ['a'], default: 'b' }]), 'parameters[0].default').message).toContain('expected one of a');
  });
});

describe('checkBoundStep', () => {
  it('re-checks a step once parameters are filled in, naming step and field', () => {
    expect(checkBoundStep({ ...expand, depth: 2 }, 1)).toMatchObject({ ok: true });
    const result = checkBoundStep({ ...search, types: ['widget'] }, 0);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain('step "seed", field types[0]: must be one of');
  });
});
