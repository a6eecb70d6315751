import type { Sql } from '../../platform/db.js';
import type { NormalizedEntity, NormalizedRelationship, NormalizedSighting, Tlp } from './stix/model.js';

/**
 * Set-based writes for ingest: one statement per chunk for each table instead of one per object. Each statement
 * is `INSERT … SELECT FROM jsonb_to_recordset($n) … ON CONFLICT … DO UPDATE` with exactly the merge rules of the
 * single-row upserts in entity.repo.ts / relationship.repo.ts, which stay the reference (and the fallback when a
 * chunk fails as a whole).
 *
 * PostgreSQL refuses to update one row twice in one statement, so objects that land on the same row (same type and
 * key; same relationship type, source and target; same sighting id) are first merged here, in order, the way the
 * single-row upserts would have merged them one after the other. The rows travel as one jsonb parameter rather than
 * as typed arrays: both stores (pg and PGlite) accept a JSON text for jsonb the same way, whereas array
 * serialisation of jsonb elements differs between their drivers.
 */

/** PostgreSQL's greatest/least: nulls ignored, null only when both are null. */
function pickTime(a: string | null, b: string | null, wantLater: boolean): string | null {
  if (a === null) return b;
  if (b === null) return a;
  const [ta, tb] = [Date.parse(a), Date.parse(b)];
  return (wantLater ? tb > ta : tb < ta) ? b : a;
}
function greatest(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

export type EntityWrite = {
  stixId: string;
  type: string;
  key: string;
  name: string;
  properties: Record<string, unknown>;
  confidence: number | null;
  tlp: Tlp | null;
  firstSeen: string | null;
  lastSeen: string | null;
};

/**
 * Entities of one chunk, merged per (type, key) in order, as successive entity upserts would merge them: the first
 * keeps its stix id and name, properties merge with later values winning (jsonb `||`), the higher confidence wins,
 * the first TLP stays, seen-times widen.
 */
export function mergeEntities(entities: readonly NormalizedEntity[]): EntityWrite[] {
  const byKey = new Map<string, EntityWrite>();
  for (const e of entities) {
    const k = `${e.type}\u0000${e.key}`;
    const seen = byKey.get(k);
    if (!seen) {
      byKey.set(k, { stixId: e.stixId, type: e.type, key: e.key, name: e.name, properties: { ...e.properties }, confidence: e.confidence, tlp: e.tlp, firstSeen: e.firstSeen, lastSeen: e.lastSeen });
      continue;
    }
    Object.assign(seen.properties, e.properties);
    seen.confidence = greatest(seen.confidence, e.confidence);
    seen.tlp = seen.tlp ?? e.tlp;
    seen.firstSeen = pickTime(seen.firstSeen, e.firstSeen, false);
    seen.lastSeen = pickTime(seen.lastSeen, e.lastSeen, true);
  }
  return [...byKey.values()];
}

export type RelationshipWrite = Omit<NormalizedRelationship, 'sourceRef' | 'targetRef' | 'created' | 'modified'> & { sourceId: string; targetId: string };

/** Relationships merged per (type, source, target): a later description wins, confidence up, seen-times widen. */
export function mergeRelationships(relationships: readonly RelationshipWrite[]): RelationshipWrite[] {
  const byKey = new Map<string, RelationshipWrite>();
  for (const r of relationships) {
    const k = `${r.relationshipType}\u0000${r.sourceId}\u0000${r.targetId}`;
    const seen = byKey.get(k);
    if (!seen) {
      byKey.set(k, { ...r });
      continue;
    }
    seen.description = r.description ?? seen.description;
    seen.confidence = greatest(seen.confidence, r.confidence);
    seen.firstSeen = pickTime(seen.firstSeen, r.firstSeen, false);
    seen.lastSeen = pickTime(seen.lastSeen, r.lastSeen, true);
  }
  return [...byKey.values()];
}

export type SightingWrite = Omit<NormalizedSighting, 'sightingOfRef' | 'observedDataRefs' | 'created'> & { entityId: string };

/** Sightings merged per STIX id: the first stays, count and last-seen take the larger. */
export function mergeSightings(sightings: readonly SightingWrite[]): SightingWrite[] {
  const byId = new Map<string, SightingWrite>();
  for (const s of sightings) {
    const seen = byId.get(s.stixId);
    if (!seen) {
      byId.set(s.stixId, { ...s });
      continue;
    }
    seen.count = Math.max(seen.count, s.count);
    seen.lastSeen = pickTime(seen.lastSeen, s.lastSeen, true);
  }
  return [...byId.values()];
}

export type ProvenanceWrite = { kind: 'entity' | 'relationship' | 'sighting'; subjectId: string; originalId: string; confidence: number | null };
export type Stored = { id: string; created: boolean };

export const ingestBatchRepo = {
  /** Upserts merged entities (see mergeEntities); returns each one's id and whether it was new, by `type\0key`. */
  async upsertEntities(tx: Sql, tenantId: string, rows: ReadonlyArray<EntityWrite & { id: string }>): Promise<Map<string, Stored>> {
    if (!rows.length) return new Map();
    const { rows: out } = await tx.query<{ id: string; type: string; key: string; created: boolean }>(
      `insert into entities (tenant_id, id, stix_id, type, key, name, properties, confidence, tlp, first_seen, last_seen)
       select $1, r.id, r."stixId", r.type, r.key, r.name, r.properties, r.confidence, r.tlp, r."firstSeen", r."lastSeen"
         from jsonb_to_recordset($2::jsonb) as r(id uuid, "stixId" text, type text, key text, name text, properties jsonb,
                                                 confidence smallint, tlp text, "firstSeen" timestamptz, "lastSeen" timestamptz)
       on conflict (tenant_id, type, key) do update set
         properties = entities.properties || excluded.properties,
         confidence = greatest(entities.confidence, excluded.confidence),
         tlp = coalesce(entities.tlp, excluded.tlp),
         first_seen = least(entities.first_seen, excluded.first_seen),
         last_seen = greatest(entities.last_seen, excluded.last_seen),
         modified_at = now()
       returning id, type, key, (xmax = 0) as created`,
      [tenantId, JSON.stringify(rows)],
    );
    return new Map(out.map((r) => [`${r.type}\u0000${r.key}`, { id: r.id, created: r.created }]));
  },

  /** Upserts merged relationships (see mergeRelationships); result by `type\0sourceId\0targetId`. */
  async upsertRelationships(tx: Sql, tenantId: string, rows: ReadonlyArray<RelationshipWrite & { id: string }>): Promise<Map<string, Stored>> {
    if (!rows.length) return new Map();
    const { rows: out } = await tx.query<{ id: string; type: string; sourceId: string; targetId: string; created: boolean }>(
      `insert into relationships (tenant_id, id, stix_id, type, source_id, target_id, description, confidence, tlp, first_seen, last_seen)
       select $1, r.id, r."stixId", r."relationshipType", r."sourceId", r."targetId", r.description, r.confidence, r.tlp, r."firstSeen", r."lastSeen"
         from jsonb_to_recordset($2::jsonb) as r(id uuid, "stixId" text, "relationshipType" text, "sourceId" uuid, "targetId" uuid,
                                                 description text, confidence smallint, tlp text, "firstSeen" timestamptz, "lastSeen" timestamptz)
       on conflict (tenant_id, type, source_id, target_id) do update set
         description = coalesce(excluded.description, relationships.description),
         confidence = greatest(relationships.confidence, excluded.confidence),
         first_seen = least(relationships.first_seen, excluded.first_seen),
         last_seen = greatest(relationships.last_seen, excluded.last_seen),
         modified_at = now()
       returning id, type, source_id as "sourceId", target_id as "targetId", (xmax = 0) as created`,
      [tenantId, JSON.stringify(rows)],
    );
    return new Map(out.map((r) => [`${r.type}\u0000${r.sourceId}\u0000${r.targetId}`, { id: r.id, created: r.created }]));
  },

  /** Upserts merged sightings (see mergeSightings); result by STIX id. */
  async upsertSightings(tx: Sql, tenantId: string, rows: ReadonlyArray<SightingWrite & { id: string }>): Promise<Map<string, Stored>> {
    if (!rows.length) return new Map();
    const { rows: out } = await tx.query<{ id: string; stixId: string; created: boolean }>(
      `insert into sightings (tenant_id, id, stix_id, entity_id, count, first_seen, last_seen, where_sighted, true_positive, confidence)
       select $1, r.id, r."stixId", r."entityId", r.count, r."firstSeen", r."lastSeen", r."whereSightedRefs", r."truePositive", r.confidence
         from jsonb_to_recordset($2::jsonb) as r(id uuid, "stixId" text, "entityId" uuid, count integer, "firstSeen" timestamptz,
                                                 "lastSeen" timestamptz, "whereSightedRefs" jsonb, "truePositive" boolean, confidence smallint)
       on conflict (tenant_id, stix_id) do update set
         count = greatest(sightings.count, excluded.count),
         last_seen = greatest(sightings.last_seen, excluded.last_seen)
       returning id, stix_id as "stixId", (xmax = 0) as created`,
      [tenantId, JSON.stringify(rows)],
    );
    return new Map(out.map((r) => [r.stixId, { id: r.id, created: r.created }]));
  },

  /**
   * One provenance row per assertion (subject, source, original id); an assertion already recorded is left as it
   * is, as entityRepo.addProvenance does. Repeats inside the batch keep their first occurrence.
   */
  async addProvenance(
    tx: Sql,
    tenantId: string,
    p: { source: string; runId: string | null; at: Date },
    rows: ReadonlyArray<ProvenanceWrite & { id: string }>,
  ): Promise<void> {
    const seen = new Set<string>();
    const unique = rows.filter((r) => {
      const k = `${r.kind}\u0000${r.subjectId}\u0000${r.originalId}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    if (!unique.length) return;
    await tx.query(
      `insert into provenance (tenant_id, id, subject_kind, subject_id, source, ingest_run_id, original_id, confidence, asserted_at)
       select $1, r.id, r.kind, r."subjectId", $2, $3, r."originalId", r.confidence, $4
         from jsonb_to_recordset($5::jsonb) as r(id uuid, kind text, "subjectId" uuid, "originalId" text, confidence smallint)
       on conflict (tenant_id, subject_kind, subject_id, source, coalesce(original_id, '')) do nothing`,
      [tenantId, p.source, p.runId, p.at.toISOString(), JSON.stringify(unique)],
    );
  },
};
