import type { Sql } from '../../platform/db.js';
import type { SightingRow } from './relationship.repo.js';
import type { NormalizedEntity, Tlp } from './stix/model.js';

export type EntityRow = {
  tenantId: string;
  id: string;
  stixId: string;
  type: string;
  key: string;
  name: string;
  properties: Record<string, unknown>;
  confidence: number | null;
  tlp: Tlp | null;
  firstSeen: Date | null;
  lastSeen: Date | null;
  createdAt: Date;
  modifiedAt: Date;
};

export const ENTITY_COLS = `tenant_id as "tenantId", id, stix_id as "stixId", type, key, name, properties, confidence, tlp,
  first_seen as "firstSeen", last_seen as "lastSeen", created_at as "createdAt", modified_at as "modifiedAt"`;

/**
 * A timestamptz as JavaScript's Date#toISOString writes it (UTC, milliseconds, `Z`): to_char truncates microseconds
 * as the drivers do when they build a Date, so both ways give the same text.
 */
export const isoSql = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * The select list that turns an entity row of alias `e` into the fields of toEntityDto (graph.dto.ts), for responses
 * the database writes as JSON itself (the neighbourhood, via row_to_json): the same fields, in the same order, with
 * the same text for every value.
 */
export const entityDtoColumnsSql = (e: string) => `${e}.id, ${e}.stix_id as "stixId", ${e}.type, ${e}.key, ${e}.name, ${e}.properties,
  ${e}.confidence, ${e}.tlp, ${isoSql(`${e}.first_seen`)} as "firstSeen", ${isoSql(`${e}.last_seen`)} as "lastSeen",
  ${isoSql(`${e}.created_at`)} as "createdAt", ${isoSql(`${e}.modified_at`)} as "modifiedAt"`;

export type EntityFilter = {
  type?: string[];
  q?: string;
  minConfidence?: number;
  tlp?: Tlp[];
  source?: string;
  since?: Date;
  afterId?: string;
  limit: number;
};

export type Provenance = { source: string; runId: string | null; originalId: string | null; confidence: number | null; at: Date };

/** An entity with every provenance row and its latest sightings, as GET /entities/{id} shows it. */
export type EntityDetailRow = EntityRow & { provenance: Provenance[]; sightings: SightingRow[] };

/** Timestamps inside json come back as ISO strings (with microseconds and an offset); rows elsewhere carry Dates. */
const asDate = (value: string | null): Date | null => (value === null ? null : new Date(value));

export const entityRepo = {
  /**
   * Inserts an entity or merges into the one with the same (type, key): seen-times widen, the higher confidence
   * wins, properties are merged (the newer assertion's values win). Returns the id and whether it was new.
   */
  async upsert(tx: Sql, tenantId: string, id: string, e: NormalizedEntity): Promise<{ id: string; created: boolean }> {
    const { rows } = await tx.query<{ id: string; created: boolean }>(
      `insert into entities (tenant_id, id, stix_id, type, key, name, properties, confidence, tlp, first_seen, last_seen)
       values ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11)
       on conflict (tenant_id, type, key) do update set
         properties = entities.properties || excluded.properties,
         confidence = greatest(entities.confidence, excluded.confidence),
         tlp = coalesce(entities.tlp, excluded.tlp),
         first_seen = least(entities.first_seen, excluded.first_seen),
         last_seen = greatest(entities.last_seen, excluded.last_seen),
         modified_at = now()
       returning id, (xmax = 0) as created`,
      [tenantId, id, e.stixId, e.type, e.key, e.name, JSON.stringify(e.properties), e.confidence, e.tlp, e.firstSeen, e.lastSeen],
    );
    return rows[0]!;
  },
  async get(tx: Sql, tenantId: string, id: string): Promise<EntityRow | null> {
    const { rows } = await tx.query<EntityRow>(`select ${ENTITY_COLS} from entities where tenant_id = $1 and id = $2`, [tenantId, id]);
    return rows[0] ?? null;
  },
  /**
   * The entity, its provenance (oldest assertion first) and its latest `sightingLimit` sightings in one statement:
   * one round trip where three separate reads would take three.
   */
  async getDetail(tx: Sql, tenantId: string, id: string, sightingLimit: number): Promise<EntityDetailRow | null> {
    type Raw = EntityRow & {
      provenance: Array<Omit<Provenance, 'at'> & { at: string }>;
      sightings: Array<Omit<SightingRow, 'firstSeen' | 'lastSeen' | 'createdAt'> & { firstSeen: string | null; lastSeen: string | null; createdAt: string }>;
    };
    const { rows } = await tx.query<Raw>(
      `select ${ENTITY_COLS},
         coalesce((select json_agg(json_build_object('source', p.source, 'runId', p.ingest_run_id, 'originalId', p.original_id,
                                                     'confidence', p.confidence, 'at', p.asserted_at) order by p.asserted_at, p.source)
                     from provenance p where p.tenant_id = e.tenant_id and p.subject_kind = 'entity' and p.subject_id = e.id), '[]') as provenance,
         coalesce((select json_agg(json_build_object('id', s.id, 'stixId', s.stix_id, 'entityId', s.entity_id, 'count', s.count,
                                                     'firstSeen', s.first_seen, 'lastSeen', s.last_seen, 'whereSighted', s.where_sighted,
                                                     'truePositive', s.true_positive, 'confidence', s.confidence, 'createdAt', s.created_at)
                            order by s.last_seen desc nulls last, s.id)
                     from (select * from sightings where tenant_id = e.tenant_id and entity_id = e.id
                            order by last_seen desc nulls last, id limit $3) s), '[]') as sightings
         from entities e where e.tenant_id = $1 and e.id = $2`,
      [tenantId, id, sightingLimit],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      ...row,
      provenance: row.provenance.map((p) => ({ ...p, at: new Date(p.at) })),
      sightings: row.sightings.map((s) => ({ ...s, firstSeen: asDate(s.firstSeen), lastSeen: asDate(s.lastSeen), createdAt: new Date(s.createdAt) })),
    };
  },
  async getMany(tx: Sql, tenantId: string, ids: string[]): Promise<EntityRow[]> {
    if (!ids.length) return [];
    const { rows } = await tx.query<EntityRow>(`select ${ENTITY_COLS} from entities where tenant_id = $1 and id = any($2::uuid[])`, [tenantId, ids]);
    return rows;
  },
  async findByKey(tx: Sql, tenantId: string, type: string, key: string): Promise<EntityRow | null> {
    const { rows } = await tx.query<EntityRow>(`select ${ENTITY_COLS} from entities where tenant_id = $1 and type = $2 and key = $3`, [tenantId, type, key]);
    return rows[0] ?? null;
  },
  async list(tx: Sql, tenantId: string, f: EntityFilter): Promise<EntityRow[]> {
    const where = ['e.tenant_id = $1'];
    const params: unknown[] = [tenantId];
    const add = (clause: string, value: unknown) => {
      params.push(value);
      where.push(clause.replaceAll('?', `$${params.length}`));
    };
    if (f.type?.length) add('e.type = any(?::text[])', f.type);
    // Prefix matches use the index; substring matches scan within the other filters (bounded by the page).
    if (f.q) add(`(lower(e.name) like lower(?) || '%' or strpos(lower(e.name), lower(?)) > 0 or strpos(e.key, lower(?)) > 0)`, f.q);
    if (f.minConfidence !== undefined) add('e.confidence >= ?', f.minConfidence);
    if (f.tlp?.length) add('e.tlp = any(?::text[])', f.tlp);
    if (f.since) add('e.modified_at >= ?', f.since.toISOString());
    if (f.source) add(`exists (select 1 from provenance p where p.tenant_id = e.tenant_id and p.subject_kind = 'entity' and p.subject_id = e.id and p.source = ?)`, f.source);
    if (f.afterId) add('e.id > ?::uuid', f.afterId);
    params.push(f.limit);
    const { rows } = await tx.query<EntityRow>(
      `select ${ENTITY_COLS} from entities e where ${where.join(' and ')} order by e.id limit $${params.length}`,
      params,
    );
    return rows;
  },
  async update(
    tx: Sql,
    tenantId: string,
    id: string,
    patch: Pick<EntityRow, 'name' | 'properties' | 'confidence' | 'tlp' | 'firstSeen' | 'lastSeen'>,
  ): Promise<EntityRow> {
    const { rows } = await tx.query<EntityRow>(
      `update entities set name = $3, properties = $4::jsonb, confidence = $5, tlp = $6, first_seen = $7, last_seen = $8, modified_at = now()
        where tenant_id = $1 and id = $2 returning ${ENTITY_COLS}`,
      [tenantId, id, patch.name, JSON.stringify(patch.properties), patch.confidence, patch.tlp, patch.firstSeen?.toISOString() ?? null, patch.lastSeen?.toISOString() ?? null],
    );
    return rows[0]!;
  },
  /** Deletes an entity with its relationships, sightings and every provenance row of theirs. */
  async delete(tx: Sql, tenantId: string, id: string): Promise<{ relationships: number; sightings: number }> {
    const rels = await tx.query<{ id: string }>(
      'select id from relationships where tenant_id = $1 and (source_id = $2 or target_id = $2)',
      [tenantId, id],
    );
    const sights = await tx.query<{ id: string }>('select id from sightings where tenant_id = $1 and entity_id = $2', [tenantId, id]);
    await tx.query(
      `delete from provenance where tenant_id = $1 and (
         (subject_kind = 'entity' and subject_id = $2) or
         (subject_kind = 'relationship' and subject_id = any($3::uuid[])) or
         (subject_kind = 'sighting' and subject_id = any($4::uuid[])))`,
      [tenantId, id, rels.rows.map((r) => r.id), sights.rows.map((r) => r.id)],
    );
    await tx.query('delete from entities where tenant_id = $1 and id = $2', [tenantId, id]);
    return { relationships: rels.rows.length, sightings: sights.rows.length };
  },

  async addProvenance(
    tx: Sql,
    tenantId: string,
    id: string,
    subject: { kind: 'entity' | 'relationship' | 'sighting'; id: string },
    p: Omit<Provenance, 'at'> & { at: Date },
  ): Promise<void> {
    await tx.query(
      `insert into provenance (tenant_id, id, subject_kind, subject_id, source, ingest_run_id, original_id, confidence, asserted_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       on conflict (tenant_id, subject_kind, subject_id, source, coalesce(original_id, '')) do nothing`,
      [tenantId, id, subject.kind, subject.id, p.source, p.runId, p.originalId, p.confidence, p.at.toISOString()],
    );
  },
  async provenanceOf(tx: Sql, tenantId: string, kind: 'entity' | 'relationship' | 'sighting', id: string): Promise<Provenance[]> {
    const { rows } = await tx.query<Provenance>(
      `select source, ingest_run_id as "runId", original_id as "originalId", confidence, asserted_at as "at"
         from provenance where tenant_id = $1 and subject_kind = $2 and subject_id = $3 order by asserted_at, source`,
      [tenantId, kind, id],
    );
    return rows;
  },
  /** Entity ids for STIX ids any source used (its own id in provenance, or the entity's first id). */
  async resolveStixIds(tx: Sql, tenantId: string, stixIds: string[]): Promise<Map<string, string>> {
    if (!stixIds.length) return new Map();
    const { rows } = await tx.query<{ stix: string; id: string }>(
      `select original_id as stix, subject_id as id from provenance
        where tenant_id = $1 and subject_kind = 'entity' and original_id = any($2::text[])
       union
       select stix_id, id from entities where tenant_id = $1 and stix_id = any($2::text[])`,
      [tenantId, stixIds],
    );
    return new Map(rows.map((r) => [r.stix, r.id]));
  },
};
