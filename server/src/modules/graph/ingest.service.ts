import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { toIso, type Clock } from '../../platform/clock.js';
import type { Actor, Logger, TenantCtx } from '../../platform/context.js';
import { withSavepoint, type Database, type Sql } from '../../platform/db.js';
import { NotFoundError, ValidationError } from '../../platform/errors.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import type { JobType } from '../../platform/jobs/job-types.js';
import { decodeCursor, toPage } from '../../platform/pagination.js';
import type { AuditService } from '../audit/index.js';
import type { GraphHooks } from './graph.service.js';
import { entityRepo } from './entity.repo.js';
import { ingestRepo, type RunRow, type RunStatus } from './ingest.repo.js';
import { relationshipRepo } from './relationship.repo.js';
import {
  ingestBatchRepo,
  mergeEntities,
  mergeRelationships,
  mergeSightings,
  type RelationshipWrite,
  type SightingWrite,
  type Stored,
} from './ingest-batch.repo.js';
import { BundleStreamError, createBundleStreamReader } from './stix/bundle-stream.js';
import type { NormalizedEntity, NormalizedRelationship, NormalizedSighting, Rejection } from './stix/model.js';
import { createBundleContextScanner, normalizeStixObjects, parseStixBundle, type NormalizedObjects } from './stix/parse.js';

/** Bundles up to this many objects are ingested during the request; larger ones by a job. */
export const INLINE_OBJECTS = 1_000;
/** Objects per write chunk (one transaction, one statement per table) and per stored chunk of a queued run. */
export const CHUNK = 500;
export const INGEST_JOB = 'ingest.stix';
/** Stored chunks of an upload that never became a run are swept after this long. */
const ORPHAN_CHUNK_MS = 24 * 3_600_000;

type Scope = { tenantId: string; actor: Actor; requestId: string | null };
type Tally = { created: number; merged: number; rejected: Rejection[] };
type Entry = [stixId: string, id: string];

/** A run's objects, normalised, in write chunks: entities first (with the rejections of the parse), then the rest. */
type ObjectSource = {
  entities(): AsyncIterable<{ items: NormalizedEntity[]; rejected: Rejection[] }>;
  relationships(): AsyncIterable<NormalizedRelationship[]>;
  sightings(): AsyncIterable<NormalizedSighting[]>;
};

export type IngestMetrics = { inc(labels: { outcome: 'accepted' | 'rejected' }, value: number): void };

function relationshipWrite(r: NormalizedRelationship, sourceId: string, targetId: string): RelationshipWrite {
  const { sourceRef: _s, targetRef: _t, created: _c, modified: _m, ...fields } = r;
  return { ...fields, sourceId, targetId };
}
function sightingWrite(s: NormalizedSighting, entityId: string): SightingWrite {
  const { sightingOfRef: _r, observedDataRefs: _o, created: _c, ...fields } = s;
  return { ...fields, entityId };
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Objects already in memory (a small upload, or ingestNow). */
function sourceOfParsed(parsed: NormalizedObjects): ObjectSource {
  return {
    async *entities() {
      const parts = chunks(parsed.entities, CHUNK);
      yield { items: parts[0] ?? [], rejected: parsed.rejected };
      for (const items of parts.slice(1)) yield { items, rejected: [] };
    },
    async *relationships() {
      yield* chunks(parsed.relationships, CHUNK);
    },
    async *sightings() {
      yield* chunks(parsed.sightings, CHUNK);
    },
  };
}

/** Thrown for a body that cannot be a STIX bundle: 400, naming the byte offset where that showed. */
export class BundleRejectedError extends ValidationError {
  override readonly details: Record<string, unknown>;
  constructor(error: BundleStreamError) {
    const where = error.offset === null ? '' : ` at byte offset ${error.offset}`;
    const message =
      error.kind === 'malformed'
        ? `The body is not valid JSON${where}: ${error.reason.replace(/^the body is not valid JSON: /, '')}. Nothing was imported.`
        : `The body is not a STIX 2.1 bundle${where}: ${error.reason}. Nothing was imported.`;
    super(message, [{ path: 'body', message: error.reason }]);
    this.details = { errors: [{ path: 'body', message: error.reason }], offset: error.offset };
  }
}

export function toRunDto(run: RunRow) {
  return {
    id: run.id,
    kind: run.kind,
    source: run.source,
    status: run.status,
    counts: {
      received: run.received,
      created: run.created,
      merged: run.merged,
      rejected: run.rejected,
      // Objects neither stored nor rejected: marking definitions, creator identities, types Summit does not model.
      skipped: run.status === 'queued' || run.status === 'running' ? 0 : Math.max(0, run.received - run.created - run.merged - run.rejected),
    },
    rejections: run.rejections,
    warnings: run.warnings,
    error: run.error,
    createdBy: run.createdBy,
    createdAt: toIso(run.createdAt)!,
    startedAt: toIso(run.startedAt),
    finishedAt: toIso(run.finishedAt),
  };
}

export function statusOf(accepted: number, rejected: number): RunStatus {
  if (rejected === 0) return 'succeeded';
  return accepted > 0 ? 'partial' : 'failed';
}

/**
 * STIX ingestion. Valid objects land even when others in the bundle are bad; every rejected object is listed with
 * a reason. Objects are written in chunks, each chunk in one transaction with the run's progress and one statement
 * per table (ingest-batch.repo.ts); a chunk that fails as a whole is written again object by object, each in a
 * savepoint, so one bad row rejects only itself and no object is ever half-written.
 */
export function createIngestService(deps: {
  db: Database;
  clock: Clock;
  log: Logger;
  audit: Pick<AuditService, 'record'>;
  jobs: Pick<JobQueue, 'enqueue'>;
  metrics?: IngestMetrics;
  hooks?: GraphHooks;
}) {
  const { db, clock, audit } = deps;

  /**
   * Writes one chunk: batch(items) in one tenant transaction; if that fails, single(item) for each item in its own
   * savepoint. Both return the STIX id → entity id pairs later chunks resolve references with; they are kept only
   * once their write has committed, so a rolled-back chunk or savepoint cannot leave ids of rows that do not exist.
   */
  async function applyChunk<T extends { stixId: string }>(
    scope: Scope,
    runId: string,
    items: T[],
    kind: string,
    parseRejections: Rejection[],
    write: {
      batch: (tx: Sql, items: T[], tally: Tally) => Promise<Entry[]>;
      single: (tx: Sql, item: T, tally: Tally) => Promise<Entry | void>;
    },
    resolved?: Map<string, string>,
  ): Promise<Tally> {
    const attempt = (isolate: boolean) =>
      db.withTenant(scope.tenantId, async (tx) => {
        const tally: Tally = { created: 0, merged: 0, rejected: [...parseRejections] };
        const committed: Entry[] = [];
        if (!isolate) committed.push(...(await write.batch(tx, items, tally)));
        else {
          for (const item of items) {
            const out: { entry?: Entry } = {};
            const error = await withSavepoint(tx, 'ingest_object', async () => {
              out.entry = (await write.single(tx, item, tally)) ?? undefined;
            });
            if (error) tally.rejected.push({ index: -1, id: item.stixId, type: kind, reason: `could not be stored: ${(error as Error).message}` });
            else if (out.entry) committed.push(out.entry);
          }
        }
        await ingestRepo.addProgress(tx, scope.tenantId, runId, { created: tally.created, merged: tally.merged, rejected: tally.rejected.length }, tally.rejected);
        return { tally, committed };
      });
    let result: Awaited<ReturnType<typeof attempt>>;
    try {
      result = await attempt(false);
    } catch (error) {
      deps.log.warn({ err: error, runId }, 'an ingest chunk failed as a whole; writing it object by object');
      result = await attempt(true);
    }
    for (const [stixId, id] of result.committed) resolved?.set(stixId, id);
    return result.tally;
  }

  async function processRun(scope: Scope, runId: string, source: string, objects: ObjectSource): Promise<RunRow> {
    const at = clock.now();
    const runProvenance = { source, runId, at };
    const provenance = (originalId: string, confidence: number | null) => ({ ...runProvenance, originalId, confidence });
    const idByStix = new Map<string, string>();
    const totals = { created: 0, merged: 0, rejected: 0 };
    const add = (t: Tally) => {
      totals.created += t.created;
      totals.merged += t.merged;
      totals.rejected += t.rejected.length;
    };
    // References may point at objects of earlier bundles: resolve what this run did not define from the graph.
    const resolve = async (tx: Sql, refs: string[]) => {
      const missing = [...new Set(refs.filter((r) => !idByStix.has(r)))];
      const found = await entityRepo.resolveStixIds(tx, scope.tenantId, missing);
      return (ref: string) => idByStix.get(ref) ?? found.get(ref) ?? null;
    };
    const danglingReason = (r: NormalizedRelationship, sourceId: string | null, targetId: string | null) => {
      if (!sourceId) return `source_ref ${r.sourceRef} names no object in this bundle or the graph`;
      if (!targetId) return `target_ref ${r.targetRef} names no object in this bundle or the graph`;
      return sourceId === targetId ? 'source_ref and target_ref are the same object' : null;
    };
    const counted = (tally: Tally, stored: Map<string, Stored>, written: number) => {
      const created = [...stored.values()].filter((s) => s.created).length;
      tally.created += created;
      tally.merged += written - created;
    };

    for await (const chunk of objects.entities()) {
      const tally = await applyChunk(scope, runId, chunk.items, 'entity', chunk.rejected, {
        batch: async (tx, items, t) => {
          const stored = await ingestBatchRepo.upsertEntities(tx, scope.tenantId, mergeEntities(items).map((e) => ({ ...e, id: uuidv7() })));
          const entries = items.map((e): Entry => [e.stixId, stored.get(`${e.type}\u0000${e.key}`)!.id]);
          const rows = items.map((e, i) => ({ id: uuidv7(), kind: 'entity' as const, subjectId: entries[i]![1], originalId: e.stixId, confidence: e.confidence }));
          await ingestBatchRepo.addProvenance(tx, scope.tenantId, runProvenance, rows);
          counted(t, stored, items.length);
          return entries;
        },
        single: async (tx, e, t) => {
          const stored = await entityRepo.upsert(tx, scope.tenantId, uuidv7(), e);
          await entityRepo.addProvenance(tx, scope.tenantId, uuidv7(), { kind: 'entity', id: stored.id }, provenance(e.stixId, e.confidence));
          if (stored.created) t.created++;
          else t.merged++;
          return [e.stixId, stored.id];
        },
      }, idByStix);
      add(tally);
    }

    for await (const items of objects.relationships()) {
      const tally = await applyChunk(scope, runId, items, 'relationship', [], {
        batch: async (tx, rels, t) => {
          const lookup = await resolve(tx, rels.flatMap((r) => [r.sourceRef, r.targetRef]));
          const valid: RelationshipWrite[] = [];
          for (const r of rels) {
            const [sourceId, targetId] = [lookup(r.sourceRef), lookup(r.targetRef)];
            const reason = danglingReason(r, sourceId, targetId);
            if (reason) t.rejected.push({ index: -1, id: r.stixId, type: 'relationship', reason });
            else valid.push(relationshipWrite(r, sourceId!, targetId!));
          }
          const stored = await ingestBatchRepo.upsertRelationships(tx, scope.tenantId, mergeRelationships(valid).map((r) => ({ ...r, id: uuidv7() })));
          const rows = valid.map((r) => ({
            id: uuidv7(),
            kind: 'relationship' as const,
            subjectId: stored.get(`${r.relationshipType}\u0000${r.sourceId}\u0000${r.targetId}`)!.id,
            originalId: r.stixId,
            confidence: r.confidence,
          }));
          await ingestBatchRepo.addProvenance(tx, scope.tenantId, runProvenance, rows);
          counted(t, stored, valid.length);
          return [];
        },
        single: async (tx, r, t) => {
          const lookup = await resolve(tx, [r.sourceRef, r.targetRef]);
          const [sourceId, targetId] = [lookup(r.sourceRef), lookup(r.targetRef)];
          const reason = danglingReason(r, sourceId, targetId);
          if (reason) {
            t.rejected.push({ index: -1, id: r.stixId, type: 'relationship', reason });
            return;
          }
          const stored = await relationshipRepo.upsert(tx, scope.tenantId, uuidv7(), { ...r, sourceId: sourceId!, targetId: targetId! });
          await entityRepo.addProvenance(tx, scope.tenantId, uuidv7(), { kind: 'relationship', id: stored.id }, provenance(r.stixId, r.confidence));
          if (stored.created) t.created++;
          else t.merged++;
        },
      });
      add(tally);
    }

    for await (const items of objects.sightings()) {
      const tally = await applyChunk(scope, runId, items, 'sighting', [], {
        batch: async (tx, sightings, t) => {
          const lookup = await resolve(tx, sightings.map((s) => s.sightingOfRef));
          const valid: SightingWrite[] = [];
          for (const s of sightings) {
            const entityId = lookup(s.sightingOfRef);
            if (!entityId) t.rejected.push({ index: -1, id: s.stixId, type: 'sighting', reason: `sighting_of_ref ${s.sightingOfRef} names no object in this bundle or the graph` });
            else valid.push(sightingWrite(s, entityId));
          }
          const stored = await ingestBatchRepo.upsertSightings(tx, scope.tenantId, mergeSightings(valid).map((s) => ({ ...s, id: uuidv7() })));
          const rows = valid.map((s) => ({ id: uuidv7(), kind: 'sighting' as const, subjectId: stored.get(s.stixId)!.id, originalId: s.stixId, confidence: s.confidence }));
          await ingestBatchRepo.addProvenance(tx, scope.tenantId, runProvenance, rows);
          counted(t, stored, valid.length);
          return [];
        },
        single: async (tx, s, t) => {
          const entityId = (await resolve(tx, [s.sightingOfRef]))(s.sightingOfRef);
          if (!entityId) {
            t.rejected.push({ index: -1, id: s.stixId, type: 'sighting', reason: `sighting_of_ref ${s.sightingOfRef} names no object in this bundle or the graph` });
            return;
          }
          const stored = await relationshipRepo.insertSighting(tx, scope.tenantId, uuidv7(), { ...s, entityId });
          await entityRepo.addProvenance(tx, scope.tenantId, uuidv7(), { kind: 'sighting', id: stored.id }, provenance(s.stixId, s.confidence));
          if (stored.created) t.created++;
          else t.merged++;
        },
      });
      add(tally);
    }

    const status = statusOf(totals.created + totals.merged, totals.rejected);
    deps.metrics?.inc({ outcome: 'accepted' }, totals.created + totals.merged);
    deps.metrics?.inc({ outcome: 'rejected' }, totals.rejected);
    return db.withTenant(scope.tenantId, async (tx) => {
      await ingestRepo.dropPayload(tx, scope.tenantId, runId);
      await ingestRepo.dropChunks(tx, scope.tenantId, runId);
      const finished = await ingestRepo.finish(tx, scope.tenantId, runId, status);
      await audit.record(tx, scope, {
        action: 'ingest.run',
        target: { type: 'ingest-run', id: runId },
        outcome: status === 'failed' ? 'failure' : 'success',
        after: { source, status, received: finished.received, created: finished.created, merged: finished.merged, rejected: finished.rejected },
      });
      await deps.hooks?.ingestFinished?.(tx, scope, runId);
      return finished;
    });
  }

  /** Creates a run with its submission audited in the same transaction; a queued run's job is enqueued there too. */
  async function openRun(tx: Sql, scope: Scope, run: { id: string; kind: string; source: string; received: number; status: 'running' | 'queued' }) {
    await ingestRepo.create(tx, scope.tenantId, { ...run, createdBy: scope.actor.id });
    await audit.record(tx, scope, {
      action: 'ingest.submit',
      target: { type: 'ingest-run', id: run.id },
      outcome: 'success',
      after: { kind: run.kind, source: run.source, received: run.received, mode: run.status === 'queued' ? 'job' : 'inline' },
    });
    if (run.status === 'queued') await deps.jobs.enqueue(tx, scope, INGEST_JOB, { runId: run.id, source: run.source });
  }

  /** Ingests objects held in memory now, as a new run. */
  async function ingestParsed(scope: Scope, runId: string, kind: string, source: string, received: number, parsed: NormalizedObjects) {
    await db.withTenant(scope.tenantId, (tx) => openRun(tx, scope, { id: runId, kind, source, received, status: 'running' }));
    return toRunDto(await processRun(scope, runId, source, sourceOfParsed(parsed)));
  }

  /** Ingests a bundle now, whatever its size, as its own run (bootstrap, records, benchmarks). */
  async function ingestNow(scope: Scope, bundle: unknown, source: string) {
    const parsed = parseStixBundle(bundle);
    if (!parsed.ok) throw new ValidationError(`Not a STIX 2.1 bundle: ${parsed.reason}`);
    return ingestParsed(scope, uuidv7(), 'stix', source, parsed.received, parsed);
  }

  /**
   * Stores objects of a run-to-be in chunks while they arrive (see migration 0010), and queues the run once all
   * are stored: run row, submission audit and job in one transaction. discard() removes the chunks of an upload
   * that failed before it became a run.
   */
  function createSpool(scope: Scope, runId: string) {
    let seq = 0;
    let stored = 0;
    return {
      get chunks() {
        return seq;
      },
      async store(objects: unknown[]) {
        const chunk = { seq: seq++, firstIndex: stored, objects };
        stored += objects.length;
        await db.withTenant(scope.tenantId, (tx) => ingestRepo.saveChunk(tx, scope.tenantId, runId, chunk));
      },
      async queue(run: { kind: string; source: string; received: number }, extra?: (tx: Sql) => Promise<void>) {
        return db.withTenant(scope.tenantId, async (tx) => {
          await openRun(tx, scope, { ...run, id: runId, status: 'queued' });
          await extra?.(tx);
          await ingestRepo.sweepOrphanChunks(tx, scope.tenantId, new Date(clock.now().getTime() - ORPHAN_CHUNK_MS));
          return (await ingestRepo.get(tx, scope.tenantId, runId))!;
        });
      },
      async discard() {
        if (seq === 0) return;
        await db.withTenant(scope.tenantId, (tx) => ingestRepo.dropChunks(tx, scope.tenantId, runId)).catch((err) => {
          deps.log.warn({ err, runId }, 'could not remove the stored chunks of a failed upload; a later submission sweeps them');
        });
      },
    };
  }

  /**
   * Accepts a bundle streamed as bytes. Objects are read one at a time as they arrive; up to INLINE_OBJECTS they
   * are kept and ingested during the request, past that they are stored in chunks and the run is queued for the
   * job. A body that is not JSON or not a bundle is refused (400, with the byte offset) with nothing written.
   */
  async function submitStixStream(ctx: TenantCtx, body: AsyncIterable<Uint8Array>, source: string) {
    const runId = uuidv7();
    const reader = createBundleStreamReader();
    const scanner = createBundleContextScanner();
    const spool = createSpool(ctx, runId);
    let pending: unknown[] = [];
    try {
      for await (const bytes of body) {
        for (const { object } of reader.write(bytes)) {
          scanner.add(object);
          pending.push(object);
        }
        // Past the inline size the objects go to the store in chunks, so memory holds at most a chunk or so.
        while (reader.received > INLINE_OBJECTS && pending.length >= CHUNK) await spool.store(pending.splice(0, CHUNK));
      }
      reader.end();
      if (reader.received > INLINE_OBJECTS && pending.length) {
        await spool.store(pending);
        pending = [];
      }
    } catch (error) {
      await spool.discard();
      throw error instanceof BundleStreamError ? new BundleRejectedError(error) : error;
    }
    if (spool.chunks === 0) {
      return ingestParsed(ctx, runId, 'stix', source, reader.received, normalizeStixObjects(pending, 0, scanner.context()));
    }
    return toRunDto(await spool.queue({ kind: 'stix', source, received: reader.received }));
  }

  /** A queued run's stored chunks, read again for each pass (context, entities, relationships, sightings). */
  async function sourceOfChunks(scope: Scope, runId: string): Promise<ObjectSource> {
    const count = await db.withTenant(scope.tenantId, (tx) => ingestRepo.countChunks(tx, scope.tenantId, runId));
    async function* read() {
      for (let seq = 0; seq < count; seq++) {
        const chunk = await db.withTenant(scope.tenantId, (tx) => ingestRepo.readChunk(tx, scope.tenantId, runId, seq));
        if (chunk) yield chunk;
      }
    }
    const scanner = createBundleContextScanner();
    for await (const chunk of read()) for (const object of chunk.objects) scanner.add(object);
    const context = scanner.context();
    async function* normalized() {
      for await (const chunk of read()) yield normalizeStixObjects(chunk.objects, chunk.firstIndex, context);
    }
    return {
      async *entities() {
        for await (const n of normalized()) yield { items: n.entities, rejected: n.rejected };
      },
      async *relationships() {
        for await (const n of normalized()) if (n.relationships.length) yield n.relationships;
      },
      async *sightings() {
        for await (const n of normalized()) if (n.sightings.length) yield n.sightings;
      },
    };
  }

  /** The job that ingests a queued run. Re-running it is safe: every write merges or is skipped. */
  const ingestJob: JobType = {
    name: INGEST_JOB,
    payload: z.object({ runId: z.uuid(), source: z.string() }),
    timeoutSeconds: 30 * 60,
    retry: { maxAttempts: 3 },
    perTenant: { concurrency: 2 },
    handle: async (ctx, payload) => {
      const { runId, source } = payload as { runId: string; source: string };
      const stored = await db.withTenant(ctx.tenantId, async (tx) => {
        await ingestRepo.markRunning(tx, ctx.tenantId, runId);
        const chunks = await ingestRepo.countChunks(tx, ctx.tenantId, runId);
        // Runs queued before migration 0010 kept the whole bundle in one ingest_payloads row.
        return chunks > 0 ? { chunks } : { bundle: await ingestRepo.readPayload(tx, ctx.tenantId, runId) };
      });
      if ('chunks' in stored) {
        await processRun(ctx, runId, source, await sourceOfChunks(ctx, runId));
        return;
      }
      const parsed = stored.bundle === null ? null : parseStixBundle(stored.bundle);
      if (!parsed?.ok) {
        const error = parsed === null ? 'the bundle was not found (already processed?)' : parsed.reason;
        await db.withTenant(ctx.tenantId, (tx) => ingestRepo.finish(tx, ctx.tenantId, runId, 'failed', { error }));
        return;
      }
      await processRun(ctx, runId, source, sourceOfParsed(parsed));
    },
  };

  async function getRun(ctx: TenantCtx, id: string) {
    const run = await db.withTenant(ctx.tenantId, (tx) => ingestRepo.get(tx, ctx.tenantId, id));
    if (!run) throw new NotFoundError('Ingest run', id);
    return toRunDto(run);
  }

  async function listRuns(ctx: TenantCtx, query: { limit: number; cursor?: string; status?: RunStatus; source?: string }) {
    const before = decodeCursor(query.cursor, z.object({ id: z.uuid() }))?.id;
    const filter = { status: query.status, source: query.source };
    const rows = await db.withTenant(ctx.tenantId, (tx) => ingestRepo.list(tx, ctx.tenantId, before, query.limit + 1, filter));
    const page = toPage(rows, query.limit, (last) => ({ id: last.id }));
    return { items: page.items.map(toRunDto), nextCursor: page.nextCursor };
  }

  async function stats(ctx: TenantCtx, windowMs: number, window: string) {
    const counts = await db.withTenant(ctx.tenantId, (tx) => ingestRepo.stats(tx, ctx.tenantId, new Date(clock.now().getTime() - windowMs)));
    const accepted = counts.created + counts.merged;
    return { window, received: counts.received, accepted, rejected: counts.rejected, successRate: counts.received ? accepted / counts.received : null };
  }

  return { submitStixStream, ingestNow, ingestParsed, createSpool, ingestJob, getRun, listRuns, stats };
}

export type IngestService = ReturnType<typeof createIngestService>;
