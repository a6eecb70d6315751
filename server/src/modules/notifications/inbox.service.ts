import { z } from 'zod';
import type { Clock } from '../../platform/clock.js';
import type { TenantCtx } from '../../platform/context.js';
import type { Database, Sql } from '../../platform/db.js';
import { NotFoundError } from '../../platform/errors.js';
import { decodeCursor, toPage } from '../../platform/pagination.js';
import type { AuditService } from '../audit/index.js';
import { toNotificationDto } from './dto.js';
import { inboxRepo, type InboxRow } from './notifications.repo.js';

const cursorShape = z.object({ id: z.uuid() });

/** The tenant's inbox. Read state is shared by the tenant's members: one person triaging clears it for all. */
export function createInboxService(deps: { db: Database; clock: Clock; audit: Pick<AuditService, 'record'> }) {
  const { db, clock, audit } = deps;

  async function mustGet(tx: Sql, ctx: TenantCtx, id: string): Promise<InboxRow> {
    const row = await inboxRepo.get(tx, ctx.tenantId, id);
    if (!row) throw new NotFoundError('Notification', id);
    return row;
  }

  async function list(ctx: TenantCtx, query: { limit: number; cursor?: string; unread?: boolean }) {
    const before = decodeCursor(query.cursor, cursorShape)?.id;
    const rows = await db.withTenant(ctx.tenantId, (tx) =>
      inboxRepo.list(tx, ctx.tenantId, { unread: query.unread, before, limit: query.limit + 1 }),
    );
    const page = toPage(rows, query.limit, (last) => ({ id: last.id }));
    return { items: page.items.map(toNotificationDto), nextCursor: page.nextCursor };
  }

  async function update(ctx: TenantCtx, id: string, patch: { read: boolean }) {
    return db.withTenant(ctx.tenantId, async (tx) => {
      const before = await mustGet(tx, ctx, id);
      const changed = await inboxRepo.setRead(tx, ctx.tenantId, id, patch.read ? { at: clock.now(), by: ctx.actor.id } : null);
      if (!changed) return toNotificationDto(before);
      await audit.record(tx, ctx, {
        action: 'notification.update',
        target: { type: 'notification', id },
        before: { read: before.readAt !== null },
        after: { read: patch.read },
      });
      return toNotificationDto(await mustGet(tx, ctx, id));
    });
  }

  async function markAllRead(ctx: TenantCtx) {
    return db.withTenant(ctx.tenantId, async (tx) => {
      const updated = await inboxRepo.markAllRead(tx, ctx.tenantId, { at: clock.now(), by: ctx.actor.id });
      if (updated > 0) await audit.record(tx, ctx, { action: 'notification.read_all', after: { updated } });
      return { updated };
    });
  }

  return { list, update, markAllRead };
}

export type InboxService = ReturnType<typeof createInboxService>;
