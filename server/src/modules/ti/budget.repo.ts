/** SQL of enrichment budgets: settings, caps, monthly usage, overrides and the usage ledger. tenantId is always given. */
import type { Sql } from '../../platform/db.js';
import type { Caps, MonthKey, OverrideGrant, Usage } from './budget-math.js';

export type UsageRow = {
  provider: string;
  month: MonthKey;
  callsReserved: number;
  costReservedCents: number;
  callsUsed: number;
  costUsedCents: number;
  notifiedAt: Date | null;
};
export type BudgetRow = Caps & { provider: string; updatedBy: string; updatedAt: Date };
export type OverrideRow = OverrideGrant & {
  id: string;
  provider: string;
  month: MonthKey;
  reason: string;
  grantedBy: string;
  grantedAt: Date;
};
export type LedgerRow = {
  id: string;
  provider: string;
  month: MonthKey;
  jobId: string;
  entityId: string;
  costCents: number;
  status: 'reserved' | 'committed' | 'released';
  verdict: string | null;
  error: string | null;
  reservedAt: Date;
  settledAt: Date | null;
};

const USAGE_COLUMNS = `provider, month, calls_reserved as "callsReserved", cost_reserved_cents as "costReservedCents",
  calls_used as "callsUsed", cost_used_cents as "costUsedCents", notified_at as "notifiedAt"`;
const LEDGER_COLUMNS = `id, provider, month, job_id as "jobId", entity_id as "entityId", cost_cents as "costCents", status, verdict,
  error, reserved_at as "reservedAt", settled_at as "settledAt"`;
const OVERRIDE_COLUMNS = `id, provider, month, extra_calls as "extraCalls", extra_cost_cents as "extraCostCents", until, reason,
  granted_by as "grantedBy", granted_at as "grantedAt"`;

/** Reserved and committed calls alike count against the caps. */
export function usageOf(row: UsageRow | undefined): Usage {
  return row ? { calls: row.callsReserved + row.callsUsed, costCents: row.costReservedCents + row.costUsedCents } : { calls: 0, costCents: 0 };
}

export const budgetRepo = {
  async timeZone(tx: Sql, tenantId: string): Promise<string> {
    const { rows } = await tx.query<{ timeZone: string }>('select time_zone as "timeZone" from ti_budget_settings where tenant_id = $1', [tenantId]);
    return rows[0]?.timeZone ?? 'UTC';
  },

  async setTimeZone(tx: Sql, tenantId: string, timeZone: string, at: Date): Promise<void> {
    await tx.query(
      `insert into ti_budget_settings (tenant_id, time_zone, updated_at) values ($1, $2, $3)
       on conflict (tenant_id) do update set time_zone = excluded.time_zone, updated_at = excluded.updated_at`,
      [tenantId, timeZone, at],
    );
  },

  async budgets(tx: Sql, tenantId: string): Promise<BudgetRow[]> {
    const { rows } = await tx.query<BudgetRow>(
      `select provider, max_calls as "maxCalls", max_cost_cents as "maxCostCents", updated_by as "updatedBy", updated_at as "updatedAt"
         from ti_budgets where tenant_id = $1 order by provider`,
      [tenantId],
    );
    return rows;
  },

  async budget(tx: Sql, tenantId: string, provider: string): Promise<BudgetRow | null> {
    const { rows } = await tx.query<BudgetRow>(
      `select provider, max_calls as "maxCalls", max_cost_cents as "maxCostCents", updated_by as "updatedBy", updated_at as "updatedAt"
         from ti_budgets where tenant_id = $1 and provider = $2`,
      [tenantId, provider],
    );
    return rows[0] ?? null;
  },

  async upsertBudget(tx: Sql, tenantId: string, b: Caps & { provider: string; updatedBy: string; at: Date }): Promise<void> {
    await tx.query(
      `insert into ti_budgets (tenant_id, provider, max_calls, max_cost_cents, updated_by, updated_at) values ($1, $2, $3, $4, $5, $6)
       on conflict (tenant_id, provider) do update
         set max_calls = excluded.max_calls, max_cost_cents = excluded.max_cost_cents, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
      [tenantId, b.provider, b.maxCalls, b.maxCostCents, b.updatedBy, b.at],
    );
  },

  async usage(tx: Sql, tenantId: string, month: MonthKey): Promise<UsageRow[]> {
    const { rows } = await tx.query<UsageRow>(`select ${USAGE_COLUMNS} from ti_budget_usage where tenant_id = $1 and month = $2 order by provider`, [
      tenantId,
      month,
    ]);
    return rows;
  },

  /**
   * The month's usage row for a provider, created if absent and locked until the transaction ends. Every
   * reservation goes through this lock, so two workers reserving at once are serialised on the row and the second
   * sees the first one's reservation before deciding.
   */
  async lockUsage(tx: Sql, tenantId: string, provider: string, month: MonthKey): Promise<UsageRow> {
    await tx.query(`insert into ti_budget_usage (tenant_id, provider, month) values ($1, $2, $3) on conflict do nothing`, [tenantId, provider, month]);
    const { rows } = await tx.query<UsageRow>(
      `select ${USAGE_COLUMNS} from ti_budget_usage where tenant_id = $1 and provider = $2 and month = $3 for update`,
      [tenantId, provider, month],
    );
    return rows[0]!;
  },

  async addReservation(tx: Sql, tenantId: string, provider: string, month: MonthKey, costCents: number): Promise<void> {
    await tx.query(
      `update ti_budget_usage set calls_reserved = calls_reserved + 1, cost_reserved_cents = cost_reserved_cents + $4
        where tenant_id = $1 and provider = $2 and month = $3`,
      [tenantId, provider, month, costCents],
    );
  },

  /** Settles one reservation: into used (charged) or back to nothing (released). */
  async settleReservation(tx: Sql, tenantId: string, provider: string, month: MonthKey, costCents: number, charged: boolean): Promise<void> {
    await tx.query(
      `update ti_budget_usage
          set calls_reserved = calls_reserved - 1, cost_reserved_cents = cost_reserved_cents - $4,
              calls_used = calls_used + $5, cost_used_cents = cost_used_cents + $6
        where tenant_id = $1 and provider = $2 and month = $3`,
      [tenantId, provider, month, costCents, charged ? 1 : 0, charged ? costCents : 0],
    );
  },

  async markNotified(tx: Sql, tenantId: string, provider: string, month: MonthKey, at: Date): Promise<void> {
    await tx.query(`update ti_budget_usage set notified_at = $4 where tenant_id = $1 and provider = $2 and month = $3`, [tenantId, provider, month, at]);
  },

  async overrides(tx: Sql, tenantId: string, month: MonthKey, provider?: string): Promise<OverrideRow[]> {
    const { rows } = await tx.query<OverrideRow>(
      `select ${OVERRIDE_COLUMNS} from ti_budget_overrides
        where tenant_id = $1 and month = $2 and ($3::text is null or provider = $3) order by granted_at, id`,
      [tenantId, month, provider ?? null],
    );
    return rows.map((r) => ({ ...r, until: r.until ? new Date(r.until) : null }));
  },

  async insertOverride(tx: Sql, tenantId: string, o: OverrideRow): Promise<void> {
    await tx.query(
      `insert into ti_budget_overrides (tenant_id, id, provider, month, extra_calls, extra_cost_cents, until, reason, granted_by, granted_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [tenantId, o.id, o.provider, o.month, o.extraCalls, o.extraCostCents, o.until, o.reason, o.grantedBy, o.grantedAt],
    );
  },

  async ledgerEntry(tx: Sql, tenantId: string, jobId: string, entityId: string): Promise<LedgerRow | null> {
    const { rows } = await tx.query<LedgerRow>(`select ${LEDGER_COLUMNS} from ti_usage_ledger where tenant_id = $1 and job_id = $2 and entity_id = $3`, [
      tenantId,
      jobId,
      entityId,
    ]);
    return rows[0] ?? null;
  },

  async ledgerById(tx: Sql, tenantId: string, id: string): Promise<LedgerRow | null> {
    const { rows } = await tx.query<LedgerRow>(`select ${LEDGER_COLUMNS} from ti_usage_ledger where tenant_id = $1 and id = $2 for update`, [tenantId, id]);
    return rows[0] ?? null;
  },

  async insertLedger(tx: Sql, tenantId: string, e: Pick<LedgerRow, 'id' | 'provider' | 'month' | 'jobId' | 'entityId' | 'costCents' | 'reservedAt'>): Promise<void> {
    await tx.query(
      `insert into ti_usage_ledger (tenant_id, id, provider, month, job_id, entity_id, cost_cents, status, reserved_at)
       values ($1, $2, $3, $4, $5, $6, $7, 'reserved', $8)`,
      [tenantId, e.id, e.provider, e.month, e.jobId, e.entityId, e.costCents, e.reservedAt],
    );
  },

  async deleteLedger(tx: Sql, tenantId: string, id: string): Promise<void> {
    await tx.query('delete from ti_usage_ledger where tenant_id = $1 and id = $2', [tenantId, id]);
  },

  async settleLedger(
    tx: Sql,
    tenantId: string,
    id: string,
    s: { status: 'committed' | 'released'; verdict: string | null; error: string | null; at: Date },
  ): Promise<void> {
    await tx.query(`update ti_usage_ledger set status = $3, verdict = $4, error = $5, settled_at = $6 where tenant_id = $1 and id = $2`, [
      tenantId,
      id,
      s.status,
      s.verdict,
      s.error,
      s.at,
    ]);
  },

  /** A page of the month's ledger, oldest first, keyed by (reserved_at, id). */
  async ledger(tx: Sql, tenantId: string, month: MonthKey, page: { limit: number; after?: { at: string; id: string } }): Promise<LedgerRow[]> {
    const { rows } = await tx.query<LedgerRow>(
      `select ${LEDGER_COLUMNS} from ti_usage_ledger
        where tenant_id = $1 and month = $2 and ($3::timestamptz is null or (reserved_at, id) > ($3::timestamptz, $4::uuid))
        order by reserved_at, id limit $5`,
      [tenantId, month, page.after?.at ?? null, page.after?.id ?? null, page.limit + 1],
    );
    return rows;
  },
};
