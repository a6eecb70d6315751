import { describe, expect, it } from 'vitest';
import { localVerdict, type LocalEvidence } from './local-verdict.js';

const none: LocalEvidence = { truePositives: 0, falsePositives: 0, unlabelled: 0, threatLinks: [], resolutions: 0, flaggedResolutions: [], warninglists: [] };

describe('the local provider\'s verdict', () => {
  it('ranks warninglists, confirmed sightings, threat links, flagged resolutions and false positives in that order', () => {
    expect(localVerdict(none).verdict).toBe('unknown');
    expect(localVerdict({ ...none, truePositives: 2, falsePositives: 1 }).verdict).toBe('malicious');
    expect(localVerdict({ ...none, truePositives: 1, falsePositives: 3 }).verdict).toBe('benign');
    expect(localVerdict({ ...none, threatLinks: ['indicates malware X'] }).verdict).toBe('suspicious');
    expect(localVerdict({ ...none, resolutions: 2, flaggedResolutions: ['203.0.113.9'] }).verdict).toBe('suspicious');
    expect(localVerdict({ ...none, resolutions: 2 }).verdict).toBe('unknown');
    expect(localVerdict({ ...none, truePositives: 5, warninglists: ['rfc1918'] }).verdict).toBe('benign');
    expect(localVerdict({ ...none, threatLinks: ['x'] }).details).toMatchObject({ threatLinks: ['x'], reason: 'related to known threats' });
  });
});
