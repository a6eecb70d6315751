/**
 * The step engine: runs a validated playbook definition with resolved parameters over a GraphReader, step by step,
 * with a timeout per step, a row limit, cancellation, a trace and results with provenance. No database or clock of
 * its own (`now` is given), so unit tests drive it with an in-memory reader.
 *
 * Semantics worth knowing:
 * - Every step but `search` reads one entity set (`input`, default: the latest). `aggregate` produces {key, count}
 *   rows instead of entities; `report` (or, without one, a default report of the last output) builds the export's rows.
 * - A step whose output would exceed `rowLimit` keeps the first `rowLimit` entities (search order: highest confidence
 *   first) and records a warning in the trace; the run still succeeds.
 * - A step that runs past `stepTimeoutMs` fails the run (its reads are aborted through the signal); cancelling through
 *   `options.signal` ends the run as `cancelled` with the trace so far. Both keep the results of the finished steps.
 * - Comparisons: `eq`/`in` are exact; `contains`/`startsWith` ignore case; on a list-valued field (sources, a STIX
 *   list property) a predicate holds if it holds for any element. A missing value fails every predicate except
 *   `neq` and `exists: false`, and null confidence/TLP/times fail the corresponding filters.
 */
import { createHash } from 'node:crypto';
import {
  checkBoundStep, DEFAULTS, outputKindOf, outputNameOf, PARAM_SLOTS, SEVERITIES,
  type AggregateStep, type AnnotateStep, type CreateIncidentStep, type Criteria, type ExpandStep, type PlaybookDefinition, type Predicate,
  type ReportSection, type SearchStep, type Severity, type Step,
} from './definition.js';
import type { EntitySummary, GraphReader, ProvenanceRecord } from './graph-reader.js';
import { parseDuration, type ParamValues } from './params.js';

export type { EntitySummary, GraphReader, ProvenanceRecord } from './graph-reader.js';

export type StepTrace = {
  stepId: string; type: string; startedAt: string; durationMs: number; inputCount: number; outputCount: number; warnings: string[];
  /** create-incident: the outbound request to follow (GET /api/v1/connectors/{connectorId}/incidents/{requestId}). */
  requestId?: string;
};
/** What a create-incident step asks for; the provider enqueues the push (idempotent by findingKey). */
export type IncidentRequest = { stepId: string; connectorId: string; findingKey: string; shortDescription: string; description?: string; priority?: number; entityIds: string[] };
export type IncidentRequester = {
  /** Throws StepFailure with a message for the user when the request cannot be made (an unknown connector). */
  create(request: IncidentRequest, signal: AbortSignal): Promise<{ requestId: string }>;
};
export type Highlight = { entityId: string; severity: Severity; note: string; rule: string };
export type AggregateRow = { key: string; count: number };
export type ReportCell = string | number | boolean | null;
export type ReportRow = { entityId: string | null; cells: Record<string, ReportCell> };
export type RunReportSection = { title: string; from: string; columns: { key: string; label: string }[]; rows: ReportRow[]; truncated: boolean };
export type RunReport = { title: string; sections: RunReportSection[] };
export type RunResults = {
  outputs: Record<string, string[]>;
  entities: Record<string, EntitySummary>;
  highlights: Highlight[];
  aggregates: Record<string, AggregateRow[]>;
  report: RunReport;
  provenance: Record<string, ProvenanceRecord[]>;
};
export type RunStatus = 'succeeded' | 'failed' | 'cancelled';
export type RunOutcome = { status: RunStatus; trace: StepTrace[]; results: RunResults; error?: { stepId: string; message: string } };
export type RunOptions = {
  signal: AbortSignal;
  stepTimeoutMs: number;
  rowLimit: number;
  now: Date;
  /** Told about unexpected errors (a database failure) whose details must not reach the user; for the log. */
  onUnexpectedError?: (stepId: string, error: unknown) => void;
  /** For create-incident steps; without it such a step fails the run naming what is missing. */
  incidents?: IncidentRequester;
  /** The playbook's id: part of a create-incident step's default finding key. */
  playbookId?: string;
};

/** A failure with a message meant for the person running the playbook. */
export class StepFailure extends Error {}
class StepTimeout extends Error {}

type State = {
  reader: GraphReader;
  options: RunOptions;
  params: ParamValues;
  outputs: Map<string, string[]>;
  aggregates: Map<string, AggregateRow[]>;
  entities: Map<string, EntitySummary>;
  highlights: Highlight[];
  /** Highest severity so far per entity: the `highlight` field. */
  severityOf: Map<string, Severity>;
  latestEntities: string | undefined;
  lastOutput: string | undefined;
  definitionName: string;
};
type StepResult = { inputCount: number; outputCount: number; warnings: string[]; requestId?: string };

// ---------------------------------------------------------------------------------------------------------------
// Parameters into step configs.

const isParamRef = (v: unknown): v is { $param: string } => v !== null && typeof v === 'object' && !Array.isArray(v) && '$param' in v;

function bindValue(value: unknown, key: string, params: ParamValues, now: Date): unknown {
  if (isParamRef(value)) {
    const bound = params[value.$param];
    if (bound === undefined) return undefined;
    const slot = PARAM_SLOTS[key]?.kind;
    if ((slot === 'list' || slot === 'ids') && !Array.isArray(bound)) return [bound];
    if (slot === 'time' && typeof bound === 'number') return new Date(now.getTime() - bound).toISOString();
    return bound;
  }
  if (Array.isArray(value)) return value.map((item) => bindValue(item, key, params, now));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const bound = bindValue(v, k, params, now);
      if (bound !== undefined) out[k] = bound;
    }
    return out;
  }
  return value;
}

/** A time field: an ISO instant, or a look-back duration counted back from the run's `now`. */
function instantOf(ref: string, now: Date): number {
  const ms = parseDuration(ref);
  return ms !== undefined ? now.getTime() - ms : Date.parse(ref);
}

// ---------------------------------------------------------------------------------------------------------------
// Reading fields and matching.

const SEVERITY_RANK = Object.fromEntries(SEVERITIES.map((s, i) => [s, i])) as Record<Severity, number>;

function fieldValue(entity: EntitySummary, field: string, severityOf: Map<string, Severity>): unknown {
  if (field.startsWith('properties.')) {
    let value: unknown = entity.properties;
    for (const segment of field.slice('properties.'.length).split('.')) {
      if (Array.isArray(value) && /^\d+$/.test(segment)) value = value[Number(segment)];
      else value = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[segment] : undefined;
    }
    return value;
  }
  if (field === 'sourceCount') return entity.sources.length;
  if (field === 'highlight') return severityOf.get(entity.id) ?? null;
  return (entity as unknown as Record<string, unknown>)[field];
}

const lower = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v);
function compare(a: unknown, b: unknown): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') {
    const [ta, tb] = [Date.parse(a), Date.parse(b)];
    if (/^\d{4}-\d{2}-\d{2}/.test(a) && /^\d{4}-\d{2}-\d{2}/.test(b) && !Number.isNaN(ta) && !Number.isNaN(tb)) return ta - tb;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return undefined;
}

function holdsFor(op: Predicate['op'], actual: unknown, expected: unknown): boolean {
  switch (op) {
    case 'eq':
      return actual === expected;
    case 'contains':
      return typeof actual === 'string' ? actual.toLowerCase().includes(String(expected).toLowerCase()) : false;
    case 'startsWith':
      return typeof actual === 'string' && typeof expected === 'string' && actual.toLowerCase().startsWith(expected.toLowerCase());
    case 'in':
      return Array.isArray(expected) && expected.includes(actual as never);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const c = compare(actual, expected);
      if (c === undefined) return false;
      return op === 'gt' ? c > 0 : op === 'gte' ? c >= 0 : op === 'lt' ? c < 0 : c <= 0;
    }
    default:
      return false;
  }
}

function matchesPredicate(p: Predicate, entity: EntitySummary, severityOf: Map<string, Severity>): boolean {
  const actual = fieldValue(entity, p.path, severityOf);
  const present = actual !== undefined && actual !== null;
  if (p.op === 'exists') return present === (p.value ?? true);
  if (p.op === 'neq') return !present || !(Array.isArray(actual) ? actual.includes(p.value as never) : actual === p.value);
  if (!present) return false;
  // contains on a list means "has an element equal to it", ignoring case.
  if (p.op === 'contains' && Array.isArray(actual)) return actual.some((el) => lower(el) === lower(p.value));
  return Array.isArray(actual) ? actual.some((el) => holdsFor(p.op, el, p.value)) : holdsFor(p.op, actual, p.value);
}

function matchesCriteria(c: Criteria, e: EntitySummary, now: Date, severityOf: Map<string, Severity>): boolean {
  const types = c.types as string[] | undefined;
  if (types && !types.includes(e.type)) return false;
  if (typeof c.minConfidence === 'number' && (e.confidence === null || e.confidence < c.minConfidence)) return false;
  if (typeof c.maxConfidence === 'number' && (e.confidence === null || e.confidence > c.maxConfidence)) return false;
  if (Array.isArray(c.tlp) && (e.tlp === null || !(c.tlp as string[]).includes(e.tlp))) return false;
  if (Array.isArray(c.sources) && !e.sources.some((s) => (c.sources as string[]).includes(s))) return false;
  if (typeof c.minSources === 'number' && e.sources.length < c.minSources) return false;
  const times: Array<[unknown, string | null, 'after' | 'before']> = [
    [c.firstSeenAfter, e.firstSeen, 'after'], [c.firstSeenBefore, e.firstSeen, 'before'],
    [c.lastSeenAfter, e.lastSeen, 'after'], [c.lastSeenBefore, e.lastSeen, 'before'],
  ];
  for (const [ref, seen, side] of times) {
    if (typeof ref !== 'string') continue;
    if (seen === null) return false;
    const at = Date.parse(seen);
    const bound = instantOf(ref, now);
    if (side === 'after' ? at < bound : at >= bound) return false;
  }
  return (c.where ?? []).every((p) => matchesPredicate(p, e, severityOf));
}

// ---------------------------------------------------------------------------------------------------------------
// Steps.

function inputOf(step: Step, state: State): string[] {
  const name = step.input ?? state.latestEntities;
  const ids = name === undefined ? undefined : state.outputs.get(name);
  if (!ids) throw new StepFailure(`step "${step.id}" has no entity set to read${name ? ` ("${name}" holds none)` : ''}: give it an input naming an earlier entity output`);
  return ids;
}

function capped(ids: string[], rowLimit: number, warnings: string[], what: string): string[] {
  if (ids.length <= rowLimit) return ids;
  warnings.push(`${what} ${ids.length} entities, more than the row limit of ${rowLimit}: kept the first ${rowLimit}`);
  return ids.slice(0, rowLimit);
}

async function ensureEntities(ids: string[], state: State, signal: AbortSignal): Promise<void> {
  const missing = ids.filter((id) => !state.entities.has(id));
  if (!missing.length) return;
  for (const e of await state.reader.entities(missing, signal)) state.entities.set(e.id, e);
}

async function runSearch(step: SearchStep, state: State, signal: AbortSignal): Promise<StepResult & { ids: string[] }> {
  const warnings: string[] = [];
  const limit = typeof step.limit === 'number' ? step.limit : DEFAULTS.searchLimit;
  const effective = Math.min(limit, state.options.rowLimit);
  const found = await state.reader.search(
    {
      ids: step.ids as string[] | undefined,
      types: step.types as string[] | undefined,
      q: step.q as string | undefined,
      minConfidence: step.minConfidence as number | undefined,
      tlp: step.tlp as string[] | undefined,
      source: step.source as string | undefined,
      since: typeof step.since === 'string' ? new Date(instantOf(step.since, state.options.now)) : undefined,
      includeSuppressed: step.includeSuppressed === true,
    },
    effective,
    signal,
  );
  if (found.truncated) {
    warnings.push(effective < limit
      ? `more entities matched than the row limit of ${state.options.rowLimit}: kept the ${effective} with the highest confidence`
      : `more entities matched than the step's limit of ${limit}: kept the ${effective} with the highest confidence; raise limit or narrow the search`);
  }
  for (const e of found.entities) state.entities.set(e.id, e);
  if (!found.entities.length) warnings.push('the search matched no entities');
  return { inputCount: 0, outputCount: found.entities.length, warnings, ids: found.entities.map((e) => e.id) };
}

async function runExpand(step: ExpandStep, input: string[], state: State, signal: AbortSignal): Promise<StepResult & { ids: string[] }> {
  const warnings: string[] = [];
  const keepInput = step.includeInput !== false;
  const stepLimit = typeof step.limit === 'number' ? step.limit : DEFAULTS.expandLimit;
  // The input the output keeps takes up room under the row limit; the walk gets what is left.
  const limit = Math.min(stepLimit, state.options.rowLimit - (keepInput ? input.length : 0));
  const depth = typeof step.depth === 'number' ? step.depth : DEFAULTS.expandDepth;
  const found = input.length && limit > 0
    ? await state.reader.expand(input, { relationshipTypes: step.relationshipTypes as string[] | undefined, entityTypes: step.entityTypes as string[] | undefined, depth, limit, includeSuppressed: step.includeSuppressed === true }, signal)
    : { ids: [], truncated: input.length > 0 };
  if (found.truncated) {
    warnings.push(limit < stepLimit
      ? `the expansion stopped after visiting ${Math.max(limit, 0)} entities to stay within the row limit of ${state.options.rowLimit}: lower depth or name relationshipTypes`
      : `the expansion stopped after visiting ${limit} entities: lower depth, name relationshipTypes, or raise limit`);
  }
  const ids = capped([...new Set([...(keepInput ? input : []), ...found.ids])], state.options.rowLimit, warnings, 'the expansion reached');
  await ensureEntities(ids, state, signal);
  return { inputCount: input.length, outputCount: ids.length, warnings, ids };
}

function runAnnotate(step: AnnotateStep, input: string[], state: State): StepResult {
  const warnings: string[] = [];
  let added = 0;
  let dropped = 0;
  for (const id of input) {
    const entity = state.entities.get(id);
    if (!entity) continue;
    for (const rule of step.rules) {
      if (!matchesCriteria(rule.when, entity, state.options.now, state.severityOf)) continue;
      const severity = rule.severity as Severity;
      if (added >= state.options.rowLimit) {
        dropped++;
        continue;
      }
      added++;
      state.highlights.push({ entityId: id, severity, note: rule.note, rule: `${step.id}/${rule.id}` });
      const before = state.severityOf.get(id);
      if (!before || SEVERITY_RANK[severity] > SEVERITY_RANK[before]) state.severityOf.set(id, severity);
    }
  }
  if (dropped) warnings.push(`${dropped} more highlights matched beyond the row limit of ${state.options.rowLimit} and were left out`);
  if (!added) warnings.push('no rule matched any entity');
  return { inputCount: input.length, outputCount: input.length, warnings };
}

function keysOf(value: unknown): string[] {
  if (value === undefined || value === null) return ['(none)'];
  if (Array.isArray(value)) return value.length ? [...new Set(value.flatMap(keysOf))] : ['(none)'];
  return [typeof value === 'object' ? JSON.stringify(value) : String(value)];
}

function runAggregate(step: AggregateStep, input: string[], state: State): StepResult & { rows: AggregateRow[] } {
  const warnings: string[] = [];
  const counts = new Map<string, number>();
  for (const id of input) {
    const entity = state.entities.get(id);
    if (entity) for (const key of keysOf(fieldValue(entity, step.by, state.severityOf))) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  let rows = [...counts].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  if (typeof step.top === 'number') rows = rows.slice(0, step.top);
  if (rows.length > state.options.rowLimit) {
    warnings.push(`${rows.length} groups, more than the row limit of ${state.options.rowLimit}: kept the largest ${state.options.rowLimit}`);
    rows = rows.slice(0, state.options.rowLimit);
  }
  return { inputCount: input.length, outputCount: rows.length, warnings, rows };
}

/** The default finding key: the same playbook, step and entity set always name the same finding (and incident). */
export function defaultFindingKey(playbookId: string, stepId: string, entityIds: string[]): string {
  const digest = createHash('sha256').update([...entityIds].sort().join(',')).digest('hex').slice(0, 32);
  return `playbook:${playbookId}:${stepId}:${digest}`;
}

/** `{{count}}` and `{{playbook}}` in a create-incident text. */
export function fillIncidentText(text: string, values: { count: number; playbook: string }): string {
  return text.replace(/\{\{\s*(count|playbook)\s*\}\}/g, (_, name: 'count' | 'playbook') => String(values[name]));
}

async function runCreateIncident(step: CreateIncidentStep, input: string[], state: State, signal: AbortSignal): Promise<StepResult> {
  const incidents = state.options.incidents;
  if (!incidents) throw new StepFailure(`step "${step.id}" (create-incident) needs the ServiceNow connector, which this Summit was started without`);
  if (!input.length) return { inputCount: 0, outputCount: 0, warnings: ['no input entities: no incident was created'] };
  const values = { count: input.length, playbook: state.definitionName };
  const findingKey = step.findingKey ?? defaultFindingKey(state.options.playbookId ?? state.definitionName, step.id, input);
  const { requestId } = await incidents.create(
    {
      stepId: step.id,
      connectorId: step.connectorId,
      findingKey,
      shortDescription: fillIncidentText(step.shortDescription, values).slice(0, 160),
      description: step.description === undefined ? undefined : fillIncidentText(step.description, values),
      priority: typeof step.priority === 'number' ? step.priority : undefined,
      entityIds: input.slice(0, 100),
    },
    signal,
  );
  return { inputCount: input.length, outputCount: input.length, warnings: input.length > 100 ? [`${input.length} entities: the incident lists the first 100`] : [], requestId };
}

/** Runs one bound step, updating state; returns its trace counts. */
async function runStep(step: Step, state: State, signal: AbortSignal): Promise<StepResult> {
  const output = outputNameOf(step);
  const setEntities = (ids: string[]) => {
    state.outputs.set(output, ids);
    state.latestEntities = output;
  };
  switch (step.type) {
    case 'search': {
      const result = await runSearch(step, state, signal);
      setEntities(result.ids);
      return result;
    }
    case 'expand': {
      const result = await runExpand(step, inputOf(step, state), state, signal);
      setEntities(result.ids);
      return result;
    }
    case 'filter': {
      const input = inputOf(step, state);
      await ensureEntities(input, state, signal);
      const ids = input.filter((id) => {
        const e = state.entities.get(id);
        return e !== undefined && matchesCriteria(step, e, state.options.now, state.severityOf);
      });
      setEntities(ids);
      return { inputCount: input.length, outputCount: ids.length, warnings: ids.length ? [] : ['no entity passed the filter'] };
    }
    case 'annotate': {
      const input = inputOf(step, state);
      await ensureEntities(input, state, signal);
      const result = runAnnotate(step, input, state);
      setEntities(input);
      return result;
    }
    case 'aggregate': {
      const input = inputOf(step, state);
      await ensureEntities(input, state, signal);
      const result = runAggregate(step, input, state);
      state.aggregates.set(output, result.rows);
      return result;
    }
    case 'report':
      return { inputCount: 0, outputCount: step.sections.length, warnings: [] };
    case 'create-incident': {
      const input = inputOf(step, state);
      const result = await runCreateIncident(step, input, state, signal);
      setEntities(input);
      return result;
    }
    default:
      throw new StepFailure(`step "${step.id}" (${step.type}) cannot run on this Summit yet: remove it from the playbook`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Report.

const DEFAULT_LABELS: Record<string, string> = {
  id: 'Id', stixId: 'STIX id', type: 'Type', name: 'Name', confidence: 'Confidence', tlp: 'TLP', firstSeen: 'First seen',
  lastSeen: 'Last seen', sources: 'Sources', sourceCount: 'Sources (count)', highlight: 'Highlight', key: 'Key', count: 'Count',
};

function cellOf(value: unknown): ReportCell {
  if (value === undefined || value === null) return null;
  if (Array.isArray(value)) return value.map((v) => (v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return value as ReportCell;
}

function orderRows<T>(rows: T[], valueOf: (row: T) => unknown, direction: 'asc' | 'desc'): T[] {
  const sign = direction === 'desc' ? -1 : 1;
  // Missing values sort last whichever the direction; ties keep the step's order (sort is stable).
  return [...rows].sort((a, b) => {
    const [va, vb] = [valueOf(a), valueOf(b)];
    const na = va === undefined || va === null;
    const nb = vb === undefined || vb === null;
    if (na || nb) return na === nb ? 0 : na ? 1 : -1;
    const c = compare(Array.isArray(va) ? va.length : va, Array.isArray(vb) ? vb.length : vb) ?? compare(String(va), String(vb))!;
    return sign * c;
  });
}

function buildSection(section: ReportSection, state: State): RunReportSection {
  const columns = section.columns.map((c) => ({ key: c.key, label: c.label ?? DEFAULT_LABELS[c.key] ?? c.key }));
  const limit = Math.min(typeof section.limit === 'number' ? section.limit : DEFAULTS.sectionLimit, state.options.rowLimit);
  const direction = section.orderBy?.direction ?? 'asc';
  const aggregate = state.aggregates.get(section.from);
  let rows: ReportRow[];
  let total: number;
  if (aggregate) {
    const ordered = section.orderBy ? orderRows(aggregate, (r) => r[section.orderBy!.field as 'key' | 'count'], direction) : aggregate;
    total = ordered.length;
    rows = ordered.slice(0, limit).map((r) => ({ entityId: null, cells: Object.fromEntries(columns.map((c) => [c.key, cellOf(r[c.key as 'key' | 'count'])])) }));
  } else {
    const entities = (state.outputs.get(section.from) ?? []).map((id) => state.entities.get(id)).filter((e): e is EntitySummary => e !== undefined);
    const ordered = section.orderBy ? orderRows(entities, (e) => fieldValue(e, section.orderBy!.field, state.severityOf), direction) : entities;
    total = ordered.length;
    rows = ordered.slice(0, limit).map((e) => ({ entityId: e.id, cells: Object.fromEntries(columns.map((c) => [c.key, cellOf(fieldValue(e, c.key, state.severityOf))])) }));
  }
  return { title: section.title, from: section.from, columns, rows, truncated: total > limit };
}

function buildReport(definition: PlaybookDefinition, state: State): RunReport {
  const reportStep = definition.steps.find((s) => s.type === 'report');
  if (reportStep) return { title: reportStep.title ?? definition.name, sections: reportStep.sections.map((s) => buildSection(s, state)) };
  const from = state.lastOutput;
  if (from === undefined) return { title: definition.name, sections: [] };
  const keys = state.aggregates.has(from) ? ['key', 'count'] : ['type', 'name', 'confidence', 'tlp', 'sources'];
  return { title: definition.name, sections: [buildSection({ title: 'Results', from, columns: keys.map((key) => ({ key })) }, state)] };
}

// ---------------------------------------------------------------------------------------------------------------
// Running.

/** Runs `work` with a signal that aborts on the step's deadline or the run's cancellation, and stops waiting then. */
async function withDeadline<T>(work: (signal: AbortSignal) => Promise<T>, outer: AbortSignal, timeoutMs: number): Promise<T> {
  outer.throwIfAborted();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new StepTimeout()), timeoutMs);
  const onCancel = () => controller.abort(outer.reason);
  outer.addEventListener('abort', onCancel, { once: true });
  try {
    return await new Promise<T>((resolve, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
      work(controller.signal).then(resolve, reject);
    });
  } finally {
    clearTimeout(timer);
    outer.removeEventListener('abort', onCancel);
  }
}

function emptyResults(definition: PlaybookDefinition): RunResults {
  return { outputs: {}, entities: {}, highlights: [], aggregates: {}, report: { title: definition.name, sections: [] }, provenance: {} };
}

function collectResults(definition: PlaybookDefinition, state: State, report: RunReport, provenance: Record<string, ProvenanceRecord[]>): RunResults {
  const outputs = Object.fromEntries(state.outputs);
  const ids = new Set([...state.outputs.values()].flat());
  const entities: Record<string, EntitySummary> = {};
  for (const id of ids) {
    const e = state.entities.get(id);
    if (e) entities[id] = e;
  }
  return { ...emptyResults(definition), outputs, entities, highlights: state.highlights, aggregates: Object.fromEntries(state.aggregates), report, provenance };
}

/**
 * Runs a playbook. `definition` must have passed validateDefinition and `params` resolveParams; values only known now
 * (a parameter filling a field) are checked again per step and fail the run with a message naming step and field.
 */
export async function runPlaybook(definition: PlaybookDefinition, params: ParamValues, reader: GraphReader, options: RunOptions): Promise<RunOutcome> {
  const state: State = {
    reader, options, params, outputs: new Map(), aggregates: new Map(), entities: new Map(), highlights: [], severityOf: new Map(),
    latestEntities: undefined, lastOutput: undefined, definitionName: definition.name,
  };
  const trace: StepTrace[] = [];
  const partial = () => collectResults(definition, state, { title: definition.name, sections: [] }, {});
  const failure = (status: 'failed' | 'cancelled', stepId: string, message: string): RunOutcome => ({ status, trace, results: partial(), error: { stepId, message } });

  for (const [index, raw] of definition.steps.entries()) {
    if (options.signal.aborted) return failure('cancelled', raw.id, `the run was cancelled before step "${raw.id}"`);
    const startedAt = new Date();
    const started = performance.now();
    const record = (result: StepResult) =>
      trace.push({ stepId: raw.id, type: raw.type, startedAt: startedAt.toISOString(), durationMs: Math.round((performance.now() - started) * 100) / 100, ...result });
    const bound = checkBoundStep(bindValue(raw, '', params, options.now), index);
    if (!bound.ok) {
      record({ inputCount: 0, outputCount: 0, warnings: [] });
      return failure('failed', raw.id, `a parameter value does not fit: ${bound.message}`);
    }
    try {
      const result = await withDeadline((signal) => runStep(bound.step, state, signal), options.signal, options.stepTimeoutMs);
      record(result);
      if (outputKindOf(bound.step) !== 'report') state.lastOutput = outputNameOf(bound.step);
    } catch (error) {
      if (options.signal.aborted) {
        record({ inputCount: 0, outputCount: 0, warnings: ['cancelled while running'] });
        return failure('cancelled', raw.id, `the run was cancelled during step "${raw.id}"`);
      }
      record({ inputCount: 0, outputCount: 0, warnings: [] });
      if (error instanceof StepTimeout) {
        return failure('failed', raw.id, `step "${raw.id}" (${raw.type}) did not finish within ${options.stepTimeoutMs} ms: narrow it (fewer types, a lower depth or limit) or ask an administrator to raise the step timeout`);
      }
      if (error instanceof StepFailure) return failure('failed', raw.id, error.message);
      options.onUnexpectedError?.(raw.id, error);
      return failure('failed', raw.id, `step "${raw.id}" (${raw.type}) failed while reading the graph; run it again, and if it keeps failing ask an administrator to check the server log`);
    }
  }

  const report = buildReport(definition, state);
  const lastStep = definition.steps.at(-1)!;
  let provenance: Record<string, ProvenanceRecord[]>;
  try {
    const ids = [...new Set([...state.outputs.values()].flat())];
    provenance = ids.length ? await withDeadline((signal) => reader.provenance(ids, signal), options.signal, options.stepTimeoutMs) : {};
  } catch (error) {
    if (options.signal.aborted) return failure('cancelled', lastStep.id, 'the run was cancelled while collecting provenance');
    if (!(error instanceof StepTimeout)) options.onUnexpectedError?.(lastStep.id, error);
    return failure('failed', lastStep.id, error instanceof StepTimeout
      ? `collecting the provenance of the results did not finish within ${options.stepTimeoutMs} ms: narrow the playbook's steps`
      : 'collecting the provenance of the results failed; run it again, and if it keeps failing ask an administrator to check the server log');
  }
  return { status: 'succeeded', trace, results: collectResults(definition, state, report, provenance) };
}
