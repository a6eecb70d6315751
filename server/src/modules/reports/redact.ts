import { RE2JS } from 're2js';
import { ValidationError } from '../../platform/errors.js';
import { mapModelText, type TextTransform } from './model-text.js';
import { compileRedactionPattern, validateRedactionPattern } from './redaction-rules.js';
import {
  ENTITY_BOOKKEEPING_PROPERTIES,
  ENTITY_METADATA_COLUMNS,
  REDACTION_MARKER,
  type Audience,
  type CellValue,
  type ExportModel,
  type RedactionRule,
  type ReportRow,
} from './types.js';

export type RedactionResult = {
  model: ExportModel;
  /** Every original string that was removed (sorted); none of them is left anywhere in `model`. */
  redactedValues: string[];
  /** Each rule that applied to this audience, with how many cells/values/rows/matches it redacted. */
  applied: { ruleId: string; count: number }[];
};

type EntityRule = Extract<RedactionRule, { kind: 'tlp' | 'entity-type' }>;

/**
 * Applies the rules that concern `audience` (a rule without `audiences` concerns everyone), in four passes:
 *  1. `property` rules replace cells (by column key), entity properties (by key, at any depth) and parameters (by
 *     name) with the marker;
 *  2. `tlp` / `entity-type` rules redact, in each row whose entity matches, the entity's name, the string
 *     properties that identify it (all but ENTITY_BOOKKEEPING_PROPERTIES) and every value-like cell (a string
 *     cell outside ENTITY_METADATA_COLUMNS that is not the entity's id, type or TLP). The entity id stays;
 *  3. `regex` rules replace their matches in every text of the model (see model-text.ts);
 *  4. every string removed so far is removed wherever else it still appears, ignoring case — a redacted domain
 *     must not survive in an annotation, a parameter or a highlight note.
 * Every pass works on the text *between* markers already placed, so a later pass never matches inside or across
 * a `[REDACTED]`; and since replacing only splits that text further, after pass 4 no removed value is left in any
 * text of the model. Blank (whitespace-only) strings identify nothing and are not collected.
 */
export function redact(model: ExportModel, rules: RedactionRule[], audience: Audience): RedactionResult {
  const active = rules.filter((rule) => rule.audiences === undefined || rule.audiences.includes(audience));
  const counts = active.map(() => 0);
  const regexes = active.map((rule, i) => (rule.kind === 'regex' ? compileRule(rule, i) : null));
  const removed = new Set<string>();
  const remember = (value: string) => {
    for (const piece of value.split(REDACTION_MARKER)) {
      if (piece.trim() === '') continue;
      removed.add(piece);
      removed.add(piece.trim());
    }
  };

  const entityRules = active.flatMap((rule, index) =>
    rule.kind === 'tlp' || rule.kind === 'entity-type' ? [{ rule, index }] : [],
  );
  const propertyRules = active.flatMap((rule, index) =>
    rule.kind === 'property' ? [{ names: new Set(rule.names.map(lower)), index }] : [],
  );
  const propertyNames = new Set(propertyRules.flatMap(({ names }) => [...names]));
  const countProperty = (key: string) => {
    // Several property rules may list the same name: the first one that does is credited.
    const owner = propertyRules.find(({ names }) => columnMatches(key, names));
    if (owner) counts[owner.index]! += 1;
  };

  let out: ExportModel = {
    ...model,
    parameters: model.parameters.map((p) => {
      if (!propertyNames.has(lower(p.name)) || isBlankValue(p.value)) return p;
      countProperty(p.name);
      for (const v of [p.value].flat()) if (typeof v === 'string') remember(v);
      return { name: p.name, value: REDACTION_MARKER };
    }),
    sections: model.sections.map((section) => ({
      ...section,
      rows: section.rows.map((row) => {
        let next = propertyNames.size > 0 ? redactProperties(row, propertyNames, remember, countProperty) : row;
        const matching = entityRules.filter(({ rule }) => row.entity !== undefined && entityMatches(rule, row.entity));
        if (matching.length > 0) {
          next = redactEntityRow(next, remember);
          for (const { index } of matching) counts[index]! += 1;
        }
        return next;
      }),
    })),
  };

  active.forEach((rule, index) => {
    const regex = regexes[index];
    if (!regex) return;
    out = mapModelText(out, betweenMarkers((text) => replaceMatches(regex, text, (match) => {
      remember(match);
      counts[index]! += 1;
    })));
  });

  out = scrubValues(out, [...removed]);
  return {
    model: out,
    redactedValues: [...removed].sort(),
    applied: active.map((rule, index) => ({ ruleId: rule.id, count: counts[index]! })),
  };
}

function compileRule(rule: Extract<RedactionRule, { kind: 'regex' }>, index: number): RE2JS {
  const check = validateRedactionPattern(rule.pattern, rule.flags);
  if (!check.ok) {
    throw new ValidationError(`Redaction rule "${rule.id}" cannot be applied: ${check.message}.`, [
      { path: `rules[${index}].pattern`, message: check.message },
    ]);
  }
  return compileRedactionPattern(rule.pattern, rule.flags);
}

const lower = (s: string) => s.toLowerCase();

/** A column matches a property name by its whole key, or by any segment of a `properties.a.b` path. */
function columnMatches(key: string, names: Set<string>): boolean {
  const k = lower(key);
  if (names.has(k)) return true;
  return k.startsWith('properties.') && k.split('.').slice(1).some((segment) => names.has(segment));
}
const isBlankValue = (v: CellValue | CellValue[]) => v === null || (Array.isArray(v) && v.length === 0);

function entityMatches(rule: EntityRule, entity: NonNullable<ReportRow['entity']>): boolean {
  if (rule.kind === 'tlp') return rule.tlp.includes(entity.tlp);
  return rule.types.some((t) => lower(t) === lower(entity.type));
}

function redactProperties(
  row: ReportRow,
  names: Set<string>,
  remember: (s: string) => void,
  count: (name: string) => void,
): ReportRow {
  const cells: Record<string, CellValue> = {};
  for (const [key, value] of Object.entries(row.cells)) {
    if (columnMatches(key, names) && value !== null && value !== REDACTION_MARKER) {
      if (typeof value === 'string') remember(value);
      count(key);
      cells[key] = REDACTION_MARKER;
    } else {
      cells[key] = value;
    }
  }
  const next: ReportRow = { ...row, cells };
  if (row.entity?.properties) {
    const blank = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(blank);
      if (value === null || typeof value !== 'object') return value;
      return Object.fromEntries(
        Object.entries(value).map(([key, v]) => {
          if (!names.has(lower(key)) || v === null || v === undefined) return [key, blank(v)];
          collectStringLeaves(v, remember);
          count(key);
          return [key, REDACTION_MARKER];
        }),
      );
    };
    next.entity = { ...row.entity, properties: blank(row.entity.properties) as Record<string, unknown> };
  }
  return next;
}

function redactEntityRow(row: ReportRow, remember: (s: string) => void): ReportRow {
  const entity = row.entity!;
  const keep = new Set([entity.id, entity.type, entity.tlp]);
  const metadata = new Set(ENTITY_METADATA_COLUMNS.map(lower));
  const bookkeeping = new Set(ENTITY_BOOKKEEPING_PROPERTIES.map(lower));
  remember(entity.name);
  const cells: Record<string, CellValue> = {};
  for (const [key, value] of Object.entries(row.cells)) {
    const valueLike = typeof value === 'string' && !metadata.has(lower(key)) && !keep.has(value);
    if (valueLike) remember(value);
    cells[key] = valueLike ? REDACTION_MARKER : value;
  }
  const properties =
    entity.properties === undefined
      ? undefined
      : Object.fromEntries(
          Object.entries(entity.properties).map(([key, v]) => [
            key,
            bookkeeping.has(lower(key)) ? v : replaceStringLeaves(v, (s) => (remember(s), REDACTION_MARKER)),
          ]),
        );
  return {
    ...row,
    cells,
    entity: { ...entity, name: REDACTION_MARKER, ...(properties === undefined ? {} : { properties }) },
  };
}

function collectStringLeaves(value: unknown, into: (s: string) => void): void {
  replaceStringLeaves(value, (s) => (into(s), s));
}

function replaceStringLeaves(value: unknown, fn: (s: string) => string): unknown {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((v) => replaceStringLeaves(v, fn));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceStringLeaves(v, fn)]));
  }
  return value;
}

/** Applies `fn` to the text between markers, leaving the markers themselves alone. */
function betweenMarkers(fn: TextTransform): TextTransform {
  return (text) => (text.includes(REDACTION_MARKER) ? text.split(REDACTION_MARKER).map(fn).join(REDACTION_MARKER) : fn(text));
}

/** Replaces every non-empty match (an empty one is skipped, should a pattern ever produce it). */
function replaceMatches(regex: RE2JS, text: string, onMatch: (match: string) => void): string {
  // test() runs on RE2's DFA without tracking positions: a cheap first pass, since most texts do not match.
  if (text === '' || !regex.test(text)) return text;
  const matcher = regex.matcher(text);
  let out = '';
  let copied = 0;
  let from = 0;
  while (from <= text.length && matcher.find(from)) {
    const start = matcher.start();
    const end = matcher.end();
    if (end === start) {
      from = start + 1;
      continue;
    }
    onMatch(text.slice(start, end));
    out += text.slice(copied, start) + REDACTION_MARKER;
    copied = end;
    from = end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * Removes each value wherever it appears, ignoring case. Short values become RE2 alternations of literals
 * (longest first, so a value wins over a value it contains), matched in linear time, in batches that keep each
 * compiled program small. A long value would make a large RE2 program that falls back to its slow path, so
 * values over LONG_VALUE characters are found with indexOf on case-folded copies instead. Each pass removes every
 * occurrence from the text between markers and only splits that text further, so no complete value is left.
 */
function scrubValues(model: ExportModel, values: string[]): ExportModel {
  if (values.length === 0) return model;
  const ordered = [...values].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  let out = model;
  for (const value of ordered.filter((v) => v.length > LONG_VALUE)) {
    const folded = foldCase(value);
    out = mapModelText(out, betweenMarkers((text) => replaceLiteral(text, folded)));
  }
  const short = ordered.filter((v) => v.length <= LONG_VALUE);
  for (let i = 0; i < short.length; i += SCRUB_BATCH) {
    const batch = short.slice(i, i + SCRUB_BATCH);
    const regex = RE2JS.compile(batch.map((v) => RE2JS.quote(v)).join('|'), RE2JS.CASE_INSENSITIVE);
    out = mapModelText(out, betweenMarkers((text) => replaceMatches(regex, text, () => {})));
  }
  return out;
}

const SCRUB_BATCH = 400;
const LONG_VALUE = 64;

function replaceLiteral(text: string, foldedValue: string): string {
  if (text.length < foldedValue.length) return text;
  const folded = foldCase(text);
  let at = folded.indexOf(foldedValue);
  if (at === -1) return text;
  let out = '';
  let copied = 0;
  while (at !== -1) {
    out += text.slice(copied, at) + REDACTION_MARKER;
    copied = at + foldedValue.length;
    at = folded.indexOf(foldedValue, copied);
  }
  return out + text.slice(copied);
}

/** Lower case, one UTF-16 unit for one (units whose lower case is longer stay), so indexes carry over. */
function foldCase(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const unit = text[i]!;
    const lowered = unit.toLowerCase();
    out += lowered.length === 1 ? lowered : unit;
  }
  return out;
}
