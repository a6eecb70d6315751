/** SQL of the playbooks module. Every function takes the tenant id; row-level security backs it up. */
import type { Sql } from '../../platform/db.js';

export type Permission = 'view' | 'run' | 'edit' | 'admin';
export const PERMISSIONS: readonly Permission[] = ['view', 'run', 'edit', 'admin'];
export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type RunTrigger = 'manual' | 'schedule' | 'link';

export type PlaybookRow = {
  tenantId: string;
  id: string;
  name: string;
  description: string;
  tags: string[];
  ownerId: string;
  currentVersion: number;
  createdAt: Date;
  updatedAt: Date;
};
export type VersionRow = { playbookId: string; version: number; definition: Record<string, unknown>; createdBy: string; createdAt: Date };
export type GrantRow = {
  id: string;
  playbookId: string;
  subjectType: 'user' | 'role';
  subjectId: string;
  permission: Permission;
  createdBy: string;
  createdAt: Date;
};
export type RunRow = {
  tenantId: string;
  id: string;
  playbookId: string;
  version: number;
  status: RunStatus;
  trigger: RunTrigger;
  requestedBy: string | null;
  linkId: string | null;
  scheduleId: string | null;
  params: Record<string, unknown>;
  trace: unknown[];
  results: Record<string, unknown> | null;
  error: { stepId: string | null; message: string } | null;
  cancelRequested: boolean;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
};
export type AnnotationRow = { id: string; runId: string; entityId: string | null; text: string; authorId: string; createdAt: Date };
export type LinkRow = {
  tenantId: string;
  id: string;
  playbookId: string;
  runId: string | null;
  permission: 'view-results' | 'run';
  expiresAt: Date;
  revokedAt: Date | null;
  createdBy: string;
  createdAt: Date;
  uses: number;
  lastUsedAt: Date | null;
};
export type Branding = { name?: string | null; accentColor?: string | null; footerText?: string | null };
export type SettingsRow = {
  maxConcurrentRuns: number;
  maxRunsPerDay: number;
  minScheduleIntervalSeconds: number;
  maxSchedules: number;
  branding: Branding;
  logo: Buffer | null;
  logoMediaType: 'image/png' | 'image/jpeg' | null;
  updatedAt: Date | null;
};
export type RedactionRuleRow = { id: string; name: string; rule: Record<string, unknown>; createdBy: string; createdAt: Date };

export const DEFAULT_SETTINGS: SettingsRow = {
  maxConcurrentRuns: 4,
  maxRunsPerDay: 500,
  minScheduleIntervalSeconds: 300,
  maxSchedules: 50,
  branding: {},
  logo: null,
  logoMediaType: null,
  updatedAt: null,
};

const PLAYBOOK = `tenant_id as "tenantId", id, name, description, tags, owner_id as "ownerId",
  current_version as "currentVersion", created_at as "createdAt", updated_at as "updatedAt"`;
const GRANT = `id, playbook_id as "playbookId", subject_type as "subjectType", subject_id as "subjectId", permission,
  created_by as "createdBy", created_at as "createdAt"`;
const RUN = `tenant_id as "tenantId", id, playbook_id as "playbookId", version, status, trigger, requested_by as "requestedBy",
  link_id as "linkId", schedule_id as "scheduleId", params, trace, results, error, cancel_requested as "cancelRequested",
  created_at as "createdAt", started_at as "startedAt", finished_at as "finishedAt"`;
/** Runs without their results: lists stay small. */
const RUN_HEAD = RUN.replace('results,', 'null::jsonb as results,');
const LINK = `tenant_id as "tenantId", id, playbook_id as "playbookId", run_id as "runId", permission, expires_at as "expiresAt",
  revoked_at as "revokedAt", created_by as "createdBy", created_at as "createdAt", uses, last_used_at as "lastUsedAt"`;

export const playbookRepo = {
  async insert(tx: Sql, row: Omit<PlaybookRow, 'currentVersion' | 'updatedAt'>): Promise<PlaybookRow> {
    const { rows } = await tx.query<PlaybookRow>(
      `insert into playbooks (tenant_id, id, name, description, tags, owner_id, current_version, created_at, updated_at)
       values ($1, $2, $3, $4, $5, $6, 1, $7, $7) returning ${PLAYBOOK}`,
      [row.tenantId, row.id, row.name, row.description, row.tags, row.ownerId, row.createdAt.toISOString()],
    );
    return rows[0]!;
  },
  async update(tx: Sql, tenantId: string, id: string, patch: { name: string; description: string; tags: string[]; currentVersion: number; at: Date }): Promise<PlaybookRow> {
    const { rows } = await tx.query<PlaybookRow>(
      `update playbooks set name = $3, description = $4, tags = $5, current_version = $6, updated_at = $7
        where tenant_id = $1 and id = $2 returning ${PLAYBOOK}`,
      [tenantId, id, patch.name, patch.description, patch.tags, patch.currentVersion, patch.at.toISOString()],
    );
    return rows[0]!;
  },
  async get(tx: Sql, tenantId: string, id: string, forUpdate = false): Promise<PlaybookRow | null> {
    const { rows } = await tx.query<PlaybookRow>(
      `select ${PLAYBOOK} from playbooks where tenant_id = $1 and id = $2 ${forUpdate ? 'for update' : ''}`,
      [tenantId, id],
    );
    return rows[0] ?? null;
  },
  /** Newest first, optionally by tag and name prefix; the service filters what the caller may view. */
  async list(tx: Sql, tenantId: string, query: { after?: string; limit: number; tag?: string; q?: string }): Promise<PlaybookRow[]> {
    const { rows } = await tx.query<PlaybookRow>(
      `select ${PLAYBOOK} from playbooks
        where tenant_id = $1 and ($2::uuid is null or id < $2::uuid)
          and ($3::text is null or $3 = any(tags))
          and ($4::text is null or strpos(lower(name), lower($4)) > 0)
        order by id desc limit $5`,
      [tenantId, query.after ?? null, query.tag ?? null, query.q ?? null, query.limit],
    );
    return rows;
  },
  async delete(tx: Sql, tenantId: string, id: string): Promise<void> {
    await tx.query(`delete from playbooks where tenant_id = $1 and id = $2`, [tenantId, id]);
  },

  async insertVersion(tx: Sql, tenantId: string, row: VersionRow): Promise<void> {
    await tx.query(
      `insert into playbook_versions (tenant_id, playbook_id, version, definition, created_by, created_at)
       values ($1, $2, $3, $4::jsonb, $5, $6)`,
      [tenantId, row.playbookId, row.version, JSON.stringify(row.definition), row.createdBy, row.createdAt.toISOString()],
    );
  },
  async getVersion(tx: Sql, tenantId: string, playbookId: string, version: number): Promise<VersionRow | null> {
    const { rows } = await tx.query<VersionRow>(
      `select playbook_id as "playbookId", version, definition, created_by as "createdBy", created_at as "createdAt"
         from playbook_versions where tenant_id = $1 and playbook_id = $2 and version = $3`,
      [tenantId, playbookId, version],
    );
    return rows[0] ?? null;
  },
  async listVersions(tx: Sql, tenantId: string, playbookId: string, before: number | undefined, limit: number): Promise<VersionRow[]> {
    const { rows } = await tx.query<VersionRow>(
      `select playbook_id as "playbookId", version, definition, created_by as "createdBy", created_at as "createdAt"
         from playbook_versions where tenant_id = $1 and playbook_id = $2 and ($3::int is null or version < $3)
        order by version desc limit $4`,
      [tenantId, playbookId, before ?? null, limit],
    );
    return rows;
  },

  async grants(tx: Sql, tenantId: string, playbookIds: string[]): Promise<GrantRow[]> {
    if (playbookIds.length === 0) return [];
    const { rows } = await tx.query<GrantRow>(
      `select ${GRANT} from playbook_grants where tenant_id = $1 and playbook_id = any($2::uuid[]) order by created_at, id`,
      [tenantId, playbookIds],
    );
    return rows;
  },
  async getGrant(tx: Sql, tenantId: string, playbookId: string, id: string): Promise<GrantRow | null> {
    const { rows } = await tx.query<GrantRow>(
      `select ${GRANT} from playbook_grants where tenant_id = $1 and playbook_id = $2 and id = $3`,
      [tenantId, playbookId, id],
    );
    return rows[0] ?? null;
  },
  async insertGrant(tx: Sql, tenantId: string, row: GrantRow): Promise<GrantRow> {
    const { rows } = await tx.query<GrantRow>(
      `insert into playbook_grants (tenant_id, playbook_id, id, subject_type, subject_id, permission, created_by, created_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8) returning ${GRANT}`,
      [tenantId, row.playbookId, row.id, row.subjectType, row.subjectId, row.permission, row.createdBy, row.createdAt.toISOString()],
    );
    return rows[0]!;
  },
  async updateGrant(tx: Sql, tenantId: string, id: string, permission: Permission): Promise<GrantRow> {
    const { rows } = await tx.query<GrantRow>(
      `update playbook_grants set permission = $3 where tenant_id = $1 and id = $2 returning ${GRANT}`,
      [tenantId, id, permission],
    );
    return rows[0]!;
  },
  async deleteGrant(tx: Sql, tenantId: string, id: string): Promise<void> {
    await tx.query(`delete from playbook_grants where tenant_id = $1 and id = $2`, [tenantId, id]);
  },
};

export const runRepo = {
  async insert(tx: Sql, row: Pick<RunRow, 'tenantId' | 'id' | 'playbookId' | 'version' | 'status' | 'trigger' | 'requestedBy' | 'linkId' | 'scheduleId' | 'params' | 'createdAt'> & { error?: RunRow['error']; finishedAt?: Date | null }): Promise<RunRow> {
    const { rows } = await tx.query<RunRow>(
      `insert into playbook_runs (tenant_id, id, playbook_id, version, status, trigger, requested_by, link_id, schedule_id, params, error, created_at, finished_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb, $12, $13) returning ${RUN}`,
      [
        row.tenantId, row.id, row.playbookId, row.version, row.status, row.trigger, row.requestedBy, row.linkId, row.scheduleId,
        JSON.stringify(row.params), row.error ? JSON.stringify(row.error) : null, row.createdAt.toISOString(), row.finishedAt?.toISOString() ?? null,
      ],
    );
    return rows[0]!;
  },
  async get(tx: Sql, tenantId: string, id: string, forUpdate = false): Promise<RunRow | null> {
    const { rows } = await tx.query<RunRow>(`select ${RUN} from playbook_runs where tenant_id = $1 and id = $2 ${forUpdate ? 'for update' : ''}`, [tenantId, id]);
    return rows[0] ?? null;
  },
  async list(tx: Sql, tenantId: string, playbookId: string, after: string | undefined, limit: number, linkId?: string): Promise<RunRow[]> {
    const { rows } = await tx.query<RunRow>(
      `select ${RUN_HEAD} from playbook_runs
        where tenant_id = $1 and playbook_id = $2 and ($3::uuid is null or id < $3::uuid) and ($5::uuid is null or link_id = $5::uuid)
        order by id desc limit $4`,
      [tenantId, playbookId, after ?? null, limit, linkId ?? null],
    );
    return rows;
  },
  async latestSucceeded(tx: Sql, tenantId: string, playbookId: string): Promise<RunRow | null> {
    const { rows } = await tx.query<RunRow>(
      `select ${RUN} from playbook_runs where tenant_id = $1 and playbook_id = $2 and status = 'succeeded' order by id desc limit 1`,
      [tenantId, playbookId],
    );
    return rows[0] ?? null;
  },
  async countActive(tx: Sql, tenantId: string): Promise<number> {
    const { rows } = await tx.query<{ n: number }>(
      `select count(*)::int as n from playbook_runs where tenant_id = $1 and status in ('queued', 'running')`,
      [tenantId],
    );
    return rows[0]!.n;
  },
  async countSince(tx: Sql, tenantId: string, since: Date): Promise<number> {
    const { rows } = await tx.query<{ n: number }>(
      `select count(*)::int as n from playbook_runs where tenant_id = $1 and created_at >= $2`,
      [tenantId, since.toISOString()],
    );
    return rows[0]!.n;
  },
  async markRunning(tx: Sql, tenantId: string, id: string, at: Date): Promise<void> {
    await tx.query(`update playbook_runs set status = 'running', started_at = $3 where tenant_id = $1 and id = $2`, [tenantId, id, at.toISOString()]);
  },
  async finish(tx: Sql, tenantId: string, id: string, outcome: { status: RunStatus; trace: unknown[]; results: unknown; error: RunRow['error']; at: Date }): Promise<RunRow> {
    const { rows } = await tx.query<RunRow>(
      `update playbook_runs set status = $3, trace = $4::jsonb, results = $5::jsonb, error = $6::jsonb, finished_at = $7
        where tenant_id = $1 and id = $2 returning ${RUN}`,
      [tenantId, id, outcome.status, JSON.stringify(outcome.trace), outcome.results === null ? null : JSON.stringify(outcome.results),
        outcome.error ? JSON.stringify(outcome.error) : null, outcome.at.toISOString()],
    );
    return rows[0]!;
  },
  async requestCancel(tx: Sql, tenantId: string, id: string): Promise<void> {
    await tx.query(`update playbook_runs set cancel_requested = true where tenant_id = $1 and id = $2`, [tenantId, id]);
  },
  async cancelRequested(tx: Sql, tenantId: string, id: string): Promise<boolean> {
    const { rows } = await tx.query<{ c: boolean }>(`select cancel_requested as c from playbook_runs where tenant_id = $1 and id = $2`, [tenantId, id]);
    return rows[0]?.c ?? true;
  },

  async annotations(tx: Sql, tenantId: string, runId: string): Promise<AnnotationRow[]> {
    const { rows } = await tx.query<AnnotationRow>(
      `select id, run_id as "runId", entity_id as "entityId", text, author_id as "authorId", created_at as "createdAt"
         from run_annotations where tenant_id = $1 and run_id = $2 order by created_at, id`,
      [tenantId, runId],
    );
    return rows;
  },
  async insertAnnotation(tx: Sql, tenantId: string, row: AnnotationRow): Promise<AnnotationRow> {
    const { rows } = await tx.query<AnnotationRow>(
      `insert into run_annotations (tenant_id, id, run_id, entity_id, text, author_id, created_at) values ($1, $2, $3, $4, $5, $6, $7)
       returning id, run_id as "runId", entity_id as "entityId", text, author_id as "authorId", created_at as "createdAt"`,
      [tenantId, row.id, row.runId, row.entityId, row.text, row.authorId, row.createdAt.toISOString()],
    );
    return rows[0]!;
  },
  async saveExport(tx: Sql, tenantId: string, runId: string, format: 'md' | 'pdf', content: Buffer, sha256: string, at: Date): Promise<void> {
    await tx.query(
      `insert into run_exports (tenant_id, run_id, format, content, sha256, created_at) values ($1, $2, $3, $4, $5, $6)
       on conflict (tenant_id, run_id, format) do nothing`,
      [tenantId, runId, format, content, sha256, at.toISOString()],
    );
  },
  async getExport(tx: Sql, tenantId: string, runId: string, format: 'md' | 'pdf'): Promise<{ content: Buffer; sha256: string } | null> {
    const { rows } = await tx.query<{ content: Buffer | Uint8Array; sha256: string }>(
      `select content, sha256 from run_exports where tenant_id = $1 and run_id = $2 and format = $3`,
      [tenantId, runId, format],
    );
    const row = rows[0];
    return row ? { content: Buffer.from(row.content), sha256: row.sha256 } : null;
  },
};

export const linkRepo = {
  async insert(tx: Sql, row: Omit<LinkRow, 'revokedAt' | 'uses' | 'lastUsedAt'>): Promise<LinkRow> {
    const { rows } = await tx.query<LinkRow>(
      `insert into playbook_links (tenant_id, id, playbook_id, run_id, permission, expires_at, created_by, created_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8) returning ${LINK}`,
      [row.tenantId, row.id, row.playbookId, row.runId, row.permission, row.expiresAt.toISOString(), row.createdBy, row.createdAt.toISOString()],
    );
    return rows[0]!;
  },
  async get(tx: Sql, tenantId: string, id: string): Promise<LinkRow | null> {
    const { rows } = await tx.query<LinkRow>(`select ${LINK} from playbook_links where tenant_id = $1 and id = $2`, [tenantId, id]);
    return rows[0] ?? null;
  },
  async list(tx: Sql, tenantId: string, playbookId: string, after: string | undefined, limit: number): Promise<LinkRow[]> {
    const { rows } = await tx.query<LinkRow>(
      `select ${LINK} from playbook_links where tenant_id = $1 and playbook_id = $2 and ($3::uuid is null or id < $3::uuid)
        order by id desc limit $4`,
      [tenantId, playbookId, after ?? null, limit],
    );
    return rows;
  },
  async revoke(tx: Sql, tenantId: string, id: string, by: string, at: Date): Promise<LinkRow> {
    const { rows } = await tx.query<LinkRow>(
      `update playbook_links set revoked_at = coalesce(revoked_at, $4), revoked_by = coalesce(revoked_by, $3)
        where tenant_id = $1 and id = $2 returning ${LINK}`,
      [tenantId, id, by, at.toISOString()],
    );
    return rows[0]!;
  },
  async recordUse(tx: Sql, tenantId: string, id: string, at: Date): Promise<void> {
    await tx.query(`update playbook_links set uses = uses + 1, last_used_at = $3 where tenant_id = $1 and id = $2`, [tenantId, id, at.toISOString()]);
  },
};

export const settingsRepo = {
  async get(tx: Sql, tenantId: string): Promise<SettingsRow> {
    const { rows } = await tx.query<SettingsRow & { logo: Uint8Array | null }>(
      `select max_concurrent_runs as "maxConcurrentRuns", max_runs_per_day as "maxRunsPerDay",
              min_schedule_interval_seconds as "minScheduleIntervalSeconds", max_schedules as "maxSchedules",
              branding, logo, logo_media_type as "logoMediaType", updated_at as "updatedAt"
         from playbook_settings where tenant_id = $1`,
      [tenantId],
    );
    const row = rows[0];
    if (!row) return DEFAULT_SETTINGS;
    return { ...row, logo: row.logo ? Buffer.from(row.logo) : null };
  },
  async put(tx: Sql, tenantId: string, row: SettingsRow, by: string): Promise<void> {
    await tx.query(
      `insert into playbook_settings (tenant_id, max_concurrent_runs, max_runs_per_day, min_schedule_interval_seconds, max_schedules,
                                      branding, logo, logo_media_type, updated_by, updated_at)
       values ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10)
       on conflict (tenant_id) do update set max_concurrent_runs = excluded.max_concurrent_runs,
         max_runs_per_day = excluded.max_runs_per_day, min_schedule_interval_seconds = excluded.min_schedule_interval_seconds,
         max_schedules = excluded.max_schedules, branding = excluded.branding, logo = excluded.logo,
         logo_media_type = excluded.logo_media_type, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
      [tenantId, row.maxConcurrentRuns, row.maxRunsPerDay, row.minScheduleIntervalSeconds, row.maxSchedules,
        JSON.stringify(row.branding), row.logo, row.logoMediaType, by, (row.updatedAt ?? new Date()).toISOString()],
    );
  },
  async redactionRules(tx: Sql, tenantId: string): Promise<RedactionRuleRow[]> {
    const { rows } = await tx.query<RedactionRuleRow>(
      `select id, name, rule, created_by as "createdBy", created_at as "createdAt" from redaction_rules where tenant_id = $1 order by created_at, id`,
      [tenantId],
    );
    return rows;
  },
  async insertRedactionRule(tx: Sql, tenantId: string, row: RedactionRuleRow): Promise<RedactionRuleRow> {
    const { rows } = await tx.query<RedactionRuleRow>(
      `insert into redaction_rules (tenant_id, id, name, rule, created_by, created_at) values ($1, $2, $3, $4::jsonb, $5, $6)
       returning id, name, rule, created_by as "createdBy", created_at as "createdAt"`,
      [tenantId, row.id, row.name, JSON.stringify(row.rule), row.createdBy, row.createdAt.toISOString()],
    );
    return rows[0]!;
  },
  async deleteRedactionRule(tx: Sql, tenantId: string, id: string): Promise<RedactionRuleRow | null> {
    const { rows } = await tx.query<RedactionRuleRow>(
      `delete from redaction_rules where tenant_id = $1 and id = $2 returning id, name, rule, created_by as "createdBy", created_at as "createdAt"`,
      [tenantId, id],
    );
    return rows[0] ?? null;
  },
};

/** A stored time as ISO 8601 (pg and PGlite return Dates; a jsonb round trip returns strings). */
export function isoOf(value: Date | string): string {
  return new Date(value).toISOString();
}
