import type { Provenance, EntityRow } from './entity.repo.js';
import type { RelationshipRow, SightingRow } from './relationship.repo.js';

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

export function toEntityDto(e: EntityRow) {
  return {
    id: e.id,
    stixId: e.stixId,
    type: e.type,
    key: e.key,
    name: e.name,
    properties: e.properties,
    confidence: e.confidence,
    tlp: e.tlp,
    firstSeen: iso(e.firstSeen),
    lastSeen: iso(e.lastSeen),
    createdAt: iso(e.createdAt)!,
    modifiedAt: iso(e.modifiedAt)!,
  };
}

export function toRelationshipDto(r: RelationshipRow) {
  return {
    id: r.id,
    stixId: r.stixId,
    type: r.type,
    sourceId: r.sourceId,
    targetId: r.targetId,
    description: r.description,
    confidence: r.confidence,
    tlp: r.tlp,
    firstSeen: iso(r.firstSeen),
    lastSeen: iso(r.lastSeen),
    createdAt: iso(r.createdAt)!,
    modifiedAt: iso(r.modifiedAt)!,
  };
}

export function toSightingDto(s: SightingRow) {
  return {
    id: s.id,
    stixId: s.stixId,
    entityId: s.entityId,
    count: s.count,
    firstSeen: iso(s.firstSeen),
    lastSeen: iso(s.lastSeen),
    whereSighted: s.whereSighted,
    truePositive: s.truePositive,
    confidence: s.confidence,
    createdAt: iso(s.createdAt)!,
  };
}

export function toProvenanceDto(p: Provenance) {
  return { source: p.source, runId: p.runId, originalId: p.originalId, confidence: p.confidence, at: iso(p.at)! };
}
