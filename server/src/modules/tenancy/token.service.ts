import { z } from 'zod';
import type { Clock } from '../../platform/clock.js';
import type { TenantCtx } from '../../platform/context.js';
import type { Database } from '../../platform/db.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { decodeCursor, toPage } from '../../platform/pagination.js';
import type { AuditService } from '../audit/index.js';
import { issueApiToken } from './api-token.js';
import { toTokenDto, tokenSummary } from './dto.js';
import { tokenRepo, userRepo } from './tenancy.repo.js';

const cursorShape = z.object({ id: z.uuid() });

type UserCtx = TenantCtx & { principal: { kind: 'user'; userId: string } };

/**
 * Everyone manages their own tokens; acting on another user's tokens needs `token:manage` (admins), asked of the
 * policy engine here because the route-level check cannot know whose token it is.
 */
export function createTokenService(deps: {
  db: Database;
  clock: Clock;
  audit: Pick<AuditService, 'record'>;
  isAllowed: (ctx: TenantCtx, action: string) => boolean;
}) {
  const { db, clock, audit } = deps;
  const canManageOthers = (ctx: TenantCtx) => deps.isAllowed(ctx, 'token:manage');

  async function create(ctx: UserCtx, input: { name: string; userId?: string; expiresAt?: string }) {
    const userId = input.userId ?? ctx.principal.userId;
    if (userId !== ctx.principal.userId && !canManageOthers(ctx)) {
      throw new ForbiddenError('Only admins can create tokens for other users; omit userId to create one for yourself.');
    }
    const now = clock.now();
    const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null;
    if (expiresAt && expiresAt.getTime() <= now.getTime()) {
      throw new ValidationError('expiresAt must be in the future.', [{ path: 'body.expiresAt', message: `must be after ${now.toISOString()}` }]);
    }
    return db.withTenant(ctx.tenantId, async (tx) => {
      const owner = await userRepo.get(tx, ctx.tenantId, userId);
      if (!owner) throw new NotFoundError('User', userId);
      if (owner.disabled) throw new ConflictError(`User ${userId} is disabled: enable the user before issuing tokens.`);
      const issued = issueApiToken();
      const row = await tokenRepo.insert(tx, {
        tenantId: ctx.tenantId,
        id: issued.id,
        userId,
        name: input.name,
        secretHash: issued.secretHash,
        createdBy: ctx.principal.userId,
        expiresAt,
      });
      await audit.record(tx, ctx, { action: 'token.create', target: { type: 'token', id: row.id }, after: tokenSummary(row) });
      return { ...toTokenDto(row, now), token: issued.token };
    });
  }

  async function list(ctx: UserCtx, query: { limit: number; cursor?: string; userId?: string }) {
    const after = decodeCursor(query.cursor, cursorShape)?.id;
    const userId = canManageOthers(ctx) ? query.userId : ctx.principal.userId;
    if (query.userId && query.userId !== userId) {
      throw new ForbiddenError('Only admins can list other users\' tokens; omit userId to list your own.');
    }
    const rows = await db.withTenant(ctx.tenantId, (tx) =>
      tokenRepo.list(tx, ctx.tenantId, { userId, after, limit: query.limit + 1 }),
    );
    const now = clock.now();
    const page = toPage(rows, query.limit, (last) => ({ id: last.id }));
    return { items: page.items.map((t) => toTokenDto(t, now)), nextCursor: page.nextCursor };
  }

  /** Revokes at once: authentication reads revoked_at on every request. Revoking twice changes nothing. */
  async function revoke(ctx: UserCtx, id: string): Promise<void> {
    await db.withTenant(ctx.tenantId, async (tx) => {
      const token = await tokenRepo.get(tx, ctx.tenantId, id);
      if (!token) throw new NotFoundError('Token', id);
      if (token.userId !== ctx.principal.userId && !canManageOthers(ctx)) {
        throw new ForbiddenError('You can revoke only your own tokens; an admin can revoke anyone\'s.');
      }
      if (token.revokedAt) return;
      const revokedAt = clock.now();
      await tokenRepo.revoke(tx, ctx.tenantId, id, revokedAt);
      await audit.record(tx, ctx, {
        action: 'token.revoke',
        target: { type: 'token', id },
        before: tokenSummary(token),
        after: tokenSummary({ ...token, revokedAt }),
      });
    });
  }

  return { create, list, revoke };
}

export type TokenService = ReturnType<typeof createTokenService>;
