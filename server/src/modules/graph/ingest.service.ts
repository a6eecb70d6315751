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
import { entityRepo } from './entity.repo.js';
import { ingestRepo, type RunRow, type RunStatus } from './ingest.repo.js';
import { relationshipRepo } from './relationship.repo.js';
import type { NormalizedEntity, NormalizedRelationship, NormalizedSighting, Rejection } from './stix/model.js';
import { parseStixBundle } from './stix/parse.js';

/** Bundles up to this many objects are ingested during the request; larger ones by a job. */
export const INLINE_OBJECTS = 1_000;
const CHUNK = 250;
export const INGEST_JOB = 'ingest.stix';

type Scope = { tenantId: string; actor: Actor; requestId: string | null };
type Parsed = Extract<ReturnType<typeof parseStixBundle>, { ok: true }>;
type Tally = { created: number; merged: number; rejected: Rejection[] };

export type IngestMetrics = { inc(labels: { outcome: 'accepted' | 'rejected' }, value: number): void };

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
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

export function statusOf(received: number, accepted: number, rejected: number): RunStatus {
  if (rejected === 0) return 'succeeded';
  return accepted > 0 ? 'partial' : 'failed';
}

/**
 * STIX ingestion. Valid objects land even when others in the bundle are bad; every rejected object is listed with
 * a reason. Objects are written in chunks, each chunk in one transaction with the run's progress; a chunk that
 * fails as a whole is written again object by object, each in a savepoint, so one bad row rejects only itself and
 * no object is ever half-written.
 */
export function createIngestService(deps: {
  db: Database;
  clock: Clock;
  log: Logger;
  audit: Pick<AuditService, 'record'>;
  jobs: Pick<JobQueue, 'enqueue'>;
  metrics?: IngestMetrics;
}) {
  const { db, clock, audit } = deps;

  /** Applies fn to each item of a chunk inside one tenant transaction; on failure, item by item in savepoints. */
  /**
   * fn may return ids the chunk's later work should resolve (STIX id → entity id). They are kept only once their
   * write has committed: a rolled-back chunk or savepoint must not leave ids of rows that do not exist.
   */
  async function applyChunk<T extends { stixId: string }>(
    scope: Scope,
    runId: string,
    items: T[],
    kind: string,
    fn: (tx: Sql, item: T, tally: Tally) => Promise<[string, string] | void>,
    resolved?: Map<string, string>,
  ): Promise<Tally> {
    const write = (isolate: boolean) =>
      db.withTenant(scope.tenantId, async (tx) => {
        const tally: Tally = { created: 0, merged: 0, rejected: [] };
        const committed: Array<[string, string]> = [];
        for (const [index, item] of items.entries()) {
          if (!isolate) {
            const entry = await fn(tx, item, tally);
            if (entry) committed.push(entry);
            continue;
          }
          const out: { entry?: [string, string] } = {};
          const error = await withSavepoint(tx, 'ingest_object', async () => {
            out.entry = (await fn(tx, item, tally)) ?? undefined;
          });
          if (error) {
            tally.rejected.push({ index, id: item.stixId, type: kind, reason: `could not be stored: ${(error as Error).message}` });
          } else if (out.entry) committed.push(out.entry);
        }
        await ingestRepo.addProgress(tx, scope.tenantId, runId, { created: tally.created, merged: tally.merged, rejected: tally.rejected.length }, tally.rejected);
        return { tally, committed };
      });
    let result: Awaited<ReturnType<typeof write>>;
    try {
      result = await write(false);
    } catch (error) {
      deps.log.warn({ err: error, runId }, 'an ingest chunk failed as a whole; writing it object by object');
      result = await write(true);
    }
    for (const [stixId, id] of result.committed) resolved?.set(stixId, id);
    return result.tally;
  }

  async function processBundle(scope: Scope, runId: string, parsed: Parsed, source: string): Promise<RunRow> {
    const now = clock.now();
    const provenance = (originalId: string, confidence: number | null) => ({ source, runId, originalId, confidence, at: now });
    const idByStix = new Map<string, string>();
    let created = 0;
    let merged = 0;
    let rejected = parsed.rejected.length;
    await db.withTenant(scope.tenantId, (tx) =>
      ingestRepo.addProgress(tx, scope.tenantId, runId, { created: 0, merged: 0, rejected }, parsed.rejected),
    );
    const add = (t: Tally) => {
      created += t.created;
      merged += t.merged;
      rejected += t.rejected.length;
    };

    for (const chunk of chunks(parsed.entities, CHUNK)) {
      add(
        await applyChunk(
          scope,
          runId,
          chunk,
          'entity',
          async (tx, e: NormalizedEntity, tally): Promise<[string, string]> => {
            const stored = await entityRepo.upsert(tx, scope.tenantId, uuidv7(), e);
            await entityRepo.addProvenance(tx, scope.tenantId, uuidv7(), { kind: 'entity', id: stored.id }, provenance(e.stixId, e.confidence));
            if (stored.created) tally.created++;
            else tally.merged++;
            return [e.stixId, stored.id];
          },
          idByStix,
        ),
      );
    }

    // References may point at objects of earlier bundles: resolve what this bundle did not define from the graph.
    const resolve = async (tx: Sql, refs: string[]) => {
      const missing = refs.filter((r) => !idByStix.has(r));
      const found = await entityRepo.resolveStixIds(tx, scope.tenantId, [...new Set(missing)]);
      return (ref: string) => idByStix.get(ref) ?? found.get(ref) ?? null;
    };

    for (const chunk of chunks(parsed.relationships, CHUNK)) {
      add(
        await applyChunk(scope, runId, chunk, 'relationship', async (tx, r: NormalizedRelationship, tally) => {
          const lookup = await resolve(tx, [r.sourceRef, r.targetRef]);
          const sourceId = lookup(r.sourceRef);
          const targetId = lookup(r.targetRef);
          const dangling = !sourceId ? r.sourceRef : !targetId ? r.targetRef : null;
          if (dangling) {
            tally.rejected.push({ index: -1, id: r.stixId, type: 'relationship', reason: `${dangling === r.sourceRef ? 'source_ref' : 'target_ref'} ${dangling} names no object in this bundle or the graph` });
            return;
          }
          if (sourceId === targetId) {
            tally.rejected.push({ index: -1, id: r.stixId, type: 'relationship', reason: 'source_ref and target_ref are the same object' });
            return;
          }
          const stored = await relationshipRepo.upsert(tx, scope.tenantId, uuidv7(), { ...r, sourceId: sourceId!, targetId: targetId! });
          await entityRepo.addProvenance(tx, scope.tenantId, uuidv7(), { kind: 'relationship', id: stored.id }, provenance(r.stixId, r.confidence));
          if (stored.created) tally.created++;
          else tally.merged++;
        }),
      );
    }

    for (const chunk of chunks(parsed.sightings, CHUNK)) {
      add(
        await applyChunk(scope, runId, chunk, 'sighting', async (tx, s: NormalizedSighting, tally) => {
          const entityId = (await resolve(tx, [s.sightingOfRef]))(s.sightingOfRef);
          if (!entityId) {
            tally.rejected.push({ index: -1, id: s.stixId, type: 'sighting', reason: `sighting_of_ref ${s.sightingOfRef} names no object in this bundle or the graph` });
            return;
          }
          const stored = await relationshipRepo.insertSighting(tx, scope.tenantId, uuidv7(), { ...s, entityId });
          await entityRepo.addProvenance(tx, scope.tenantId, uuidv7(), { kind: 'sighting', id: stored.id }, provenance(s.stixId, s.confidence));
          if (stored.created) tally.created++;
          else tally.merged++;
        }),
      );
    }

    const status = statusOf(parsed.received, created + merged, rejected);
    deps.metrics?.inc({ outcome: 'accepted' }, created + merged);
    deps.metrics?.inc({ outcome: 'rejected' }, rejected);
    return db.withTenant(scope.tenantId, async (tx) => {
      await ingestRepo.dropPayload(tx, scope.tenantId, runId);
      const run = await ingestRepo.finish(tx, scope.tenantId, runId, status);
      await audit.record(tx, scope, {
        action: 'ingest.run',
        target: { type: 'ingest-run', id: runId },
        outcome: status === 'failed' ? 'failure' : 'success',
        after: { source, status, received: run.received, created: run.created, merged: run.merged, rejected: run.rejected },
      });
      return run;
    });
  }

  /** Ingests a bundle now, whatever its size, as its own run (bootstrap and tests; the API queues large ones). */
  async function ingestNow(scope: Scope, bundle: unknown, source: string) {
    const parsed = parseStixBundle(bundle);
    if (!parsed.ok) throw new ValidationError(`Not a STIX 2.1 bundle: ${parsed.reason}`);
    const runId = uuidv7();
    await db.withTenant(scope.tenantId, (tx) =>
      ingestRepo.create(tx, scope.tenantId, { id: runId, kind: 'stix', source, createdBy: scope.actor.id, received: parsed.received, status: 'running' }),
    );
    return toRunDto(await processBundle(scope, runId, parsed, source));
  }

  /** Accepts a bundle: small ones are ingested now, larger ones queued (the run says which). */
  async function submitStix(ctx: TenantCtx, bundle: unknown, source: string) {
    const parsed = parseStixBundle(bundle);
    if (!parsed.ok) {
      throw new ValidationError(`The body is not a STIX 2.1 bundle: ${parsed.reason}`, [{ path: 'body', message: parsed.reason }]);
    }
    const runId = uuidv7();
    const run = { id: runId, kind: 'stix', source, createdBy: ctx.actor.id, received: parsed.received };
    if (parsed.received <= INLINE_OBJECTS) {
      await db.withTenant(ctx.tenantId, (tx) => ingestRepo.create(tx, ctx.tenantId, { ...run, status: 'running' }));
      return toRunDto(await processBundle(ctx, runId, parsed, source));
    }
    return db.withTenant(ctx.tenantId, async (tx) => {
      await ingestRepo.create(tx, ctx.tenantId, { ...run, status: 'queued' });
      await ingestRepo.savePayload(tx, ctx.tenantId, runId, bundle);
      await deps.jobs.enqueue(tx, ctx, INGEST_JOB, { runId, source });
      return toRunDto((await ingestRepo.get(tx, ctx.tenantId, runId))!);
    });
  }

  /** The job that ingests a queued bundle. Re-running it is safe: every write merges or is skipped. */
  const ingestJob: JobType = {
    name: INGEST_JOB,
    payload: z.object({ runId: z.uuid(), source: z.string() }),
    timeoutSeconds: 30 * 60,
    retry: { maxAttempts: 3 },
    perTenant: { concurrency: 2 },
    handle: async (ctx, payload) => {
      const { runId, source } = payload as { runId: string; source: string };
      const bundle = await db.withTenant(ctx.tenantId, async (tx) => {
        await ingestRepo.markRunning(tx, ctx.tenantId, runId);
        return ingestRepo.readPayload(tx, ctx.tenantId, runId);
      });
      if (bundle === null) {
        await db.withTenant(ctx.tenantId, (tx) => ingestRepo.finish(tx, ctx.tenantId, runId, 'failed', { error: 'the bundle was not found (already processed?)' }));
        return;
      }
      const parsed = parseStixBundle(bundle);
      if (!parsed.ok) {
        await db.withTenant(ctx.tenantId, (tx) => ingestRepo.finish(tx, ctx.tenantId, runId, 'failed', { error: parsed.reason }));
        return;
      }
      await processBundle(ctx, runId, parsed, source);
    },
  };

  async function getRun(ctx: TenantCtx, id: string) {
    const run = await db.withTenant(ctx.tenantId, (tx) => ingestRepo.get(tx, ctx.tenantId, id));
    if (!run) throw new NotFoundError('Ingest run', id);
    return toRunDto(run);
  }

  async function listRuns(ctx: TenantCtx, query: { limit: number; cursor?: string }) {
    const before = decodeCursor(query.cursor, z.object({ id: z.uuid() }))?.id;
    const rows = await db.withTenant(ctx.tenantId, (tx) => ingestRepo.list(tx, ctx.tenantId, before, query.limit + 1));
    const page = toPage(rows, query.limit, (last) => ({ id: last.id }));
    return { items: page.items.map(toRunDto), nextCursor: page.nextCursor };
  }

  async function stats(ctx: TenantCtx, windowMs: number, window: string) {
    const counts = await db.withTenant(ctx.tenantId, (tx) => ingestRepo.stats(tx, ctx.tenantId, new Date(clock.now().getTime() - windowMs)));
    const accepted = counts.created + counts.merged;
    return { window, received: counts.received, accepted, rejected: counts.rejected, successRate: counts.received ? accepted / counts.received : null };
  }

  return { submitStix, ingestNow, ingestJob, getRun, listRuns, stats };
}

export type IngestService = ReturnType<typeof createIngestService>;
