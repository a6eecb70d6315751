/** SQL of tenant-configured enrichment providers. */
import type { Sql } from '../../../platform/db.js';

export type ProviderRow = {
  name: string;
  kind: 'http';
  baseUrl: string;
  authHeader: string | null;
  authValueSealed: string | null;
  costCents: number;
  ratePerMinute: number;
  burst: number;
  timeoutMs: number;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
};

const COLUMNS = `name, kind, base_url as "baseUrl", auth_header as "authHeader", auth_value_sealed as "authValueSealed",
  cost_cents as "costCents", rate_per_minute as "ratePerMinute", burst, timeout_ms as "timeoutMs", enabled,
  created_at as "createdAt", updated_at as "updatedAt"`;

export const providerRepo = {
  async list(tx: Sql, tenantId: string): Promise<ProviderRow[]> {
    const { rows } = await tx.query<ProviderRow>(`select ${COLUMNS} from ti_providers where tenant_id = $1 order by name`, [tenantId]);
    return rows;
  },

  async get(tx: Sql, tenantId: string, name: string): Promise<ProviderRow | null> {
    const { rows } = await tx.query<ProviderRow>(`select ${COLUMNS} from ti_providers where tenant_id = $1 and name = $2`, [tenantId, name]);
    return rows[0] ?? null;
  },

  async insert(tx: Sql, tenantId: string, p: Omit<ProviderRow, 'kind'>): Promise<void> {
    await tx.query(
      `insert into ti_providers (tenant_id, name, kind, base_url, auth_header, auth_value_sealed, cost_cents, rate_per_minute, burst, timeout_ms,
         enabled, created_at, updated_at)
       values ($1, $2, 'http', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [tenantId, p.name, p.baseUrl, p.authHeader, p.authValueSealed, p.costCents, p.ratePerMinute, p.burst, p.timeoutMs, p.enabled, p.createdAt, p.updatedAt],
    );
  },

  async update(tx: Sql, tenantId: string, p: Omit<ProviderRow, 'kind' | 'createdAt'>): Promise<void> {
    await tx.query(
      `update ti_providers set base_url = $3, auth_header = $4, auth_value_sealed = $5, cost_cents = $6, rate_per_minute = $7, burst = $8,
              timeout_ms = $9, enabled = $10, updated_at = $11
        where tenant_id = $1 and name = $2`,
      [tenantId, p.name, p.baseUrl, p.authHeader, p.authValueSealed, p.costCents, p.ratePerMinute, p.burst, p.timeoutMs, p.enabled, p.updatedAt],
    );
  },
};
