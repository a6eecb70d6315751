import { Gauge, type Registry } from 'prom-client';
import type { Database } from '../../platform/db.js';

/**
 * dlq_depth{queue}: dead letters still waiting for a decision, over all tenants (by queue only, so the series count
 * stays bounded however many tenants there are). Counted when Prometheus scrapes.
 */
export function registerDlqDepthGauge(registry: Registry, db: Database): void {
  new Gauge({
    name: 'dlq_depth',
    help: 'Dead-letter items with status dead, by queue.',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      const { rows } = await db.withSystem((tx) =>
        tx.query<{ queue: string; n: number }>(`select queue, count(*)::int as n from dlq_items where status = 'dead' group by queue`),
      );
      this.reset();
      for (const row of rows) this.set({ queue: row.queue }, row.n);
    },
  });
}
