import type { Sql } from '../../platform/db.js';
import type { JobErrorRecord } from '../../platform/jobs/job-types.js';

export type DlqStatus = 'dead' | 'replayed' | 'discarded';
export type DlqRow = {
  tenantId: string;
  id: string;
  queue: string;
  jobId: string;
  payload: unknown;
  attempts: number;
  errors: JobErrorRecord[];
  idempotencyKey: string;
  status: DlqStatus;
  replayCount: number;
  deadAt: Date;
  updatedAt: Date;
};

const COLS = `tenant_id as "tenantId", id, queue, job_id as "jobId", payload, attempts, errors,
  idempotency_key as "idempotencyKey", status, replay_count as "replayCount", dead_at as "deadAt", updated_at as "updatedAt"`;

export type DlqFilter = { queue?: string; status?: DlqStatus; ids?: string[]; afterId?: string; limit: number };

export const dlqRepo = {
  async list(tx: Sql, tenantId: string, filter: DlqFilter): Promise<DlqRow[]> {
    const { rows } = await tx.query<DlqRow>(
      `select ${COLS} from dlq_items
        where tenant_id = $1 and ($2::text is null or queue = $2) and ($3::text is null or status = $3)
          and ($4::uuid[] is null or id = any($4::uuid[])) and ($5::uuid is null or id > $5::uuid)
        order by id limit $6`,
      [tenantId, filter.queue ?? null, filter.status ?? null, filter.ids ?? null, filter.afterId ?? null, filter.limit],
    );
    return rows;
  },
  async get(tx: Sql, tenantId: string, id: string, forUpdate = false): Promise<DlqRow | null> {
    const { rows } = await tx.query<DlqRow>(
      `select ${COLS} from dlq_items where tenant_id = $1 and id = $2 ${forUpdate ? 'for update' : ''}`,
      [tenantId, id],
    );
    return rows[0] ?? null;
  },
  async setStatus(tx: Sql, tenantId: string, id: string, status: DlqStatus, replayed: boolean): Promise<DlqRow> {
    const { rows } = await tx.query<DlqRow>(
      `update dlq_items set status = $3, replay_count = replay_count + $4, updated_at = now()
        where tenant_id = $1 and id = $2 returning ${COLS}`,
      [tenantId, id, status, replayed ? 1 : 0],
    );
    return rows[0]!;
  },
};
