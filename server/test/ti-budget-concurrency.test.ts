/**
 * Reserve-then-commit under concurrency: many reservations racing (on PostgreSQL through two connection pools, as
 * two worker processes would) never take more than the caps allow, and the 80% notification goes out once.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { createPostgresDatabase, type Database } from '../src/platform/db.js';
import { createBudgetService } from '../src/modules/ti/budget.service.js';
import { budgetRepo } from '../src/modules/ti/budget.repo.js';
import { createTestApp, storeKind } from './harness.js';

const t = await createTestApp();
const second: Database | null = storeKind === 'postgres' ? createPostgresDatabase(t.url!, { max: 4 }) : null;
afterAll(async () => {
  await second?.close();
  await t.close();
});
const tenant = await t.createTenant();
const { audit, notifications } = t.summit.modules;
const workerA = createBudgetService({ db: t.db, clock: t.clock, audit, raise: notifications.raise });
const workerB = createBudgetService({ db: second ?? t.db, clock: t.clock, audit, raise: notifications.raise });
const scope = { tenantId: tenant.id, actor: { type: 'system' as const, id: 'test' }, requestId: null };

it('never reserves past either cap when workers reserve at once', async () => {
  await t.db.withTenant(tenant.id, (tx) => budgetRepo.upsertBudget(tx, tenant.id, { provider: 'local', maxCalls: 7, maxCostCents: 1_000, updatedBy: 'test', at: t.clock.now() }));
  const jobId = randomUUID();
  const attempts = Array.from({ length: 24 }, (_, i) =>
    (i % 2 ? workerA : workerB).reserve(scope, { name: 'local', costCents: 100 }, { jobId, entityId: randomUUID() }),
  );
  const results = await Promise.all(attempts);
  expect(results.filter((r) => r.kind === 'reserved')).toHaveLength(7);
  expect(results.filter((r) => r.kind === 'blocked')).toHaveLength(17);
  const blocked = results.find((r) => r.kind === 'blocked');
  const month = blocked?.kind === 'blocked' ? blocked.status.month : '';
  const usage = await t.db.withTenant(tenant.id, (tx) => budgetRepo.usage(tx, tenant.id, month));
  expect(usage).toMatchObject([{ provider: 'local', callsReserved: 7, costReservedCents: 700, callsUsed: 0 }]);
  const ledger = await t.db.withTenant(tenant.id, (tx) => tx.query<{ n: number }>(`select count(*)::int as n from ti_usage_ledger where tenant_id = $1 and status = 'reserved'`, [tenant.id]));
  expect(ledger.rows[0]!.n).toBe(7);
  // 7 of 7 calls passed 80% on the 6th reservation: one notification, however the reservations interleaved.
  const alerts = (await tenant.admin.get('/api/v1/notifications?limit=200')).json().items.filter((n: { title: string }) => n.title.includes('Enrichment budget'));
  expect(alerts).toHaveLength(1);
});

it('stops at the cost cap even when calls remain, with concurrent reservations of one job retried', async () => {
  const other = await t.createTenant();
  const s = { ...scope, tenantId: other.id };
  await t.db.withTenant(other.id, (tx) => budgetRepo.upsertBudget(tx, other.id, { provider: 'local', maxCalls: 1_000, maxCostCents: 250, updatedBy: 'test', at: t.clock.now() }));
  const jobId = randomUUID();
  const entityIds = Array.from({ length: 10 }, () => randomUUID());
  // Each entity asked for twice at once (a retry racing its first attempt): one reservation per entity at most.
  const results = await Promise.all([...entityIds, ...entityIds].map((entityId, i) => (i % 2 ? workerA : workerB).reserve(s, { name: 'local', costCents: 100 }, { jobId, entityId })));
  const reservedIds = new Set(results.flatMap((r) => (r.kind === 'reserved' ? [r.ledgerId] : [])));
  expect(reservedIds.size).toBe(2);
  const usage = await t.db.withTenant(other.id, (tx) => tx.query<{ calls: number; cost: number }>('select calls_reserved as calls, cost_reserved_cents as cost from ti_budget_usage where tenant_id = $1', [other.id]));
  expect(usage.rows).toEqual([{ calls: 2, cost: 200 }]);
});
