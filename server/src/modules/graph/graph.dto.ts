import { toIso } from '../../platform/clock.js';
import type { Provenance, EntityRow } from './entity.repo.js';
import type { RelationshipRow, SightingRow } from './relationship.repo.js';


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
    firstSeen: toIso(e.firstSeen),
    lastSeen: toIso(e.lastSeen),
    createdAt: toIso(e.createdAt)!,
    modifiedAt: toIso(e.modifiedAt)!,
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
    firstSeen: toIso(r.firstSeen),
    lastSeen: toIso(r.lastSeen),
    createdAt: toIso(r.createdAt)!,
    modifiedAt: toIso(r.modifiedAt)!,
  };
}

export function toSightingDto(s: SightingRow) {
  return {
    id: s.id,
    stixId: s.stixId,
    entityId: s.entityId,
    count: s.count,
    firstSeen: toIso(s.firstSeen),
    lastSeen: toIso(s.lastSeen),
    whereSighted: s.whereSighted,
    truePositive: s.truePositive,
    confidence: s.confidence,
    createdAt: toIso(s.createdAt)!,
  };
}

export function toProvenanceDto(p: Provenance) {
  return { source: p.source, runId: p.runId, originalId: p.originalId, confidence: p.confidence, at: toIso(p.at)! };
}
