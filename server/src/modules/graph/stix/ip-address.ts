/**
 * Canonical text for IP addresses, as STIX ipv4-addr and ipv6-addr values carry them (an address or a CIDR block).
 *
 * Decisions:
 * - IPv4 octets with a leading zero ("010.1.1.1") are rejected, not normalised: inet_aton and many tools read
 *   them as octal (010 = 8), others as decimal, so either guess would merge the wrong address.
 * - A CIDR block keeps the address as written ("10.2.4.5/24" stays so; host bits are not masked, since a
 *   producer may mean "this host, in that network"). A full-length prefix (/32, /128) names one address and is
 *   dropped, so "1.2.3.4/32" and "1.2.3.4" are the same entity.
 * - IPv6 follows RFC 5952: lower-case, no leading zeros, the longest run of two or more zero groups compressed
 *   (the first one on a tie), and IPv4-mapped addresses (::ffff:0:0/96) written with a dotted quad.
 */
export type ValueCheck = { ok: true; value: string } | { ok: false; problem: string };

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parsePrefix(text: string | undefined, max: number): number | null | 'bad' {
  if (text === undefined) return null;
  if (!/^(0|[1-9]\d{0,2})$/.test(text)) return 'bad';
  const prefix = Number(text);
  return prefix > max ? 'bad' : prefix;
}

/** The four octets of a dotted-quad IPv4 address, or a problem. */
function parseIpv4Octets(text: string): number[] | string {
  const match = IPV4.exec(text);
  if (!match) return 'is not an IPv4 address';
  const parts = match.slice(1, 5) as string[];
  if (parts.some((part) => part.length > 1 && part.startsWith('0'))) {
    return 'has an octet with a leading zero, which tools read differently (octal or decimal); write it without the zero';
  }
  const octets = parts.map(Number);
  if (octets.some((octet) => octet > 255)) return 'is not an IPv4 address (each octet must be 0-255)';
  return octets;
}

export function checkIpv4(raw: string): ValueCheck {
  const text = raw.trim();
  if (text.length > 18) return { ok: false, problem: 'is not an IPv4 address' };
  const [address = '', prefixText, extra] = text.split('/');
  if (extra !== undefined) return { ok: false, problem: 'is not an IPv4 address' };
  const octets = parseIpv4Octets(address);
  if (typeof octets === 'string') return { ok: false, problem: octets };
  const prefix = parsePrefix(prefixText, 32);
  if (prefix === 'bad') return { ok: false, problem: 'has a CIDR prefix outside 0-32' };
  const dotted = octets.join('.');
  return { ok: true, value: prefix === null || prefix === 32 ? dotted : `${dotted}/${prefix}` };
}

/** The eight 16-bit groups of an IPv6 address, or null. Accepts "::" compression and a trailing dotted quad. */
function parseIpv6Groups(text: string): number[] | null {
  let body = text;
  let tail: number[] = [];
  const lastColon = body.lastIndexOf(':');
  if (body.includes('.')) {
    const octets = parseIpv4Octets(body.slice(lastColon + 1));
    if (typeof octets === 'string') return null;
    tail = [(octets[0]! << 8) | octets[1]!, (octets[2]! << 8) | octets[3]!];
    body = body.slice(0, lastColon + 1);
    // "::1.2.3.4" leaves "::"; "64:ff9b::1.2.3.4" leaves "64:ff9b::"; "1:2:3:4:5:6:1.2.3.4" leaves "1:…:6:".
    if (body.endsWith(':') && !body.endsWith('::')) body = body.slice(0, -1);
  }
  const halves = body.split('::');
  if (halves.length > 2) return null;
  const parseSide = (side: string): number[] | null => {
    if (side === '') return [];
    const groups = side.split(':');
    if (groups.some((group) => !/^[0-9a-fA-F]{1,4}$/.test(group))) return null;
    return groups.map((group) => parseInt(group, 16));
  };
  const head = parseSide(halves[0]!);
  const rest = halves.length === 2 ? parseSide(halves[1]!) : [];
  if (!head || !rest) return null;
  const known = head.length + rest.length + tail.length;
  if (halves.length === 1) return known === 8 ? [...head, ...tail] : null;
  if (known > 7) return null;
  return [...head, ...Array<number>(8 - known).fill(0), ...rest, ...tail];
}

function formatIpv6(groups: number[]): string {
  const isMapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (isMapped) {
    const [hi, lo] = [groups[6]!, groups[7]!];
    return `::ffff:${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j += 1;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

export function checkIpv6(raw: string): ValueCheck {
  const text = raw.trim();
  const invalid = { ok: false as const, problem: 'is not an IPv6 address' };
  if (text.length > 50) return invalid;
  if (text.includes('%')) return { ok: false, problem: 'has a zone index (%…), which only means something on one host' };
  const [address = '', prefixText, extra] = text.split('/');
  if (extra !== undefined) return invalid;
  const groups = parseIpv6Groups(address);
  if (!groups) return invalid;
  const prefix = parsePrefix(prefixText, 128);
  if (prefix === 'bad') return { ok: false, problem: 'has a CIDR prefix outside 0-128' };
  const formatted = formatIpv6(groups);
  return { ok: true, value: prefix === null || prefix === 128 ? formatted : `${formatted}/${prefix}` };
}
