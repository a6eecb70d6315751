/**
 * The budget use cases behind the HTTP API: list, set caps, grant overrides, read usage and the ledger, and the
 * tenant's budget time zone. Raising a cap or granting an override wakes the provider's waiting enrichment jobs
 * in the same transaction.
 */
import { z } from 'zod';
import type { Clock } from '../../platform/clock.js';
import type { Database } from '../../platform/db.js';
import { NotFoundError, ValidationError } from '../../platform/errors.js';
import { decodeCursor, toPage } from '../../platform/pagination.js';
import type { UserCtx } from '../../platform/request-context.js';
import type { AuditService } from '../audit/index.js';
import { isTimeZone, monthOf, MONTH_RE, type Caps } from './budget-math.js';
import { budgetRepo } from './budget.repo.js';
import type { BudgetService } from './budget.service.js';
import type { EnrichmentService } from './enrichment.service.js';
import type { ProviderService } from './providers/provider.service.js';

const cursorShape = z.object({ at: z.string(), id: z.uuid() });
const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

export function createBudgetAdminService(deps: {
  db: Database;
  clock: Clock;
  audit: Pick<AuditService, 'record'>;
  budgets: BudgetService;
  providers: Pick<ProviderService, 'resolve' | 'names'>;
  enrichment: Pick<EnrichmentService, 'wakeWaiting'>;
}) {
  const { db, clock, audit, budgets, providers, enrichment } = deps;

  async function providerOf(tx: Parameters<ProviderService['resolve']>[0], tenantId: string, name: string) {
    const provider = await providers.resolve(tx, tenantId, name);
    if (!provider) throw new NotFoundError('Enrichment provider', name);
    return provider;
  }

  return {
    async list(ctx: UserCtx) {
      return db.withTenant(ctx.tenantId, async (tx) => {
        const items = [];
        for (const name of await providers.names(tx, ctx.tenantId)) {
          const provider = await providers.resolve(tx, ctx.tenantId, name);
          items.push(await budgets.statusFor(tx, ctx.tenantId, provider ?? { name, costCents: 0 }));
        }
        return { items };
      });
    },

    async update(ctx: UserCtx, name: string, caps: Caps) {
      return db.withTenant(ctx.tenantId, async (tx) => {
        const provider = await providerOf(tx, ctx.tenantId, name);
        const status = await budgets.updateBudget(tx, ctx, provider, caps);
        if (status.state !== 'exhausted') await enrichment.wakeWaiting(tx, ctx, name);
        return status;
      });
    },

    async grantOverride(ctx: UserCtx, name: string, body: { extraCalls?: number; extraCostCents?: number; until?: string; reason: string }) {
      const until = body.until ? new Date(body.until) : null;
      if (until && until.getTime() <= clock.now().getTime()) {
        throw new ValidationError('The override would end before it starts.', [{ path: 'body.until', message: 'must be in the future' }]);
      }
      return db.withTenant(ctx.tenantId, async (tx) => {
        const provider = await providerOf(tx, ctx.tenantId, name);
        const granted = await budgets.grantOverride(tx, ctx, provider, {
          extraCalls: body.extraCalls ?? 0,
          extraCostCents: body.extraCostCents ?? 0,
          until,
          reason: body.reason,
        });
        const woken = granted.status.state !== 'exhausted' ? await enrichment.wakeWaiting(tx, ctx, name) : [];
        return { overrideId: granted.id, budget: granted.status, wokenJobIds: woken };
      });
    },

    async usage(ctx: UserCtx, query: { month?: string; limit: number; cursor?: string }) {
      const after = decodeCursor(query.cursor, cursorShape);
      return db.withTenant(ctx.tenantId, async (tx) => {
        const timeZone = await budgetRepo.timeZone(tx, ctx.tenantId);
        const month = query.month ?? monthOf(clock.now(), timeZone);
        if (!MONTH_RE.test(month)) throw new ValidationError('month must be YYYY-MM.', [{ path: 'querystring.month', message: 'expected YYYY-MM' }]);
        const totals = await budgetRepo.usage(tx, ctx.tenantId, month);
        const rows = await budgetRepo.ledger(tx, ctx.tenantId, month, { limit: query.limit, after });
        const page = toPage(rows, query.limit, (last) => ({ at: iso(last.reservedAt)!, id: last.id }));
        return {
          month,
          timeZone,
          providers: totals.map((t) => ({
            provider: t.provider,
            calls: t.callsUsed,
            costCents: t.costUsedCents,
            reservedCalls: t.callsReserved,
            reservedCostCents: t.costReservedCents,
            notifiedAt: iso(t.notifiedAt),
          })),
          items: page.items.map((e) => ({
            id: e.id,
            provider: e.provider,
            jobId: e.jobId,
            entityId: e.entityId,
            costCents: e.costCents,
            status: e.status,
            verdict: e.verdict,
            error: e.error,
            reservedAt: iso(e.reservedAt)!,
            settledAt: iso(e.settledAt),
          })),
          nextCursor: page.nextCursor,
        };
      });
    },

    async settings(ctx: UserCtx) {
      return { timeZone: await db.withTenant(ctx.tenantId, (tx) => budgetRepo.timeZone(tx, ctx.tenantId)) };
    },

    async updateSettings(ctx: UserCtx, body: { timeZone: string }) {
      if (!isTimeZone(body.timeZone)) {
        throw new ValidationError(`"${body.timeZone}" is not an IANA time zone.`, [{ path: 'body.timeZone', message: 'not an IANA time zone (e.g. Europe/Berlin)' }]);
      }
      return db.withTenant(ctx.tenantId, async (tx) => {
        const before = await budgetRepo.timeZone(tx, ctx.tenantId);
        await budgetRepo.setTimeZone(tx, ctx.tenantId, body.timeZone, clock.now());
        await audit.record(tx, ctx, { action: 'ti.budget.settings.update', target: { type: 'ti-budget-settings', id: ctx.tenantId }, before: { timeZone: before }, after: { timeZone: body.timeZone } });
        return { timeZone: body.timeZone };
      });
    },
  };
}

export type BudgetAdminService = ReturnType<typeof createBudgetAdminService>;
