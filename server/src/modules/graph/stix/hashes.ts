/**
 * File hashes: STIX's hashing-algorithm-ov names, the spellings producers use for them, and the checks that catch
 * a hash pasted into the wrong field.
 */

/** Hex digits each fixed-length algorithm produces. */
const HEX_LENGTHS: Readonly<Record<string, number>> = {
  MD5: 32,
  'SHA-1': 40,
  'SHA-256': 64,
  'SHA-512': 128,
  'SHA3-256': 64,
  'SHA3-512': 128,
};

/** Spelling with case, "-", "_" and spaces removed → the STIX vocabulary name. */
const ALGORITHM_BY_FOLDED_NAME: Readonly<Record<string, string>> = {
  MD5: 'MD5',
  SHA1: 'SHA-1',
  SHA256: 'SHA-256',
  SHA512: 'SHA-512',
  SHA3256: 'SHA3-256',
  SHA3512: 'SHA3-512',
  SSDEEP: 'SSDEEP',
  TLSH: 'TLSH',
};

/**
 * Which hash names a file's key, strongest identifier first. The contract fixes SHA-256, then SHA-1, then MD5
 * (what feeds share most); SHA-512 and SHA-3 follow because a file carrying only those still deserves a hash key.
 * Fuzzy hashes (SSDEEP, TLSH) match similar files, so they never identify one.
 */
export const KEY_HASH_ORDER = ['SHA-256', 'SHA-1', 'MD5', 'SHA-512', 'SHA3-256', 'SHA3-512'] as const;

/** 'SHA256', 'sha-256', 'Sha_256' → 'SHA-256'. Names outside the vocabulary (custom hashes) are kept as given. */
export function normalizeHashAlgorithm(name: string): string {
  return ALGORITHM_BY_FOLDED_NAME[name.toUpperCase().replace(/[-_\s]/g, '')] ?? name;
}

const KEY_PREFIX: Readonly<Record<string, string>> = {
  'SHA-256': 'sha256',
  'SHA-1': 'sha1',
  MD5: 'md5',
  'SHA-512': 'sha512',
  'SHA3-256': 'sha3-256',
  'SHA3-512': 'sha3-512',
};

/** The prefix of a file key for a key algorithm: 'SHA-256' → 'sha256' (so keys read "sha256:<hex>"). */
export function hashKeyPrefix(algorithm: (typeof KEY_HASH_ORDER)[number]): string {
  return KEY_PREFIX[algorithm]!;
}

/** The key algorithm a file-key prefix names ('sha256' → 'SHA-256'), or undefined. */
export function algorithmForKeyPrefix(prefix: string): (typeof KEY_HASH_ORDER)[number] | undefined {
  return KEY_HASH_ORDER.find((algorithm) => KEY_PREFIX[algorithm] === prefix);
}

export type HashesCheck = { ok: true; hashes: Record<string, string> } | { ok: false; problem: string };

function shorten(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

/**
 * Validates a STIX hashes dictionary and returns it with vocabulary names and lower-case hex. Two spellings of one
 * algorithm with different values (SHA256 and SHA-256) are a contradiction, not a choice.
 */
export function checkHashes(value: unknown): HashesCheck {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, problem: 'hashes must be an object such as {"SHA-256": "…"}' };
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return { ok: false, problem: 'hashes is empty' };
  const hashes: [string, string][] = [];
  for (const [rawName, rawHash] of entries) {
    const algorithm = normalizeHashAlgorithm(rawName);
    if (typeof rawHash !== 'string' || rawHash.trim() === '') return { ok: false, problem: `hash ${shorten(rawName)} must be a non-empty string` };
    const expected = HEX_LENGTHS[algorithm];
    let hash = rawHash.trim();
    if (expected !== undefined) {
      if (!/^[0-9a-fA-F]+$/.test(hash)) return { ok: false, problem: `${algorithm} hash ${shorten(hash)} is not hexadecimal` };
      if (hash.length !== expected) {
        return { ok: false, problem: `${algorithm} hash ${shorten(hash)} has ${hash.length} hex digits; ${algorithm} has ${expected}` };
      }
      hash = hash.toLowerCase();
    }
    const previous = hashes.find(([name]) => name === algorithm);
    if (previous && previous[1] !== hash) return { ok: false, problem: `hashes has two different ${algorithm} values` };
    if (!previous) hashes.push([algorithm, hash]);
  }
  return { ok: true, hashes: Object.fromEntries(hashes) };
}
