/**
 * The bulk path: scores and then suppression for a set of entities, each a set-based statement per batch. Used by
 * the daily `ti.rescore` job, by settings and rule changes, and by other modules after ingest, a sighting or an
 * enrichment verdict (through `rescore` in the module's index).
 */
import type { Clock } from '../../platform/clock.js';
import type { Sql } from '../../platform/db.js';
import { nextBatchBound, rescoreScope, settingsRepo, type Scope, type TiSettings } from './scoring.repo.js';
import { evaluateScope, ruleRepo, type RegexMatch } from './suppression.repo.js';
import { compileRegex } from './value-match.js';
import type { Warninglist } from './warninglists.js';

export const DEFAULT_BATCH = 20_000;
export type RescoreCounts = { scored: number; suppressionsAdded: number; suppressionsCleared: number; batches: number };

export function createRescorer(deps: { clock: Clock; warninglists: Warninglist[] }) {
  /** Regex rules run on RE2 in JS, over the rows meeting the rule's other conditions (selected in SQL). */
  async function regexMatches(tx: Sql, tenantId: string, now: Date, scope: Scope): Promise<RegexMatch[]> {
    const rules = (await ruleRepo.list(tx, tenantId)).filter(
      (r) => r.valueKind === 'regex' && r.enabled && (r.expiresAt === null || new Date(r.expiresAt) > now),
    );
    const matches: RegexMatch[] = [];
    for (const rule of rules) {
      const compiled = compileRegex(rule.valuePattern!);
      if (!compiled.ok) continue;
      for (const c of await ruleRepo.regexCandidates(tx, tenantId, now, rule.id, scope)) {
        if (compiled.regex.test(c.value)) matches.push({ entityId: c.entityId, ruleId: rule.id });
      }
    }
    return matches;
  }

  async function refreshScope(tx: Sql, tenantId: string, settings: TiSettings, now: Date, scope: Scope) {
    const scored = await rescoreScope(tx, tenantId, now, settings, scope);
    const enabled = deps.warninglists.filter((w) => settings.warninglists.includes(w.name));
    const evaluated = await evaluateScope(tx, tenantId, now, { warninglists: enabled, regexMatches: await regexMatches(tx, tenantId, now, scope), scope });
    return { scored, added: evaluated.added, cleared: evaluated.cleared };
  }

  /**
   * Rescores (and re-evaluates suppression for) the given entities, or every scored entity of the tenant when
   * entityIds is omitted, inside the caller's transaction. Ids of entities that are not indicators or observables
   * are ignored.
   */
  async function rescore(tx: Sql, tenantId: string, entityIds?: readonly string[], batchSize = DEFAULT_BATCH): Promise<RescoreCounts> {
    const settings = await settingsRepo.get(tx, tenantId);
    const now = deps.clock.now();
    const counts: RescoreCounts = { scored: 0, suppressionsAdded: 0, suppressionsCleared: 0, batches: 0 };
    const add = (r: { scored: number; added: number; cleared: number }) => {
      counts.scored += r.scored;
      counts.suppressionsAdded += r.added;
      counts.suppressionsCleared += r.cleared;
      counts.batches += 1;
    };
    if (entityIds) {
      const unique = [...new Set(entityIds)];
      for (let i = 0; i < unique.length; i += batchSize) add(await refreshScope(tx, tenantId, settings, now, { kind: 'ids', ids: unique.slice(i, i + batchSize) }));
      return counts;
    }
    let after: string | null = null;
    for (;;) {
      const batch = await nextBatchBound(tx, tenantId, after, batchSize);
      if (!batch) break;
      add(await refreshScope(tx, tenantId, settings, now, { kind: 'range', after, upto: batch.upto }));
      after = batch.upto;
      if (batch.count < batchSize) break;
    }
    return counts;
  }

  /**
   * One batch of a whole-tenant pass, for callers that give each batch its own transaction (the daily job): returns
   * the counts and the bound to continue after, or null when the pass is done.
   */
  async function rescoreBatch(tx: Sql, tenantId: string, after: string | null, batchSize = DEFAULT_BATCH) {
    const batch = await nextBatchBound(tx, tenantId, after, batchSize);
    if (!batch) return null;
    const settings = await settingsRepo.get(tx, tenantId);
    const result = await refreshScope(tx, tenantId, settings, deps.clock.now(), { kind: 'range', after, upto: batch.upto });
    return { ...result, next: batch.count < batchSize ? null : batch.upto };
  }

  return { rescore, rescoreBatch };
}

export type Rescorer = ReturnType<typeof createRescorer>;
