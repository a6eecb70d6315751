import { isIPv4 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkIpv4, checkIpv6 } from './ip-address.js';

const valueOf = (check: ReturnType<typeof checkIpv4>) => (check.ok ? check.value : `problem: ${check.problem}`);

describe('checkIpv4', () => {
  it.each([
    ['1.2.3.4', '1.2.3.4'],
    [' 10.0.0.1 ', '10.0.0.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['10.2.4.5/24', '10.2.4.5/24'],
    ['1.2.3.4/32', '1.2.3.4'],
    ['0.0.0.0/0', '0.0.0.0/0'],
  ])('accepts %j as %j', (input, canonical) => {
    expect(valueOf(checkIpv4(input))).toBe(canonical);
  });

  it.each([
    ['999.1.1.1', 'each octet must be 0-255'],
    ['256.0.0.1', 'each octet must be 0-255'],
    ['010.1.1.1', 'leading zero'],
    ['1.2.3.04', 'leading zero'],
    ['1.2.3', 'is not an IPv4 address'],
    ['1.2.3.4.5', 'is not an IPv4 address'],
    ['1.2.3.4/33', 'CIDR prefix outside 0-32'],
    ['1.2.3.4/024', 'CIDR prefix outside 0-32'],
    ['1.2.3.4/8/8', 'is not an IPv4 address'],
    ['a.b.c.d', 'is not an IPv4 address'],
    ['', 'is not an IPv4 address'],
    ['::1', 'is not an IPv4 address'],
  ])('rejects %j (%s)', (input, problem) => {
    const check = checkIpv4(input);
    expect(check.ok).toBe(false);
    expect(valueOf(check)).toContain(problem);
  });

  it('accepts exactly what node:net accepts as a dotted quad, and keeps it unchanged', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        expect(isIPv4(ip)).toBe(true);
        expect(valueOf(checkIpv4(ip))).toBe(ip);
      }),
    );
  });
});

/** The WHATWG URL parser serialises IPv6 hosts per RFC 5952 (except IPv4-mapped ones): an independent oracle. */
function whatwgIpv6(address: string): string {
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

describe('checkIpv6', () => {
  it.each([
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'],
    ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
    ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4'],
    ['1:2:3:4:5:6:0:8', '1:2:3:4:5:6:0:8'],
    ['1::2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::', 'fe80::'],
    ['::FFFF:1.2.3.4', '::ffff:1.2.3.4'],
    ['::ffff:0102:0304', '::ffff:1.2.3.4'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['2001:db8::/32', '2001:db8::/32'],
    ['2001:db8::1/128', '2001:db8::1'],
  ])('writes %j as %j (RFC 5952)', (input, canonical) => {
    expect(valueOf(checkIpv6(input))).toBe(canonical);
  });

  it.each([
    ['2001:db8::1::1', 'is not an IPv6 address'],
    ['2001:db8:0:0:0:0:0:0:1', 'is not an IPv6 address'],
    ['1:2:3:4:5:6:7', 'is not an IPv6 address'],
    ['12345::1', 'is not an IPv6 address'],
    ['g::1', 'is not an IPv6 address'],
    ['::ffff:999.1.1.1', 'is not an IPv6 address'],
    ['1.2.3.4', 'is not an IPv6 address'],
    ['fe80::1%eth0', 'zone index'],
    ['2001:db8::/129', 'CIDR prefix outside 0-128'],
    [':1::', 'is not an IPv6 address'],
  ])('rejects %j (%s)', (input, problem) => {
    const check = checkIpv6(input);
    expect(check.ok).toBe(false);
    expect(valueOf(check)).toContain(problem);
  });

  const groups = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 });

  it('agrees with the WHATWG URL serialisation for any address written in full, upper-case hex', () => {
    fc.assert(
      fc.property(groups, (parts) => {
        fc.pre(!(parts.slice(0, 5).every((g) => g === 0) && parts[5] === 0xffff));
        const full = parts.map((g) => g.toString(16).toUpperCase().padStart(4, '0')).join(':');
        expect(valueOf(checkIpv6(full))).toBe(whatwgIpv6(full));
      }),
    );
  });

  it('is idempotent on every address fast-check writes', () => {
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        const once = checkIpv6(ip);
        expect(once.ok).toBe(true);
        expect(valueOf(checkIpv6(valueOf(once)))).toBe(valueOf(once));
      }),
    );
  });
});
