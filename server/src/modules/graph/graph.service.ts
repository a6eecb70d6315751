import { randomUUID } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import type { Clock } from '../../platform/clock.js';
import type { Actor, TenantCtx } from '../../platform/context.js';
import type { Database, Sql } from '../../platform/db.js';
import { ConflictError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { decodeCursor, toPage } from '../../platform/pagination.js';
import type { AuditService } from '../audit/index.js';
import { entityRepo, type EntityFilter } from './entity.repo.js';
import { toEntityDto, toProvenanceDto, toRelationshipDto, toSightingDto } from './graph.dto.js';
import { relationshipRepo } from './relationship.repo.js';
import { SCO_TYPES, TLP_MARKING_IDS, type EntityType, type RelationshipType, type Tlp } from './stix/model.js';
import { normalizeStixObject } from './stix/parse.js';
import { neighbourhoodJson, shortestPaths, type NeighbourhoodOptions } from './traversal.js';

const cursorShape = z.object({ id: z.uuid() });
/** How many sightings GET /entities/{id} shows (the latest). */
const LATEST_SIGHTINGS = 20;

export type CreateEntityInput = {
  type: EntityType;
  value?: string;
  name?: string;
  hashes?: Record<string, string>;
  pattern?: string;
  properties?: Record<string, unknown>;
  confidence?: number;
  tlp?: Tlp;
  firstSeen?: string;
  lastSeen?: string;
  source?: string;
};

/** The STIX object an API caller describes, so API-created entities go through the same validation and keys. */
export function stixObjectFor(input: CreateEntityInput, now: Date): Record<string, unknown> {
  const base: Record<string, unknown> = {
    ...input.properties,
    type: input.type,
    id: `${input.type}--${randomUUID()}`,
    spec_version: '2.1',
    ...(input.confidence !== undefined ? { confidence: input.confidence } : {}),
    ...(input.tlp ? { object_marking_refs: [TLP_MARKING_IDS[input.tlp]] } : {}),
  };
  if ((SCO_TYPES as readonly string[]).includes(input.type)) {
    if (input.type === 'autonomous-system') return { ...base, number: Number(input.value) };
    if (input.type === 'file') return { ...base, ...(input.hashes ? { hashes: input.hashes } : {}), ...(input.name ? { name: input.name } : {}) };
    return { ...base, value: input.value };
  }
  const stamp = now.toISOString();
  const sdo: Record<string, unknown> = { ...base, created: stamp, modified: stamp, ...(input.name ? { name: input.name } : {}) };
  if (input.type === 'indicator') return { pattern_type: 'stix', valid_from: stamp, ...sdo, pattern: input.pattern };
  return sdo;
}

/**
 * What other modules learn of graph changes, inside the transaction that made them, so their derived state (threat
 * intel scores) commits or rolls back with the change. Ingest runs are reported once, when the run finishes.
 */
export type GraphHooks = {
  entitiesChanged?: (tx: Sql, tenantId: string, entityIds: string[]) => Promise<void>;
  ingestFinished?: (tx: Sql, scope: { tenantId: string; actor: Actor; requestId: string | null }, runId: string) => Promise<void>;
};

export function createGraphService(deps: { db: Database; clock: Clock; audit: Pick<AuditService, 'record'>; hooks?: GraphHooks }) {
  const { db, clock, audit } = deps;
  const changed = (tx: Sql, tenantId: string, ids: string[]) => deps.hooks?.entitiesChanged?.(tx, tenantId, ids) ?? Promise.resolve();

  async function mustGet(tx: Sql, ctx: TenantCtx, id: string, label = 'Entity') {
    const entity = await entityRepo.get(tx, ctx.tenantId, id);
    if (!entity) throw new NotFoundError(label, id);
    return entity;
  }

  async function createEntity(ctx: TenantCtx, input: CreateEntityInput) {
    const normalized = normalizeStixObject(stixObjectFor(input, clock.now()), 0);
    if (normalized.kind !== 'entity') {
      const reason =
        normalized.kind === 'rejected'
          ? normalized.rejection.reason
          : normalized.kind === 'skipped'
            ? normalized.reason
            : `a ${input.type} is not an entity`;
      throw new ValidationError(`The entity is not valid: ${reason}`, [{ path: 'body', message: reason }]);
    }
    const entity = {
      ...normalized.entity,
      firstSeen: input.firstSeen ?? normalized.entity.firstSeen,
      lastSeen: input.lastSeen ?? normalized.entity.lastSeen,
    };
    return db.withTenant(ctx.tenantId, async (tx) => {
      const existing = await entityRepo.findByKey(tx, ctx.tenantId, entity.type, entity.key);
      if (existing) throw new ConflictError(`This ${entity.type} already exists as entity ${existing.id}.`, { existingId: existing.id });
      const stored = await entityRepo.upsert(tx, ctx.tenantId, uuidv7(), entity);
      await entityRepo.addProvenance(tx, ctx.tenantId, uuidv7(), { kind: 'entity', id: stored.id }, {
        source: input.source ?? `user:${ctx.actor.id}`,
        runId: null,
        originalId: entity.stixId,
        confidence: entity.confidence,
        at: clock.now(),
      });
      const row = (await entityRepo.get(tx, ctx.tenantId, stored.id))!;
      await audit.record(tx, ctx, { action: 'entity.create', target: { type: 'entity', id: row.id }, after: { type: row.type, key: row.key, confidence: row.confidence, tlp: row.tlp } });
      await changed(tx, ctx.tenantId, [row.id]);
      return toEntityDto(row);
    });
  }

  async function listEntities(ctx: TenantCtx, query: Omit<EntityFilter, 'afterId'> & { cursor?: string }) {
    const afterId = decodeCursor(query.cursor, cursorShape)?.id;
    const rows = await db.withTenant(ctx.tenantId, (tx) => entityRepo.list(tx, ctx.tenantId, { ...query, afterId, limit: query.limit + 1 }));
    const page = toPage(rows, query.limit, (last) => ({ id: last.id }));
    return { items: page.items.map(toEntityDto), nextCursor: page.nextCursor };
  }

  async function getEntity(ctx: TenantCtx, id: string) {
    const detail = await db.withTenant(ctx.tenantId, (tx) => entityRepo.getDetail(tx, ctx.tenantId, id, LATEST_SIGHTINGS));
    if (!detail) throw new NotFoundError('Entity', id);
    return {
      ...toEntityDto(detail),
      provenance: detail.provenance.map(toProvenanceDto),
      sources: [...new Set(detail.provenance.map((p) => p.source))],
      sightings: detail.sightings.map(toSightingDto),
    };
  }

  async function updateEntity(
    ctx: TenantCtx,
    id: string,
    patch: { name?: string; properties?: Record<string, unknown>; confidence?: number | null; tlp?: Tlp | null; firstSeen?: string | null; lastSeen?: string | null },
  ) {
    return db.withTenant(ctx.tenantId, async (tx) => {
      const before = await mustGet(tx, ctx, id);
      const date = (v: string | null | undefined, current: Date | null) => (v === undefined ? current : v === null ? null : new Date(v));
      const after = await entityRepo.update(tx, ctx.tenantId, id, {
        name: patch.name ?? before.name,
        properties: patch.properties ?? before.properties,
        confidence: patch.confidence === undefined ? before.confidence : patch.confidence,
        tlp: patch.tlp === undefined ? before.tlp : patch.tlp,
        firstSeen: date(patch.firstSeen, before.firstSeen),
        lastSeen: date(patch.lastSeen, before.lastSeen),
      });
      const summary = (e: typeof before) => ({ name: e.name, confidence: e.confidence, tlp: e.tlp });
      await audit.record(tx, ctx, { action: 'entity.update', target: { type: 'entity', id }, before: summary(before), after: summary(after) });
      await changed(tx, ctx.tenantId, [id]);
      return toEntityDto(after);
    });
  }

  async function deleteEntity(ctx: TenantCtx, id: string) {
    await db.withTenant(ctx.tenantId, async (tx) => {
      const before = await mustGet(tx, ctx, id);
      const removed = await entityRepo.delete(tx, ctx.tenantId, id);
      await audit.record(tx, ctx, {
        action: 'entity.delete',
        target: { type: 'entity', id },
        before: { type: before.type, key: before.key, relationshipsRemoved: removed.relationships, sightingsRemoved: removed.sightings },
      });
    });
  }

  async function createRelationship(ctx: TenantCtx, input: { type: RelationshipType; sourceId: string; targetId: string; description?: string; confidence?: number }) {
    if (input.sourceId === input.targetId) {
      throw new ValidationError('A relationship needs two different entities.', [{ path: 'body.targetId', message: 'equals sourceId' }]);
    }
    return db.withTenant(ctx.tenantId, async (tx) => {
      await mustGet(tx, ctx, input.sourceId, 'Source entity');
      await mustGet(tx, ctx, input.targetId, 'Target entity');
      const now = clock.now().toISOString();
      const stored = await relationshipRepo.upsert(tx, ctx.tenantId, uuidv7(), {
        stixId: `relationship--${randomUUID()}`,
        relationshipType: input.type,
        sourceId: input.sourceId,
        targetId: input.targetId,
        description: input.description ?? null,
        confidence: input.confidence ?? null,
        tlp: null,
        firstSeen: null,
        lastSeen: null,
        created: now,
        modified: now,
      });
      await entityRepo.addProvenance(tx, ctx.tenantId, uuidv7(), { kind: 'relationship', id: stored.id }, {
        source: `user:${ctx.actor.id}`, runId: null, originalId: null, confidence: input.confidence ?? null, at: clock.now(),
      });
      await audit.record(tx, ctx, { action: 'relationship.create', target: { type: 'relationship', id: stored.id }, after: { ...input, merged: !stored.created } });
      return { ...toRelationshipDto((await relationshipRepo.get(tx, ctx.tenantId, stored.id))!), created: stored.created };
    });
  }

  async function listRelationships(ctx: TenantCtx, id: string, query: { direction: 'out' | 'in' | 'both'; type?: string[]; limit: number; cursor?: string }) {
    const afterId = decodeCursor(query.cursor, cursorShape)?.id;
    return db.withTenant(ctx.tenantId, async (tx) => {
      await mustGet(tx, ctx, id);
      const rows = await relationshipRepo.ofEntity(tx, ctx.tenantId, id, { ...query, afterId, limit: query.limit + 1 });
      const page = toPage(rows, query.limit, (last) => ({ id: last.id }));
      return { items: page.items.map(toRelationshipDto), nextCursor: page.nextCursor };
    });
  }

  async function createSighting(
    ctx: TenantCtx,
    input: { entityId: string; count: number; firstSeen?: string; lastSeen?: string; whereSighted: string[]; truePositive?: boolean; confidence?: number },
  ) {
    return db.withTenant(ctx.tenantId, async (tx) => {
      await mustGet(tx, ctx, input.entityId);
      const now = clock.now().toISOString();
      const stored = await relationshipRepo.insertSighting(tx, ctx.tenantId, uuidv7(), {
        stixId: `sighting--${randomUUID()}`,
        entityId: input.entityId,
        count: input.count,
        firstSeen: input.firstSeen ?? now,
        lastSeen: input.lastSeen ?? now,
        whereSightedRefs: input.whereSighted,
        truePositive: input.truePositive ?? null,
        confidence: input.confidence ?? null,
      });
      await audit.record(tx, ctx, { action: 'sighting.create', target: { type: 'sighting', id: stored.id }, after: input });
      await changed(tx, ctx.tenantId, [input.entityId]);
      return toSightingDto((await relationshipRepo.getSighting(tx, ctx.tenantId, stored.id))!);
    });
  }

  /**
   * The neighbourhood response as JSON text, written by the database in the walk's own statement (see
   * traversal.ts): one round trip, and a response of 200 nodes is neither parsed into rows nor re-serialised here.
   */
  async function neighbors(ctx: TenantCtx, id: string, query: NeighbourhoodOptions): Promise<string> {
    const body = await db.withTenant(ctx.tenantId, (tx) => neighbourhoodJson(tx, ctx.tenantId, id, query));
    if (body === null) throw new NotFoundError('Entity', id);
    return body;
  }

  async function paths(ctx: TenantCtx, query: { from: string; to: string; maxDepth: number; maxPaths: number }) {
    return db.withTenant(ctx.tenantId, async (tx) => {
      await mustGet(tx, ctx, query.from, 'Entity (from)');
      await mustGet(tx, ctx, query.to, 'Entity (to)');
      const found = await shortestPaths(tx, ctx.tenantId, query.from, query.to, { ...query, budget: 20_000 });
      const ids = [...new Set(found.paths.flatMap((p) => p.nodeIds))];
      const nodes = await entityRepo.getMany(tx, ctx.tenantId, ids);
      return { paths: found.paths, nodes: nodes.map(toEntityDto), truncated: found.truncated };
    });
  }

  return { createEntity, listEntities, getEntity, updateEntity, deleteEntity, createRelationship, listRelationships, createSighting, neighbors, paths };
}

export type GraphService = ReturnType<typeof createGraphService>;
