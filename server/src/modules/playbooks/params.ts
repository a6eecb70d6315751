/**
 * Playbook parameters: checking the values a run is given against the declared parameters, applying defaults and
 * turning durations into milliseconds. Pure: values in, values out.
 *
 * JSON input is taken strictly: an integer parameter wants a JSON number, a boolean a JSON boolean, a list a JSON
 * array. Nothing is coerced, so `"42"` for an integer is an error naming the parameter. Callers whose values can only
 * be text (query strings, CLI flags such as `--param depth=2`) pass `{ fromStrings: true }`: then text is parsed per
 * declared type ("42" → 42, "true"/"false", comma-separated lists) and values that are already typed pass as usual.
 *
 * User patterns run on RE2 (re2js): linear-time matching, so a pattern such as `(a+)+$` cannot stall the server.
 * A pattern must match the whole value, like an HTML form's `pattern` attribute.
 */
import { RE2JS } from 're2js';
import type { Param, ParamItemSpec, ParamType } from './definition.js';

export type ParamValue = string | number | boolean | Array<string | number | boolean>;
export type ParamValues = Record<string, ParamValue>;
export type ParamError = { path: string; message: string };
export type ResolveParamsResult = { ok: true; values: ParamValues } | { ok: false; errors: ParamError[] };

/** What a value is checked against: a parameter, or the element spec of a list parameter. */
export type ValueSpec = {
  type: ParamType;
  items?: ParamItemSpec | Exclude<ParamType, 'list'>;
  values?: string[];
  min?: number | string;
  max?: number | string;
  pattern?: string;
};

type Checked = { ok: true; value: ParamValue } | { ok: false; message: string };

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SHORTHAND_RE = /^(\d{1,12})(ms|s|m|h|d|w)$/;
const ISO_DURATION_RE = /^P(?:(\d{1,9})W)?(?:(\d{1,9})D)?(?:T(?:(\d{1,9})H)?(?:(\d{1,9})M)?(?:(\d{1,9}(?:\.\d{1,3})?)S)?)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
/** Longer than any sensible look-back window, and far inside what a Date can represent. */
export const MAX_DURATION_MS = 100 * 365 * 86_400_000;
export const DURATION_HINT = 'write a duration as ISO 8601 (P7D, PT24H, P1DT12H) or as a number with ms, s, m, h, d or w (30m, 24h, 7d)';

/**
 * A duration in milliseconds, or undefined when the text is not one. ISO 8601 years and months are refused: they
 * have no fixed length, so "P1M" would silently mean different windows in different months.
 */
export function parseDuration(text: string): number | undefined {
  const short = SHORTHAND_RE.exec(text);
  if (short) {
    const ms = Number(short[1]) * UNIT_MS[short[2]!]!;
    return ms <= MAX_DURATION_MS ? ms : undefined;
  }
  const iso = ISO_DURATION_RE.exec(text);
  if (!iso || text === 'P' || text.endsWith('T')) return undefined;
  const [, w, d, h, m, s] = iso;
  const ms = Number(w ?? 0) * UNIT_MS.w! + Number(d ?? 0) * UNIT_MS.d! + Number(h ?? 0) * UNIT_MS.h! + Number(m ?? 0) * UNIT_MS.m! + Math.round(Number(s ?? 0) * 1000);
  return ms <= MAX_DURATION_MS ? ms : undefined;
}

const patternCache = new Map<string, RE2JS | string>();

/** Compiles a user pattern with RE2; returns the compiled pattern or why it is not one. Cached (bounded). */
export function compilePattern(pattern: string): RE2JS | string {
  const cached = patternCache.get(pattern);
  if (cached !== undefined) return cached;
  let compiled: RE2JS | string;
  try {
    compiled = RE2JS.compile(pattern);
  } catch (error) {
    compiled = `the pattern is not a valid RE2 regular expression (${(error as Error).message}); note that RE2 has no look-arounds or back-references`;
  }
  if (patternCache.size >= 500) patternCache.clear();
  patternCache.set(pattern, compiled);
  return compiled;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'string') return `the text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** A bound as a number in the unit the type compares: ms for durations, characters for strings, items for lists. */
export function boundOf(type: ParamType, bound: number | string | undefined): number | undefined {
  if (bound === undefined) return undefined;
  if (type === 'duration') return typeof bound === 'number' ? bound : parseDuration(bound);
  return typeof bound === 'number' ? bound : undefined;
}

function checkBounds(spec: ValueSpec, measured: number, unit: string, shown: string): string | undefined {
  const min = boundOf(spec.type, spec.min);
  const max = boundOf(spec.type, spec.max);
  if (min !== undefined && measured < min) return `${shown} is below the minimum of ${spec.min}${unit}`;
  if (max !== undefined && measured > max) return `${shown} is above the maximum of ${spec.max}${unit}`;
  return undefined;
}

function fromText(type: ParamType, text: string): unknown {
  switch (type) {
    case 'integer':
    case 'number':
      return text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : text;
    default:
      return text;
  }
}

function itemSpecOf(spec: ValueSpec): ValueSpec {
  const items = spec.items ?? 'string';
  return typeof items === 'string' ? { type: items } : items;
}

/** Checks one value against a type and its constraints; durations come back in milliseconds. */
export function checkParamValue(spec: ValueSpec, raw: unknown, options: { fromStrings?: boolean } = {}): Checked {
  const value = options.fromStrings && typeof raw === 'string' && spec.type !== 'list' ? fromText(spec.type, raw) : raw;
  const fail = (message: string): Checked => ({ ok: false, message });
  switch (spec.type) {
    case 'string': {
      if (typeof value !== 'string') return fail(`expected text, got ${describe(value)}`);
      const outOfBounds = checkBounds(spec, value.length, ' characters', `the text is ${value.length} characters long, which`);
      if (outOfBounds) return fail(outOfBounds);
      if (spec.pattern !== undefined) {
        const re = compilePattern(spec.pattern);
        if (typeof re === 'string') return fail(re);
        if (!re.matches(value)) return fail(`${describe(value)} does not match the pattern ${spec.pattern}`);
      }
      return { ok: true, value };
    }
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return fail(`expected a ${spec.type === 'integer' ? 'whole number' : 'finite number'}, got ${describe(value)}`);
      if (spec.type === 'integer' && !Number.isSafeInteger(value)) return fail(`expected a whole number, got ${value}`);
      const outOfBounds = checkBounds(spec, value, '', String(value));
      return outOfBounds ? fail(outOfBounds) : { ok: true, value };
    }
    case 'boolean':
      return typeof value === 'boolean' ? { ok: true, value } : fail(`expected true or false, got ${describe(value)}`);
    case 'enum': {
      const allowed = spec.values ?? [];
      if (typeof value !== 'string' || !allowed.includes(value)) return fail(`expected one of ${allowed.join(', ')}; got ${describe(value)}`);
      return { ok: true, value };
    }
    case 'entityRef':
      if (typeof value !== 'string' || !UUID_RE.test(value)) return fail(`expected an entity id (a UUID such as 0190a3c2-…), got ${describe(value)}`);
      return { ok: true, value: value.toLowerCase() };
    case 'duration': {
      const ms = typeof value === 'string' ? parseDuration(value) : undefined;
      if (ms === undefined) return fail(`${describe(value)} is not a duration: ${DURATION_HINT}`);
      const outOfBounds = checkBounds(spec, ms, '', String(value));
      return outOfBounds ? fail(outOfBounds) : { ok: true, value: ms };
    }
    case 'list': {
      const list = options.fromStrings && typeof value === 'string' ? (value === '' ? [] : value.split(',').map((v) => v.trim())) : value;
      if (!Array.isArray(list)) return fail(`expected a list, got ${describe(list)}`);
      const outOfBounds = checkBounds(spec, list.length, ' items', `the list has ${list.length} items, which`);
      if (outOfBounds) return fail(outOfBounds);
      const item = itemSpecOf(spec);
      const out: Array<string | number | boolean> = [];
      for (const [i, element] of list.entries()) {
        const checked = checkParamValue(item, element, options);
        if (!checked.ok) return fail(`item ${i}: ${checked.message}`);
        out.push(checked.value as string | number | boolean);
      }
      return { ok: true, value: out };
    }
  }
}

/**
 * Checks the values given for a run against the declared parameters: unknown names are refused (named), required
 * ones must be present, defaults fill the rest, and every value is checked by type and bounds. Parameters without a
 * value or default are absent from `values`; steps that use them behave as if the field were left out.
 */
export function resolveParams(
  declared: readonly Param[],
  given: Record<string, unknown>,
  options: { fromStrings?: boolean } = {},
): ResolveParamsResult {
  if (given === null || typeof given !== 'object' || Array.isArray(given)) {
    return { ok: false, errors: [{ path: 'params', message: 'params must be an object mapping parameter names to values, e.g. {"depth": 2}' }] };
  }
  const errors: ParamError[] = [];
  const byName = new Map(declared.map((p) => [p.name, p]));
  const unknown = Object.keys(given).filter((name) => !byName.has(name));
  for (const name of unknown) {
    const known = declared.map((p) => p.name);
    errors.push({
      path: `params.${name}`,
      message: `unknown parameter "${name}"; this playbook declares ${known.length ? known.join(', ') : 'no parameters'}`,
    });
  }
  const values: ParamValues = {};
  for (const param of declared) {
    const supplied = Object.hasOwn(given, param.name) && given[param.name] !== undefined;
    if (!supplied && param.default === undefined) {
      if (param.required) errors.push({ path: `params.${param.name}`, message: `parameter "${param.name}" is required (${param.type}) and has no default: give a value` });
      continue;
    }
    // Defaults are JSON in the definition, never text from a CLI.
    const checked = supplied ? checkParamValue(param, given[param.name], options) : checkParamValue(param, param.default);
    if (checked.ok) values[param.name] = checked.value;
    else errors.push({ path: `params.${param.name}`, message: `parameter "${param.name}": ${checked.message}` });
  }
  return errors.length ? { ok: false, errors } : { ok: true, values };
}
