import type { Sql } from '../../platform/db.js';
import type { Rejection } from './stix/model.js';
import type { Mapping } from './schema-mapping.js';
import { MAX_STORED_REJECTIONS, type RunStatus } from './ingest.repo.js';

export type SchemaStatus = 'pending' | 'approved';
export type SchemaRow = {
  id: string;
  name: string;
  version: number;
  jsonSchema: Record<string, unknown>;
  mapping: Mapping;
  status: SchemaStatus;
  submittedBy: string;
  submittedAt: Date;
  approvedBy: string | null;
  approvedAt: Date | null;
};
const SCHEMA_COLS = `id, name, version, json_schema as "jsonSchema", mapping, status, submitted_by as "submittedBy",
  submitted_at as "submittedAt", approved_by as "approvedBy", approved_at as "approvedAt"`;

export type OverrideRow = { id: string; schemaId: string; reason: string; expiresAt: Date; grantedBy: string; grantedAt: Date };
const OVERRIDE_COLS = `id, schema_id as "schemaId", reason, expires_at as "expiresAt", granted_by as "grantedBy", granted_at as "grantedAt"`;

export const schemaRepo = {
  async insert(tx: Sql, tenantId: string, row: Omit<SchemaRow, 'status' | 'approvedBy' | 'approvedAt'>): Promise<SchemaRow> {
    const { rows } = await tx.query<SchemaRow>(
      `insert into ingest_schemas (tenant_id, id, name, version, json_schema, mapping, submitted_by, submitted_at)
       values ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8) returning ${SCHEMA_COLS}`,
      [tenantId, row.id, row.name, row.version, JSON.stringify(row.jsonSchema), JSON.stringify(row.mapping), row.submittedBy, row.submittedAt.toISOString()],
    );
    return rows[0]!;
  },
  async get(tx: Sql, tenantId: string, id: string, forUpdate = false): Promise<SchemaRow | null> {
    const { rows } = await tx.query<SchemaRow>(
      `select ${SCHEMA_COLS} from ingest_schemas where tenant_id = $1 and id = $2${forUpdate ? ' for update' : ''}`,
      [tenantId, id],
    );
    return rows[0] ?? null;
  },
  async findVersion(tx: Sql, tenantId: string, name: string, version: number): Promise<SchemaRow | null> {
    const { rows } = await tx.query<SchemaRow>(`select ${SCHEMA_COLS} from ingest_schemas where tenant_id = $1 and name = $2 and version = $3`, [
      tenantId,
      name,
      version,
    ]);
    return rows[0] ?? null;
  },
  /** Newest first (ids are UUIDv7). */
  async list(tx: Sql, tenantId: string, f: { name?: string; status?: SchemaStatus; beforeId?: string; limit: number }): Promise<SchemaRow[]> {
    const { rows } = await tx.query<SchemaRow>(
      `select ${SCHEMA_COLS} from ingest_schemas
        where tenant_id = $1 and ($2::text is null or name = $2) and ($3::text is null or status = $3) and ($4::uuid is null or id < $4::uuid)
        order by id desc limit $5`,
      [tenantId, f.name ?? null, f.status ?? null, f.beforeId ?? null, f.limit],
    );
    return rows;
  },
  async approve(tx: Sql, tenantId: string, id: string, by: string, at: Date): Promise<SchemaRow> {
    const { rows } = await tx.query<SchemaRow>(
      `update ingest_schemas set status = 'approved', approved_by = $3, approved_at = $4 where tenant_id = $1 and id = $2 returning ${SCHEMA_COLS}`,
      [tenantId, id, by, at.toISOString()],
    );
    return rows[0]!;
  },
  async insertOverride(tx: Sql, tenantId: string, row: OverrideRow): Promise<OverrideRow> {
    const { rows } = await tx.query<OverrideRow>(
      `insert into ingest_schema_overrides (tenant_id, id, schema_id, reason, expires_at, granted_by, granted_at)
       values ($1, $2, $3, $4, $5, $6, $7) returning ${OVERRIDE_COLS}`,
      [tenantId, row.id, row.schemaId, row.reason, row.expiresAt.toISOString(), row.grantedBy, row.grantedAt.toISOString()],
    );
    return rows[0]!;
  },
  /** The override of a schema in force at `at` that lasts longest, if any. */
  async activeOverride(tx: Sql, tenantId: string, schemaId: string, at: Date): Promise<OverrideRow | null> {
    const { rows } = await tx.query<OverrideRow>(
      `select ${OVERRIDE_COLS} from ingest_schema_overrides
        where tenant_id = $1 and schema_id = $2 and granted_at <= $3 and expires_at > $3 order by expires_at desc limit 1`,
      [tenantId, schemaId, at.toISOString()],
    );
    return rows[0] ?? null;
  },
  async listOverrides(tx: Sql, tenantId: string, schemaId: string, limit = 20): Promise<OverrideRow[]> {
    const { rows } = await tx.query<OverrideRow>(
      `select ${OVERRIDE_COLS} from ingest_schema_overrides where tenant_id = $1 and schema_id = $2 order by id desc limit $3`,
      [tenantId, schemaId, limit],
    );
    return rows;
  },
  /**
   * Completes an ingest run made from records: the ingest service counted the STIX objects the valid records
   * became; this adds each rejected record (one received, one rejected), replaces the rejections with the
   * record-indexed list, appends the approval warnings and settles the status on the full counts.
   */
  async completeRecordsRun(
    tx: Sql,
    tenantId: string,
    runId: string,
    fields: { rejectedRecords: number; rejections: Rejection[]; warnings: string[]; status: RunStatus },
  ): Promise<void> {
    await tx.query(
      `update ingest_runs set kind = 'records', received = received + $3, rejected = rejected + $3, rejections = $4::jsonb,
              warnings = warnings || $5::jsonb, status = $6
        where tenant_id = $1 and id = $2`,
      [tenantId, runId, fields.rejectedRecords, JSON.stringify(fields.rejections.slice(0, MAX_STORED_REJECTIONS)), JSON.stringify(fields.warnings), fields.status],
    );
  },
};
