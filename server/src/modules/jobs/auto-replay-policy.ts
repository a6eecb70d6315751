import { readFile } from 'node:fs/promises';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { minutesOf } from './auto-replay-window.js';

export { windowAt, type OpenReplayWindow } from './auto-replay-window.js';

/**
 * The DLQ auto-replay policy (ops/dlq/auto_replay.yaml), validated once at start. Every object is strict so that a
 * misspelt setting is an error rather than a silently ignored line, and every problem is reported with the file
 * position an operator has to edit.
 */

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** The one class "*" never covers: a PermanentJobError is a failure that no retry can fix. */
const PERMANENT_CLASS = 'PermanentJobError';

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const count = (min: number) => z.int({ error: 'must be a whole number' }).min(min, `must be at least ${min}`);

const START_TIME = /^([01]\d|2[0-3]):[0-5]\d$/;
const END_TIME = /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/;

const time = (what: 'start' | 'end') =>
  z
    .string({ error: 'must be a time "HH:MM" in quotes, e.g. "09:30"' })
    .regex(
      what === 'start' ? START_TIME : END_TIME,
      what === 'start' ? 'must be a time "HH:MM" from "00:00" to "23:59"' : 'must be a time "HH:MM" from "00:01" to "24:00"',
    );

const day = z.enum(WEEKDAYS, {
  error: (issue) => `unknown day ${JSON.stringify(issue.input)}: use mon, tue, wed, thu, fri, sat or sun`,
});

const windowSchema = z
  .strictObject(
    {
      days: z
        .array(day, { error: 'must be a list of days, e.g. [sat, sun]' })
        .min(1, 'must name at least one day')
        .superRefine((days, ctx) => {
          days.forEach((d, i) => {
            if (days.indexOf(d) < i) ctx.addIssue({ code: 'custom', path: [i], message: `${d} is listed twice` });
          });
        }),
      start: time('start'),
      end: time('end'),
    },
    { error: 'must be a map with days, start and end' },
  )
  .superRefine((w, ctx) => {
    // zod runs this refinement even when a field failed; compare only times that are well-formed.
    if (!START_TIME.test(String(w.start)) || !END_TIME.test(String(w.end))) return;
    if (minutesOf(w.end) > minutesOf(w.start)) return;
    const message =
      minutesOf(w.end) === minutesOf(w.start)
        ? `end ${w.end} equals start: the window would never be open`
        : `end ${w.end} is not after start ${w.start}: a window may not cross midnight; split it into ` +
          `${w.start}–24:00 and 00:00–${w.end}, the second on the following days`;
    ctx.addIssue({ code: 'custom', path: ['end'], message });
  });

export type ReplayWindow = z.output<typeof windowSchema>;

const errorClass = z
  .string({ error: 'must be an error class name in quotes' })
  .regex(
    /^(\*|[A-Za-z_$][\w$]*(:[a-z][a-z0-9_]*)?)$/,
    'must be "*", a class such as "JobTimeoutError", or a class and code such as "UpstreamError:upstream_failed"',
  )
  .refine((c) => c.split(':')[0] !== PERMANENT_CLASS, `${PERMANENT_CLASS} marks a failure no retry can fix; it is never auto-replayed`);

const queuePolicySchema = z.strictObject(
  {
    enabled: z.boolean({ error: 'must be true or false' }).default(true),
    timezone: z
      .string({ error: 'must be an IANA time zone name, e.g. "UTC" or "Europe/Berlin"' })
      .refine(isTimeZone, { error: (issue) => `unknown time zone ${JSON.stringify(issue.input)}: use an IANA name such as "UTC" or "Europe/Berlin"` }),
    windows: z
      .array(windowSchema, { error: 'must be a list of windows (days, start, end)' })
      .superRefine((windows, ctx) => {
        const wellFormed = (w: ReplayWindow) =>
          Array.isArray(w?.days) && START_TIME.test(String(w.start)) && END_TIME.test(String(w.end));
        windows.forEach((w, j) => {
          windows.slice(0, j).forEach((other, i) => {
            if (!wellFormed(w) || !wellFormed(other)) return;
            const shared = w.days.find((d) => other.days.includes(d));
            if (shared && minutesOf(w.start) < minutesOf(other.end) && minutesOf(other.start) < minutesOf(w.end)) {
              ctx.addIssue({ code: 'custom', path: [j], message: `overlaps window ${i} on ${shared}; windows of one queue must not overlap` });
            }
          });
        });
      }),
    maxReplaysPerItem: count(1),
    minAgeMinutes: count(0),
    replayableErrorClasses: z.array(errorClass, { error: 'must be a list of error classes' }).min(1, 'must list at least one error class, or "*"'),
    maxBatchPerWindow: count(1),
  },
  { error: 'must be a map of settings (timezone, windows, maxReplaysPerItem, ...)' },
);

export type QueueReplayPolicy = z.output<typeof queuePolicySchema>;

const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

const policySchema = z.strictObject(
  {
    version: z.literal(1, { error: 'must be 1, the only policy format so far' }),
    queues: z.record(
      z.string().regex(QUEUE_NAME, 'a queue name is 1–100 letters, digits, ".", "_" or "-", starting with a letter or digit'),
      queuePolicySchema,
      { error: 'must be a map from queue name to its policy' },
    ),
  },
  { error: 'the file must be a map with version and queues' },
);

export type AutoReplayPolicy = z.output<typeof policySchema>;

/** Keys allowed at each depth of the file, for the message about an unknown key. */
const KEYS_BY_DEPTH: Record<number, readonly string[]> = {
  0: Object.keys(policySchema.shape),
  2: Object.keys(queuePolicySchema.shape),
  4: Object.keys(windowSchema.shape),
};

export type PolicyProblem = { source: string; line: number; col: number; path: string; message: string };

export class AutoReplayPolicyError extends Error {
  constructor(message: string, readonly problems: readonly PolicyProblem[] = [], options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AutoReplayPolicyError';
  }
}

/** Parses and validates the policy text; throws an AutoReplayPolicyError listing every problem with its position. */
export function parseAutoReplayPolicy(text: string, source = 'auto_replay.yaml'): AutoReplayPolicy {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number, path: string, message: string): PolicyProblem => {
    const { line, col } = lineCounter.linePos(offset);
    return { source, line, col, path, message };
  };
  // Warnings too (an unknown tag, say): the file is read by people, so anything YAML doubts about it is a problem.
  const syntax = [...doc.errors, ...doc.warnings].map((e) => at(e.pos[0], '(yaml)', e.message.split('\n')[0] ?? e.message));
  if (syntax.length) throw problemsError(source, syntax);

  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  const result = policySchema.safeParse(data);
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue): PolicyProblem[] => {
    if (issue.code === 'unrecognized_keys') {
      const allowed = KEYS_BY_DEPTH[issue.path.length];
      return issue.keys.map((key) => {
        const path = [...issue.path, key];
        const hint = allowed ? ` (expected ${allowed.join(', ')})` : '';
        return at(locate(doc, path, true), formatPath(path), `unknown key "${key}"${hint}`);
      });
    }
    const missing = (issue.code === 'invalid_type' || issue.code === 'invalid_value') && valueAt(data, issue.path) === undefined;
    const message =
      issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : missing ? 'is required' : issue.message;
    return [at(locate(doc, issue.path), formatPath(issue.path), message)];
  });
  throw problemsError(source, problems);
}

/** Reads and validates the policy file; problems are reported against `path` so an editor can jump to them. */
export async function loadAutoReplayPolicy(path: string): Promise<AutoReplayPolicy> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(error)})`;
    throw new AutoReplayPolicyError(`The auto-replay policy file ${path} ${why}.`, [], { cause: error });
  }
  return parseAutoReplayPolicy(text, path);
}

export type ReplayableItem = { errors: readonly { class: string }[]; replayCount: number; deadAt: Date };
export type ReplayDecision = { replay: true } | { replay: false; reason: string };

/**
 * May this dead-lettered item be replayed automatically now (the window is checked separately, by windowAt)?
 * An entry of `replayableErrorClasses` without a code ("UpstreamError") covers every code of that class
 * ("UpstreamError:upstream_failed"); one with a code covers only that code; "*" covers all but PermanentJobError.
 */
export function isReplayable(policy: QueueReplayPolicy, item: ReplayableItem, now: Date): ReplayDecision {
  if (!policy.enabled) return { replay: false, reason: 'auto-replay is disabled for this queue' };
  const last = item.errors.at(-1);
  if (!last) return { replay: false, reason: 'no error is recorded for the item' };
  if (!isReplayableClass(policy.replayableErrorClasses, last.class)) {
    return { replay: false, reason: `the last error's class "${last.class}" is not replayable on this queue` };
  }
  if (item.replayCount >= policy.maxReplaysPerItem) {
    return { replay: false, reason: `already replayed ${item.replayCount} times (at most ${policy.maxReplaysPerItem})` };
  }
  const ageMs = now.getTime() - item.deadAt.getTime();
  if (ageMs < policy.minAgeMinutes * 60_000) {
    const age = Math.max(0, Math.floor(ageMs / 60_000));
    return { replay: false, reason: `dead for ${age} min, less than the ${policy.minAgeMinutes} min minimum` };
  }
  return { replay: true };
}

export function isReplayableClass(classes: readonly string[], errorClass: string): boolean {
  const name = errorClass.split(':')[0];
  if (name === PERMANENT_CLASS) return false;
  return classes.some((c) => c === '*' || c === errorClass || (!c.includes(':') && c === name));
}

function problemsError(source: string, problems: PolicyProblem[]): AutoReplayPolicyError {
  const sorted = [...problems].sort((a, b) => a.line - b.line || a.col - b.col);
  const lines = sorted.map((p) => `  ${p.source}:${p.line}:${p.col}: ${p.path}: ${p.message}`);
  const noun = sorted.length === 1 ? 'problem' : 'problems';
  return new AutoReplayPolicyError(`Invalid auto-replay policy ${source} (${sorted.length} ${noun}):\n${lines.join('\n')}`, sorted);
}

/** `queues["notifications.webhook"].windows[0].end`: names that are not identifiers are quoted, so dots stay unambiguous. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(String(segment))) out += `${out ? '.' : ''}${String(segment)}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out || '(root)';
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

/**
 * The source offset to report for a zod issue path: a scalar value where there is one, else the key that holds the
 * value (a block list starts on the next line, but the operator looks for its key). A path into something that is
 * missing stops at the deepest part that exists, e.g. the queue a required setting is missing from.
 */
function locate(doc: Document, path: readonly PropertyKey[], atKey = false): number {
  let node: unknown = doc.contents;
  let offset = nodeStart(node) ?? 0;
  for (const [depth, segment] of path.entries()) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(segment));
      if (!pair) break;
      const value = pair.value;
      const keyOnly = atKey && depth === path.length - 1;
      offset = (isScalar(value) && value.value !== null && !keyOnly ? nodeStart(value) : nodeStart(pair.key)) ?? offset;
      node = value;
    } else if (isSeq(node) && typeof segment === 'number' && node.items[segment] !== undefined) {
      node = node.items[segment];
      offset = nodeStart(node) ?? offset;
    } else {
      break;
    }
  }
  return offset;
}

function nodeStart(node: unknown): number | undefined {
  return (node as { range?: [number, number, number] } | null)?.range?.[0];
}
