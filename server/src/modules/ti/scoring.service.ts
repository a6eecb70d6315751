/**
 * Use cases of scoring: the tenant's model, thresholds and source ratings; the scored-indicator list and exports;
 * the daily decay job. Writes and their audit rows commit in one transaction.
 */
import { z } from 'zod';
import { toIso, type Clock } from '../../platform/clock.js';
import type { Database } from '../../platform/db.js';
import { ValidationError } from '../../platform/errors.js';
import { decodeCursor, toPage } from '../../platform/pagination.js';
import type { UserCtx } from '../../platform/request-context.js';
import type { JobContext, JobType } from '../../platform/jobs/job-types.js';
import type { AuditService } from '../audit/index.js';
import { listIndicators, type IndicatorFilter, type IndicatorRow } from './indicator.repo.js';
import type { Rescorer } from './rescore.js';
import { thresholdProblems, type ScoringModel, type Thresholds } from './scoring-model.js';
import { settingsRepo, type TiSettings } from './scoring.repo.js';
import type { modelPatchSchema } from './scoring.schemas.js';
import { renderIndicatorsCsv, renderIndicatorsStix } from './indicator-export.js';

export const RESCORE_JOB = 'ti.rescore';

type ScoringUpdate = {
  model?: z.output<typeof modelPatchSchema>;
  thresholds?: Thresholds;
  sourceRatings?: { source: string; reliability: ScoringModel['defaultReliability']; credibility?: number | null }[];
  suppressionEnabled?: boolean;
};
export type IndicatorQuery = Omit<IndicatorFilter, 'after' | 'suppressionEnabled' | 'includeSuppressed' | 'includeRevoked' | 'band' | 'type'> & {
  /** Validated against BANDS at the edge. */
  band?: string[];
  type?: string[];
  includeSuppressed?: boolean;
  includeRevoked?: boolean;
  cursor?: string;
};

export function toIndicatorDto(row: IndicatorRow) {
  return {
    id: row.entityId,
    stixId: row.stixId,
    entityType: row.entityType,
    name: row.name,
    observable: row.observableType && row.observableValue !== null ? { type: row.observableType, value: row.observableValue } : null,
    sources: row.sources,
    labels: row.labels,
    score: row.score,
    base: row.base,
    band: row.band,
    revoked: row.revoked,
    suppressed: row.suppressed,
    informed: row.informed,
    matches: row.matches.map((m) => ({ ...m, at: toIso(m.at)! })),
    breakdown: row.breakdown,
    decayStart: toIso(row.decayStart)!,
    computedAt: toIso(row.computedAt)!,
  };
}

function mergeModel(current: ScoringModel, patch: z.output<typeof modelPatchSchema>): ScoringModel {
  const { reliabilityValues, verdictWeights, decay, credibilityValues, ...rest } = patch;
  const defined = <T extends object>(o: T | undefined) => Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined));
  return {
    ...current,
    ...defined(rest),
    reliabilityValues: { ...current.reliabilityValues, ...defined(reliabilityValues) },
    verdictWeights: { ...current.verdictWeights, ...defined(verdictWeights) },
    decay: { ...current.decay, ...defined(decay) },
    credibilityValues: (credibilityValues as ScoringModel['credibilityValues'] | undefined) ?? current.credibilityValues,
  };
}

export function createScoringService(deps: { db: Database; clock: Clock; audit: Pick<AuditService, 'record'>; rescorer: Rescorer }) {
  const { db, clock, audit, rescorer } = deps;

  async function dtoOf(tx: Parameters<Parameters<Database['withTenant']>[1]>[0], tenantId: string, s: TiSettings) {
    const ratings = await settingsRepo.ratings(tx, tenantId);
    return {
      model: s.model,
      thresholds: s.thresholds,
      sourceRatings: ratings.map((r) => ({ source: r.source, reliability: r.reliability, credibility: r.credibility })),
      suppressionEnabled: s.suppressionEnabled,
      warninglists: s.warninglists,
      updatedAt: toIso(s.updatedAt),
    };
  }

  async function getScoring(ctx: UserCtx) {
    return db.withTenant(ctx.tenantId, async (tx) => dtoOf(tx, ctx.tenantId, await settingsRepo.get(tx, ctx.tenantId)));
  }

  /** Validates, saves, audits and rescores the tenant with the new settings, all in one transaction. */
  async function updateScoring(ctx: UserCtx, input: ScoringUpdate) {
    const ratings = input.sourceRatings;
    if (ratings) {
      const seen = new Set<string>();
      const dup = ratings.findIndex((r) => (seen.has(r.source) ? true : (seen.add(r.source), false)));
      if (dup >= 0) throw new ValidationError(`The source "${ratings[dup]!.source}" is rated twice.`, [{ path: `body.sourceRatings.${dup}.source`, message: 'rated twice' }]);
    }
    return db.withTenant(ctx.tenantId, async (tx) => {
      const before = await settingsRepo.get(tx, ctx.tenantId);
      const model = input.model ? mergeModel(before.model, input.model) : before.model;
      const thresholds = input.thresholds ?? before.thresholds;
      const problems = thresholdProblems(thresholds);
      if (model.enrichmentMin > model.enrichmentMax) problems.push({ path: 'body.model.enrichmentMin', message: `must not be above enrichmentMax (${model.enrichmentMax})` });
      if (problems.length) throw new ValidationError(`The scoring settings are not valid: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);
      const after: TiSettings = { ...before, model, thresholds, suppressionEnabled: input.suppressionEnabled ?? before.suppressionEnabled };
      const beforeDto = await dtoOf(tx, ctx.tenantId, before);
      await settingsRepo.put(tx, ctx.tenantId, after, ctx.principal.userId, clock.now());
      if (ratings) {
        await settingsRepo.replaceRatings(tx, ctx.tenantId, ratings.map((r) => ({ source: r.source, reliability: r.reliability, credibility: r.credibility ?? null })), ctx.principal.userId, clock.now());
      }
      const dto = await dtoOf(tx, ctx.tenantId, await settingsRepo.get(tx, ctx.tenantId));
      await audit.record(tx, ctx, { action: 'ti.scoring.update', target: { type: 'tenant', id: ctx.tenantId }, before: beforeDto, after: dto });
      // Scores, bands and revocations depend on every part of these settings.
      const counts = await rescorer.rescore(tx, ctx.tenantId);
      return { ...dto, rescored: counts.scored };
    });
  }

  function filterOf(query: IndicatorQuery, suppressionEnabled: boolean): IndicatorFilter {
    const after = decodeCursor(query.cursor, z.object({ score: z.number().int(), id: z.uuid() }));
    if (query.minScore !== undefined && query.maxScore !== undefined && query.minScore > query.maxScore) {
      throw new ValidationError('minScore is above maxScore.', [{ path: 'querystring.minScore', message: `must not be above maxScore (${query.maxScore})` }]);
    }
    return {
      minScore: query.minScore, maxScore: query.maxScore, band: query.band as IndicatorFilter['band'], type: query.type,
      includeSuppressed: query.includeSuppressed ?? false, includeRevoked: query.includeRevoked ?? false,
      suppressionEnabled, after, limit: query.limit,
    };
  }

  async function list(ctx: UserCtx, query: IndicatorQuery) {
    return db.withTenant(ctx.tenantId, async (tx) => {
      const settings = await settingsRepo.get(tx, ctx.tenantId);
      const rows = await listIndicators(tx, ctx.tenantId, clock.now(), { ...filterOf(query, settings.suppressionEnabled), limit: query.limit + 1 });
      return toPage(rows.map(toIndicatorDto), query.limit, (last) => ({ score: last.score, id: last.id }));
    });
  }

  async function exportIndicators(ctx: UserCtx, query: IndicatorQuery & { format: 'csv' | 'stix' }) {
    return db.withTenant(ctx.tenantId, async (tx) => {
      const settings = await settingsRepo.get(tx, ctx.tenantId);
      const rows = await listIndicators(tx, ctx.tenantId, clock.now(), filterOf(query, settings.suppressionEnabled), true);
      await audit.record(tx, ctx, {
        action: 'ti.indicators.export', target: { type: 'tenant', id: ctx.tenantId },
        after: { format: query.format, count: rows.length, minScore: query.minScore ?? null, includeSuppressed: query.includeSuppressed ?? false },
      });
      return query.format === 'csv' ? renderIndicatorsCsv(rows) : renderIndicatorsStix(rows, clock.now());
    });
  }

  /** The daily decay job: every scored entity of the tenant, a batch per transaction, then one audit row. */
  const rescorePayload = z.object({
    batchSize: z.number().int().min(100).max(100_000).optional(),
    ingestRunId: z.uuid().optional().describe('Only the entities this ingest run asserted (enqueued when a run finishes).'),
  }).default({});

  /** The entities an ingest run asserted, a batch per transaction. */
  async function rescoreIngestRun(ctx: JobContext, runId: string, batchSize = 5_000) {
    const totals = { scored: 0, suppressionsAdded: 0, suppressionsCleared: 0, batches: 0 };
    let after: string | null = null;
    for (;;) {
      const last: string | null = await db.withTenant(ctx.tenantId, async (tx) => {
        const { rows } = await tx.query<{ id: string }>(
          `select distinct subject_id as id from provenance
            where tenant_id = $1 and ingest_run_id = $2 and subject_kind = 'entity' and ($3::uuid is null or subject_id > $3::uuid)
            order by subject_id limit $4`,
          [ctx.tenantId, runId, after, batchSize],
        );
        if (rows.length === 0) return null;
        const counts = await rescorer.rescore(tx, ctx.tenantId, rows.map((r) => r.id), batchSize);
        totals.scored += counts.scored;
        totals.suppressionsAdded += counts.suppressionsAdded;
        totals.suppressionsCleared += counts.suppressionsCleared;
        totals.batches += 1;
        return rows.length < batchSize ? null : rows.at(-1)!.id;
      });
      if (!last) break;
      after = last;
    }
    await db.withTenant(ctx.tenantId, (tx) => audit.record(tx, ctx, { action: 'ti.rescore', target: { type: 'ingest-run', id: runId }, after: totals }));
  }
  const rescoreJob: JobType<typeof rescorePayload> = {
    name: RESCORE_JOB,
    payload: rescorePayload,
    schedulable: true,
    timeoutSeconds: 3_600,
    perTenant: { concurrency: 1 },
    handle: async (ctx, payload) => {
      if (payload.ingestRunId) return rescoreIngestRun(ctx, payload.ingestRunId, payload.batchSize);
      let after: string | null = null;
      const totals = { scored: 0, suppressionsAdded: 0, suppressionsCleared: 0, batches: 0 };
      for (;;) {
        const batch = await db.withTenant(ctx.tenantId, (tx) => rescorer.rescoreBatch(tx, ctx.tenantId, after, payload.batchSize));
        if (!batch) break;
        totals.scored += batch.scored;
        totals.suppressionsAdded += batch.added;
        totals.suppressionsCleared += batch.cleared;
        totals.batches += 1;
        if (!batch.next) break;
        after = batch.next;
      }
      await db.withTenant(ctx.tenantId, (tx) => audit.record(tx, ctx, { action: 'ti.rescore', target: { type: 'tenant', id: ctx.tenantId }, after: totals }));
      ctx.log.info({ tenantId: ctx.tenantId, ...totals }, 'ti.rescore finished');
    },
  };

  return { getScoring, updateScoring, list, exportIndicators, rescoreJob };
}

export type ScoringService = ReturnType<typeof createScoringService>;
