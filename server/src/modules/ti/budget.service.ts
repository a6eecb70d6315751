/**
 * Monthly enrichment budgets: caps per provider, overrides, reservations against the caps, the 80% notification
 * and the block at 100%. Every reservation locks the month's usage row (budgetRepo.lockUsage), so concurrent
 * workers are serialised there and can never reserve past a cap together.
 */
import { v7 as uuidv7 } from 'uuid';
import type { Clock } from '../../platform/clock.js';
import type { Database, Sql } from '../../platform/db.js';
import { BudgetExhaustedError } from '../../platform/errors.js';
import type { UserCtx } from '../../platform/request-context.js';
import type { AuditScope, AuditService } from '../audit/index.js';
import type { NotificationsModule, RaiseScope } from '../notifications/index.js';
import {
  allowanceOf,
  callsRemaining,
  decideReservation,
  effectiveCaps,
  isAtNotifyThreshold,
  monthOf,
  percentUsed,
  resetTimeOf,
  type Caps,
  type MonthKey,
  type Usage,
} from './budget-math.js';
import { budgetRepo, usageOf, type BudgetRow, type OverrideRow, type UsageRow } from './budget.repo.js';

export type PricedProvider = { name: string; costCents: number };

export type BudgetStatus = {
  provider: string;
  month: MonthKey;
  timeZone: string;
  resetAt: string;
  costCentsPerCall: number;
  budget: Caps | null;
  effective: Caps | null;
  usage: Usage & { reservedCalls: number; reservedCostCents: number };
  overrides: Array<{ id: string; extraCalls: number; extraCostCents: number; until: string | null; reason: string; grantedBy: string; grantedAt: string; active: boolean }>;
  percent: { calls: number | null; cost: number | null };
  callsRemaining: number | null;
  state: 'uncapped' | 'ok' | 'warning' | 'exhausted';
  notifiedAt: string | null;
};

export type Reservation =
  | { kind: 'reserved'; ledgerId: string }
  | { kind: 'settled' }
  | { kind: 'blocked'; status: BudgetStatus; wakeAt: Date };

type Snapshot = { timeZone: string; month: MonthKey; budget: BudgetRow | null; overrides: OverrideRow[]; usage: UsageRow | undefined };

const iso = (d: Date | string) => new Date(d).toISOString();

export function createBudgetService(deps: {
  db: Database;
  clock: Clock;
  audit: Pick<AuditService, 'record'>;
  raise: NotificationsModule['raise'];
}) {
  const { db, clock, audit } = deps;

  function statusOf(provider: PricedProvider, snap: Snapshot, now: Date): BudgetStatus {
    const caps = effectiveCaps(snap.budget, allowanceOf(snap.overrides, now));
    const usage = usageOf(snap.usage);
    const remaining = callsRemaining(caps, usage, provider.costCents);
    const exhausted = caps !== null && !decideReservation(caps, usage, provider.costCents).allowed;
    return {
      provider: provider.name,
      month: snap.month,
      timeZone: snap.timeZone,
      resetAt: resetTimeOf(now, snap.timeZone).toISOString(),
      costCentsPerCall: provider.costCents,
      budget: snap.budget ? { maxCalls: snap.budget.maxCalls, maxCostCents: snap.budget.maxCostCents } : null,
      effective: caps,
      usage: { ...usage, reservedCalls: snap.usage?.callsReserved ?? 0, reservedCostCents: snap.usage?.costReservedCents ?? 0 },
      overrides: snap.overrides.map((o) => ({
        id: o.id,
        extraCalls: o.extraCalls,
        extraCostCents: o.extraCostCents,
        until: o.until ? iso(o.until) : null,
        reason: o.reason,
        grantedBy: o.grantedBy,
        grantedAt: iso(o.grantedAt),
        active: o.until === null || o.until.getTime() > now.getTime(),
      })),
      percent: caps ? { calls: percentUsed(usage.calls, caps.maxCalls), cost: percentUsed(usage.costCents, caps.maxCostCents) } : { calls: null, cost: null },
      callsRemaining: Number.isFinite(remaining) ? remaining : null,
      state: !caps ? 'uncapped' : exhausted ? 'exhausted' : isAtNotifyThreshold(caps, usage) ? 'warning' : 'ok',
      notifiedAt: snap.usage?.notifiedAt ? iso(snap.usage.notifiedAt) : null,
    };
  }

  async function snapshot(tx: Sql, tenantId: string, provider: string, now: Date, usage?: UsageRow): Promise<Snapshot> {
    const timeZone = await budgetRepo.timeZone(tx, tenantId);
    const month = monthOf(now, timeZone);
    const [budget, overrides, rows] = [
      await budgetRepo.budget(tx, tenantId, provider),
      await budgetRepo.overrides(tx, tenantId, month, provider),
      usage ? [usage] : await budgetRepo.usage(tx, tenantId, month),
    ];
    return { timeZone, month, budget, overrides, usage: rows.find((r) => r.provider === provider) };
  }

  /** Raises the 80% notification once per budget per month: the usage row remembers that it went out. */
  async function notifyIfDue(tx: Sql, scope: RaiseScope, status: BudgetStatus, usage: UsageRow): Promise<void> {
    if (usage.notifiedAt || !status.effective || !isAtNotifyThreshold(status.effective, status.usage)) return;
    const exhausted = status.state === 'exhausted';
    await deps.raise(tx, scope, {
      kind: 'ti.budget',
      groupKey: `ti.budget:${status.provider}:${status.month}`,
      severity: exhausted ? 'critical' : 'warning',
      title: `Enrichment budget for ${status.provider} is ${exhausted ? 'spent' : 'at 80%'} for ${status.month}`,
      detail:
        `${status.usage.calls} of ${status.effective.maxCalls} calls and ${status.usage.costCents} of ${status.effective.maxCostCents} cents used; ` +
        `the budget resets at ${status.resetAt}.`,
      data: { provider: status.provider, month: status.month, usage: status.usage, effective: status.effective, resetAt: status.resetAt },
    });
    await budgetRepo.markNotified(tx, scope.tenantId, status.provider, status.month, clock.now());
  }

  /**
   * Reserves one call for (job, entity) before the provider is called. A job that retries gets its earlier
   * reservation back (or learns the entity is already settled) instead of taking a second one. Blocked: the
   * budget's state and when a waiting job should look again (the reset).
   */
  async function reserve(scope: RaiseScope, provider: PricedProvider, ref: { jobId: string; entityId: string }): Promise<Reservation> {
    return db.withTenant(scope.tenantId, async (tx) => {
      const now = clock.now();
      const timeZone = await budgetRepo.timeZone(tx, scope.tenantId);
      const month = monthOf(now, timeZone);
      const locked = await budgetRepo.lockUsage(tx, scope.tenantId, provider.name, month);
      // Read under the lock, so a retry racing its own first attempt finds that attempt's reservation.
      const existing = await budgetRepo.ledgerEntry(tx, scope.tenantId, ref.jobId, ref.entityId);
      if (existing?.status === 'reserved') return { kind: 'reserved', ledgerId: existing.id };
      if (existing?.status === 'committed') return { kind: 'settled' };
      // A released entry (the provider never answered) is taken again below, through the caps like a new one.
      const before = statusOf(provider, await snapshot(tx, scope.tenantId, provider.name, now, locked), now);
      if (!decideReservation(before.effective, before.usage, provider.costCents).allowed) {
        await notifyIfDue(tx, scope, before, locked);
        return { kind: 'blocked', status: before, wakeAt: new Date(before.resetAt) };
      }
      await budgetRepo.addReservation(tx, scope.tenantId, provider.name, month, provider.costCents);
      const ledgerId = existing?.id ?? uuidv7();
      if (existing) await budgetRepo.deleteLedger(tx, scope.tenantId, existing.id);
      await budgetRepo.insertLedger(tx, scope.tenantId, {
        id: ledgerId,
        provider: provider.name,
        month,
        jobId: ref.jobId,
        entityId: ref.entityId,
        costCents: provider.costCents,
        reservedAt: now,
      });
      const after = await snapshot(tx, scope.tenantId, provider.name, now);
      await notifyIfDue(tx, scope, statusOf(provider, after, now), after.usage!);
      return { kind: 'reserved', ledgerId };
    });
  }

  /**
   * Settles a reservation in the caller's transaction: a charged call moves from reserved to used, an uncharged
   * one (the provider never answered, or rate-limited us) is released. The month is the reservation's own.
   */
  async function settle(tx: Sql, tenantId: string, ledgerId: string, outcome: { charged: boolean; verdict: string | null; error: string | null }) {
    const entry = await budgetRepo.ledgerById(tx, tenantId, ledgerId);
    if (!entry || entry.status !== 'reserved') return;
    await budgetRepo.lockUsage(tx, tenantId, entry.provider, entry.month);
    await budgetRepo.settleReservation(tx, tenantId, entry.provider, entry.month, entry.costCents, outcome.charged);
    await budgetRepo.settleLedger(tx, tenantId, ledgerId, { status: outcome.charged ? 'committed' : 'released', verdict: outcome.verdict, error: outcome.error, at: clock.now() });
  }

  /** Refuses (429 budget_exhausted) when not even one more call fits this month. */
  async function assertHeadroom(tx: Sql, tenantId: string, provider: PricedProvider): Promise<void> {
    const now = clock.now();
    const status = statusOf(provider, await snapshot(tx, tenantId, provider.name, now), now);
    if (status.state !== 'exhausted') return;
    throw new BudgetExhaustedError(
      `The ${provider.name} enrichment budget for ${status.month} is spent; it resets at ${status.resetAt}, or an admin can grant an override.`,
      { provider: provider.name, month: status.month, budget: status.effective, configured: status.budget, usage: status.usage, resetAt: status.resetAt },
    );
  }

  /**
   * Locks the provider's usage row of the current month. Changing caps takes this lock, as do reservations and a
   * job deciding to wait: so a job either sees a new override, or is already marked waiting when the override
   * looks for jobs to wake.
   */
  async function lockCurrentUsage(tx: Sql, tenantId: string, provider: string): Promise<MonthKey> {
    const month = monthOf(clock.now(), await budgetRepo.timeZone(tx, tenantId));
    await budgetRepo.lockUsage(tx, tenantId, provider, month);
    return month;
  }

  async function statusFor(tx: Sql, tenantId: string, provider: PricedProvider): Promise<BudgetStatus> {
    const now = clock.now();
    return statusOf(provider, await snapshot(tx, tenantId, provider.name, now), now);
  }

  async function updateBudget(tx: Sql, ctx: UserCtx, provider: PricedProvider, caps: Caps): Promise<BudgetStatus> {
    await lockCurrentUsage(tx, ctx.tenantId, provider.name);
    const before = await budgetRepo.budget(tx, ctx.tenantId, provider.name);
    await budgetRepo.upsertBudget(tx, ctx.tenantId, { provider: provider.name, ...caps, updatedBy: ctx.actor.id, at: clock.now() });
    await audit.record(tx, ctx, {
      action: 'ti.budget.update',
      target: { type: 'ti-budget', id: provider.name },
      before: before ? { maxCalls: before.maxCalls, maxCostCents: before.maxCostCents } : null,
      after: { ...caps },
    });
    return statusFor(tx, ctx.tenantId, provider);
  }

  async function grantOverride(
    tx: Sql,
    ctx: AuditScope & { tenantId: string },
    provider: PricedProvider,
    grant: { extraCalls: number; extraCostCents: number; until: Date | null; reason: string },
  ): Promise<{ id: string; status: BudgetStatus }> {
    const now = clock.now();
    const month = await lockCurrentUsage(tx, ctx.tenantId, provider.name);
    const row: OverrideRow = { id: uuidv7(), provider: provider.name, month, ...grant, grantedBy: ctx.actor.id, grantedAt: now };
    await budgetRepo.insertOverride(tx, ctx.tenantId, row);
    await audit.record(tx, ctx, {
      action: 'ti.budget.override',
      target: { type: 'ti-budget', id: provider.name },
      after: { overrideId: row.id, month, extraCalls: grant.extraCalls, extraCostCents: grant.extraCostCents, until: grant.until ? iso(grant.until) : null, reason: grant.reason },
    });
    return { id: row.id, status: await statusFor(tx, ctx.tenantId, provider) };
  }

  return { reserve, settle, assertHeadroom, statusFor, lockCurrentUsage, updateBudget, grantOverride };
}

export type BudgetService = ReturnType<typeof createBudgetService>;
