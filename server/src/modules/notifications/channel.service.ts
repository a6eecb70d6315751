import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import type { TenantCtx } from '../../platform/context.js';
import { isUniqueViolation, type Database } from '../../platform/db.js';
import { ConflictError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { decodeCursor, toPage } from '../../platform/pagination.js';
import type { AuditService } from '../audit/index.js';
import { channelSummary, toChannelDto } from './dto.js';
import type { CreateChannelInput } from './notifications.schemas.js';
import { channelRepo } from './notifications.repo.js';
import type { SecretBox } from '../../platform/secret-box.js';
import { checkOutboundUrl, type OutboundPolicy } from '../../platform/outbound-url.js';

const cursorShape = z.object({ id: z.uuid() });

/** Every raise enqueues one delivery per webhook channel; a cap keeps that fan-out bounded. */
export const MAX_CHANNELS_PER_TENANT = 20;

/** The associated data a channel's sealed secret is bound to. */
export function secretContext(tenantId: string, channelId: string): string {
  return `notification_channels:${tenantId}:${channelId}`;
}

export function createChannelService(deps: {
  db: Database;
  audit: Pick<AuditService, 'record'>;
  secrets: Pick<SecretBox, 'seal'>;
  urlPolicy: OutboundPolicy;
}) {
  const { db, audit, secrets } = deps;

  async function create(ctx: TenantCtx, input: CreateChannelInput) {
    let url: string | null = null;
    if (input.kind === 'webhook' && input.url !== undefined) {
      const check = checkOutboundUrl(input.url, deps.urlPolicy);
      if (!check.ok) throw new ValidationError(`The webhook url ${check.problem}.`, [{ path: 'body.url', message: check.problem }]);
      url = check.url.toString();
    }
    const id = uuidv7();
    try {
      return await db.withTenant(ctx.tenantId, async (tx) => {
        if ((await channelRepo.count(tx, ctx.tenantId)) >= MAX_CHANNELS_PER_TENANT) {
          throw new ConflictError(`A tenant has at most ${MAX_CHANNELS_PER_TENANT} notification channels: delete one first.`);
        }
        const channel = await channelRepo.insert(tx, {
          tenantId: ctx.tenantId,
          id,
          name: input.name,
          kind: input.kind,
          url,
          secretSealed: input.secret === undefined ? null : secrets.seal(input.secret, secretContext(ctx.tenantId, id)),
          createdBy: ctx.actor.id,
        });
        await audit.record(tx, ctx, {
          action: 'notification_channel.create',
          target: { type: 'notification_channel', id },
          after: channelSummary(channel),
        });
        return toChannelDto(channel);
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ConflictError(`A notification channel named "${input.name}" already exists in this tenant.`, { field: 'name' });
      }
      throw error;
    }
  }

  async function list(ctx: TenantCtx, query: { limit: number; cursor?: string }) {
    const after = decodeCursor(query.cursor, cursorShape)?.id;
    const rows = await db.withTenant(ctx.tenantId, (tx) => channelRepo.list(tx, ctx.tenantId, { after, limit: query.limit + 1 }));
    const page = toPage(rows, query.limit, (last) => ({ id: last.id }));
    return { items: page.items.map(toChannelDto), nextCursor: page.nextCursor };
  }

  /** Deliveries already queued for the channel find it gone and are dropped (see webhook.job.ts). */
  async function remove(ctx: TenantCtx, id: string): Promise<void> {
    await db.withTenant(ctx.tenantId, async (tx) => {
      const channel = await channelRepo.get(tx, ctx.tenantId, id);
      if (!channel) throw new NotFoundError('Notification channel', id);
      await channelRepo.delete(tx, ctx.tenantId, id);
      await audit.record(tx, ctx, {
        action: 'notification_channel.delete',
        target: { type: 'notification_channel', id },
        before: channelSummary(channel),
      });
    });
  }

  return { create, list, remove };
}

export type ChannelService = ReturnType<typeof createChannelService>;
