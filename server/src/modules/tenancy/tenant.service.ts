import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import type { Ctx, Role } from '../../platform/context.js';
import { isUniqueViolation, type Database, type Sql } from '../../platform/db.js';
import { ConflictError, NotFoundError } from '../../platform/errors.js';
import { decodeCursor, toPage } from '../../platform/pagination.js';
import type { AuditService } from '../audit/index.js';
import { issueApiToken } from './api-token.js';
import { toTenantDto, toUserDto } from './dto.js';
import { tenantRepo, tokenRepo, userRepo, type UserRow } from './tenancy.repo.js';

const cursorShape = z.object({ id: z.uuid() });
export const INITIAL_TOKEN_NAME = 'initial admin token';

export function createTenantService(deps: { db: Database; audit: Pick<AuditService, 'record' | 'initTenant'> }) {
  const { db, audit } = deps;

  /** Issues a token for a user inside the caller's transaction and audits it. */
  async function issueToken(tx: Sql, ctx: Ctx, tenantId: string, user: UserRow, name: string) {
    const issued = issueApiToken();
    const row = await tokenRepo.insert(tx, {
      tenantId,
      id: issued.id,
      userId: user.id,
      name,
      secretHash: issued.secretHash,
      createdBy: null,
      expiresAt: null,
    });
    await audit.record(tx, { tenantId, actor: ctx.actor, requestId: ctx.requestId }, {
      action: 'token.create',
      target: { type: 'token', id: row.id },
      after: { name, userId: user.id, expiresAt: null },
    });
    return issued.token;
  }

  /**
   * Creates a tenant with its first admin and that admin's token, in one transaction with its audit events (the
   * first events of the new tenant's chain).
   */
  async function createTenant(ctx: Ctx, input: { name: string; adminEmail: string }) {
    try {
      return await db.withSystem(async (tx) => {
        const tenant = await tenantRepo.insert(tx, { id: uuidv7(), name: input.name });
        await audit.initTenant(tx, tenant.id);
        const scope = { tenantId: tenant.id, actor: ctx.actor, requestId: ctx.requestId };
        await audit.record(tx, scope, {
          action: 'tenant.create',
          target: { type: 'tenant', id: tenant.id },
          after: { name: tenant.name, adminEmail: input.adminEmail },
        });
        const roles: Role[] = ['admin'];
        const admin = await userRepo.insert(tx, {
          tenantId: tenant.id,
          id: uuidv7(),
          email: input.adminEmail,
          displayName: null,
          roles,
          disabled: false,
        });
        await audit.record(tx, scope, {
          action: 'user.create',
          target: { type: 'user', id: admin.id },
          after: { email: admin.email, roles, disabled: false },
        });
        const adminToken = await issueToken(tx, ctx, tenant.id, admin, INITIAL_TOKEN_NAME);
        return { ...toTenantDto(tenant), adminUserId: admin.id, adminToken };
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ConflictError(`A tenant named "${input.name}" already exists; choose another name.`);
      }
      throw error;
    }
  }

  async function listTenants(_ctx: Ctx, query: { limit: number; cursor?: string }) {
    const after = decodeCursor(query.cursor, cursorShape)?.id;
    const rows = await db.withSystem((tx) => tenantRepo.list(tx, after, query.limit + 1));
    const page = toPage(rows, query.limit, (last) => ({ id: last.id }));
    return { items: page.items.map(toTenantDto), nextCursor: page.nextCursor };
  }

  async function findTenantByName(name: string) {
    return db.withSystem((tx) => tenantRepo.findByName(tx, name));
  }

  async function getTenant(id: string) {
    const tenant = await db.withSystem((tx) => tenantRepo.get(tx, id));
    if (!tenant) throw new NotFoundError('Tenant', id);
    return toTenantDto(tenant);
  }

  /**
   * Replaces the bootstrap token of a tenant's first enabled admin: revokes every token of theirs with one of the
   * given names and issues a new one. Used when the demo tenant exists but its token file was deleted: the old
   * token cannot be recovered (only its hash is stored), and a copy of it may be lying around.
   */
  async function reissueBootstrapToken(ctx: Ctx, tenantId: string, names: string[], newName: string) {
    return db.withTenant(tenantId, async (tx) => {
      const [adminId] = await userRepo.lockActiveAdmins(tx, tenantId);
      const admin = adminId ? await userRepo.get(tx, tenantId, adminId) : null;
      if (!admin) throw new ConflictError('The tenant has no enabled admin to issue a token for.');
      const scope = { tenantId, actor: ctx.actor, requestId: ctx.requestId };
      const old = (await tokenRepo.list(tx, tenantId, { userId: admin.id, limit: 1000 })).filter(
        (t) => !t.revokedAt && names.includes(t.name),
      );
      for (const token of old) {
        await tokenRepo.revoke(tx, tenantId, token.id, new Date());
        await audit.record(tx, scope, { action: 'token.revoke', target: { type: 'token', id: token.id }, before: { name: token.name } });
      }
      return { user: toUserDto(admin), token: await issueToken(tx, ctx, tenantId, admin, newName), revoked: old.length };
    });
  }

  return { createTenant, listTenants, findTenantByName, getTenant, reissueBootstrapToken };
}

export type TenantService = ReturnType<typeof createTenantService>;
