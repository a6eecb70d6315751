import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkValuePattern, formatCidr, hostOf, isInCidr, matchesValue, parseCidr } from './value-match.js';

const octet = fc.integer({ min: 0, max: 255 });
const ipv4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
const toIpv4 = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
const toInt = (ip: string) => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/);
const domain = fc.array(label, { minLength: 2, maxLength: 4 }).map((l) => l.join('.'));

describe('CIDR', () => {
  it('parses IPv4 and IPv6 blocks and refuses what is not one', () => {
    expect(formatCidr(parseCidr('10.1.2.3/8')!)).toBe('10.0.0.0/8');
    expect(formatCidr(parseCidr('2001:db8::/32')!)).toBe('2001:db8:0:0:0:0:0:0/32');
    for (const bad of ['10.0.0.0/33', '10.0.0/8', '300.1.1.1', '2001:db8::/129', 'fe80::1%eth0', 'abc', '1.2.3.4/8/9', '01.2.3.4']) {
      expect(parseCidr(bad), bad).toBeNull();
      expect(checkValuePattern('cidr', bad).ok, bad).toBe(false);
    }
  });

  it('matches every address inside an IPv4 block and none outside', () => {
    fc.assert(fc.property(ipv4, fc.integer({ min: 0, max: 32 }), fc.nat(), (base, prefix, offset) => {
      const cidr = parseCidr(`${base}/${prefix}`)!;
      const size = 2 ** (32 - prefix);
      const start = Number(cidr.network);
      const inside = toIpv4(start + (offset % size));
      expect(isInCidr(inside, cidr)).toBe(true);
      if (prefix > 0) {
        const outside = toIpv4((start + size + (offset % (2 ** 32 - size))) % 2 ** 32);
        expect(isInCidr(outside, cidr)).toBe(toInt(outside) >= start && toInt(outside) < start + size);
      }
    }));
  });

  it('matches IPv6 inside its block, compressed or not, and never across versions', () => {
    const block = parseCidr('2001:db8::/32')!;
    expect(isInCidr('2001:db8:ffff::1', block)).toBe(true);
    expect(isInCidr('2001:0db8:0000:0000:0000:0000:0000:0001', block)).toBe(true);
    expect(isInCidr('2001:db9::1', block)).toBe(false);
    expect(isInCidr('::ffff:10.0.0.1', parseCidr('::ffff:0:0/96')!)).toBe(true);
    expect(isInCidr('10.0.0.1', block)).toBe(false);
    expect(matchesValue('cidr', '10.0.0.0/8', 'ipv4-addr', '10.9.8.7')).toBe(true);
    expect(matchesValue('cidr', '10.0.0.0/8', 'domain-name', '10.9.8.7')).toBe(false);
  });
});

describe('domain suffix', () => {
  it('matches the domain and its subdomains, never a look-alike', () => {
    fc.assert(fc.property(domain, label, label, (d, sub, prefix) => {
      expect(matchesValue('domain-suffix', d, 'domain-name', d)).toBe(true);
      expect(matchesValue('domain-suffix', d, 'domain-name', `${sub}.${d}`)).toBe(true);
      expect(matchesValue('domain-suffix', d, 'domain-name', `${prefix}${d}`)).toBe(false);
      expect(matchesValue('domain-suffix', d, 'url', `https://${sub}.${d}/path?q=1`)).toBe(true);
      expect(matchesValue('domain-suffix', d, 'email-addr', `someone@${d}`)).toBe(true);
    }));
  });

  it('reads URL hosts past credentials and ports', () => {
    expect(hostOf('url', 'http://user:pw@Example.COM:8080/x')).toBe('example.com');
    expect(hostOf('email-addr', 'a@b@Evil.example')).toBe('evil.example');
    expect(checkValuePattern('domain-suffix', '*.Example.com.')).toEqual({ ok: true, normalised: 'example.com' });
    expect(checkValuePattern('domain-suffix', 'exa mple.com').ok).toBe(false);
  });
});

describe('regex', () => {
  it('runs on RE2, so a catastrophic pattern is harmless, and refuses backreferences and lookaround', () => {
    expect(checkValuePattern('regex', '(a+)+$').ok).toBe(true);
    expect(matchesValue('regex', '(a+)+$', 'url', `${'a'.repeat(50_000)}!`)).toBe(false);
    for (const bad of ['(a)\\1', '(?=x)y', '(?<!x)y', '[unclosed', 'x'.repeat(301)]) expect(checkValuePattern('regex', bad).ok, bad).toBe(false);
    const check = checkValuePattern('regex', '(a)\\1');
    expect(!check.ok && check.message).toContain('RE2');
  });

  it('searches anywhere unless anchored', () => {
    expect(matchesValue('regex', 'bad', 'url', 'http://x/bad/y')).toBe(true);
    expect(matchesValue('regex', '^bad$', 'url', 'http://x/bad/y')).toBe(false);
  });
});
