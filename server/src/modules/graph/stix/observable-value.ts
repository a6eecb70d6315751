import { checkIpv4, checkIpv6, type ValueCheck } from './ip-address.js';

/**
 * Validation and canonical text for the string-valued observables other than IPs. Each check returns either the
 * canonical value or a problem phrased to follow the observable's name ("domain-name value x <problem>").
 */

// Letters, digits and marks of any script (IDNs stay in Unicode; punycode "xn--" labels are plain ASCII), plus
// "_", which real DNS names carry (_dmarc.example.com) even though host names may not.
const LABEL = /^[\p{L}\p{N}\p{M}_](?:[\p{L}\p{N}\p{M}_-]{0,61}[\p{L}\p{N}\p{M}_])?$/u;

export function checkDomain(raw: string): ValueCheck {
  let text = raw.trim().toLowerCase().normalize('NFC');
  if (text.endsWith('.')) text = text.slice(0, -1);
  if (text === '') return { ok: false, problem: 'is empty' };
  if (text.length > 253) return { ok: false, problem: 'is longer than the 253 characters DNS allows' };
  if (/\[\.\]|\(\.\)|\{\.\}/.test(text)) return { ok: false, problem: 'looks defanged ("[.]"); restore the dots before importing' };
  const labels = text.split('.');
  const bad = labels.find((label) => !LABEL.test(label));
  if (bad !== undefined) {
    return {
      ok: false,
      problem: bad === '' ? 'has an empty label (two dots in a row, or a leading dot)' : 'is not a domain name (labels are letters, digits and inner hyphens, at most 63 characters)',
    };
  }
  if (/^\d+$/.test(labels[labels.length - 1]!)) return { ok: false, problem: 'is not a domain name (an all-numeric last label; is it an IP address?)' };
  return { ok: true, value: text };
}

const LOCAL_PART = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u;

/** Plain addresses (local@domain). Quoted local parts and IP-literal domains are refused: they do not occur in feeds. */
export function checkEmail(raw: string): ValueCheck {
  const text = raw.trim();
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) return { ok: false, problem: 'is not an e-mail address (expected local-part@domain)' };
  const local = text.slice(0, at);
  if (local.length > 64 || !LOCAL_PART.test(local)) return { ok: false, problem: 'is not an e-mail address (the part before @ is not valid)' };
  const domain = checkDomain(text.slice(at + 1));
  if (!domain.ok) return { ok: false, problem: `is not an e-mail address (its domain ${domain.problem})` };
  return { ok: true, value: `${local.toLowerCase().normalize('NFC')}@${domain.value}` };
}

/** MAC-48 in the common spellings (aa:bb:…, AA-BB-…, aabb.ccdd.eeff, aabbccddeeff) → lower-case colon-separated. */
export function checkMac(raw: string): ValueCheck {
  const text = raw.trim();
  const separated = /^([0-9a-fA-F]{2})([:-])([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})$/.exec(text);
  let hex: string | null = null;
  if (separated) hex = [1, 3, 4, 5, 6, 7].map((i) => separated[i]).join('');
  else if (/^[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}$/.test(text)) hex = text.replaceAll('.', '');
  else if (/^[0-9a-fA-F]{12}$/.test(text)) hex = text;
  if (hex === null) return { ok: false, problem: 'is not a MAC address (expected six hex octets such as 00:1a:2b:3c:4d:5e)' };
  return { ok: true, value: hex.toLowerCase().match(/../g)!.join(':') };
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = { http: '80', https: '443', ws: '80', wss: '443', ftp: '21' };
/** Schemes whose URLs must name a host; for these an empty path means "/" (RFC 3986 §6.2.3). */
const HOST_SCHEMES = new Set(['http', 'https', 'ws', 'wss', 'ftp']);

function splitHostPort(hostPort: string): { host: string; port: string | undefined } | { problem: string } {
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0) return { problem: 'has an unterminated [IPv6] host' };
    const after = hostPort.slice(close + 1);
    if (after !== '' && !/^:\d*$/.test(after)) return { problem: 'has text after the ] of its IPv6 host' };
    return { host: hostPort.slice(0, close + 1), port: after === '' ? undefined : after.slice(1) };
  }
  const colon = hostPort.lastIndexOf(':');
  if (colon < 0) return { host: hostPort, port: undefined };
  const port = hostPort.slice(colon + 1);
  if (!/^\d*$/.test(port)) return { problem: 'has a port that is not a number' };
  return { host: hostPort.slice(0, colon), port };
}

function checkUrlHost(host: string): ValueCheck {
  if (host.startsWith('[')) {
    if (!host.endsWith(']')) return { ok: false, problem: 'has an unterminated [IPv6] host' };
    const ip = checkIpv6(host.slice(1, -1));
    return ip.ok ? { ok: true, value: `[${ip.value}]` } : { ok: false, problem: `has a host that ${ip.problem}` };
  }
  if (/^[\d.]+$/.test(host)) {
    const ip = checkIpv4(host);
    return ip.ok && !ip.value.includes('/') ? ip : { ok: false, problem: `has a host that ${ip.ok ? 'is a CIDR block' : ip.problem}` };
  }
  const domain = checkDomain(host);
  return domain.ok ? domain : { ok: false, problem: `has a host that ${domain.problem}` };
}

/**
 * Canonical URL: scheme and host lower-cased, the scheme's default port removed, an empty path on http(s)/ws(s)/ftp
 * written "/", and everything else (user info, path, query, fragment) kept byte for byte. Deliberately not WHATWG
 * URL parsing, which re-encodes paths and would merge URLs a detection rule tells apart.
 */
export function checkUrl(raw: string): ValueCheck {
  const text = raw.trim();
  if (/[\s\u0000-\u001f\u007f]/.test(text)) return { ok: false, problem: 'contains whitespace or control characters' };
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s.exec(text);
  if (!match) return { ok: false, problem: 'is not a URL (it needs a scheme such as https://)' };
  const scheme = match[1]!.toLowerCase();
  const rest = match[2]!;
  if (/^hxxps?$/.test(scheme)) return { ok: false, problem: 'looks defanged (hxxp); restore the scheme before importing' };
  if (!rest.startsWith('//')) {
    if (HOST_SCHEMES.has(scheme)) return { ok: false, problem: `is not a URL (${scheme}: needs //host)` };
    return rest === '' ? { ok: false, problem: 'is not a URL (nothing after the scheme)' } : { ok: true, value: `${scheme}:${rest}` };
  }
  const afterSlashes = rest.slice(2);
  const authorityEnd = afterSlashes.search(/[/?#]/);
  const authority = authorityEnd < 0 ? afterSlashes : afterSlashes.slice(0, authorityEnd);
  let tail = authorityEnd < 0 ? '' : afterSlashes.slice(authorityEnd);
  const at = authority.lastIndexOf('@');
  const userInfo = at < 0 ? '' : authority.slice(0, at + 1);
  const hostPort = splitHostPort(authority.slice(at + 1));
  if ('problem' in hostPort) return { ok: false, problem: hostPort.problem };
  const { host } = hostPort;
  let { port } = hostPort;
  if (host === '') {
    if (HOST_SCHEMES.has(scheme)) return { ok: false, problem: 'is not a URL (no host)' };
    return { ok: true, value: `${scheme}://${userInfo}${port === undefined ? '' : `:${port}`}${tail}` };
  }
  const checkedHost = checkUrlHost(host);
  if (!checkedHost.ok) return checkedHost;
  if (port !== undefined && port !== '' && Number(port) > 65535) return { ok: false, problem: 'has a port above 65535' };
  if (port === '' || (port !== undefined && DEFAULT_PORTS[scheme] === String(Number(port)))) port = undefined;
  if (HOST_SCHEMES.has(scheme) && !tail.startsWith('/')) tail = `/${tail}`;
  return { ok: true, value: `${scheme}://${userInfo}${checkedHost.value}${port === undefined ? '' : `:${port}`}${tail}` };
}
