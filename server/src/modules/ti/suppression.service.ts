/**
 * Use cases of suppression: rules (create, change, remove), warninglists (enable per tenant) and the ledger. Every
 * change re-evaluates the tenant's indicators in the same transaction as the change and its audit row, so what a
 * rule alone suppressed reappears the moment it is removed (and when it expires, reads stop honouring it at once;
 * the next evaluation records the clearing).
 */
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { toIso, type Clock } from '../../platform/clock.js';
import { isUniqueViolation, type Database, type Sql } from '../../platform/db.js';
import { ConflictError, NotFoundError, ValidationError, type FieldProblem } from '../../platform/errors.js';
import { decodeCursor, toPage } from '../../platform/pagination.js';
import type { UserCtx } from '../../platform/request-context.js';
import type { AuditService } from '../audit/index.js';
import type { Rescorer } from './rescore.js';
import { settingsRepo } from './scoring.repo.js';
import { ledgerRepo, ruleRepo, type LedgerRow, type RuleRow, type RuleWrite } from './suppression.repo.js';
import { checkValuePattern, type ValueKind } from './value-match.js';
import type { Warninglist } from './warninglists.js';

export type RuleMatch = {
  types?: string[]; sources?: string[]; labels?: string[]; minScore?: number; maxScore?: number; minAgeDays?: number; maxAgeDays?: number;
  value?: { kind: ValueKind; pattern: string };
};
export type RuleInput = { name: string; action: 'suppress' | 'inform'; reason: string; match: RuleMatch; enabled: boolean; expiresAt?: string | null };

function toRuleDto(row: RuleRow, now: Date, active: { suppressed: number; informed: number }) {
  const match: RuleMatch = {};
  if (row.types) match.types = row.types;
  if (row.sources) match.sources = row.sources;
  if (row.labels) match.labels = row.labels;
  if (row.minScore !== null) match.minScore = row.minScore;
  if (row.maxScore !== null) match.maxScore = row.maxScore;
  if (row.minAgeDays !== null) match.minAgeDays = row.minAgeDays;
  if (row.maxAgeDays !== null) match.maxAgeDays = row.maxAgeDays;
  if (row.valueKind && row.valuePattern !== null) match.value = { kind: row.valueKind, pattern: row.valuePattern };
  return {
    id: row.id, name: row.name, action: row.action, reason: row.reason, match, ownerId: row.ownerId, enabled: row.enabled,
    expiresAt: toIso(row.expiresAt), expired: row.expiresAt !== null && new Date(row.expiresAt) <= now,
    createdAt: toIso(row.createdAt)!, updatedAt: toIso(row.updatedAt)!, active,
  };
}

function toLedgerDto(row: LedgerRow) {
  return {
    id: row.id, entityId: row.entityId, ruleId: row.ruleId, warninglist: row.warninglist, action: row.action, reason: row.reason,
    at: toIso(row.at)!, expiresAt: toIso(row.expiresAt), clearedAt: toIso(row.clearedAt), active: row.clearedAt === null,
  };
}

/** Every problem with a rule at once, and the value pattern in its stored form. */
export function checkRule(input: RuleInput, now: Date): { problems: FieldProblem[]; pattern: string | null } {
  const problems: FieldProblem[] = [];
  const m = input.match;
  if (m.minScore !== undefined && m.maxScore !== undefined && m.minScore > m.maxScore) {
    problems.push({ path: 'body.match.minScore', message: `must not be above maxScore (${m.maxScore})` });
  }
  if (m.minAgeDays !== undefined && m.maxAgeDays !== undefined && m.minAgeDays > m.maxAgeDays) {
    problems.push({ path: 'body.match.minAgeDays', message: `must not be above maxAgeDays (${m.maxAgeDays})` });
  }
  let pattern: string | null = null;
  if (m.value) {
    const checked = checkValuePattern(m.value.kind, m.value.pattern);
    if (checked.ok) pattern = checked.normalised;
    else problems.push({ path: 'body.match.value.pattern', message: checked.message });
  }
  if (input.expiresAt && new Date(input.expiresAt) <= now) problems.push({ path: 'body.expiresAt', message: 'is in the past' });
  const conditions = [m.types, m.sources, m.labels, m.minScore, m.maxScore, m.minAgeDays, m.maxAgeDays, m.value].filter((c) => c !== undefined);
  if (conditions.length === 0) {
    problems.push({ path: 'body.match', message: 'a rule needs at least one condition (types, sources, labels, score, age or value); it would match everything' });
  }
  return { problems, pattern };
}

export function createSuppressionService(deps: {
  db: Database;
  clock: Clock;
  audit: Pick<AuditService, 'record'>;
  rescorer: Rescorer;
  warninglists: Warninglist[];
}) {
  const { db, clock, audit, rescorer } = deps;

  async function activeCounts(tx: Sql, tenantId: string, column: 'rule_id' | 'warninglist') {
    const { rows } = await tx.query<{ key: string; suppressed: number; informed: number }>(
      `select ${column}::text as key, count(*) filter (where action = 'suppress')::int as suppressed, count(*) filter (where action = 'inform')::int as informed
         from ti_suppressions where tenant_id = $1 and ${column} is not null and cleared_at is null and (expires_at is null or expires_at > $2)
        group by ${column}`,
      [tenantId, clock.now().toISOString()],
    );
    return new Map(rows.map((r) => [r.key, { suppressed: r.suppressed, informed: r.informed }]));
  }

  async function ruleDto(tx: Sql, tenantId: string, row: RuleRow) {
    const counts = await activeCounts(tx, tenantId, 'rule_id');
    return toRuleDto(row, clock.now(), counts.get(row.id) ?? { suppressed: 0, informed: 0 });
  }

  function rowOf(id: string, input: RuleInput, pattern: string | null, ownerId: string): RuleWrite {
    const m = input.match;
    return {
      id, name: input.name, action: input.action, reason: input.reason, ownerId, enabled: input.enabled,
      types: m.types ?? null, sources: m.sources ?? null, labels: m.labels ?? null, minScore: m.minScore ?? null, maxScore: m.maxScore ?? null,
      minAgeDays: m.minAgeDays ?? null, maxAgeDays: m.maxAgeDays ?? null, valueKind: m.value?.kind ?? null, valuePattern: pattern,
      expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
    };
  }

  function validated(input: RuleInput) {
    const { problems, pattern } = checkRule(input, clock.now());
    if (problems.length) throw new ValidationError(`The suppression rule is not valid: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);
    return pattern;
  }

  async function withNameCheck<T>(name: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`A suppression rule named "${name}" already exists.`, { field: 'name' });
      throw error;
    }
  }

  async function listRules(ctx: UserCtx) {
    return db.withTenant(ctx.tenantId, async (tx) => {
      const counts = await activeCounts(tx, ctx.tenantId, 'rule_id');
      const rows = await ruleRepo.list(tx, ctx.tenantId);
      return { items: rows.map((r) => toRuleDto(r, clock.now(), counts.get(r.id) ?? { suppressed: 0, informed: 0 })) };
    });
  }

  async function getRule(ctx: UserCtx, id: string) {
    return db.withTenant(ctx.tenantId, async (tx) => {
      const row = await ruleRepo.get(tx, ctx.tenantId, id);
      if (!row) throw new NotFoundError('Suppression rule', id);
      return ruleDto(tx, ctx.tenantId, row);
    });
  }

  async function createRule(ctx: UserCtx, input: RuleInput) {
    const pattern = validated(input);
    const id = uuidv7();
    return withNameCheck(input.name, () =>
      db.withTenant(ctx.tenantId, async (tx) => {
        const row = await ruleRepo.upsert(tx, ctx.tenantId, rowOf(id, input, pattern, ctx.principal.userId), clock.now());
        const evaluated = await rescorer.rescore(tx, ctx.tenantId);
        const dto = await ruleDto(tx, ctx.tenantId, row);
        await audit.record(tx, ctx, { action: 'ti.suppression-rule.create', target: { type: 'suppression-rule', id }, after: { ...dto, evaluated: evaluated.scored } });
        return dto;
      }),
    );
  }

  async function updateRule(ctx: UserCtx, id: string, patch: Partial<RuleInput>) {
    return withNameCheck(patch.name, () =>
      db.withTenant(ctx.tenantId, async (tx) => {
        const before = await ruleRepo.get(tx, ctx.tenantId, id, true);
        if (!before) throw new NotFoundError('Suppression rule', id);
        const beforeDto = await ruleDto(tx, ctx.tenantId, before);
        const input: RuleInput = {
          name: patch.name ?? before.name, action: patch.action ?? before.action, reason: patch.reason ?? before.reason,
          match: patch.match ?? beforeDto.match, enabled: patch.enabled ?? before.enabled,
          expiresAt: patch.expiresAt === undefined ? toIso(before.expiresAt) : patch.expiresAt,
        };
        // An unchanged expiry that has passed is not the caller's mistake: only a new one must be in the future.
        const pattern = validated(patch.expiresAt === undefined ? { ...input, expiresAt: null } : input);
        // What the old version matched is cleared and the new version evaluated afresh, so the ledger shows both.
        await ledgerRepo.clearRule(tx, ctx.tenantId, id, clock.now());
        const row = await ruleRepo.upsert(tx, ctx.tenantId, rowOf(id, input, pattern, before.ownerId), clock.now());
        await rescorer.rescore(tx, ctx.tenantId);
        const dto = await ruleDto(tx, ctx.tenantId, row);
        await audit.record(tx, ctx, { action: 'ti.suppression-rule.update', target: { type: 'suppression-rule', id }, before: beforeDto, after: dto });
        return dto;
      }),
    );
  }

  async function deleteRule(ctx: UserCtx, id: string) {
    await db.withTenant(ctx.tenantId, async (tx) => {
      const before = await ruleRepo.get(tx, ctx.tenantId, id, true);
      if (!before) throw new NotFoundError('Suppression rule', id);
      const beforeDto = await ruleDto(tx, ctx.tenantId, before);
      const cleared = await ledgerRepo.clearRule(tx, ctx.tenantId, id, clock.now());
      await ruleRepo.delete(tx, ctx.tenantId, id);
      await audit.record(tx, ctx, { action: 'ti.suppression-rule.delete', target: { type: 'suppression-rule', id }, before: { ...beforeDto, cleared } });
    });
  }

  async function listWarninglists(ctx: UserCtx) {
    return db.withTenant(ctx.tenantId, async (tx) => {
      const settings = await settingsRepo.get(tx, ctx.tenantId);
      const counts = await activeCounts(tx, ctx.tenantId, 'warninglist');
      return {
        items: deps.warninglists.map((w) => ({
          name: w.name, description: w.description, reference: w.reference, kind: w.kind, entries: w.values.length,
          enabled: settings.warninglists.includes(w.name), active: counts.get(w.name)?.suppressed ?? 0,
        })),
      };
    });
  }

  async function setWarninglist(ctx: UserCtx, name: string, enabled: boolean) {
    const list = deps.warninglists.find((w) => w.name === name);
    if (!list) throw new NotFoundError('Warninglist', name);
    return db.withTenant(ctx.tenantId, async (tx) => {
      const before = await settingsRepo.get(tx, ctx.tenantId);
      const names = new Set(before.warninglists);
      if (enabled) names.add(name);
      else names.delete(name);
      const after = { ...before, warninglists: deps.warninglists.map((w) => w.name).filter((n) => names.has(n)) };
      await settingsRepo.put(tx, ctx.tenantId, after, ctx.principal.userId, clock.now());
      if (!enabled) await ledgerRepo.clearWarninglist(tx, ctx.tenantId, name, clock.now());
      else await rescorer.rescore(tx, ctx.tenantId);
      const counts = await activeCounts(tx, ctx.tenantId, 'warninglist');
      await audit.record(tx, ctx, {
        action: 'ti.warninglist.update', target: { type: 'warninglist', id: name },
        before: { enabled: before.warninglists.includes(name) }, after: { enabled, suppressing: counts.get(name)?.suppressed ?? 0 },
      });
      return {
        name, description: list.description, reference: list.reference, kind: list.kind, entries: list.values.length, enabled,
        active: counts.get(name)?.suppressed ?? 0,
      };
    });
  }

  async function listSuppressions(ctx: UserCtx, query: { entityId?: string; ruleId?: string; warninglist?: string; active?: boolean; cursor?: string; limit: number }) {
    const before = decodeCursor(query.cursor, z.object({ at: z.string(), id: z.uuid() }));
    return db.withTenant(ctx.tenantId, async (tx) => {
      const rows = await ledgerRepo.list(tx, ctx.tenantId, clock.now(), { ...query, before, limit: query.limit + 1 });
      return toPage(rows.map(toLedgerDto), query.limit, (last) => ({ at: last.at, id: last.id }));
    });
  }

  return { listRules, getRule, createRule, updateRule, deleteRule, listWarninglists, setWarninglist, listSuppressions };
}

export type SuppressionService = ReturnType<typeof createSuppressionService>;
