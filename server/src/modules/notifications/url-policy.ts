import { BlockList, isIP } from 'node:net';

/**
 * Addresses a production webhook must not reach: loopback, private, link-local (cloud metadata at 169.254.169.254),
 * carrier-grade NAT, multicast and reserved ranges, and IPv6 forms that can wrap an IPv4 address (mapped, NAT64).
 * A tenant admin must not be able to make the server post to its own network.
 */
// Two lists: one BlockList checks an IPv4 address against IPv6 rules too (as ::ffff:a.b.c.d), so blocking the
// mapped range in a shared list would block every IPv4 address.
const blockedV4 = new BlockList();
const blockedV6 = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blockedV4.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['::ffff:0:0', 96],
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  blockedV6.addSubnet(net, prefix, 'ipv6');
}

/** True for an IP literal outside every blocked range; false for blocked ones and for anything not an IP. */
export function isPublicAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 0) return false;
  return family === 4 ? !blockedV4.check(ip, 'ipv4') : !blockedV6.check(ip, 'ipv6');
}

export type UrlPolicy = { allowPrivateNetwork: boolean };
export type UrlCheck = { ok: true; url: URL } | { ok: false; problem: string };

/** The host of a URL without IPv6 brackets, as DNS and BlockList want it. */
export function bareHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * Whether a webhook URL is acceptable. In dev (allowPrivateNetwork) any http(s) URL is, so a local receiver works.
 * In prod it must be https to a name or a public IP; names are checked again at delivery time against what they
 * resolve to (see webhook.job.ts), since DNS can point a public name at a private address.
 */
export function checkWebhookUrl(raw: string, policy: UrlPolicy): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, problem: 'must be an absolute URL such as https://hooks.example.com/summit' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, problem: 'must use http or https' };
  // Credentials in a URL end up in logs and API responses; the channel secret is where a shared secret belongs.
  if (url.username || url.password) return { ok: false, problem: 'must not contain a user name or password; use the channel secret' };
  if (url.hash) return { ok: false, problem: 'must not contain a #fragment' };
  if (policy.allowPrivateNetwork) return { ok: true, url };
  if (url.protocol !== 'https:') return { ok: false, problem: 'must use https' };
  const host = bareHost(url).toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal') || host.endsWith('.local')) {
    return { ok: false, problem: `must not point at a local host (${host})` };
  }
  if (isIP(host) && !isPublicAddress(host)) return { ok: false, problem: `must not point at a private or reserved address (${host})` };
  return { ok: true, url };
}

/** The URL as audit rows show it: no query string, which often carries a token (Slack- and Teams-style hooks). */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.origin}${url.pathname}${url.search ? '?…' : ''}`;
  } catch {
    return '[invalid url]';
  }
}
