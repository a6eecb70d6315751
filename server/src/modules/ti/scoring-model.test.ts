import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bandOf, decayedScore, decayFactor, DEFAULT_MODEL, DEFAULT_THRESHOLDS, isRevoked, RELIABILITY_LETTERS, scoreIndicator, thresholdProblems,
  VERDICTS, type ScoreInput,
} from './scoring-model.js';

const params = fc.record({ lifetimeDays: fc.double({ min: 0.01, max: 3650, noNaN: true }), speed: fc.double({ min: 0.01, max: 100, noNaN: true }) });
const age = fc.double({ min: -10, max: 10_000, noNaN: true });
const input: fc.Arbitrary<ScoreInput> = fc.record({
  observableType: fc.constantFrom(null, 'ipv4-addr', 'url', 'domain-name', 'file', 'email-addr'),
  sources: fc.array(
    fc.record({
      source: fc.constantFrom('a', 'b', 'c', 'd'),
      reliability: fc.constantFrom(null, ...RELIABILITY_LETTERS),
      credibility: fc.constantFrom(null, 1, 2, 3, 4, 5, 6),
      confidence: fc.option(fc.integer({ min: 0, max: 100 }), { nil: null }),
    }),
    { maxLength: 5 },
  ),
  truePositives: fc.nat(50),
  falsePositives: fc.nat(50),
  verdicts: fc.array(fc.record({ provider: fc.constantFrom('local', 'vt', 'otx'), verdict: fc.constantFrom(...VERDICTS) }), { maxLength: 3 }),
  ageDays: age,
});

describe('decay', () => {
  it('is 1 at age 0 and 0 from the lifetime on', () => {
    expect(decayFactor(0, { lifetimeDays: 47, speed: 1.65 })).toBe(1);
    expect(decayFactor(47, { lifetimeDays: 47, speed: 1.65 })).toBe(0);
    expect(decayFactor(400, { lifetimeDays: 47, speed: 1.65 })).toBe(0);
  });

  it('follows base · (1 − (t/τ)^(1/δ)) (MISP/OpenCTI)', () => {
    expect(decayedScore(80, 60, { lifetimeDays: 120, speed: 2 })).toBe(Math.round(80 * (1 - Math.sqrt(0.5))));
  });

  it('never increases with age', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 100 }), params, age, age, (base, p, a, b) => {
      const [young, old] = a <= b ? [a, b] : [b, a];
      expect(decayedScore(base, old, p)).toBeLessThanOrEqual(decayedScore(base, young, p));
    }));
  });

  it('stays within 0–100 and never above the base', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 100 }), params, age, (base, p, a) => {
      const s = decayedScore(base, a, p);
      expect(Number.isInteger(s)).toBe(true);
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(base);
    }));
  });
});

describe('scoreIndicator', () => {
  it('is an integer 0–100 whatever the inputs, and its breakdown adds up', () => {
    fc.assert(fc.property(input, (i) => {
      const b = scoreIndicator(DEFAULT_MODEL, i);
      expect(Number.isInteger(b.score) && b.score >= 0 && b.score <= 100).toBe(true);
      expect(Number.isInteger(b.base) && b.base >= 0 && b.base <= 100).toBe(true);
      expect(b.base + b.decay.points).toBe(b.score);
    }));
  });

  it('never scores lower for an older age, all else equal', () => {
    fc.assert(fc.property(input, fc.double({ min: 0, max: 1000, noNaN: true }), (i, more) => {
      expect(scoreIndicator(DEFAULT_MODEL, { ...i, ageDays: i.ageDays + more }).score).toBeLessThanOrEqual(scoreIndicator(DEFAULT_MODEL, i).score);
    }));
  });

  it('never lowers the base for a true positive, nor raises it for a false positive', () => {
    fc.assert(fc.property(input, (i) => {
      const base = scoreIndicator(DEFAULT_MODEL, i).base;
      expect(scoreIndicator(DEFAULT_MODEL, { ...i, truePositives: i.truePositives + 1 }).base).toBeGreaterThanOrEqual(base);
      expect(scoreIndicator(DEFAULT_MODEL, { ...i, falsePositives: i.falsePositives + 1 }).base).toBeLessThanOrEqual(base);
    }));
  });

  it('rates a corroborated, reliable assertion above a lone unreliable one', () => {
    const reliable = scoreIndicator(DEFAULT_MODEL, {
      observableType: 'ipv4-addr', truePositives: 0, falsePositives: 0, verdicts: [], ageDays: 0,
      sources: [{ source: 'a', reliability: 'A', credibility: 1, confidence: null }, { source: 'b', reliability: 'B', credibility: null, confidence: 70 }],
    });
    const lone = scoreIndicator(DEFAULT_MODEL, {
      observableType: 'ipv4-addr', truePositives: 0, falsePositives: 0, verdicts: [], ageDays: 0,
      sources: [{ source: 'c', reliability: 'E', credibility: 5, confidence: null }],
    });
    expect(reliable.base).toBe(100); // 0.5·100 + 0.5·100 + 10
    expect(reliable.source).toMatchObject({ name: 'a', reliability: 'A', credibility: 1, value: 100 });
    expect(lone.base).toBe(20); // 0.5·20 + 0.5·20
  });

  it('takes the default base when no source asserted the entity, and uses the decay of its type', () => {
    const b = scoreIndicator(DEFAULT_MODEL, { observableType: 'file', sources: [], truePositives: 0, falsePositives: 0, verdicts: [], ageDays: 46 });
    expect(b.base).toBe(50);
    expect(b.decay).toMatchObject({ class: 'file', lifetimeDays: 460, speed: 0.9 });
    expect(scoreIndicator(DEFAULT_MODEL, { observableType: 'email-addr', sources: [], truePositives: 0, falsePositives: 0, verdicts: [], ageDays: 0 }).decay.class).toBe('default');
  });
});

describe('thresholds', () => {
  it('bands and revokes by the thresholds', () => {
    expect([80, 75, 74, 50, 30, 29, 19].map((s) => bandOf(s, DEFAULT_THRESHOLDS))).toEqual(['high', 'high', 'medium', 'medium', 'low', 'none', 'none']);
    expect(isRevoked(19, DEFAULT_THRESHOLDS)).toBe(true);
    expect(isRevoked(20, DEFAULT_THRESHOLDS)).toBe(false);
  });

  it('names every threshold out of order', () => {
    expect(thresholdProblems(DEFAULT_THRESHOLDS)).toEqual([]);
    expect(thresholdProblems({ high: 50, medium: 50, low: 60, revoke: 70 }).map((p) => p.path)).toEqual(['body.thresholds.high', 'body.thresholds.medium', 'body.thresholds.low']);
    expect(thresholdProblems({ high: 101, medium: 50, low: 30, revoke: -1 }).map((p) => p.path)).toEqual(['body.thresholds.high', 'body.thresholds.revoke']);
  });
});
