/**
 * Value patterns of suppression rules and warninglists: CIDR blocks (IPv4 and IPv6), domain suffixes, exact values
 * and RE2 regular expressions. Pure: parse and validate a pattern, and match one value in JS. The bulk path
 * evaluates CIDR, suffix and exact patterns in SQL (inet `<<=`, suffix equality); these functions define what
 * those mean and are what the SQL is tested against. Regular expressions run on RE2 (re2js), linear in the
 * input, so a tenant's pattern cannot stall the evaluation whatever it is (`(a+)+$` is harmless).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { RE2JS, RE2JSException } from 're2js';

export const VALUE_KINDS = ['cidr', 'domain-suffix', 'exact', 'regex'] as const;
export type ValueKind = (typeof VALUE_KINDS)[number];
export const MAX_REGEX_LENGTH = 300;

export type Cidr = { version: 4 | 6; network: bigint; prefix: number };
export type PatternCheck = { ok: true; normalised: string } | { ok: false; message: string };

function ipv4ToBigInt(text: string): bigint | null {
  if (!isIPv4(text)) return null;
  return text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function ipv6ToBigInt(text: string): bigint | null {
  if (!isIPv6(text) || text.includes('%')) return null;
  let head = text;
  let tail: number[] = [];
  // An embedded IPv4 address (::ffff:1.2.3.4) is the last two groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = ipv4ToBigInt(dotted[1]!);
    if (v4 === null) return null;
    tail = [Number(v4 >> 16n), Number(v4 & 0xffffn)];
    head = text.slice(0, -dotted[1]!.length);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const [left = '', right] = head.split('::');
  const groupsOf = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const l = groupsOf(left);
  const r = right === undefined ? [] : groupsOf(right);
  const missing = 8 - l.length - r.length - tail.length;
  if (missing < 0 || (right === undefined && missing !== 0)) return null;
  const groups = [...l, ...new Array<number>(right === undefined ? 0 : missing).fill(0), ...r, ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** An address or CIDR block (`10.0.0.0/8`, `2001:db8::/32`, `1.2.3.4`), or null when it is not one. */
export function parseCidr(text: string): Cidr | null {
  const [address = '', prefixText, extra] = text.trim().split('/');
  if (extra !== undefined) return null;
  const v4 = ipv4ToBigInt(address);
  const version = v4 !== null ? 4 : 6;
  const value = v4 ?? ipv6ToBigInt(address);
  if (value === null) return null;
  const bits = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^(0|[1-9]\d{0,2})$/.test(prefixText)) return null;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return null;
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
  return { version, network: value & mask, prefix };
}

/** Whether the address (or block) lies inside the CIDR block, as PostgreSQL's `inet <<= inet` decides. */
export function isInCidr(value: string, cidr: Cidr): boolean {
  const address = parseCidr(value);
  if (!address || address.version !== cidr.version || address.prefix < cidr.prefix) return false;
  const bits = cidr.version === 4 ? 32 : 128;
  const shift = BigInt(bits - cidr.prefix);
  return cidr.prefix === 0 || address.network >> shift === cidr.network >> shift;
}

export function formatCidr(cidr: Cidr): string {
  const bits = cidr.version === 4 ? 32 : 128;
  if (cidr.version === 4) {
    const octets = [24n, 16n, 8n, 0n].map((s) => Number((cidr.network >> s) & 0xffn));
    return `${octets.join('.')}/${cidr.prefix}`;
  }
  const groups = Array.from({ length: 8 }, (_, i) => Number((cidr.network >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  // Not RFC 5952-compressed; PostgreSQL and parseCidr read it the same.
  return `${groups.join(':')}/${cidr.prefix === bits ? bits : cidr.prefix}`;
}

const DOMAIN = /^(?=.{1,253}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

export function normaliseDomain(text: string): string | null {
  let d = text.trim().toLowerCase();
  if (d.startsWith('*.')) d = d.slice(2);
  else if (d.startsWith('.')) d = d.slice(1);
  if (d.endsWith('.')) d = d.slice(0, -1);
  return DOMAIN.test(d) ? d : null;
}

/** The host a domain suffix applies to: the domain itself, a URL's host, an e-mail address's domain. */
export function hostOf(observableType: string | null, value: string | null): string | null {
  if (value === null) return null;
  if (observableType === 'domain-name') return value.toLowerCase();
  if (observableType === 'url') return /^[a-z][a-z0-9+.-]*:\/\/(?:[^/?#@]*@)?([^/:?#]+)/i.exec(value)?.[1]?.toLowerCase() ?? null;
  if (observableType === 'email-addr') return value.includes('@') ? value.slice(value.lastIndexOf('@') + 1).toLowerCase() : null;
  return null;
}

/** Whether host is the domain or one of its subdomains (`evil-example.com` is not under `example.com`). */
export function isUnderDomain(host: string, domain: string): boolean {
  return host === domain || host.endsWith(`.${domain}`);
}

export function compileRegex(pattern: string): { ok: true; regex: RE2JS } | { ok: false; message: string } {
  if (pattern.length === 0) return { ok: false, message: 'the pattern is empty' };
  if (pattern.length > MAX_REGEX_LENGTH) return { ok: false, message: `the pattern is ${pattern.length} characters long; the limit is ${MAX_REGEX_LENGTH}` };
  try {
    return { ok: true, regex: RE2JS.compile(pattern) };
  } catch (error) {
    if (error instanceof RE2JSException) {
      const detail = error.message.replace(/^error parsing regexp: /, '');
      const hint = /`\\[1-9k]|`\(\?[=!<>]|`\(\?P=/.test(detail) ? ' (backreferences and lookaround are not supported: RE2 syntax)' : ' (RE2 syntax)';
      return { ok: false, message: `invalid regular expression${hint}: ${detail}` };
    }
    throw error;
  }
}

/** Validates a rule's value pattern and returns the form stored (a canonical CIDR, a lower-case domain, …). */
export function checkValuePattern(kind: ValueKind, pattern: string): PatternCheck {
  switch (kind) {
    case 'cidr': {
      const cidr = parseCidr(pattern);
      return cidr ? { ok: true, normalised: formatCidr(cidr) } : { ok: false, message: `"${pattern.slice(0, 60)}" is not a CIDR block such as 10.0.0.0/8 or 2001:db8::/32` };
    }
    case 'domain-suffix': {
      const domain = normaliseDomain(pattern);
      return domain ? { ok: true, normalised: domain } : { ok: false, message: `"${pattern.slice(0, 60)}" is not a domain name such as example.com` };
    }
    case 'exact':
      return pattern.length === 0 || pattern.length > 2048 ? { ok: false, message: 'the value must be 1–2048 characters' } : { ok: true, normalised: pattern };
    case 'regex': {
      const compiled = compileRegex(pattern);
      return compiled.ok ? { ok: true, normalised: pattern } : compiled;
    }
  }
}

/** Whether an observable value matches a (validated) pattern; regexes search anywhere in the value (use ^…$ to anchor). */
export function matchesValue(kind: ValueKind, pattern: string, observableType: string | null, value: string | null): boolean {
  if (value === null) return false;
  switch (kind) {
    case 'cidr': {
      const cidr = parseCidr(pattern);
      return cidr !== null && (observableType === 'ipv4-addr' || observableType === 'ipv6-addr') && isInCidr(value, cidr);
    }
    case 'domain-suffix': {
      const host = hostOf(observableType, value);
      return host !== null && isUnderDomain(host, pattern);
    }
    case 'exact':
      return value === pattern;
    case 'regex': {
      const compiled = compileRegex(pattern);
      return compiled.ok && compiled.regex.test(value);
    }
  }
}
