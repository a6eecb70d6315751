/**
 * The one policy for every request Summit makes to an address a tenant configured (webhooks, ServiceNow instances,
 * enrichment providers, and any later client: audit export to a SIEM, syslog). A tenant admin must not be able to
 * make the server reach its own network: cloud metadata at 169.254.169.254, a database on 10.0.0.5, an admin port
 * on loopback.
 *
 * In prod: https only, to a name or a public address; names are checked again on every connection against the
 * addresses they resolve to (outbound-fetch.ts), so DNS pointing a public name at a private address (rebinding)
 * gets nowhere. Outside prod (a laptop, tests) anything http(s) goes, so a local receiver or test server works.
 * The URL check is for configuration time (a 400 naming the field); the address check runs at connect time.
 */
import { BlockList, isIP } from 'node:net';

export type OutboundPolicy = { allowPrivateNetwork: boolean };

/** Loopback and private addresses only outside prod; without SUMMIT_ENV (tests) that is dev. */
export function outboundPolicyFor(env: 'dev' | 'prod' | undefined): OutboundPolicy {
  return { allowPrivateNetwork: (env ?? 'dev') !== 'prod' };
}

// Two lists: one BlockList checks an IPv4 address against IPv6 rules too (as ::ffff:a.b.c.d), so blocking the
// mapped range in a shared list would block every IPv4 address.
const blockedV4 = new BlockList();
const blockedV6 = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation (TEST-NET-1)
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation (TEST-NET-2)
  ['203.0.113.0', 24], // documentation (TEST-NET-3)
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  blockedV4.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 96], // unspecified, loopback, IPv4-compatible
  ['::ffff:0:0', 96], // IPv4-mapped: wraps any IPv4 address, private ones included
  ['64:ff9b::', 96], // NAT64
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments (Teredo wraps IPv4)
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: wraps IPv4
  ['3fff::', 20], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  blockedV6.addSubnet(net, prefix, 'ipv6');
}

/** True for an IP literal outside every blocked range; false for blocked ones and for anything not an IP. */
export function isPublicAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 0) return false;
  return family === 4 ? !blockedV4.check(ip, 'ipv4') : !blockedV6.check(ip, 'ipv6');
}

/** Whether the policy lets a connection go to this resolved address. */
export function isAllowedAddress(ip: string, policy: OutboundPolicy): boolean {
  return policy.allowPrivateNetwork || isPublicAddress(ip);
}

/** The host of a URL without IPv6 brackets, as DNS and BlockList want it. */
export function bareHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** Names that only mean something inside a network: never a destination in prod. */
function isLocalName(host: string): boolean {
  return (
    host === 'localhost' ||
    !host.includes('.') ||
    ['.localhost', '.local', '.internal', '.localdomain', '.home.arpa', '.lan', '.intranet'].some((suffix) => host.endsWith(suffix))
  );
}

export type UrlCheck = { ok: true; url: URL } | { ok: false; problem: string };

/**
 * Whether a configured URL may be called. `problem` completes a sentence about the field ("instanceUrl must use
 * https"). Credentials never belong in a URL (they end up in logs and API responses), nor a fragment.
 */
export function checkOutboundUrl(raw: string, policy: OutboundPolicy, options: { allowQuery?: boolean } = {}): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, problem: 'must be an absolute URL such as https://service.example.com/path' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, problem: 'must use http or https' };
  if (url.username || url.password) return { ok: false, problem: 'must not contain a user name or password; credentials have their own fields' };
  if (url.hash) return { ok: false, problem: 'must not contain a #fragment' };
  if (options.allowQuery === false && url.search) return { ok: false, problem: 'must not contain a ?query' };
  if (policy.allowPrivateNetwork) return { ok: true, url };
  if (url.protocol !== 'https:') return { ok: false, problem: 'must use https' };
  const host = bareHost(url).toLowerCase();
  if (isIP(host)) {
    if (!isPublicAddress(host)) return { ok: false, problem: `must not point at a private or reserved address (${host})` };
    return { ok: true, url };
  }
  if (isLocalName(host)) return { ok: false, problem: `must not point at a local host name (${host}); use a public name` };
  return { ok: true, url };
}

/** The URL as audit rows and API responses show it: no query string, which often carries a token. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.origin}${url.pathname}${url.search ? '?…' : ''}`;
  } catch {
    return '[invalid url]';
  }
}
