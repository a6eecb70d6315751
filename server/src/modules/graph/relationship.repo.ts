import type { Sql } from '../../platform/db.js';
import type { NormalizedRelationship, NormalizedSighting } from './stix/model.js';

export type RelationshipRow = {
  id: string;
  stixId: string;
  type: string;
  sourceId: string;
  targetId: string;
  description: string | null;
  confidence: number | null;
  tlp: string | null;
  firstSeen: Date | null;
  lastSeen: Date | null;
  createdAt: Date;
  modifiedAt: Date;
};
const REL_COLS = `id, stix_id as "stixId", type, source_id as "sourceId", target_id as "targetId", description, confidence, tlp,
  first_seen as "firstSeen", last_seen as "lastSeen", created_at as "createdAt", modified_at as "modifiedAt"`;

export type SightingRow = {
  id: string;
  stixId: string;
  entityId: string;
  count: number;
  firstSeen: Date | null;
  lastSeen: Date | null;
  whereSighted: string[];
  truePositive: boolean | null;
  confidence: number | null;
  createdAt: Date;
};
const SIGHTING_COLS = `id, stix_id as "stixId", entity_id as "entityId", count, first_seen as "firstSeen", last_seen as "lastSeen",
  where_sighted as "whereSighted", true_positive as "truePositive", confidence, created_at as "createdAt"`;

export type Edge = { id: string; type: string; sourceId: string; targetId: string };

export const relationshipRepo = {
  /** Inserts a relationship or merges into the identical one (same type, source and target). */
  async upsert(
    tx: Sql,
    tenantId: string,
    id: string,
    r: Omit<NormalizedRelationship, 'sourceRef' | 'targetRef'> & { sourceId: string; targetId: string },
  ): Promise<{ id: string; created: boolean }> {
    const { rows } = await tx.query<{ id: string; created: boolean }>(
      `insert into relationships (tenant_id, id, stix_id, type, source_id, target_id, description, confidence, tlp, first_seen, last_seen)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       on conflict (tenant_id, type, source_id, target_id) do update set
         description = coalesce(excluded.description, relationships.description),
         confidence = greatest(relationships.confidence, excluded.confidence),
         first_seen = least(relationships.first_seen, excluded.first_seen),
         last_seen = greatest(relationships.last_seen, excluded.last_seen),
         modified_at = now()
       returning id, (xmax = 0) as created`,
      [tenantId, id, r.stixId, r.relationshipType, r.sourceId, r.targetId, r.description, r.confidence, r.tlp, r.firstSeen, r.lastSeen],
    );
    return rows[0]!;
  },
  async get(tx: Sql, tenantId: string, id: string): Promise<RelationshipRow | null> {
    const { rows } = await tx.query<RelationshipRow>(`select ${REL_COLS} from relationships where tenant_id = $1 and id = $2`, [tenantId, id]);
    return rows[0] ?? null;
  },
  async getSighting(tx: Sql, tenantId: string, id: string): Promise<SightingRow | null> {
    const { rows } = await tx.query<SightingRow>(`select ${SIGHTING_COLS} from sightings where tenant_id = $1 and id = $2`, [tenantId, id]);
    return rows[0] ?? null;
  },
  async ofEntity(
    tx: Sql,
    tenantId: string,
    entityId: string,
    f: { direction: 'out' | 'in' | 'both'; type?: string[]; afterId?: string; limit: number },
  ): Promise<RelationshipRow[]> {
    const side = f.direction === 'out' ? 'source_id = $2' : f.direction === 'in' ? 'target_id = $2' : '(source_id = $2 or target_id = $2)';
    const { rows } = await tx.query<RelationshipRow>(
      `select ${REL_COLS} from relationships
        where tenant_id = $1 and ${side} and ($3::text[] is null or type = any($3::text[])) and ($4::uuid is null or id > $4::uuid)
        order by id limit $5`,
      [tenantId, entityId, f.type?.length ? f.type : null, f.afterId ?? null, f.limit],
    );
    return rows;
  },
  /** Relationships whose both ends are among the given entities. */
  async among(tx: Sql, tenantId: string, ids: string[]): Promise<RelationshipRow[]> {
    const { rows } = await tx.query<RelationshipRow>(
      `select ${REL_COLS} from relationships where tenant_id = $1 and source_id = any($2::uuid[]) and target_id = any($2::uuid[]) order by id`,
      [tenantId, ids],
    );
    return rows;
  },
  async sightingsAmong(tx: Sql, tenantId: string, ids: string[]): Promise<SightingRow[]> {
    const { rows } = await tx.query<SightingRow>(
      `select ${SIGHTING_COLS} from sightings where tenant_id = $1 and entity_id = any($2::uuid[]) order by id`,
      [tenantId, ids],
    );
    return rows;
  },
  /** Edges touching any of the given entities (one hop), at most `limit`. */
  async edgesAround(tx: Sql, tenantId: string, ids: string[], types: string[] | undefined, limit: number): Promise<Edge[]> {
    const { rows } = await tx.query<Edge>(
      `select id, type, source_id as "sourceId", target_id as "targetId" from relationships
        where tenant_id = $1 and (source_id = any($2::uuid[]) or target_id = any($2::uuid[]))
          and ($3::text[] is null or type = any($3::text[]))
        limit $4`,
      [tenantId, ids, types?.length ? types : null, limit],
    );
    return rows;
  },
  async insertSighting(
    tx: Sql,
    tenantId: string,
    id: string,
    s: Omit<NormalizedSighting, 'sightingOfRef' | 'observedDataRefs' | 'created'> & { entityId: string },
  ): Promise<{ id: string; created: boolean }> {
    const { rows } = await tx.query<{ id: string; created: boolean }>(
      `insert into sightings (tenant_id, id, stix_id, entity_id, count, first_seen, last_seen, where_sighted, true_positive, confidence)
       values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10)
       on conflict (tenant_id, stix_id) do update set
         count = greatest(sightings.count, excluded.count),
         last_seen = greatest(sightings.last_seen, excluded.last_seen)
       returning id, (xmax = 0) as created`,
      [tenantId, id, s.stixId, s.entityId, s.count, s.firstSeen, s.lastSeen, JSON.stringify(s.whereSightedRefs), s.truePositive, s.confidence],
    );
    return rows[0]!;
  },
  async sightingsOf(tx: Sql, tenantId: string, entityId: string, limit = 100): Promise<SightingRow[]> {
    const { rows } = await tx.query<SightingRow>(
      `select ${SIGHTING_COLS} from sightings where tenant_id = $1 and entity_id = $2 order by last_seen desc nulls last limit $3`,
      [tenantId, entityId, limit],
    );
    return rows;
  },
};
