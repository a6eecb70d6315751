import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import type { Role, TenantCtx } from '../../platform/context.js';
import { isUniqueViolation, type Database, type Sql } from '../../platform/db.js';
import { ConflictError, NotFoundError } from '../../platform/errors.js';
import { decodeCursor, toPage } from '../../platform/pagination.js';
import type { AuditService } from '../audit/index.js';
import { toTenantDto, toUserDto, userSummary } from './dto.js';
import { tenantRepo, tokenRepo, userRepo, type UserRow } from './tenancy.repo.js';

const cursorShape = z.object({ id: z.uuid() });

export type CreateUserInput = { email: string; displayName?: string; roles: Role[]; disabled: boolean };
export type UpdateUserInput = { email?: string; displayName?: string | null; roles?: Role[]; disabled?: boolean };

function isActiveAdmin(u: Pick<UserRow, 'roles' | 'disabled'>): boolean {
  return u.roles.includes('admin') && !u.disabled;
}

export function createUserService(deps: { db: Database; audit: Pick<AuditService, 'record'>; permissionsOf: (ctx: TenantCtx) => string[] }) {
  const { db, audit } = deps;

  function emailTaken(email: string): ConflictError {
    return new ConflictError(`A user with the e-mail ${email} already exists in this tenant.`, { field: 'email' });
  }

  async function mustGet(tx: Sql, ctx: TenantCtx, id: string, forUpdate = false): Promise<UserRow> {
    const user = await userRepo.get(tx, ctx.tenantId, id, { forUpdate });
    if (!user) throw new NotFoundError('User', id);
    return user;
  }

  /** A tenant must keep at least one enabled admin, or nobody could manage it again. */
  async function assertAdminRemains(tx: Sql, ctx: TenantCtx, userId: string): Promise<void> {
    const admins = await userRepo.lockActiveAdmins(tx, ctx.tenantId);
    if (admins.every((id) => id === userId)) {
      throw new ConflictError(
        'This is the last enabled admin of the tenant: make another user an admin first, so someone can still manage it.',
      );
    }
  }

  async function create(ctx: TenantCtx, input: CreateUserInput) {
    try {
      return await db.withTenant(ctx.tenantId, async (tx) => {
        const user = await userRepo.insert(tx, {
          tenantId: ctx.tenantId,
          id: uuidv7(),
          email: input.email,
          displayName: input.displayName ?? null,
          roles: input.roles,
          disabled: input.disabled,
        });
        await audit.record(tx, ctx, { action: 'user.create', target: { type: 'user', id: user.id }, after: userSummary(user) });
        return toUserDto(user);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw emailTaken(input.email);
      throw error;
    }
  }

  async function list(ctx: TenantCtx, query: { limit: number; cursor?: string; role?: Role; disabled?: boolean; q?: string }) {
    const after = decodeCursor(query.cursor, cursorShape)?.id;
    const rows = await db.withTenant(ctx.tenantId, (tx) =>
      userRepo.list(tx, ctx.tenantId, { ...query, after, limit: query.limit + 1 }),
    );
    const page = toPage(rows, query.limit, (last) => ({ id: last.id }));
    return { items: page.items.map(toUserDto), nextCursor: page.nextCursor };
  }

  async function get(ctx: TenantCtx, id: string) {
    return db.withTenant(ctx.tenantId, async (tx) => toUserDto(await mustGet(tx, ctx, id)));
  }

  async function update(ctx: TenantCtx, id: string, patch: UpdateUserInput) {
    try {
      return await db.withTenant(ctx.tenantId, async (tx) => {
        const before = await mustGet(tx, ctx, id, true);
        const next = {
          email: patch.email ?? before.email,
          displayName: patch.displayName === undefined ? before.displayName : patch.displayName,
          roles: patch.roles ?? before.roles,
          disabled: patch.disabled ?? before.disabled,
        };
        if (isActiveAdmin(before) && !isActiveAdmin(next)) await assertAdminRemains(tx, ctx, id);
        const after = await userRepo.update(tx, ctx.tenantId, id, next);
        await audit.record(tx, ctx, {
          action: 'user.update',
          target: { type: 'user', id },
          before: userSummary(before),
          after: userSummary(after),
        });
        return toUserDto(after);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw emailTaken(patch.email ?? '');
      throw error;
    }
  }

  /** Deletes a user and, with it, every token of theirs (revoked at once by the cascade). */
  async function remove(ctx: TenantCtx, id: string): Promise<void> {
    await db.withTenant(ctx.tenantId, async (tx) => {
      const before = await mustGet(tx, ctx, id, true);
      if (isActiveAdmin(before)) await assertAdminRemains(tx, ctx, id);
      const tokens = await tokenRepo.countActiveForUser(tx, ctx.tenantId, id);
      await userRepo.delete(tx, ctx.tenantId, id);
      await audit.record(tx, ctx, {
        action: 'user.delete',
        target: { type: 'user', id },
        before: { ...userSummary(before), activeTokensRemoved: tokens },
      });
    });
  }

  async function me(ctx: TenantCtx & { principal: { kind: 'user'; userId: string; tokenId: string } }) {
    return db.withTenant(ctx.tenantId, async (tx) => {
      const user = await mustGet(tx, ctx, ctx.principal.userId);
      const tenant = await tenantRepo.get(tx, ctx.tenantId);
      if (!tenant) throw new NotFoundError('Tenant', ctx.tenantId);
      return {
        user: toUserDto(user),
        tenant: toTenantDto(tenant),
        token: { id: ctx.principal.tokenId },
        permissions: deps.permissionsOf(ctx),
      };
    });
  }

  return { create, list, get, update, remove, me };
}

export type UserService = ReturnType<typeof createUserService>;
