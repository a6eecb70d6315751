import type { Sql } from '../../platform/db.js';
import type { Rejection } from './stix/model.js';

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'partial' | 'failed';
export type RunRow = {
  id: string;
  kind: string;
  source: string;
  status: RunStatus;
  received: number;
  created: number;
  merged: number;
  rejected: number;
  rejections: Rejection[];
  warnings: string[];
  error: string | null;
  createdBy: string;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
};
const RUN_COLS = `id, kind, source, status, received, created, merged, rejected, rejections, warnings, error, created_by as "createdBy",
  created_at as "createdAt", started_at as "startedAt", finished_at as "finishedAt"`;

export type RunCounts = { received: number; created: number; merged: number; rejected: number };

// A run keeps the first rejections with their reasons; the count covers them all.
export const MAX_STORED_REJECTIONS = 1_000;

export const ingestRepo = {
  async create(tx: Sql, tenantId: string, run: { id: string; kind: string; source: string; createdBy: string; received: number; status: RunStatus }) {
    await tx.query(
      `insert into ingest_runs (tenant_id, id, kind, source, created_by, received, status, started_at)
       values ($1, $2, $3, $4, $5, $6, $7, case when $7 = 'running' then now() end)`,
      [tenantId, run.id, run.kind, run.source, run.createdBy, run.received, run.status],
    );
  },
  async savePayload(tx: Sql, tenantId: string, runId: string, payload: unknown) {
    await tx.query('insert into ingest_payloads (tenant_id, run_id, payload) values ($1, $2, $3::jsonb)', [tenantId, runId, JSON.stringify(payload)]);
  },
  async readPayload(tx: Sql, tenantId: string, runId: string): Promise<unknown | null> {
    const { rows } = await tx.query<{ payload: unknown }>('select payload from ingest_payloads where tenant_id = $1 and run_id = $2', [tenantId, runId]);
    return rows[0]?.payload ?? null;
  },
  async dropPayload(tx: Sql, tenantId: string, runId: string) {
    await tx.query('delete from ingest_payloads where tenant_id = $1 and run_id = $2', [tenantId, runId]);
  },
  /** One chunk of a queued run's objects (see migration 0010): seq orders them, firstIndex is the bundle index of the first. */
  async saveChunk(tx: Sql, tenantId: string, runId: string, chunk: { seq: number; firstIndex: number; objects: unknown[] }) {
    await tx.query('insert into ingest_chunks (tenant_id, run_id, seq, first_index, objects) values ($1, $2, $3, $4, $5::jsonb)', [
      tenantId,
      runId,
      chunk.seq,
      chunk.firstIndex,
      JSON.stringify(chunk.objects),
    ]);
  },
  async countChunks(tx: Sql, tenantId: string, runId: string): Promise<number> {
    const { rows } = await tx.query<{ n: number }>('select count(*)::int as n from ingest_chunks where tenant_id = $1 and run_id = $2', [tenantId, runId]);
    return rows[0]!.n;
  },
  async readChunk(tx: Sql, tenantId: string, runId: string, seq: number): Promise<{ firstIndex: number; objects: unknown[] } | null> {
    const { rows } = await tx.query<{ firstIndex: number; objects: unknown[] }>(
      'select first_index as "firstIndex", objects from ingest_chunks where tenant_id = $1 and run_id = $2 and seq = $3',
      [tenantId, runId, seq],
    );
    return rows[0] ?? null;
  },
  async dropChunks(tx: Sql, tenantId: string, runId: string) {
    await tx.query('delete from ingest_chunks where tenant_id = $1 and run_id = $2', [tenantId, runId]);
  },
  /** Chunks of uploads that never became a run (the process stopped mid-upload), older than the cutoff. */
  async sweepOrphanChunks(tx: Sql, tenantId: string, olderThan: Date): Promise<number> {
    const { rowCount } = await tx.query(
      `delete from ingest_chunks c where c.tenant_id = $1 and c.created_at < $2
          and not exists (select 1 from ingest_runs r where r.tenant_id = c.tenant_id and r.id = c.run_id)`,
      [tenantId, olderThan.toISOString()],
    );
    return rowCount;
  },
  async markRunning(tx: Sql, tenantId: string, runId: string) {
    await tx.query(`update ingest_runs set status = 'running', started_at = coalesce(started_at, now()) where tenant_id = $1 and id = $2`, [tenantId, runId]);
  },
  async addProgress(tx: Sql, tenantId: string, runId: string, counts: Omit<RunCounts, 'received'>, rejections: Rejection[]) {
    await tx.query(
      `update ingest_runs set created = created + $3, merged = merged + $4, rejected = rejected + $5,
              rejections = case when jsonb_array_length(rejections) >= $7 then rejections
                                else rejections || $6::jsonb end
        where tenant_id = $1 and id = $2`,
      [tenantId, runId, counts.created, counts.merged, counts.rejected, JSON.stringify(rejections.slice(0, MAX_STORED_REJECTIONS)), MAX_STORED_REJECTIONS],
    );
  },
  async finish(tx: Sql, tenantId: string, runId: string, status: RunStatus, fields: { error?: string; warnings?: string[] } = {}) {
    const { rows } = await tx.query<RunRow>(
      `update ingest_runs set status = $3, error = $4, warnings = warnings || $5::jsonb, finished_at = now()
        where tenant_id = $1 and id = $2 returning ${RUN_COLS}`,
      [tenantId, runId, status, fields.error ?? null, JSON.stringify(fields.warnings ?? [])],
    );
    return rows[0]!;
  },
  async get(tx: Sql, tenantId: string, runId: string): Promise<RunRow | null> {
    const { rows } = await tx.query<RunRow>(`select ${RUN_COLS} from ingest_runs where tenant_id = $1 and id = $2`, [tenantId, runId]);
    return rows[0] ?? null;
  },
  async list(tx: Sql, tenantId: string, beforeId: string | undefined, limit: number, filter: { status?: RunStatus; source?: string } = {}): Promise<RunRow[]> {
    const { rows } = await tx.query<RunRow>(
      `select ${RUN_COLS} from ingest_runs where tenant_id = $1 and ($2::uuid is null or id < $2::uuid)
          and ($4::text is null or status = $4) and ($5::text is null or source = $5)
        order by id desc limit $3`,
      [tenantId, beforeId ?? null, limit, filter.status ?? null, filter.source ?? null],
    );
    return rows;
  },
  async stats(tx: Sql, tenantId: string, since: Date): Promise<RunCounts> {
    const { rows } = await tx.query<RunCounts>(
      `select coalesce(sum(received), 0)::int as received, coalesce(sum(created), 0)::int as created,
              coalesce(sum(merged), 0)::int as merged, coalesce(sum(rejected), 0)::int as rejected
         from ingest_runs where tenant_id = $1 and finished_at >= $2`,
      [tenantId, since.toISOString()],
    );
    return rows[0]!;
  },
};
