/** Request and response schemas of scoring, indicators and suppression (they become the OpenAPI document). */
import { z } from 'zod';
import { pageQuerySchema } from '../../platform/pagination.js';
import { BANDS, DECAY_CLASSES, RELIABILITY_LETTERS, VERDICTS } from './scoring-model.js';
import { VALUE_KINDS } from './value-match.js';

const flag = (what: string) => z.enum(['true', 'false']).transform((v) => v === 'true').optional().describe(what);
const commaList = <const T extends readonly [string, ...string[]] | RegExp>(allowed: T, what: string) =>
  z.string().max(500)
    .transform((s) => s.split(',').map((v) => v.trim()).filter(Boolean))
    .pipe(z.array(allowed instanceof RegExp ? z.string().regex(allowed) : z.enum(allowed as readonly [string, ...string[]])).min(1).max(20))
    .optional()
    .describe(what);
const score = (name: string) => z.number({ error: `${name} must be a number` }).min(0, `${name} must be 0 or more`).max(100, `${name} must be at most 100`);
const letter = z.enum(RELIABILITY_LETTERS, { error: 'reliability must be an Admiralty letter A–F (A completely reliable … F cannot be judged)' });
const credibility = z.number().int('credibility must be an integer 1–6').min(1, 'credibility must be 1–6').max(6, 'credibility must be 1–6');
const weight = (name: string) => z.number().min(0, `${name} must be 0 or more`).max(10, `${name} must be at most 10`);
const points = (name: string) => z.number().min(-100, `${name} must be -100…100`).max(100, `${name} must be -100…100`);

const decayParams = z.strictObject({
  lifetimeDays: z.number().gt(0, 'τ (lifetimeDays) must be above 0').max(3650, 'τ (lifetimeDays) must be at most 3650 days'),
  speed: z.number().gt(0, 'δ (speed) must be above 0').max(100, 'δ (speed) must be at most 100'),
});

/** A partial model: the fields given replace the current ones (decay entries one by one). */
export const modelPatchSchema = z.strictObject({
  reliabilityValues: z.strictObject(Object.fromEntries(RELIABILITY_LETTERS.map((l) => [l, score(`reliabilityValues.${l}`).optional()])) as Record<(typeof RELIABILITY_LETTERS)[number], z.ZodOptional<z.ZodNumber>>),
  credibilityValues: z.array(score('credibilityValues[]')).length(6, 'credibilityValues lists the value of credibility 1 to 6: six numbers'),
  reliabilityWeight: weight('reliabilityWeight'),
  credibilityWeight: weight('credibilityWeight'),
  defaultReliability: letter,
  defaultCredibility: credibility,
  defaultBase: score('defaultBase'),
  corroborationPerSource: points('corroborationPerSource'),
  corroborationMax: points('corroborationMax'),
  truePositivePoints: points('truePositivePoints'),
  truePositiveMax: points('truePositiveMax'),
  falsePositivePoints: points('falsePositivePoints'),
  falsePositiveMax: points('falsePositiveMax'),
  verdictWeights: z.strictObject(Object.fromEntries(VERDICTS.map((v) => [v, points(`verdictWeights.${v}`).optional()])) as Record<(typeof VERDICTS)[number], z.ZodOptional<z.ZodNumber>>),
  enrichmentMin: points('enrichmentMin'),
  enrichmentMax: points('enrichmentMax'),
  decay: z.strictObject(Object.fromEntries(DECAY_CLASSES.map((c) => [c, decayParams.optional()])) as Record<(typeof DECAY_CLASSES)[number], z.ZodOptional<typeof decayParams>>),
}).partial();

const thresholds = z.strictObject({
  high: z.number().int().min(0).max(100),
  medium: z.number().int().min(0).max(100),
  low: z.number().int().min(0).max(100),
  revoke: z.number().int().min(0).max(100),
}).describe('100 ≥ high > medium > low > revoke ≥ 0; under revoke an indicator is revoked.');

const rating = z.strictObject({
  source: z.string().trim().min(1).max(200).describe('A provenance source name, as ingest recorded it.'),
  reliability: letter,
  credibility: credibility.nullable().optional().describe('Admiralty credibility 1–6 used when the source gives no confidence of its own.'),
});

export const scoringBody = z.strictObject({
  model: modelPatchSchema.optional(),
  thresholds: thresholds.optional(),
  sourceRatings: z.array(rating).max(1000).optional().describe('Replaces every rating of the tenant.'),
  suppressionEnabled: z.boolean().optional().describe('Tenant-wide: false shows suppressed indicators everywhere (the ledger is still kept).'),
});

const decayOut = z.object({ lifetimeDays: z.number(), speed: z.number() });
export const scoringSchema = z.object({
  model: z.object({
    reliabilityValues: z.record(z.string(), z.number()),
    credibilityValues: z.array(z.number()),
    reliabilityWeight: z.number(),
    credibilityWeight: z.number(),
    defaultReliability: z.string(),
    defaultCredibility: z.number(),
    defaultBase: z.number(),
    corroborationPerSource: z.number(),
    corroborationMax: z.number(),
    truePositivePoints: z.number(),
    truePositiveMax: z.number(),
    falsePositivePoints: z.number(),
    falsePositiveMax: z.number(),
    verdictWeights: z.record(z.string(), z.number()),
    enrichmentMin: z.number(),
    enrichmentMax: z.number(),
    decay: z.record(z.string(), decayOut),
  }),
  thresholds: z.object({ high: z.number(), medium: z.number(), low: z.number(), revoke: z.number() }),
  sourceRatings: z.array(z.object({ source: z.string(), reliability: z.string(), credibility: z.number().nullable() })),
  suppressionEnabled: z.boolean(),
  warninglists: z.array(z.string()),
  updatedAt: z.string().nullable(),
  rescored: z.number().int().optional().describe('PUT only: how many indicators were rescored with the new settings.'),
});

export const indicatorsQuery = pageQuerySchema.extend({
  minScore: z.coerce.number().int().min(0).max(100).optional().describe('Only scores at least this.'),
  maxScore: z.coerce.number().int().min(0).max(100).optional().describe('Only scores at most this.'),
  band: commaList(BANDS, 'Comma-separated bands: high, medium, low, none.'),
  type: commaList(/^[a-z0-9-]{1,40}$/, 'Comma-separated observable types (ipv4-addr, domain-name, …) or entity types (indicator).'),
  includeSuppressed: flag('true: include indicators a rule or warninglist suppresses.'),
  includeRevoked: flag('true: include indicators scored under the revoke threshold.'),
});

export const exportQuery = indicatorsQuery.omit({ cursor: true, limit: true }).extend({
  format: z.enum(['csv', 'stix']).describe('csv, or a STIX 2.1 bundle whose confidence is the score.'),
  limit: z.coerce.number().int().min(1).max(50_000).default(10_000).describe('At most this many indicators, best first.'),
});

const matchSchema = z.object({
  matcher: z.string(), ruleId: z.string().nullable(), warninglist: z.string().nullable(), action: z.enum(['suppress', 'inform']),
  reason: z.string(), at: z.string(),
});
export const indicatorSchema = z.object({
  id: z.uuid(),
  stixId: z.string(),
  entityType: z.string(),
  name: z.string(),
  observable: z.object({ type: z.string(), value: z.string() }).nullable(),
  sources: z.array(z.string()),
  labels: z.array(z.string()),
  score: z.number().int(),
  base: z.number().int(),
  band: z.enum(BANDS),
  revoked: z.boolean(),
  suppressed: z.boolean(),
  informed: z.boolean(),
  matches: z.array(matchSchema),
  breakdown: z.record(z.string(), z.unknown()).describe('Each component\'s contribution: source, corroboration, sightings, enrichment, base, decay, score.'),
  decayStart: z.string(),
  computedAt: z.string(),
});

// ---- suppression -------------------------------------------------------------------------------------------------

const names = (what: string) => z.array(z.string().trim().min(1).max(200)).min(1, `list at least one ${what}, or leave it out`).max(100);
const ruleFields = {
  name: z.string().trim().min(1).max(200),
  action: z.enum(['suppress', 'inform']).describe('suppress hides matches from lists and exports; inform only flags them.'),
  reason: z.string().trim().min(1, 'a rule needs a reason').max(1000),
  match: z.strictObject({
    types: names('type').optional().describe('Observable types (ipv4-addr, domain-name, …) or entity types.'),
    sources: names('source').optional(),
    labels: names('label').optional().describe('Any of these labels (tags).'),
    minScore: z.number().int().min(0).max(100).optional(),
    maxScore: z.number().int().min(0).max(100).optional(),
    minAgeDays: z.number().int().min(0).max(36500).optional().describe('Only indicators whose decay started at least this many days ago.'),
    maxAgeDays: z.number().int().min(0).max(36500).optional(),
    value: z.strictObject({
      kind: z.enum(VALUE_KINDS, { error: `value.kind must be one of ${VALUE_KINDS.join(', ')}` }),
      pattern: z.string().min(1).max(2048),
    }).optional().describe('cidr (IPv4/IPv6 block), domain-suffix (the domain and its subdomains; URL hosts, e-mail domains), exact, regex (RE2).'),
  }).default({}),
  enabled: z.boolean().default(true),
  expiresAt: z.iso.datetime({ offset: true }).nullable().optional().describe('After this instant the rule no longer applies and what it alone suppressed reappears.'),
};
export const ruleBody = z.strictObject(ruleFields);
export const rulePatchBody = z.strictObject({
  name: ruleFields.name.optional(),
  action: ruleFields.action.optional(),
  reason: ruleFields.reason.optional(),
  match: ruleFields.match.unwrap().optional(),
  enabled: z.boolean().optional(),
  expiresAt: ruleFields.expiresAt,
});
export const ruleParams = z.object({ id: z.uuid().describe('Suppression rule id.') });
export const ruleSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  action: z.enum(['suppress', 'inform']),
  reason: z.string(),
  match: z.object({
    types: z.array(z.string()).optional(), sources: z.array(z.string()).optional(), labels: z.array(z.string()).optional(),
    minScore: z.number().optional(), maxScore: z.number().optional(), minAgeDays: z.number().optional(), maxAgeDays: z.number().optional(),
    value: z.object({ kind: z.enum(VALUE_KINDS), pattern: z.string() }).optional(),
  }),
  ownerId: z.uuid(),
  enabled: z.boolean(),
  expiresAt: z.string().nullable(),
  expired: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  active: z.object({ suppressed: z.number().int(), informed: z.number().int() }).describe('Entities the rule currently matches.'),
});

export const warninglistParams = z.object({ name: z.string().regex(/^[a-z0-9-]{1,63}$/).describe('Warninglist name.') });
export const warninglistBody = z.strictObject({ enabled: z.boolean() });
export const warninglistSchema = z.object({
  name: z.string(), description: z.string(), reference: z.string(), kind: z.enum(['cidr', 'domain']), entries: z.number().int(),
  enabled: z.boolean(), active: z.number().int().optional().describe('Entities it currently suppresses in this tenant.'),
});

export const suppressionsQuery = pageQuerySchema.extend({
  entityId: z.uuid().optional(),
  ruleId: z.uuid().optional(),
  warninglist: z.string().regex(/^[a-z0-9-]{1,63}$/).optional(),
  active: flag('true: only entries in force; false: only cleared or expired ones.'),
});
export const suppressionSchema = z.object({
  id: z.uuid(), entityId: z.uuid(), ruleId: z.uuid().nullable(), warninglist: z.string().nullable(), action: z.enum(['suppress', 'inform']),
  reason: z.string(), at: z.string(), expiresAt: z.string().nullable(), clearedAt: z.string().nullable(), active: z.boolean(),
});
