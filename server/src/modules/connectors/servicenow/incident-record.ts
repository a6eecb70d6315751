/**
 * The shape of a ServiceNow incident as the Table API returns it (display values off), and its normalised form.
 * Every value arrives as a string; dates are `YYYY-MM-DD HH:MM:SS` in UTC; reference fields come as
 * `{link, value}` objects, or bare sys_ids with `sysparm_exclude_reference_link=true`. The schema is the
 * contract: when an instance's shape drifts (a field renamed or removed, a reference style changed), parsing
 * fails with a message naming the field instead of mapping garbage into the graph.
 */
import { z } from 'zod';

const SN_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** Parses ServiceNow's UTC `YYYY-MM-DD HH:MM:SS`; null when the text is not in that form or not a real time. */
export function parseServiceNowTime(text: string): Date | null {
  const m = SN_TIME.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  // Date.UTC rolls 2026-02-30 over into March; a real ServiceNow time never does.
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return null;
  return date;
}

/** Formats a time as ServiceNow's UTC `YYYY-MM-DD HH:MM:SS` (sub-second precision dropped). */
export function formatServiceNowTime(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

const sysIdText = z.string().regex(/^[0-9a-f]{32}$/, 'expected a 32-character sys_id');
const timeText = z.string().refine((t) => parseServiceNowTime(t) !== null, 'expected UTC "YYYY-MM-DD HH:MM:SS"');
const integerText = z.string().regex(/^-?\d+$/, 'expected an integer as text');
const optionalTimeText = z.union([z.literal(''), timeText]);

/**
 * A reference field: a `{link, value}` object, a bare sys_id, or empty ('' when unset). Anything else — a
 * display-value object, a number, a sys_id without its link where a link object was expected — is drift.
 */
const referenceField = z
  .union([
    z.literal(''),
    sysIdText,
    z.strictObject({ link: z.string().url(), value: sysIdText }),
  ], { error: 'expected a reference: a sys_id, {link, value}, or ""' })
  .transform((ref) => (ref === '' ? null : typeof ref === 'string' ? ref : ref.value));

/** Normalises a reference field whichever style it comes in; null when unset. Throws on anything else. */
export function referenceSysId(value: unknown): string | null {
  return referenceField.parse(value);
}

export const rawIncidentSchema = z.looseObject({
  sys_id: sysIdText,
  number: z.string().min(1),
  short_description: z.string(),
  description: z.string(),
  state: integerText,
  priority: integerText,
  impact: integerText,
  urgency: integerText,
  sys_updated_on: timeText,
  sys_created_on: optionalTimeText.optional(),
  opened_at: optionalTimeText.optional(),
  sys_mod_count: integerText,
  correlation_id: z.string(),
  caller_id: referenceField,
  assignment_group: referenceField,
  cmdb_ci: referenceField,
  assigned_to: referenceField.optional(),
  category: z.string().optional(),
  active: z.enum(['true', 'false']).optional(),
});

export type IncidentRecord = {
  sysId: string;
  number: string;
  shortDescription: string;
  description: string;
  state: number;
  priority: number;
  impact: number;
  urgency: number;
  category: string | null;
  active: boolean | null;
  updatedAt: Date;
  createdAt: Date | null;
  openedAt: Date | null;
  modCount: number;
  correlationId: string | null;
  callerId: string | null;
  assignmentGroupId: string | null;
  cmdbCiId: string | null;
  assignedToId: string | null;
  /** The record as received, for provenance. */
  raw: Record<string, unknown>;
};

/** A record whose shape does not match the contract; `fields` names each offending field. */
export class IncidentSchemaError extends Error {
  constructor(
    message: string,
    readonly sysId: string | null,
    readonly fields: Array<{ field: string; problem: string }>,
  ) {
    super(message);
    this.name = 'IncidentSchemaError';
  }
}

const optionalTime = (t: string | undefined) => (t ? parseServiceNowTime(t) : null);

/** Validates one raw record and returns its normalised form; throws IncidentSchemaError naming every bad field. */
export function parseIncidentRecord(raw: unknown): IncidentRecord {
  const result = rawIncidentSchema.safeParse(raw);
  if (!result.success) {
    const fields = result.error.issues.map((issue) => ({
      field: issue.path.length > 0 ? issue.path.map(String).join('.') : '(record)',
      problem: issue.code === 'invalid_type' && issue.input === undefined ? 'missing' : issue.message,
    }));
    const sysId = typeof raw === 'object' && raw !== null && typeof (raw as { sys_id?: unknown }).sys_id === 'string' ? (raw as { sys_id: string }).sys_id : null;
    const list = fields.map((f) => `${f.field} (${f.problem})`).join(', ');
    throw new IncidentSchemaError(`incident ${sysId ?? '(no sys_id)'} does not match the Table API contract: ${list}`, sysId, fields);
  }
  const r = result.data;
  return {
    sysId: r.sys_id,
    number: r.number,
    shortDescription: r.short_description,
    description: r.description,
    state: Number(r.state),
    priority: Number(r.priority),
    impact: Number(r.impact),
    urgency: Number(r.urgency),
    category: r.category ?? null,
    active: r.active === undefined ? null : r.active === 'true',
    updatedAt: parseServiceNowTime(r.sys_updated_on)!,
    createdAt: optionalTime(r.sys_created_on),
    openedAt: optionalTime(r.opened_at),
    modCount: Number(r.sys_mod_count),
    correlationId: r.correlation_id === '' ? null : r.correlation_id,
    callerId: r.caller_id,
    assignmentGroupId: r.assignment_group,
    cmdbCiId: r.cmdb_ci,
    assignedToId: r.assigned_to ?? null,
    raw: raw as Record<string, unknown>,
  };
}

/** ServiceNow's out-of-the-box labels; an instance's own come from `sys_choice` and take precedence. */
export const DEFAULT_CHOICE_LABELS: Record<'state' | 'priority' | 'impact' | 'urgency', Record<string, string>> = {
  state: { '1': 'New', '2': 'In Progress', '3': 'On Hold', '6': 'Resolved', '7': 'Closed', '8': 'Canceled' },
  priority: { '1': 'Critical', '2': 'High', '3': 'Moderate', '4': 'Low', '5': 'Planning' },
  impact: { '1': 'High', '2': 'Medium', '3': 'Low' },
  urgency: { '1': 'High', '2': 'Medium', '3': 'Low' },
};
