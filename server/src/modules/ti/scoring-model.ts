/**
 * The scoring model of indicators and observables: pure values in, values out. The bulk recompute in
 * scoring.repo.ts is the same maths written in SQL (one statement per batch); a test on both stores checks that the
 * two agree entity by entity, so change them together.
 *
 * score = base · decay(t), where
 *   base  = clamp(0..100, round(sourceValue + corroboration + sightings + enrichment))
 *   sourceValue   = the best asserting source's value: wR · reliability(letter) + wC · credibility, with the
 *                   credibility taken from the confidence the source gave (0–100) or else from its Admiralty
 *                   credibility digit; an entity nobody asserted gets `defaultBase` (OpenCTI's initial 50)
 *   corroboration = perExtraSource · (distinct sources − 1), capped
 *   sightings     = truePositive · TP (capped) − falsePositive · FP (capped)
 *   enrichment    = Σ over providers of the weight of its latest verdict, clamped to [min, max]
 *   decay(t)      = max(0, 1 − (t/τ)^(1/δ)) — the MISP / OpenCTI polynomial, t in days since the decay start
 *                   (the last sighting that is not a false positive, else last seen, else creation), τ and δ per
 *                   observable type. A new sighting moves the decay start, restarting the curve at the base.
 */

export const RELIABILITY_LETTERS = ['A', 'B', 'C', 'D', 'E', 'F'] as const;
export type Reliability = (typeof RELIABILITY_LETTERS)[number];
export const VERDICTS = ['malicious', 'suspicious', 'benign', 'unknown'] as const;
export type Verdict = (typeof VERDICTS)[number];
export const BANDS = ['high', 'medium', 'low', 'none'] as const;
export type Band = (typeof BANDS)[number];
/** Keys of the decay table: observable types, plus `default` for everything else (emails, complex patterns, …). */
export const DECAY_CLASSES = ['ipv4-addr', 'ipv6-addr', 'url', 'domain-name', 'file', 'default'] as const;
export type DecayClass = (typeof DECAY_CLASSES)[number];

export type DecayParams = { lifetimeDays: number; speed: number };
export type ScoringModel = {
  /** Value of each reliability letter (A completely reliable … E unreliable; F cannot be judged: neutral). */
  reliabilityValues: Record<Reliability, number>;
  /** Value of each credibility digit 1 (confirmed) … 5 (improbable); 6 cannot be judged: neutral. Index 0 is 1. */
  credibilityValues: [number, number, number, number, number, number];
  reliabilityWeight: number;
  credibilityWeight: number;
  /** Rating of a source the tenant has not rated. */
  defaultReliability: Reliability;
  defaultCredibility: number;
  /** Base when no source asserted the entity (created in Summit). */
  defaultBase: number;
  corroborationPerSource: number;
  corroborationMax: number;
  truePositivePoints: number;
  truePositiveMax: number;
  falsePositivePoints: number;
  falsePositiveMax: number;
  verdictWeights: Record<Verdict, number>;
  enrichmentMin: number;
  enrichmentMax: number;
  decay: Record<DecayClass, DecayParams>;
};
export type Thresholds = { high: number; medium: number; low: number; revoke: number };

/**
 * Decay figures from OpenCTI's built-in rules (δ = 3 · pound): IP/URL τ 47 d, pound 0.55; domain τ 300 d, pound
 * 0.7; file τ 460 d, pound 0.3; everything else τ 470 d, pound 0.35.
 */
export const DEFAULT_MODEL: ScoringModel = {
  reliabilityValues: { A: 100, B: 80, C: 60, D: 40, E: 20, F: 50 },
  credibilityValues: [100, 80, 60, 40, 20, 50],
  reliabilityWeight: 0.5,
  credibilityWeight: 0.5,
  defaultReliability: 'F',
  defaultCredibility: 6,
  defaultBase: 50,
  corroborationPerSource: 10,
  corroborationMax: 20,
  truePositivePoints: 5,
  truePositiveMax: 20,
  falsePositivePoints: 15,
  falsePositiveMax: 45,
  verdictWeights: { malicious: 15, suspicious: 5, benign: -40, unknown: 0 },
  enrichmentMin: -60,
  enrichmentMax: 30,
  decay: {
    'ipv4-addr': { lifetimeDays: 47, speed: 1.65 },
    'ipv6-addr': { lifetimeDays: 47, speed: 1.65 },
    url: { lifetimeDays: 47, speed: 1.65 },
    'domain-name': { lifetimeDays: 300, speed: 2.1 },
    file: { lifetimeDays: 460, speed: 0.9 },
    default: { lifetimeDays: 470, speed: 1.05 },
  },
};
/** OpenCTI revokes under 20; MISP's default decay threshold is 30. */
export const DEFAULT_THRESHOLDS: Thresholds = { high: 75, medium: 50, low: 30, revoke: 20 };

export type SourceInput = { source: string; reliability: Reliability | null; credibility: number | null; confidence: number | null };
export type ScoreInput = {
  /** Observable type the entity is scored as (null: not an observable, or a complex pattern). */
  observableType: string | null;
  sources: SourceInput[];
  truePositives: number;
  falsePositives: number;
  /** Latest verdict per provider. */
  verdicts: { provider: string; verdict: Verdict }[];
  /** Days since the decay start; negative (a start in the future) counts as 0. */
  ageDays: number;
};
export type Breakdown = {
  source: { name: string | null; reliability: Reliability | null; credibility: number | null; confidence: number | null; value: number };
  corroboration: { sources: number; points: number };
  sightings: { truePositives: number; falsePositives: number; points: number };
  enrichment: { verdicts: { provider: string; verdict: Verdict }[]; points: number };
  base: number;
  decay: { class: DecayClass; ageDays: number; lifetimeDays: number; speed: number; factor: number; points: number };
  score: number;
};

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
/** Half away from zero, as PostgreSQL's round(numeric) does, so the TS and SQL models agree on .5. */
export const roundHalfAway = (x: number) => Math.sign(x) * Math.round(Math.abs(x));
const round2 = (x: number) => roundHalfAway(x * 100) / 100;

export function decayClassOf(observableType: string | null): DecayClass {
  return (DECAY_CLASSES as readonly string[]).includes(observableType ?? '') && observableType !== 'default'
    ? (observableType as DecayClass)
    : 'default';
}

/** The polynomial decay factor in [0, 1]: 1 at age 0, 0 from the lifetime on, never increasing with age. */
export function decayFactor(ageDays: number, params: DecayParams): number {
  const t = Math.max(0, ageDays);
  if (t >= params.lifetimeDays) return 0;
  return clamp(1 - Math.pow(t / params.lifetimeDays, 1 / params.speed), 0, 1);
}

/** score(t) = base · decay(t), rounded to an integer 0–100. */
export function decayedScore(base: number, ageDays: number, params: DecayParams): number {
  return clamp(roundHalfAway(clamp(base, 0, 100) * decayFactor(ageDays, params)), 0, 100);
}

export function sourceValue(model: ScoringModel, s: SourceInput): number {
  const letter = s.reliability ?? model.defaultReliability;
  const credibility = s.confidence ?? model.credibilityValues[(s.credibility ?? model.defaultCredibility) - 1]!;
  return model.reliabilityWeight * model.reliabilityValues[letter] + model.credibilityWeight * credibility;
}

export function bandOf(score: number, thresholds: Thresholds): Band {
  if (score >= thresholds.high) return 'high';
  if (score >= thresholds.medium) return 'medium';
  if (score >= thresholds.low) return 'low';
  return 'none';
}

export function isRevoked(score: number, thresholds: Thresholds): boolean {
  return score < thresholds.revoke;
}

/** The score with every component's contribution. */
export function scoreIndicator(model: ScoringModel, input: ScoreInput): Breakdown {
  let best: { s: SourceInput; value: number } | null = null;
  for (const s of input.sources) {
    const value = sourceValue(model, s);
    // Ties go to the alphabetically first source, as the SQL does.
    if (!best || value > best.value || (value === best.value && s.source < best.s.source)) best = { s, value };
  }
  const distinct = new Set(input.sources.map((s) => s.source)).size;
  const corroboration = Math.min(model.corroborationMax, model.corroborationPerSource * Math.max(0, distinct - 1));
  const tp = Math.min(model.truePositiveMax, model.truePositivePoints * input.truePositives);
  const fp = Math.min(model.falsePositiveMax, model.falsePositivePoints * input.falsePositives);
  const verdictSum = input.verdicts.reduce((sum, v) => sum + model.verdictWeights[v.verdict], 0);
  const enrichment = clamp(verdictSum, model.enrichmentMin, model.enrichmentMax);
  const sourcePoints = best ? best.value : model.defaultBase;
  const base = clamp(roundHalfAway(sourcePoints + corroboration + tp - fp + enrichment), 0, 100);
  const cls = decayClassOf(input.observableType);
  const params = model.decay[cls];
  const ageDays = Math.max(0, input.ageDays);
  const factor = decayFactor(ageDays, params);
  const score = decayedScore(base, ageDays, params);
  return {
    source: {
      name: best?.s.source ?? null,
      reliability: best ? (best.s.reliability ?? model.defaultReliability) : null,
      credibility: best ? (best.s.credibility ?? model.defaultCredibility) : null,
      confidence: best?.s.confidence ?? null,
      value: round2(sourcePoints),
    },
    corroboration: { sources: distinct, points: corroboration },
    sightings: { truePositives: input.truePositives, falsePositives: input.falsePositives, points: tp - fp },
    enrichment: { verdicts: input.verdicts, points: enrichment },
    base,
    decay: { class: cls, ageDays: round2(ageDays), lifetimeDays: params.lifetimeDays, speed: params.speed, factor: round2(factor), points: score - base },
    score,
  };
}

/** Problems with thresholds, as field messages (empty when valid): 100 ≥ high > medium > low > revoke ≥ 0. */
export function thresholdProblems(t: Thresholds, prefix = 'body.thresholds'): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  for (const [name, value] of Object.entries(t)) {
    if (!Number.isInteger(value) || value < 0 || value > 100) problems.push({ path: `${prefix}.${name}`, message: 'must be an integer 0–100' });
  }
  if (problems.length) return problems;
  if (!(t.high > t.medium)) problems.push({ path: `${prefix}.high`, message: `must be above medium (${t.medium})` });
  if (!(t.medium > t.low)) problems.push({ path: `${prefix}.medium`, message: `must be above low (${t.low})` });
  if (!(t.low > t.revoke)) problems.push({ path: `${prefix}.low`, message: `must be above revoke (${t.revoke})` });
  return problems;
}
