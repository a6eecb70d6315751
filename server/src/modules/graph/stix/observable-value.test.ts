import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ValueCheck } from './ip-address.js';
import { checkDomain, checkEmail, checkMac, checkUrl } from './observable-value.js';

const valueOf = (check: ValueCheck) => (check.ok ? check.value : `problem: ${check.problem}`);

describe('checkDomain', () => {
  it.each([
    ['Example.COM.', 'example.com'],
    ['example.com', 'example.com'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['BÜCHER.example', 'bücher.example'],
    ['_dmarc.example.com', '_dmarc.example.com'],
    ['localhost', 'localhost'],
    [`${'a'.repeat(63)}.com`, `${'a'.repeat(63)}.com`],
  ])('accepts %j as %j', (input, canonical) => {
    expect(valueOf(checkDomain(input))).toBe(canonical);
  });

  it('composes Unicode (NFC), so two encodings of one IDN are one domain', () => {
    expect(valueOf(checkDomain('bu\u0308cher.example'))).toBe(valueOf(checkDomain('b\u00fccher.example')));
  });

  it.each([
    ['', 'is empty'],
    ['exa mple.com', 'is not a domain name'],
    ['-x.com', 'is not a domain name'],
    ['x-.com', 'is not a domain name'],
    ['x..com', 'empty label'],
    ['.com', 'empty label'],
    [`${'a'.repeat(64)}.com`, 'is not a domain name'],
    [`${'a.'.repeat(127)}com`, 'longer than the 253 characters'],
    ['1.2.3.4', 'all-numeric last label'],
    ['evil[.]com', 'looks defanged'],
    ['*.example.com', 'is not a domain name'],
  ])('rejects %j (%s)', (input, problem) => {
    expect(valueOf(checkDomain(input))).toContain(problem);
  });

  it('accepts every domain fast-check generates and is idempotent', () => {
    fc.assert(
      fc.property(fc.domain(), (domain) => {
        const once = valueOf(checkDomain(domain));
        expect(once).toBe(domain.toLowerCase());
        expect(valueOf(checkDomain(once))).toBe(once);
      }),
    );
  });
});

describe('checkEmail', () => {
  it.each([
    ['Alice@Example.COM', 'alice@example.com'],
    ['first.last+tag@mail.example.org', 'first.last+tag@mail.example.org'],
  ])('accepts %j as %j', (input, canonical) => {
    expect(valueOf(checkEmail(input))).toBe(canonical);
  });

  it.each([
    ['alice', 'expected local-part@domain'],
    ['@example.com', 'expected local-part@domain'],
    ['alice@', 'expected local-part@domain'],
    ['al ice@example.com', 'the part before @ is not valid'],
    ['.alice@example.com', 'the part before @ is not valid'],
    ['al..ice@example.com', 'the part before @ is not valid'],
    ['alice@exa mple.com', 'its domain is not a domain name'],
  ])('rejects %j (%s)', (input, problem) => {
    expect(valueOf(checkEmail(input))).toContain(problem);
  });

  it('accepts every address fast-check generates and is idempotent', () => {
    fc.assert(
      fc.property(fc.emailAddress(), (email) => {
        const once = valueOf(checkEmail(email));
        expect(once).toBe(email.toLowerCase());
        expect(valueOf(checkEmail(once))).toBe(once);
      }),
    );
  });
});

describe('checkMac', () => {
  it.each([
    ['00:1A:2B:3C:4D:5E', '00:1a:2b:3c:4d:5e'],
    ['00-1a-2b-3c-4d-5e', '00:1a:2b:3c:4d:5e'],
    ['001a.2b3c.4d5e', '00:1a:2b:3c:4d:5e'],
    ['001A2B3C4D5E', '00:1a:2b:3c:4d:5e'],
  ])('accepts %j as %j', (input, canonical) => {
    expect(valueOf(checkMac(input))).toBe(canonical);
  });

  it.each(['00:1a:2b:3c:4d', '00:1a:2b:3c:4d:5e:6f', '00:1a-2b:3c:4d:5e', '0:1a:2b:3c:4d:5e', 'zz:1a:2b:3c:4d:5e', ''])('rejects %j', (input) => {
    expect(valueOf(checkMac(input))).toContain('is not a MAC address');
  });
});

describe('checkUrl', () => {
  it.each([
    ['HTTP://Example.COM:80', 'http://example.com/'],
    ['https://Example.com:443/A/B?Q=1#F', 'https://example.com/A/B?Q=1#F'],
    ['https://example.com:8443/x', 'https://example.com:8443/x'],
    ['https://example.com?x=1', 'https://example.com/?x=1'],
    ['http://User:Pw@Example.com/', 'http://User:Pw@example.com/'],
    ['https://[2001:DB8:0::1]:443/', 'https://[2001:db8::1]/'],
    ['http://198.51.100.7:8080/gate.php', 'http://198.51.100.7:8080/gate.php'],
    ['http://example.com:/', 'http://example.com/'],
    ['FTP://files.example.com/a%20b', 'ftp://files.example.com/a%20b'],
    ['mailto:Someone@Example.com', 'mailto:Someone@Example.com'],
    ['file:///etc/passwd', 'file:///etc/passwd'],
  ])('accepts %j as %j', (input, canonical) => {
    expect(valueOf(checkUrl(input))).toBe(canonical);
  });

  it.each([
    ['example.com/path', 'needs a scheme'],
    ['http://exa mple.com/', 'whitespace'],
    ['hxxp://evil.example/', 'looks defanged'],
    ['http://evil[.]example/', 'looks defanged'],
    ['https://', 'no host'],
    ['https:example.com', 'needs //host'],
    ['http://999.1.1.1/', 'has a host that is not an IPv4 address'],
    ['http://example.com:99999/', 'port above 65535'],
    ['http://example.com:abc/', 'port that is not a number'],
    ['http://[::1/', 'unterminated [IPv6] host'],
    ['http://-bad-.com/', 'has a host that is not a domain name'],
  ])('rejects %j (%s)', (input, problem) => {
    expect(valueOf(checkUrl(input))).toContain(problem);
  });

  it('accepts every web URL fast-check generates and is idempotent', () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), (url) => {
        const once = checkUrl(url);
        expect(once.ok).toBe(true);
        expect(valueOf(checkUrl(valueOf(once)))).toBe(valueOf(once));
      }),
    );
  });
});
