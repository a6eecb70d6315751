/** Playbooks: save (each save an immutable version), list what the caller may view, and grants. */
import { v7 as uuidv7 } from 'uuid';
import type { Clock } from '../../platform/clock.js';
import { isUniqueViolation, type Database, type Sql } from '../../platform/db.js';
import { ConflictError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { decodeCursor, encodeCursor, toPage } from '../../platform/pagination.js';
import type { UserCtx } from '../../platform/request-context.js';
import type { Actor } from '../../platform/context.js';
import { z } from 'zod';
import type { AuditService } from '../audit/index.js';
import type { PlaybookAccess } from './access.js';
import { validateDefinition } from './definition.js';
import { playbookRepo, type GrantRow, type Permission, type PlaybookRow } from './playbook.repo.js';
import { isoOf } from './playbook.repo.js';

export type Loaded = { playbook: PlaybookRow; grants: GrantRow[] };
type Definition = { name: string; description?: string; tags?: string[] } & Record<string, unknown>;

/** Turns the definition checker's findings into one 400 that names every problem. */
export function checkDefinition(input: unknown, base = 'body'): Definition {
  const result = validateDefinition(input);
  if (result.ok) return result.definition as unknown as Definition;
  const fields = result.errors.map((e) => ({ path: e.path ? `${base}.${e.path}` : base, message: e.message }));
  throw new ValidationError(`The playbook definition is not valid: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`, fields);
}

export function toPlaybookDto(row: PlaybookRow, yourPermission: Permission) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    tags: row.tags,
    ownerId: row.ownerId,
    version: row.currentVersion,
    yourPermission,
    createdAt: isoOf(row.createdAt),
    updatedAt: isoOf(row.updatedAt),
  };
}

export function toGrantDto(row: GrantRow) {
  return { id: row.id, subject: { type: row.subjectType, id: row.subjectId }, permission: row.permission, createdBy: row.createdBy, createdAt: isoOf(row.createdAt) };
}

function nameTaken(name: string) {
  return new ConflictError(`A playbook named "${name}" already exists in this tenant; choose another name.`, { field: 'name' });
}

export function createPlaybookService(deps: { db: Database; clock: Clock; audit: Pick<AuditService, 'record'>; access: PlaybookAccess }) {
  const { db, clock, audit, access } = deps;

  /** Loads a playbook and its grants and checks the action; 404 when missing or invisible to the caller. */
  async function load(tx: Sql, ctx: UserCtx, id: string, action: string, forUpdate = false): Promise<Loaded> {
    const playbook = await playbookRepo.get(tx, ctx.tenantId, id, forUpdate);
    if (!playbook) throw new NotFoundError('Playbook', id);
    const grants = await playbookRepo.grants(tx, ctx.tenantId, [id]);
    access.require(ctx, action, playbook, grants);
    return { playbook, grants };
  }

  async function detail(tx: Sql, ctx: UserCtx, loaded: Loaded) {
    const version = await playbookRepo.getVersion(tx, ctx.tenantId, loaded.playbook.id, loaded.playbook.currentVersion);
    return { ...toPlaybookDto(loaded.playbook, access.levelOf(ctx, loaded.playbook, loaded.grants) ?? 'view'), definition: version!.definition };
  }

  async function create(ctx: UserCtx, input: unknown) {
    const definition = checkDefinition(input);
    const now = clock.now();
    try {
      return await db.withTenant(ctx.tenantId, async (tx) => {
        const playbook = await playbookRepo.insert(tx, {
          tenantId: ctx.tenantId, id: uuidv7(), name: definition.name, description: definition.description ?? '',
          tags: definition.tags ?? [], ownerId: ctx.principal.userId, createdAt: now,
        });
        await playbookRepo.insertVersion(tx, ctx.tenantId, { playbookId: playbook.id, version: 1, definition, createdBy: ctx.principal.userId, createdAt: now });
        await audit.record(tx, ctx, { action: 'playbook.create', target: { type: 'playbook', id: playbook.id }, after: { name: playbook.name, version: 1 } });
        return detail(tx, ctx, { playbook, grants: [] });
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken(definition.name);
      throw error;
    }
  }

  /** A save replaces the whole definition and adds a version; runs keep naming the version they ran. */
  async function update(ctx: UserCtx, id: string, input: unknown) {
    const definition = checkDefinition(input);
    try {
      return await db.withTenant(ctx.tenantId, async (tx) => {
        const loaded = await load(tx, ctx, id, 'playbook:update', true);
        const version = loaded.playbook.currentVersion + 1;
        const now = clock.now();
        await playbookRepo.insertVersion(tx, ctx.tenantId, { playbookId: id, version, definition, createdBy: ctx.principal.userId, createdAt: now });
        const playbook = await playbookRepo.update(tx, ctx.tenantId, id, {
          name: definition.name, description: definition.description ?? '', tags: definition.tags ?? [], currentVersion: version, at: now,
        });
        await audit.record(tx, ctx, {
          action: 'playbook.update', target: { type: 'playbook', id },
          before: { name: loaded.playbook.name, version: loaded.playbook.currentVersion }, after: { name: playbook.name, version },
        });
        return detail(tx, ctx, { playbook, grants: loaded.grants });
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken(definition.name);
      throw error;
    }
  }

  async function get(ctx: UserCtx, id: string) {
    return db.withTenant(ctx.tenantId, async (tx) => detail(tx, ctx, await load(tx, ctx, id, 'playbook:read')));
  }

  /**
   * Pages of playbooks the caller may view. Visibility is decided per playbook by the policies, so a page is filled
   * by reading on until `limit` visible ones are found (bounded: at most 20 batches, then the cursor carries on).
   */
  async function list(ctx: UserCtx, query: { limit: number; cursor?: string; tag?: string; q?: string }) {
    let after = decodeCursor(query.cursor, z.object({ id: z.uuid() }))?.id;
    return db.withTenant(ctx.tenantId, async (tx) => {
      const visible: Array<ReturnType<typeof toPlaybookDto>> = [];
      let exhausted = false;
      for (let batch = 0; batch < 20 && !exhausted && visible.length <= query.limit; batch++) {
        const rows = await playbookRepo.list(tx, ctx.tenantId, { after, limit: query.limit + 1, tag: query.tag, q: query.q });
        const grants = await playbookRepo.grants(tx, ctx.tenantId, rows.map((r) => r.id));
        for (const row of rows) {
          const level = access.levelOf(ctx, row, grants.filter((g) => g.playbookId === row.id));
          if (level) visible.push(toPlaybookDto(row, level));
          if (visible.length > query.limit) break;
          after = row.id;
        }
        exhausted = rows.length <= query.limit && visible.length <= query.limit;
      }
      if (visible.length > query.limit) return toPage(visible, query.limit, (last) => ({ id: last.id }));
      // Read as far as one request may without filling the page: the cursor carries on from there.
      return { items: visible, nextCursor: exhausted || !after ? null : encodeCursor({ id: after }) };
    });
  }

  async function remove(ctx: UserCtx, id: string) {
    await db.withTenant(ctx.tenantId, async (tx) => {
      const { playbook } = await load(tx, ctx, id, 'playbook:delete', true);
      // Its schedules go with it; runs, versions, grants and links cascade.
      await tx.query(`delete from schedules where tenant_id = $1 and job_type = 'playbook.run' and payload ->> 'playbookId' = $2`, [ctx.tenantId, id]);
      await playbookRepo.delete(tx, ctx.tenantId, id);
      await audit.record(tx, ctx, { action: 'playbook.delete', target: { type: 'playbook', id }, before: { name: playbook.name, version: playbook.currentVersion } });
    });
  }

  async function versions(ctx: UserCtx, id: string, query: { limit: number; cursor?: string }) {
    const before = decodeCursor(query.cursor, z.object({ v: z.number().int() }))?.v;
    return db.withTenant(ctx.tenantId, async (tx) => {
      await load(tx, ctx, id, 'playbook:versions');
      const rows = await playbookRepo.listVersions(tx, ctx.tenantId, id, before, query.limit + 1);
      const page = toPage(rows, query.limit, (last) => ({ v: last.version }));
      return { ...page, items: page.items.map((v) => ({ version: v.version, createdBy: v.createdBy, createdAt: isoOf(v.createdAt), definition: v.definition })) };
    });
  }

  async function listGrants(ctx: UserCtx, id: string) {
    return db.withTenant(ctx.tenantId, async (tx) => {
      const { grants } = await load(tx, ctx, id, 'playbook-grant:list');
      return { items: grants.map(toGrantDto) };
    });
  }

  async function createGrant(ctx: UserCtx, id: string, input: { subject: { type: 'user' | 'role'; id: string }; permission: Permission }) {
    try {
      return await db.withTenant(ctx.tenantId, async (tx) => {
        const { playbook } = await load(tx, ctx, id, 'playbook-grant:create', true);
        if (input.subject.type === 'user') {
          const { rows } = await tx.query(`select 1 from users where tenant_id = $1 and id = $2`, [ctx.tenantId, input.subject.id]);
          if (rows.length === 0) throw new ValidationError(`User ${input.subject.id} is not a user of this tenant.`, [{ path: 'body.subject.id', message: 'no such user in this tenant' }]);
          if (input.subject.id === playbook.ownerId) {
            throw new ValidationError('The owner already holds every permission on the playbook.', [{ path: 'body.subject.id', message: 'is the owner' }]);
          }
        }
        const grant = await playbookRepo.insertGrant(tx, ctx.tenantId, {
          id: uuidv7(), playbookId: id, subjectType: input.subject.type, subjectId: input.subject.id, permission: input.permission,
          createdBy: ctx.principal.userId, createdAt: clock.now(),
        });
        await audit.record(tx, ctx, { action: 'playbook.grant.create', target: { type: 'playbook', id }, after: toGrantDto(grant) });
        return toGrantDto(grant);
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ConflictError(`This ${input.subject.type} already has a grant on the playbook; change it with PATCH instead.`);
      }
      throw error;
    }
  }

  async function mustGrant(tx: Sql, ctx: UserCtx, id: string, grantId: string) {
    const grant = await playbookRepo.getGrant(tx, ctx.tenantId, id, grantId);
    if (!grant) throw new NotFoundError('Grant', grantId);
    return grant;
  }

  async function updateGrant(ctx: UserCtx, id: string, grantId: string, permission: Permission) {
    return db.withTenant(ctx.tenantId, async (tx) => {
      await load(tx, ctx, id, 'playbook-grant:update', true);
      const before = await mustGrant(tx, ctx, id, grantId);
      const after = await playbookRepo.updateGrant(tx, ctx.tenantId, grantId, permission);
      await audit.record(tx, ctx, { action: 'playbook.grant.update', target: { type: 'playbook', id }, before: toGrantDto(before), after: toGrantDto(after) });
      return toGrantDto(after);
    });
  }

  async function deleteGrant(ctx: UserCtx, id: string, grantId: string) {
    await db.withTenant(ctx.tenantId, async (tx) => {
      await load(tx, ctx, id, 'playbook-grant:delete', true);
      const before = await mustGrant(tx, ctx, id, grantId);
      await playbookRepo.deleteGrant(tx, ctx.tenantId, grantId);
      await audit.record(tx, ctx, { action: 'playbook.grant.delete', target: { type: 'playbook', id }, before: toGrantDto(before) });
    });
  }

  /**
   * Saves definitions owned by a user on behalf of a system actor (the demo tenant's example playbooks), skipping
   * any whose name is taken. Each is validated like any save.
   */
  async function seed(scope: { tenantId: string; actor: Actor; requestId: string | null }, ownerId: string, definitions: unknown[]) {
    const saved: string[] = [];
    for (const input of definitions) {
      const definition = checkDefinition(input);
      const now = clock.now();
      await db.withTenant(scope.tenantId, async (tx) => {
        const { rows } = await tx.query(`select 1 from playbooks where tenant_id = $1 and lower(name) = lower($2)`, [scope.tenantId, definition.name]);
        if (rows.length) return;
        const playbook = await playbookRepo.insert(tx, {
          tenantId: scope.tenantId, id: uuidv7(), name: definition.name, description: definition.description ?? '',
          tags: definition.tags ?? [], ownerId, createdAt: now,
        });
        await playbookRepo.insertVersion(tx, scope.tenantId, { playbookId: playbook.id, version: 1, definition, createdBy: ownerId, createdAt: now });
        await audit.record(tx, scope, { action: 'playbook.create', target: { type: 'playbook', id: playbook.id }, after: { name: playbook.name, version: 1, seeded: true } });
        saved.push(playbook.name);
      });
    }
    return saved;
  }

  return { load, create, update, get, list, remove, versions, listGrants, createGrant, updateGrant, deleteGrant, seed };
}

export type PlaybookService = ReturnType<typeof createPlaybookService>;
