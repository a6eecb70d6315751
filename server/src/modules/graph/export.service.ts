import { toIso } from '../../platform/clock.js';
import { z } from 'zod';
import type { TenantCtx } from '../../platform/context.js';
import type { Database } from '../../platform/db.js';
import { decodeCursor, encodeCursor } from '../../platform/pagination.js';
import { entityRepo, type EntityRow } from './entity.repo.js';
import { relationshipRepo } from './relationship.repo.js';
import type { EntityType, NormalizedEntity, RelationshipType, Tlp } from './stix/model.js';
import { toStixBundle, toStixObject, toStixRelationship, toStixSighting } from './stix/export.js';

export const MAX_EXPORT = 50_000;

function normalizedOf(e: EntityRow): NormalizedEntity {
  return {
    stixId: e.stixId,
    type: e.type as EntityType,
    key: e.key,
    name: e.name,
    properties: e.properties,
    confidence: e.confidence,
    tlp: e.tlp,
    firstSeen: toIso(e.firstSeen),
    lastSeen: toIso(e.lastSeen),
    created: toIso(e.createdAt),
    modified: toIso(e.modifiedAt),
  };
}

/**
 * A STIX 2.1 bundle of the tenant's entities (filtered), the relationships among them and their sightings. Large
 * graphs come in pages of `limit` entities: the next page's cursor is returned beside the bundle (an HTTP header).
 */
export function createExportService(deps: { db: Database }) {
  async function exportStix(
    ctx: TenantCtx,
    query: { types?: string[]; since?: Date; minConfidence?: number; tlp?: Tlp[]; limit: number; cursor?: string },
  ) {
    const afterId = decodeCursor(query.cursor, z.object({ id: z.uuid() }))?.id;
    return deps.db.withTenant(ctx.tenantId, async (tx) => {
      const rows = await entityRepo.list(tx, ctx.tenantId, { ...query, type: query.types, afterId, limit: query.limit + 1 });
      const entities = rows.slice(0, query.limit);
      const ids = entities.map((e) => e.id);
      const stixIdOf = new Map(entities.map((e) => [e.id, e.stixId]));
      const relationships = ids.length ? await relationshipRepo.among(tx, ctx.tenantId, ids) : [];
      const sightings = ids.length ? await relationshipRepo.sightingsAmong(tx, ctx.tenantId, ids) : [];
      const objects = [
        ...entities.map((e) => toStixObject(normalizedOf(e))),
        ...relationships.map((r) =>
          toStixRelationship({
            stixId: r.stixId,
            relationshipType: r.type as RelationshipType,
            sourceRef: stixIdOf.get(r.sourceId)!,
            targetRef: stixIdOf.get(r.targetId)!,
            description: r.description,
            confidence: r.confidence,
            tlp: r.tlp as Tlp | null,
            firstSeen: toIso(r.firstSeen),
            lastSeen: toIso(r.lastSeen),
            created: toIso(r.createdAt),
            modified: toIso(r.modifiedAt),
          }),
        ),
        ...sightings.map((s) =>
          toStixSighting({
            stixId: s.stixId,
            sightingOfRef: stixIdOf.get(s.entityId)!,
            whereSightedRefs: s.whereSighted,
            observedDataRefs: [],
            count: s.count,
            firstSeen: toIso(s.firstSeen),
            lastSeen: toIso(s.lastSeen),
            truePositive: s.truePositive,
            confidence: s.confidence,
            created: toIso(s.createdAt),
          }),
        ),
      ];
      const last = entities[entities.length - 1];
      return { bundle: toStixBundle(objects), nextCursor: rows.length > query.limit && last ? encodeCursor({ id: last.id }) : null };
    });
  }
  return { exportStix };
}

export type ExportService = ReturnType<typeof createExportService>;
