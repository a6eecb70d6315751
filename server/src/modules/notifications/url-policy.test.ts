import { describe, expect, it } from 'vitest';
import { checkWebhookUrl, isPublicAddress, redactUrl } from './url-policy.js';

const dev = { allowPrivateNetwork: true };
const prod = { allowPrivateNetwork: false };
const problem = (raw: string, policy = prod) => {
  const check = checkWebhookUrl(raw, policy);
  return check.ok ? null : check.problem;
};

describe('checkWebhookUrl', () => {
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
