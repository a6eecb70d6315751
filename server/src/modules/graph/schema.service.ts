import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { toIso, type Clock } from '../../platform/clock.js';
import type { TenantCtx } from '../../platform/context.js';
import { isUniqueViolation, type Database, type Sql } from '../../platform/db.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, type FieldProblem } from '../../platform/errors.js';
import { decodeCursor, toPage } from '../../platform/pagination.js';
import type { AuditService } from '../audit/index.js';
import { compileJsonSchema } from './schema-compile.js';
import { checkMapping, type Mapping } from './schema-mapping.js';
import { schemaRepo, type OverrideRow, type SchemaRow, type SchemaStatus } from './schema.repo.js';

/** The longest an override may last: long enough to get a schema reviewed, short enough to be revisited. */
export const MAX_OVERRIDE_MS = 30 * 24 * 3_600_000;
const cursorShape = z.object({ id: z.uuid() });

export type SchemaInput = { name: string; version: number; jsonSchema: Record<string, unknown>; mapping: Mapping };

/** What ingest records as provenance for records of this schema version. */
export function sourceOf(schema: Pick<SchemaRow, 'name' | 'version'>): string {
  return `schema:${schema.name}@${schema.version}`;
}

export function toSchemaDto(row: SchemaRow) {
  return {
    id: row.id,
    name: row.name,
    version: row.version,
    source: sourceOf(row),
    status: row.status,
    submittedBy: row.submittedBy,
    submittedAt: toIso(row.submittedAt)!,
    approvedBy: row.approvedBy,
    approvedAt: toIso(row.approvedAt),
  };
}

export function toOverrideDto(row: OverrideRow, now: Date) {
  return {
    id: row.id,
    schemaId: row.schemaId,
    reason: row.reason,
    expiresAt: toIso(row.expiresAt)!,
    grantedBy: row.grantedBy,
    grantedAt: toIso(row.grantedAt)!,
    active: new Date(row.expiresAt).getTime() > now.getTime(),
  };
}

/**
 * The schema registry: submit (validated, immutable per version), list, read, approve (four eyes: never by the
 * submitter) and time-boxed overrides. Every change and its audit event commit in one transaction.
 */
export function createSchemaService(deps: { db: Database; clock: Clock; audit: Pick<AuditService, 'record'> }) {
  const { db, clock, audit } = deps;

  async function mustGet(tx: Sql, ctx: TenantCtx, id: string, forUpdate = false) {
    const row = await schemaRepo.get(tx, ctx.tenantId, id, forUpdate);
    if (!row) throw new NotFoundError('Schema', id);
    return row;
  }

  async function detail(tx: Sql, ctx: TenantCtx, row: SchemaRow) {
    const overrides = await schemaRepo.listOverrides(tx, ctx.tenantId, row.id);
    const now = clock.now();
    return { ...toSchemaDto(row), jsonSchema: row.jsonSchema, mapping: row.mapping, overrides: overrides.map((o) => toOverrideDto(o, now)) };
  }

  /** Reports every problem of a submission at once: the JSON Schema first, then the mapping against it. */
  function validate(input: SchemaInput) {
    const problems: FieldProblem[] = [];
    const compiled = compileJsonSchema(input.jsonSchema);
    if (!compiled.ok) problems.push({ path: 'body.jsonSchema', message: compiled.problem });
    problems.push(...checkMapping(input.mapping, input.jsonSchema));
    if (problems.length) {
      throw new ValidationError(`The schema is not valid: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);
    }
  }

  async function create(ctx: TenantCtx, input: SchemaInput) {
    validate(input);
    try {
      return await db.withTenant(ctx.tenantId, async (tx) => {
        const row = await schemaRepo.insert(tx, ctx.tenantId, { ...input, id: uuidv7(), submittedBy: ctx.actor.id, submittedAt: clock.now() });
        await audit.record(tx, ctx, {
          action: 'schema.create',
          target: { type: 'ingest-schema', id: row.id },
          after: { name: row.name, version: row.version, status: row.status, mapping: row.mapping },
        });
        return detail(tx, ctx, row);
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      throw new ConflictError(
        `Schema ${input.name} version ${input.version} already exists, and a submitted version never changes: submit the change as a new version.`,
        { field: 'version' },
      );
    }
  }

  async function get(ctx: TenantCtx, id: string) {
    return db.withTenant(ctx.tenantId, async (tx) => detail(tx, ctx, await mustGet(tx, ctx, id)));
  }

  async function list(ctx: TenantCtx, query: { limit: number; cursor?: string; name?: string; status?: SchemaStatus }) {
    const before = decodeCursor(query.cursor, cursorShape)?.id;
    const rows = await db.withTenant(ctx.tenantId, (tx) => schemaRepo.list(tx, ctx.tenantId, { ...query, beforeId: before, limit: query.limit + 1 }));
    const page = toPage(rows, query.limit, (last) => ({ id: last.id }));
    return { items: page.items.map(toSchemaDto), nextCursor: page.nextCursor };
  }

  /** The four-eyes rule, for approvals and overrides alike: whoever submitted a schema cannot wave it through. */
  function assertNotSubmitter(ctx: TenantCtx, row: SchemaRow, what: 'approve' | 'override') {
    if (row.submittedBy !== ctx.actor.id) return;
    const act = what === 'approve' ? 'approve it' : 'grant it an override';
    throw new ForbiddenError(
      `You submitted schema ${row.name}@${row.version}, so you cannot ${act} yourself: another tenant admin must review it and ${act}.`,
    );
  }

  async function approve(ctx: TenantCtx, id: string) {
    return db.withTenant(ctx.tenantId, async (tx) => {
      const before = await mustGet(tx, ctx, id, true);
      if (before.status === 'approved') {
        throw new ConflictError(`Schema ${before.name}@${before.version} was already approved by ${before.approvedBy} at ${toIso(before.approvedAt)}.`);
      }
      assertNotSubmitter(ctx, before, 'approve');
      const after = await schemaRepo.approve(tx, ctx.tenantId, id, ctx.actor.id, clock.now());
      await audit.record(tx, ctx, {
        action: 'schema.approve',
        target: { type: 'ingest-schema', id },
        before: { status: before.status },
        after: { name: after.name, version: after.version, status: after.status, approvedBy: after.approvedBy, submittedBy: after.submittedBy },
      });
      return detail(tx, ctx, after);
    });
  }

  async function grantOverride(ctx: TenantCtx, id: string, input: { reason: string; expiresAt: string }) {
    const now = clock.now();
    const expiresAt = new Date(input.expiresAt);
    if (expiresAt.getTime() <= now.getTime() || expiresAt.getTime() - now.getTime() > MAX_OVERRIDE_MS) {
      const message = `must be in the future and at most 30 days away (now is ${now.toISOString()})`;
      throw new ValidationError(`The override is not valid: body.expiresAt: ${message}`, [{ path: 'body.expiresAt', message }]);
    }
    return db.withTenant(ctx.tenantId, async (tx) => {
      const schema = await mustGet(tx, ctx, id, true);
      if (schema.status === 'approved') {
        throw new ConflictError(`Schema ${schema.name}@${schema.version} is approved; ingest against it needs no override.`);
      }
      assertNotSubmitter(ctx, schema, 'override');
      const row = await schemaRepo.insertOverride(tx, ctx.tenantId, { id: uuidv7(), schemaId: id, reason: input.reason, expiresAt, grantedBy: ctx.actor.id, grantedAt: now });
      await audit.record(tx, ctx, {
        action: 'schema.override',
        target: { type: 'ingest-schema', id },
        after: { overrideId: row.id, name: schema.name, version: schema.version, reason: row.reason, expiresAt: toIso(row.expiresAt) },
      });
      return toOverrideDto(row, now);
    });
  }

  return { create, get, list, approve, grantOverride };
}

export type SchemaService = ReturnType<typeof createSchemaService>;
