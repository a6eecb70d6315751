import { describe, expect, it } from 'vitest';
import { checkOutboundUrl, isPublicAddress, outboundPolicyFor, redactUrl } from './outbound-url.js';

const dev = { allowPrivateNetwork: true };
const prod = { allowPrivateNetwork: false };
const problem = (raw: string, policy = prod) => {
  const check = checkOutboundUrl(raw, policy);
  return check.ok ? null : check.problem;
};

describe('checkOutboundUrl', () => {
  it('accepts a local http receiver in dev', () => {
    expect(problem('http://127.0.0.1:43211/hook', dev)).toBeNull();
    expect(problem('http://localhost/hook', dev)).toBeNull();
  });

  it('accepts https to a public name or address in prod', () => {
    expect(problem('https://hooks.example.com/summit?x=1')).toBeNull();
    expect(problem('https://93.184.216.34/hook')).toBeNull();
    expect(problem('https://[2606:4700::1111]/hook')).toBeNull();
  });

  it('refuses what is not an absolute http(s) URL, in any environment', () => {
    expect(problem('not a url', dev)).toMatch(/absolute URL/);
    expect(problem('/relative', dev)).toMatch(/absolute URL/);
    expect(problem('ftp://example.com/x', dev)).toBe('must use http or https');
    expect(problem('file:///etc/passwd', dev)).toBe('must use http or https');
  });

  it('refuses credentials and fragments in the URL', () => {
    expect(problem('https://user:pw@example.com/', dev)).toMatch(/user name or password/);
    expect(problem('https://example.com/#x', dev)).toMatch(/fragment/);
  });

  it('requires https in prod', () => {
    expect(problem('http://hooks.example.com/')).toBe('must use https');
  });

  it.each([
    'https://localhost/x',
    'https://api.localhost/x',
    'https://127.0.0.1/x',
    'https://2130706433/x',
    'https://10.1.2.3/x',
    'https://172.20.0.1/x',
    'https://192.168.1.1/x',
    'https://169.254.169.254/latest/meta-data',
    'https://100.64.0.1/x',
    'https://0.0.0.0/x',
    'https://[::1]/x',
    'https://[fd00::1]/x',
    'https://[fe80::1]/x',
    'https://[::ffff:127.0.0.1]/x',
    'https://metadata.google.internal/x',
  ])('refuses %s in prod', (raw) => {
    expect(problem(raw)).toMatch(/must not point at/);
  });
});

describe('isPublicAddress', () => {
  it('tells public from private addresses and refuses non-addresses', () => {
    expect(isPublicAddress('8.8.8.8')).toBe(true);
    expect(isPublicAddress('2001:4860:4860::8888')).toBe(true);
    expect(isPublicAddress('192.168.0.10')).toBe(false);
    expect(isPublicAddress('::1')).toBe(false);
    expect(isPublicAddress('example.com')).toBe(false);
  });
});

describe('redactUrl', () => {
  it('drops the query string, which often carries a token', () => {
    expect(redactUrl('https://hooks.example.com/services/T0/B0?token=abc')).toBe('https://hooks.example.com/services/T0/B0?…');
    expect(redactUrl('https://hooks.example.com/a')).toBe('https://hooks.example.com/a');
  });
});

describe('the production address ranges', () => {
  it.each([
    '127.0.0.1', '10.0.0.5', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1',
    '255.255.255.255', '192.0.2.10', '198.51.100.7', '203.0.113.99', '198.18.0.1',
    '::', '::1', '::ffff:10.0.0.5', '::ffff:8.8.8.8', '64:ff9b::a00:5', 'fd12:3456::1', 'fe80::1', 'ff02::1', '2001:db8::1', '2002:a00:5::1', '3fff::1',
  ])('refuses %s', (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });

  it.each(['8.8.8.8', '93.184.216.34', '1.1.1.1', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e'])('allows %s', (ip) => {
    expect(isPublicAddress(ip)).toBe(true);
  });

  it('allows everything outside prod, nothing private in prod', () => {
    expect(outboundPolicyFor(undefined)).toEqual({ allowPrivateNetwork: true });
    expect(outboundPolicyFor('prod')).toEqual({ allowPrivateNetwork: false });
    expect(checkOutboundUrl('https://10.0.0.5/', outboundPolicyFor('prod'))).toMatchObject({ ok: false });
    expect(checkOutboundUrl('http://10.0.0.5/', outboundPolicyFor('dev'))).toMatchObject({ ok: true });
  });

  it('refuses single-label and internal names in prod, and a query where the caller forbids one', () => {
    expect(problem('https://intranet/x')).toMatch(/local host name/);
    expect(problem('https://printer.home.arpa/x')).toMatch(/local host name/);
    expect(checkOutboundUrl('https://acme.service-now.com/?x=1', prod, { allowQuery: false })).toEqual({ ok: false, problem: 'must not contain a ?query' });
  });
});
