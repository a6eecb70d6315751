/**
 * The playbook definition format: the zod shape (what the API accepts as JSON or YAML) and `validateDefinition`, which
 * checks what a shape cannot (references between steps, parameter types, steps this Summit cannot run yet) and says,
 * per problem, which step and field is wrong and what to do. Pure: no database, no clock.
 *
 * A definition is an ordered list of steps over entity sets. Each step names its result (`output`, default: its id);
 * later steps take an earlier entity set as `input` (default: the latest one). `aggregate` produces rows of
 * {key, count} rather than entities, and `report` (optional, last) says what goes into the export.
 * Values in step configs may be `{"$param": "name"}`; see PARAM_SLOTS for which fields accept which parameter types.
 */
import { z } from 'zod';
import { ENTITY_TYPES, RELATIONSHIP_TYPES, TLP_LEVELS } from '../graph/stix/model.js';
import { boundOf, checkParamValue, compilePattern, DURATION_HINT, parseDuration } from './params.js';

export const PARAM_TYPES = ['string', 'integer', 'number', 'boolean', 'enum', 'entityRef', 'duration', 'list'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];
export const STEP_TYPES = ['search', 'expand', 'filter', 'enrich', 'annotate', 'aggregate', 'create-incident', 'report'] as const;
export type StepType = (typeof STEP_TYPES)[number];
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const PREDICATE_OPS = ['eq', 'neq', 'contains', 'startsWith', 'gt', 'gte', 'lt', 'lte', 'exists', 'in'] as const;
export type PredicateOp = (typeof PREDICATE_OPS)[number];
/** Entity fields steps can read; anything else is a STIX property written `properties.<name>[.<name>…]`. */
export const ENTITY_FIELDS = ['id', 'stixId', 'type', 'name', 'confidence', 'tlp', 'firstSeen', 'lastSeen', 'sources', 'sourceCount', 'highlight'] as const;
export const AGGREGATE_COLUMNS = ['key', 'count'] as const;
export const LIMITS = { searchLimit: 10_000, expandLimit: 10_000, sectionLimit: 10_000, top: 1_000 } as const;
export const DEFAULTS = { searchLimit: 500, expandLimit: 1_000, expandDepth: 1, sectionLimit: 1_000 } as const;

const FIELD_REF_RE = /^(?:properties(?:\.[A-Za-z0-9_-]{1,100}){1,8}|id|stixId|type|name|confidence|tlp|firstSeen|lastSeen|sources|sourceCount|highlight)$/;
const FIELD_HINT = `use one of ${ENTITY_FIELDS.join(', ')}, or properties.<name> for a STIX property (e.g. properties.pattern)`;

const identifier = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, { error: 'must be 1–64 letters, digits, _ or -, starting with a letter' });
const paramName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, { error: 'must be 1–64 letters, digits or _, not starting with a digit' });
const fieldRef = z.string().regex(FIELD_REF_RE, { error: `is not a field: ${FIELD_HINT}` });
const slug = z.string().max(50).regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, { error: 'must be a lower-case slug such as "c2" or "ransomware-triage"' });
const timeRef = z.string().max(64).refine((s) => parseDuration(s) !== undefined || !Number.isNaN(Date.parse(s)) && /^\d{4}-\d{2}-\d{2}T/.test(s), {
  error: `must be an ISO 8601 instant (2025-06-01T00:00:00Z) or a look-back duration meaning "that long before the run": ${DURATION_HINT}`,
});
const scalar = z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]);

export const paramRefSchema = z.object({ $param: paramName }).strict();
export type ParamRef = z.infer<typeof paramRefSchema>;
const withParam = <T extends z.ZodType>(schema: T) => z.union([paramRefSchema, schema]);
const int = (min: number, max: number) => withParam(z.number().int().min(min).max(max));

const ITEM_TYPES = ['string', 'integer', 'number', 'boolean', 'enum', 'entityRef', 'duration'] as const;
const bound = z.union([z.number(), z.string().max(64)]);
const itemSpecSchema = z
  .object({ type: z.enum(ITEM_TYPES), values: z.array(z.string().min(1).max(200)).min(1).max(200).optional(), min: bound.optional(), max: bound.optional(), pattern: z.string().min(1).max(500).optional() })
  .strict();
export type ParamItemSpec = z.infer<typeof itemSpecSchema>;
export const paramSchema = z
  .object({
    name: paramName,
    type: z.enum(PARAM_TYPES),
    items: z.union([z.enum(ITEM_TYPES), itemSpecSchema]).optional().describe('For list: the element type (not list), or {type, values, min, max, pattern}.'),
    values: z.array(z.string().min(1).max(200)).min(1).max(200).optional().describe('For enum: the allowed values.'),
    default: z.unknown().optional(),
    required: z.boolean().optional(),
    min: bound.optional().describe('Numbers: the smallest value; strings: length; lists: items; durations: a duration (1h).'),
    max: bound.optional(),
    pattern: z.string().min(1).max(500).optional().describe('RE2 pattern the whole string must match.'),
    description: z.string().max(1000).optional(),
  })
  .strict();
export type Param = z.infer<typeof paramSchema>;

const predicateSchema = z
  .object({ path: fieldRef, op: z.enum(PREDICATE_OPS), value: withParam(z.union([scalar, z.array(scalar).max(500)])).optional() })
  .strict();
export type Predicate = z.infer<typeof predicateSchema>;
const criteriaShape = {
  types: withParam(z.array(z.enum(ENTITY_TYPES as [string, ...string[]])).min(1).max(30)).optional(),
  minConfidence: int(0, 100).optional(),
  maxConfidence: int(0, 100).optional(),
  tlp: withParam(z.array(z.enum(TLP_LEVELS)).min(1).max(5)).optional(),
  sources: withParam(z.array(z.string().min(1).max(200)).min(1).max(50)).optional().describe('Kept if any of these sources asserted it.'),
  minSources: int(1, 100).optional().describe('Kept if at least this many distinct sources asserted it.'),
  firstSeenAfter: withParam(timeRef).optional(),
  firstSeenBefore: withParam(timeRef).optional(),
  lastSeenAfter: withParam(timeRef).optional(),
  lastSeenBefore: withParam(timeRef).optional(),
  where: z.array(predicateSchema).min(1).max(20).optional().describe('Property predicates; all must hold.'),
};
export const criteriaSchema = z.object(criteriaShape).strict();
export type Criteria = z.infer<typeof criteriaSchema>;

const common = { id: identifier, output: identifier.optional(), input: identifier.optional() };
const searchStep = z
  .object({
    ...common,
    type: z.literal('search'),
    ids: withParam(z.array(z.uuid()).min(1).max(1_000)).optional().describe('Start from these entities.'),
    types: criteriaShape.types,
    q: withParam(z.string().trim().min(1).max(200)).optional(),
    minConfidence: criteriaShape.minConfidence,
    tlp: criteriaShape.tlp,
    source: withParam(z.string().min(1).max(200)).optional(),
    since: withParam(timeRef).optional().describe('Only entities changed at or after this instant.'),
    includeSuppressed: withParam(z.boolean()).optional().describe('Also indicators threat intel suppresses (hidden by default).'),
    limit: int(1, LIMITS.searchLimit).optional(),
  })
  .strict();
const expandStep = z
  .object({
    ...common,
    type: z.literal('expand'),
    relationshipTypes: withParam(z.array(z.enum(RELATIONSHIP_TYPES)).min(1).max(40)).optional(),
    entityTypes: criteriaShape.types,
    depth: int(1, 3).optional(),
    limit: int(1, LIMITS.expandLimit).optional().describe('Most neighbours visited; beyond it the step is truncated with a warning.'),
    includeInput: withParam(z.boolean()).optional().describe('Keep the input entities in the output (default true).'),
    includeSuppressed: withParam(z.boolean()).optional().describe('Also reach indicators threat intel suppresses (hidden by default).'),
  })
  .strict();
const filterStep = z.object({ ...common, type: z.literal('filter'), ...criteriaShape }).strict();
const annotateRule = z
  .object({ id: identifier, when: criteriaSchema, severity: withParam(z.enum(SEVERITIES)), note: z.string().trim().min(1).max(1_000) })
  .strict();
const annotateStep = z.object({ ...common, type: z.literal('annotate'), rules: z.array(annotateRule).min(1).max(50) }).strict();
const aggregateStep = z
  .object({ ...common, type: z.literal('aggregate'), by: fieldRef, top: int(1, LIMITS.top).optional(), metric: z.literal('count').optional() })
  .strict();
const reportSection = z
  .object({
    title: z.string().trim().min(1).max(200),
    from: identifier,
    columns: z.array(z.object({ key: z.string().min(1).max(200), label: z.string().trim().min(1).max(100).optional() }).strict()).min(1).max(30),
    orderBy: z.object({ field: z.string().max(200), direction: z.enum(['asc', 'desc']).optional() }).strict().optional(),
    limit: int(1, LIMITS.sectionLimit).optional(),
  })
  .strict();
const reportStep = z.object({ ...common, type: z.literal('report'), title: z.string().trim().min(1).max(200).optional(), sections: z.array(reportSection).min(1).max(20) }).strict();
// Accepted in shape so a saved definition gets the specific "not available yet" message rather than "unknown type".
const enrichStep = z.object({ ...common, type: z.literal('enrich') }).catchall(z.unknown());
/**
 * Creates or updates one ServiceNow incident for the input entities through a connector (issue 6 "Outbound"). The
 * connector's existence is checked when the step runs (saving a definition has no database to ask). Its output is
 * its input, so later steps and the report can still read the entities.
 */
const createIncidentStep = z
  .object({
    ...common,
    type: z.literal('create-incident'),
    connectorId: z.uuid().describe('The ServiceNow connector to push through.'),
    shortDescription: z.string().trim().min(1).max(160).describe('May use {{count}} (input entities) and {{playbook}} (the playbook name).'),
    description: z.string().max(10_000).optional(),
    priority: int(1, 5).optional(),
    findingKey: z.string().trim().min(1).max(200).optional().describe('Default: a hash of the playbook id, the step id and the sorted input entity ids.'),
  })
  .strict();

export const stepSchema = z.discriminatedUnion('type', [searchStep, expandStep, filterStep, enrichStep, annotateStep, aggregateStep, createIncidentStep, reportStep]);
export type Step = z.infer<typeof stepSchema>;
export type SearchStep = z.infer<typeof searchStep>;
export type ExpandStep = z.infer<typeof expandStep>;
export type FilterStep = z.infer<typeof filterStep>;
export type AnnotateStep = z.infer<typeof annotateStep>;
export type AggregateStep = z.infer<typeof aggregateStep>;
export type ReportStep = z.infer<typeof reportStep>;
export type CreateIncidentStep = z.infer<typeof createIncidentStep>;
export type ReportSection = z.infer<typeof reportSection>;

export const playbookDefinitionSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(5_000).optional(),
    tags: z.array(slug).max(20).optional(),
    parameters: z.array(paramSchema).max(50).default([]),
    steps: z.array(stepSchema).min(1).max(50),
  })
  .strict();
export type PlaybookDefinition = z.infer<typeof playbookDefinitionSchema>;

export type DefinitionError = { path: string; stepId?: string; message: string };
export type ValidateDefinitionResult = { ok: true; definition: PlaybookDefinition } | { ok: false; errors: DefinitionError[] };

/** What a step's output holds: entity ids, {key, count} rows, or (report) nothing later steps can read. */
export type OutputKind = 'entities' | 'aggregate' | 'report';
export const outputNameOf = (step: Step): string => step.output ?? step.id;
export const outputKindOf = (step: Step): OutputKind => (step.type === 'aggregate' ? 'aggregate' : step.type === 'report' ? 'report' : 'entities');

/** Which parameter types each field accepts as `{"$param"}`, keyed by field name (the names mean the same everywhere). */
type Slot =
  | { kind: 'string' }
  | { kind: 'int'; min: number; max: number }
  | { kind: 'list'; of?: readonly string[] }
  | { kind: 'ids' }
  | { kind: 'time' }
  | { kind: 'boolean' }
  | { kind: 'enum'; of: readonly string[] }
  | { kind: 'value' };
export const PARAM_SLOTS: Record<string, Slot> = {
  q: { kind: 'string' },
  source: { kind: 'string' },
  limit: { kind: 'int', min: 1, max: LIMITS.searchLimit },
  top: { kind: 'int', min: 1, max: LIMITS.top },
  depth: { kind: 'int', min: 1, max: 3 },
  minConfidence: { kind: 'int', min: 0, max: 100 },
  maxConfidence: { kind: 'int', min: 0, max: 100 },
  minSources: { kind: 'int', min: 1, max: 100 },
  types: { kind: 'list', of: ENTITY_TYPES },
  entityTypes: { kind: 'list', of: ENTITY_TYPES },
  tlp: { kind: 'list', of: TLP_LEVELS },
  relationshipTypes: { kind: 'list', of: RELATIONSHIP_TYPES },
  sources: { kind: 'list' },
  ids: { kind: 'ids' },
  since: { kind: 'time' },
  firstSeenAfter: { kind: 'time' },
  firstSeenBefore: { kind: 'time' },
  lastSeenAfter: { kind: 'time' },
  lastSeenBefore: { kind: 'time' },
  includeInput: { kind: 'boolean' },
  severity: { kind: 'enum', of: SEVERITIES },
  value: { kind: 'value' },
};

// ---------------------------------------------------------------------------------------------------------------
// Validation beyond the shape.

type Issue = z.core.$ZodIssue;
type Path = ReadonlyArray<PropertyKey>;

function formatPath(path: Path): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}
function valueAt(input: unknown, path: Path): unknown {
  let value = input;
  for (const key of path) value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  return value;
}
function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : JSON.stringify(value);
}

/** Prefixes a message with where it happened: `step "grow", field depth: …`, or `field name: …` outside steps. */
function located(path: Path, input: unknown, text: string): DefinitionError {
  const at = formatPath(path);
  if (path[0] === 'steps' && typeof path[1] === 'number') {
    const id = valueAt(input, ['steps', path[1], 'id']);
    const stepId = typeof id === 'string' ? id : undefined;
    const field = formatPath(path.slice(2));
    const step = stepId ? `step "${stepId}"` : `step ${path[1] + 1}`;
    return { path: at, ...(stepId ? { stepId } : {}), message: field ? `${step}, field ${field}: ${text}` : `${step}: ${text}` };
  }
  return { path: at, message: at ? `field ${at}: ${text}` : text };
}

function issueText(issue: Issue, raw: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      return raw === undefined ? `is required (${issue.expected})` : `expected ${issue.expected}, got ${shown(raw)}`;
    case 'too_big':
    case 'too_small': {
      const limit = issue.code === 'too_big' ? `at most ${issue.maximum}` : `at least ${issue.minimum}`;
      if (issue.origin === 'array') return `must have ${limit} items`;
      if (issue.origin === 'string') return issue.code === 'too_small' && issue.minimum === 1 ? 'must not be empty' : `must be ${limit} characters long`;
      return `must be ${limit} (got ${shown(raw)})`;
    }
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => String(v)).join(', ')} (got ${shown(raw)})`;
    default:
      return issue.message.startsWith('Invalid') ? `${issue.message} (got ${shown(raw)})` : issue.message;
  }
}

function issueErrors(issue: Issue, input: unknown, prefix: Path = []): DefinitionError[] {
  const path = [...prefix, ...issue.path];
  const raw = valueAt(input, path);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => located([...path, key], input, `unknown field "${key}": remove it or check its spelling`));
  }
  if (issue.code === 'invalid_union') {
    if (issue.errors.length === 0) {
      return [located(path, input, `unknown step type ${shown(raw)}: use one of ${STEP_TYPES.join(', ')}`)];
    }
    // A field that takes a literal or {"$param"}: report the branch the author meant.
    const meantParam = raw !== null && typeof raw === 'object' && !Array.isArray(raw) && '$param' in raw;
    const branch = meantParam ? issue.errors[0]! : issue.errors[issue.errors.length - 1]!;
    return branch.flatMap((sub) => issueErrors(sub, input, path));
  }
  return [located(path, input, issueText(issue, raw))];
}

/**
 * Validates a playbook definition: its shape, then what the shape cannot express. On success `definition` is the
 * parsed value (the form to store). Every error names its path, the step (by id) and what to do about it.
 */
export function validateDefinition(input: unknown): ValidateDefinitionResult {
  const parsed = playbookDefinitionSchema.safeParse(input);
  if (!parsed.success) return { ok: false, errors: parsed.error.issues.flatMap((issue) => issueErrors(issue, input)) };
  const errors: DefinitionError[] = [];
  checkParameters(parsed.data.parameters, errors);
  checkSteps(parsed.data, errors);
  return errors.length ? { ok: false, errors } : { ok: true, definition: parsed.data };
}

function checkConstraints(spec: Pick<Param, 'type' | 'min' | 'max' | 'pattern'>, at: string, who: string, errors: DefinitionError[]): void {
  const fail = (field: string, message: string) => errors.push({ path: `${at}.${field}`, message: `${who}: ${message}` });
  if (spec.pattern !== undefined) {
    if (spec.type !== 'string') fail('pattern', `pattern applies only to string values${spec.type === 'list' ? '; put it in items' : ''}`);
    const compiled = compilePattern(spec.pattern);
    if (typeof compiled === 'string') fail('pattern', compiled);
  }
  for (const field of ['min', 'max'] as const) {
    const value = spec[field];
    if (value === undefined) continue;
    if (spec.type === 'boolean' || spec.type === 'enum' || spec.type === 'entityRef') fail(field, `${field} does not apply to ${spec.type} values; remove it`);
    else if (spec.type === 'duration' && boundOf('duration', value) === undefined) fail(field, `${field} must be a duration: ${DURATION_HINT}`);
    else if ((spec.type === 'integer' || spec.type === 'number') && typeof value !== 'number') fail(field, `${field} must be a number`);
    else if ((spec.type === 'string' || spec.type === 'list') && !(typeof value === 'number' && Number.isInteger(value) && value >= 0)) {
      fail(field, `${field} must be a whole number of ${spec.type === 'string' ? 'characters' : 'items'}`);
    }
  }
  const min = boundOf(spec.type, spec.min);
  const max = boundOf(spec.type, spec.max);
  if (min !== undefined && max !== undefined && min > max) fail('min', `min (${spec.min}) is greater than max (${spec.max})`);
}

function checkParameters(params: Param[], errors: DefinitionError[]): void {
  const seen = new Set<string>();
  params.forEach((param, i) => {
    const at = `parameters[${i}]`;
    const who = `parameter "${param.name}"`;
    const fail = (field: string, message: string) => errors.push({ path: `${at}.${field}`, message: `${who}: ${message}` });
    if (seen.has(param.name)) fail('name', 'another parameter has this name; parameter names must be unique');
    seen.add(param.name);
    if (param.type === 'list' && !param.items) fail('items', 'a list needs items, the element type, e.g. "items": "string"');
    if (param.type !== 'list' && param.items) fail('items', 'items applies only to list parameters; remove it');
    if (param.type === 'enum' && !param.values) fail('values', 'an enum needs values: the non-empty list of allowed values');
    if (param.type !== 'enum' && param.values) fail('values', `values applies only to enum parameters${param.type === 'list' ? '; for a list of enum values put values in items' : ''}`);
    if (param.values && new Set(param.values).size !== param.values.length) fail('values', 'the enum values must be distinct');
    checkConstraints(param, at, who, errors);
    if (typeof param.items === 'object') {
      if (param.items.type === 'enum' && !param.items.values) fail('items.values', 'enum items need values: the non-empty list of allowed values');
      if (param.items.type !== 'enum' && param.items.values) fail('items.values', 'values applies only to enum items; remove it');
      checkConstraints(param.items, `${at}.items`, `${who} items`, errors);
    }
    if (param.default !== undefined && !errors.some((e) => e.path.startsWith(`${at}.`))) {
      const checked = checkParamValue(param, param.default);
      if (!checked.ok) fail('default', `the default does not fit the declared type: ${checked.message}`);
    }
  });
}

const isParamRef = (value: unknown): value is ParamRef => value !== null && typeof value === 'object' && !Array.isArray(value) && '$param' in value;
const itemTypeOf = (param: Param) => (typeof param.items === 'object' ? param.items.type : param.items);
const itemValuesOf = (param: Param) => (typeof param.items === 'object' ? param.items.values : undefined);

/** Why a parameter cannot fill a field, or undefined when it can. */
function slotProblem(slot: Slot, param: Param, op: PredicateOp | undefined): string | undefined {
  const t = param.type;
  const outside = (values: string[] | undefined, of: readonly string[] | undefined) => {
    const bad = of && values ? values.filter((v) => !of.includes(v)) : [];
    return bad.length ? `its values ${bad.join(', ')} are not allowed here (allowed: ${of!.join(', ')})` : undefined;
  };
  switch (slot.kind) {
    case 'string':
      return t === 'string' || t === 'enum' ? undefined : 'this field takes text: declare the parameter as string or enum';
    case 'int': {
      if (t !== 'integer') return `this field takes a whole number from ${slot.min} to ${slot.max}: declare the parameter as integer`;
      const min = boundOf(t, param.min);
      const max = boundOf(t, param.max);
      if (min === undefined || min < slot.min || max === undefined || max > slot.max) return `this field takes ${slot.min}–${slot.max}: declare min ≥ ${slot.min} and max ≤ ${slot.max} on the parameter`;
      return undefined;
    }
    case 'list':
      if (t === 'string') return undefined;
      if (t === 'enum') return outside(param.values, slot.of);
      if (t === 'list' && (itemTypeOf(param) === 'string' || itemTypeOf(param) === 'enum')) return outside(itemValuesOf(param), slot.of);
      return 'this field takes a list of names: declare the parameter as list of string or enum (or a single string or enum)';
    case 'ids':
      return t === 'entityRef' || (t === 'list' && itemTypeOf(param) === 'entityRef') ? undefined : 'this field takes entity ids: declare the parameter as entityRef or list of entityRef';
    case 'time':
      return t === 'duration' || t === 'string' ? undefined : 'this field takes a time: declare the parameter as duration (a look-back) or string (an ISO instant)';
    case 'boolean':
      return t === 'boolean' ? undefined : 'this field takes true or false: declare the parameter as boolean';
    case 'enum':
      if (t === 'string') return undefined;
      return t === 'enum' ? outside(param.values, slot.of) : `this field takes one of ${slot.of.join(', ')}: declare the parameter as enum`;
    case 'value':
      if (op === 'in') return t === 'list' ? undefined : 'op "in" compares with a list: declare the parameter as list';
      if (op === 'exists') return t === 'boolean' ? undefined : 'op "exists" takes true or false: declare the parameter as boolean';
      if (t === 'list') return `op "${op}" compares with one value, not a list: use op "in" or a non-list parameter`;
      if ((op === 'contains' || op === 'startsWith') && t !== 'string' && t !== 'enum') return `op "${op}" compares text: declare the parameter as string or enum`;
      return undefined;
  }
}

function checkParamRefs(value: unknown, path: (string | number)[], params: Map<string, Param>, report: (path: (string | number)[], message: string) => void, op?: PredicateOp): void {
  if (Array.isArray(value)) return value.forEach((item, i) => checkParamRefs(item, [...path, i], params, report));
  if (value === null || typeof value !== 'object') return;
  if (isParamRef(value)) {
    const param = params.get(value.$param);
    if (!param) return report(path, `parameter "${value.$param}" is not declared: add it to parameters, or write a literal value`);
    const slot = PARAM_SLOTS[String(path.at(-1))];
    const problem = slot ? slotProblem(slot, param, op) : 'this field does not take parameters';
    if (problem) report(path, `parameter "${param.name}" (${param.type}) cannot fill this field: ${problem}`);
    return;
  }
  const record = value as Record<string, unknown>;
  const innerOp = typeof record.op === 'string' ? (record.op as PredicateOp) : undefined;
  for (const [key, inner] of Object.entries(record)) checkParamRefs(inner, [...path, key], params, report, innerOp);
}

function checkPredicate(p: Predicate, report: (field: string, message: string) => void): void {
  if (isParamRef(p.value)) return;
  const v = p.value;
  const isScalar = v !== undefined && !Array.isArray(v);
  if (p.op === 'in' && !Array.isArray(v)) report('value', 'op "in" needs a list value, e.g. ["a", "b"]');
  if (p.op === 'exists' && v !== undefined && typeof v !== 'boolean') report('value', 'op "exists" takes true, false or no value');
  if ((p.op === 'eq' || p.op === 'neq') && !isScalar) report('value', `op "${p.op}" needs one value (text, number, boolean or null)`);
  if (p.op === 'startsWith' && typeof v !== 'string') report('value', 'op "startsWith" needs a text value');
  if (p.op === 'contains' && !(isScalar && v !== null)) report('value', 'op "contains" needs a text, number or boolean value');
  if (['gt', 'gte', 'lt', 'lte'].includes(p.op) && typeof v !== 'number' && typeof v !== 'string') report('value', `op "${p.op}" needs a number or an ISO instant`);
}

function checkCriteria(c: Criteria, report: (field: string, message: string) => void, what: string): void {
  if (!Object.keys(criteriaShape).some((key) => c[key as keyof Criteria] !== undefined)) report('', `${what} has no conditions: add types, minConfidence, tlp, sources, … or where`);
  if (typeof c.minConfidence === 'number' && typeof c.maxConfidence === 'number' && c.minConfidence > c.maxConfidence) report('minConfidence', 'minConfidence is above maxConfidence, so nothing can match');
  c.where?.forEach((p, i) => checkPredicate(p, (field, message) => report(`where[${i}].${field}`, message)));
}

function checkSteps(def: PlaybookDefinition, errors: DefinitionError[]): void {
  const params = new Map(def.parameters.map((p) => [p.name, p]));
  const outputs = new Map<string, { stepId: string; kind: OutputKind }>();
  const stepIds = new Set<string>();
  const laterOutputs = new Set(def.steps.map(outputNameOf));
  let latestEntities: string | undefined;
  def.steps.forEach((step, i) => {
    const report = (field: string | (string | number)[], message: string) => {
      const rel = typeof field === 'string' ? (field ? field.split('.') : []) : field;
      errors.push(located(['steps', i, ...rel], def, message));
    };
    if (stepIds.has(step.id)) report('id', `another step already has the id "${step.id}": step ids must be unique`);
    stepIds.add(step.id);
    const output = outputNameOf(step);
    const clash = outputs.get(output);
    if (clash) report(step.output ? 'output' : 'id', `the output name "${output}" is already used by step "${clash.stepId}": give this step a different output`);

    if (step.type === 'enrich') report('type', 'the enrich step needs Threat Intel enrichment, which this Summit does not have yet (issue 7): remove the step for now');

    const readsInput = step.type !== 'search' && step.type !== 'report';
    if (!readsInput && step.input !== undefined) {
      report('input', step.type === 'search' ? 'a search reads the graph, not an earlier output: remove input' : "a report reads each section's from: remove input");
    } else if (readsInput && step.input !== undefined) {
      const source = outputs.get(step.input);
      if (!source) report('input', laterOutputs.has(step.input) ? `"${step.input}" is produced by a later step (or this one): a step can only read outputs of earlier steps` : `no earlier step has the output "${step.input}": name one of ${[...outputs.keys()].join(', ') || '(none yet)'}`);
      else if (source.kind !== 'entities') report('input', `"${step.input}" holds ${source.kind === 'aggregate' ? 'aggregate rows' : 'a report'}, not entities: name an earlier entity output`);
    } else if (readsInput && latestEntities === undefined) {
      report('input', `no earlier step produces entities for this ${step.type} step: start the playbook with a search step`);
    }

    if (step.type === 'filter') checkCriteria(step, (field, message) => report(field, message), 'this filter');
    if (step.type === 'annotate') {
      const ruleIds = new Set<string>();
      step.rules.forEach((rule, r) => {
        if (ruleIds.has(rule.id)) report(['rules', r, 'id'], `another rule of this step has the id "${rule.id}": rule ids must be unique`);
        ruleIds.add(rule.id);
        checkCriteria(rule.when, (field, message) => report(['rules', r, 'when', ...(field ? field.split('.') : [])], message), `rule "${rule.id}"`);
      });
    }
    if (step.type === 'report') {
      if (i !== def.steps.length - 1) report('type', 'the report step must be the last step: move it to the end');
      if (def.steps.filter((s) => s.type === 'report').length > 1 && def.steps.findIndex((s) => s.type === 'report') !== i) report('type', 'only one report step is allowed: merge the sections into one');
      step.sections.forEach((section, s) => checkSection(section, outputs, laterOutputs, (field, message) => report(['sections', s, ...field], message)));
    }
    checkParamRefs(step, [], params, (path, message) => report(path, message));
    outputs.set(output, { stepId: step.id, kind: outputKindOf(step) });
    if (outputKindOf(step) === 'entities') latestEntities = output;
  });
}

function checkSection(
  section: ReportSection,
  outputs: Map<string, { stepId: string; kind: OutputKind }>,
  laterOutputs: Set<string>,
  report: (field: (string | number)[], message: string) => void,
): void {
  const source = outputs.get(section.from);
  if (!source) {
    report(['from'], laterOutputs.has(section.from) ? `"${section.from}" is produced by a later step: a section can only show outputs of earlier steps` : `no earlier step has the output "${section.from}": name one of ${[...outputs.keys()].join(', ')}`);
    return;
  }
  if (source.kind === 'report') return report(['from'], 'a section cannot show a report: name an entity or aggregate output');
  const valid = (key: string) => (source.kind === 'aggregate' ? (AGGREGATE_COLUMNS as readonly string[]).includes(key) : FIELD_REF_RE.test(key));
  const hint = source.kind === 'aggregate' ? `"${section.from}" holds aggregate rows: use key or count` : FIELD_HINT;
  section.columns.forEach((column, c) => {
    if (!valid(column.key)) report(['columns', c, 'key'], `"${column.key}" is not a column: ${hint}`);
  });
  if (section.orderBy && !valid(section.orderBy.field)) report(['orderBy', 'field'], `cannot order by "${section.orderBy.field}": ${hint}`);
}

/** Re-checks a step once its parameters are substituted (the engine's guard for values only known at run time). */
export function checkBoundStep(step: unknown, index: number): { ok: true; step: Step } | { ok: false; message: string } {
  const parsed = stepSchema.safeParse(step);
  if (parsed.success) return { ok: true, step: parsed.data };
  const input = { steps: Object.assign([], { [index]: step }) };
  return { ok: false, message: parsed.error.issues.flatMap((issue) => issueErrors(issue, input, ['steps', index])).map((e) => e.message).join('; ') };
}
