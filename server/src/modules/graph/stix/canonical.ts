import { createHash } from 'node:crypto';
import { algorithmForKeyPrefix, checkHashes, hashKeyPrefix, KEY_HASH_ORDER } from './hashes.js';
import { checkIpv4, checkIpv6, type ValueCheck } from './ip-address.js';
import type { EntityType } from './model.js';
import { checkDomain, checkEmail, checkMac, checkUrl } from './observable-value.js';
import { checkStixPatternShape, normalizePattern } from './pattern.js';

/**
 * Canonical keys: (tenant, type, key) identifies an entity, so two sources asserting the same observable or the
 * same named object merge. Keys are built from the value that identifies the object:
 *   ipv4-addr/ipv6-addr/domain-name/url/email-addr/mac-addr  canonical value (see ip-address.ts, observable-value.ts)
 *   autonomous-system  "AS<number>"
 *   file               "<algorithm>:<hex>" for the strongest hash (sha256, sha1, md5, sha512, sha3-256, sha3-512),
 *                      else "name:<name>"
 *   indicator          normalised pattern (pattern.ts)
 *   note               content, trimmed, whitespace collapsed, lower-cased (notes have no name)
 *   other SDOs         name, trimmed, whitespace collapsed, lower-cased
 * A key longer than MAX_KEY_LENGTH becomes "digest:<sha256 of the key>", which keeps the unique index on
 * (tenant_id, type, key) within PostgreSQL's btree row limit whatever a feed sends (long URLs, OR-ed patterns).
 */
export const MAX_KEY_LENGTH = 512;

export const VALUE_SCO_TYPES = ['ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'email-addr', 'mac-addr'] as const;
const VALUE_CHECKS: Readonly<Record<(typeof VALUE_SCO_TYPES)[number], (raw: string) => ValueCheck>> = {
  'ipv4-addr': checkIpv4,
  'ipv6-addr': checkIpv6,
  'domain-name': checkDomain,
  url: checkUrl,
  'email-addr': checkEmail,
  'mac-addr': checkMac,
};
const VALUE_TYPE_LABEL: Readonly<Record<(typeof VALUE_SCO_TYPES)[number], string>> = {
  'ipv4-addr': 'an IPv4 address',
  'ipv6-addr': 'an IPv6 address',
  'domain-name': 'a domain name',
  url: 'a URL',
  'email-addr': 'an e-mail address',
  'mac-addr': 'a MAC address',
};

/** A checked key: `value` is the full canonical identifying text (before any digest), which SCO names show. */
export type KeyCheck = { ok: true; key: string; value: string } | { ok: false; reason: string };

/** Shortens a value quoted in a reason, so a 10 MB string does not become a 10 MB error message. */
export function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return text.length > 100 ? `${text.slice(0, 97)}…` : text;
}

export function collapseName(text: string): string {
  return text.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase().normalize('NFC');
}

function keyed(value: string): Extract<KeyCheck, { ok: true }> {
  const key = value.length > MAX_KEY_LENGTH ? `digest:${createHash('sha256').update(value).digest('hex')}` : value;
  return { ok: true, key, value };
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

function fileKey(object: Record<string, unknown>): KeyCheck {
  if (object.hashes !== undefined) {
    const hashes = checkHashes(object.hashes);
    if (!hashes.ok) return { ok: false, reason: `file ${hashes.problem}` };
    const algorithm = KEY_HASH_ORDER.find((name) => hashes.hashes[name] !== undefined);
    if (algorithm) return keyed(`${hashKeyPrefix(algorithm)}:${hashes.hashes[algorithm]}`);
  }
  if (nonEmptyString(object.name)) return keyed(`name:${object.name.trim()}`);
  if (object.name !== undefined) return { ok: false, reason: 'file name must be a non-empty string' };
  return {
    ok: false,
    reason: object.hashes === undefined ? 'file needs hashes (MD5, SHA-1 or SHA-256) or a name' : 'file has only fuzzy or custom hashes and no name',
  };
}

/** Validates the identifying property of an object of a known entity type and returns its key. */
export function checkCanonicalKey(type: EntityType, object: Record<string, unknown>): KeyCheck {
  switch (type) {
    case 'ipv4-addr':
    case 'ipv6-addr':
    case 'domain-name':
    case 'url':
    case 'email-addr':
    case 'mac-addr': {
      const value = object.value;
      if (typeof value !== 'string') return { ok: false, reason: `${type} needs value, a string that is ${VALUE_TYPE_LABEL[type]}` };
      const checked = VALUE_CHECKS[type](value);
      return checked.ok ? keyed(checked.value) : { ok: false, reason: `${type} value ${quote(value)} ${checked.problem}` };
    }
    case 'autonomous-system': {
      const number = object.number;
      if (typeof number !== 'number' || !Number.isInteger(number) || number < 0 || number > 4_294_967_295) {
        return { ok: false, reason: `autonomous-system number ${quote(number)} is not an AS number (an integer 0-4294967295)` };
      }
      return keyed(`AS${number}`);
    }
    case 'file':
      return fileKey(object);
    case 'indicator': {
      if (!nonEmptyString(object.pattern)) return { ok: false, reason: 'indicator needs pattern, a non-empty string' };
      const patternType = typeof object.pattern_type === 'string' ? object.pattern_type : 'stix';
      if (patternType === 'stix') {
        const problem = checkStixPatternShape(object.pattern);
        if (problem) return { ok: false, reason: `indicator pattern ${quote(object.pattern)} ${problem}` };
      }
      return keyed(normalizePattern(object.pattern, patternType));
    }
    case 'note':
      if (!nonEmptyString(object.content)) return { ok: false, reason: 'note needs content, a non-empty string' };
      return keyed(collapseName(object.content));
    default:
      if (!nonEmptyString(object.name)) return { ok: false, reason: `${type} needs name, a non-empty string` };
      return keyed(collapseName(object.name));
  }
}

/**
 * The canonical key of an object of the given type. Never throws: for an object whose identifying property does
 * not validate it falls back to that property's text, trimmed and lower-cased, so a lookup by a malformed value
 * finds nothing rather than failing. Use checkCanonicalKey (or normalizeStixObject) to validate.
 */
export function canonicalKey(type: EntityType, object: Record<string, unknown>): string {
  try {
    const checked = checkCanonicalKey(type, object);
    if (checked.ok) return checked.key;
    const field = { 'autonomous-system': object.number, indicator: object.pattern, note: object.content }[type as string] ?? object.value ?? object.name;
    const text = typeof field === 'string' || typeof field === 'number' ? String(field) : '';
    return keyed(collapseName(text)).key;
  } catch {
    return '';
  }
}

/**
 * A minimal object whose key is the given key: the inverse of canonicalKey for keys that are not digests. Used by
 * tests (key idempotence) and handy for lookups ("find the entity for this IP").
 */
export function objectForKey(type: EntityType, key: string): Record<string, unknown> {
  if ((VALUE_SCO_TYPES as readonly string[]).includes(type)) return { value: key };
  if (type === 'autonomous-system') return { number: Number(key.replace(/^AS/, '')) };
  if (type === 'indicator') return { pattern: key, pattern_type: 'stix' };
  if (type === 'note') return { content: key };
  if (type === 'file') {
    const colon = key.indexOf(':');
    const algorithm = algorithmForKeyPrefix(key.slice(0, colon));
    return algorithm ? { hashes: { [algorithm]: key.slice(colon + 1) } } : { name: key.replace(/^name:/, '') };
  }
  return { name: key };
}
