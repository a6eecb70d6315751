/** Synthetic observable values (addresses, domains, urls, AS numbers) drawn from the seeded stream. */
import { DOMAIN_WORDS, MALICIOUS_TLDS, URL_FILES, URL_PATHS } from './names.js';
import type { Random } from './random.js';

/** Private, loopback, shared, link-local, documentation, benchmarking, multicast and reserved IPv4 space. */
function isReservedIpv4(x: number): boolean {
  const a = x >>> 24;
  const b = (x >>> 16) & 255;
  const c = (x >>> 8) & 255;
  return (
    a === 0 || a === 10 || a === 127 || a >= 224 ||
    (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 0 && (c === 0 || c === 2)) || (a === 192 && b === 88 && c === 99) || (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19)) || (a === 198 && b === 51 && c === 100) || (a === 203 && b === 0 && c === 113)
  );
}
function formatIpv4(x: number): string {
  return `${x >>> 24}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`;
}
export function publicIpv4(rng: Random): string {
  for (;;) {
    const x = rng.uint32();
    const last = x & 255;
    if (!isReservedIpv4(x) && last !== 0 && last !== 255) return formatIpv4(x);
  }
}
export function privateIpv4(rng: Random): string {
  const range = rng.int(3);
  const prefix = range === 0 ? `10.${rng.int(256)}` : range === 1 ? `172.${rng.between(16, 31)}` : '192.168';
  return `${prefix}.${rng.int(256)}.${rng.between(1, 254)}`;
}
/** Global unicast (2000::/3) outside 2001:db8::/32, written per RFC 5952 (lower case, no leading zeros). */
export function publicIpv6(rng: Random): string {
  for (;;) {
    const head = 0x2000 + rng.int(0x2000);
    const second = rng.between(1, 0xffff);
    if (head === 0x2001 && second === 0xdb8) continue;
    const groups = [head, second, rng.between(1, 0xffff), rng.between(1, 0xffff)].map((n) => n.toString(16));
    if (rng.chance(0.5)) {
      for (let i = 0; i < 4; i++) groups.push(rng.between(1, 0xffff).toString(16));
      return groups.join(':');
    }
    return `${groups.join(':')}::${rng.between(1, 0xfff).toString(16)}`;
  }
}
export function maliciousDomain(rng: Random): string {
  const tld = rng.pick(MALICIOUS_TLDS);
  const word = () => rng.pick(DOMAIN_WORDS);
  switch (rng.int(4)) {
    case 0:
      return `${word()}-${word()}.${tld}`;
    case 1:
      return `${word()}${word()}${rng.between(1, 99)}.${tld}`;
    case 2: {
      let label = '';
      for (let n = rng.between(10, 16); n > 0; n--) label += 'abcdefghijklmnopqrstuvwxyz'[rng.int(26)];
      return `${label}.${tld}`;
    }
    default:
      return `${word()}.${word()}-${word()}.${tld}`;
  }
}
export function urlOn(rng: Random, domain: string): string {
  let path = rng.pick(URL_PATHS);
  if (path.endsWith('/')) path += `${rng.chance(0.5) ? `${rng.hex(6)}/` : ''}${rng.pick(URL_FILES)}`;
  else path += `?id=${rng.hex(8)}`;
  return `${rng.chance(0.6) ? 'http' : 'https'}://${domain}${path}`;
}
export function autonomousSystemNumber(rng: Random): number {
  // Skips AS_TRANS (23456) and the documentation, private and reserved blocks 64496-131071.
  for (;;) {
    const n = rng.chance(0.7) ? rng.between(1000, 63_999) : rng.between(131_072, 399_999);
    if (n !== 23_456) return n;
  }
}
