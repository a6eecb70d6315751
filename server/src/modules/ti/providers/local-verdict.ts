import type { LookupResult } from './provider.js';

/** What the tenant's own graph says about an indicator and the observable behind it. */
export type LocalEvidence = {
  /** Sightings marked true positive / false positive (counts summed), and unlabelled ones. */
  truePositives: number;
  falsePositives: number;
  unlabelled: number;
  /** Relationships to threats (malware, threat actors, intrusion sets, campaigns, tools). */
  threatLinks: string[];
  /** Passive-DNS-like resolutions in the graph (resolves-to), and which of them lead to something flagged. */
  resolutions: number;
  flaggedResolutions: string[];
  /** Warninglists the value is on (empty when none, or when no warninglist matcher is available). */
  warninglists: string[];
};

/**
 * The offline verdict, in order of strength: a known-benign value stays benign whatever else is said of it;
 * confirmed (true-positive) sightings that outweigh false positives make it malicious; links to threats or
 * resolutions into flagged infrastructure make it suspicious; sightings that were all false positives make it
 * benign; otherwise the graph knows nothing.
 */
export function localVerdict(e: LocalEvidence): LookupResult {
  const details = {
    truePositives: e.truePositives,
    falsePositives: e.falsePositives,
    unlabelledSightings: e.unlabelled,
    threatLinks: e.threatLinks,
    resolutions: e.resolutions,
    flaggedResolutions: e.flaggedResolutions,
    warninglists: e.warninglists,
  };
  if (e.warninglists.length > 0) return { verdict: 'benign', details: { ...details, reason: 'on a warninglist' } };
  if (e.truePositives > 0 && e.truePositives >= e.falsePositives) {
    return { verdict: 'malicious', details: { ...details, reason: 'confirmed by true-positive sightings' } };
  }
  if (e.threatLinks.length > 0) return { verdict: 'suspicious', details: { ...details, reason: 'related to known threats' } };
  if (e.flaggedResolutions.length > 0) {
    return { verdict: 'suspicious', details: { ...details, reason: 'resolves to or from flagged infrastructure' } };
  }
  if (e.falsePositives > 0) return { verdict: 'benign', details: { ...details, reason: 'sightings were false positives' } };
  return { verdict: 'unknown', details: { ...details, reason: 'nothing in the graph' } };
}
