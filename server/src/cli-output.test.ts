import { describe, expect, it } from 'vitest';
import { formatTenantList } from './cli.js';

describe('summit tenant list', () => {
  it('prints control characters in names escaped, so a name cannot rewrite the terminal', () => {
    const out = formatTenantList([
      { id: 't1', name: '\u001b[2J\u001b[Hroot', createdAt: '2026-01-01T00:00:00.000Z' },
      { id: 't2', name: 'ok\rEVIL', createdAt: '2026-01-01T00:00:00.000Z' },
      { id: 't3', name: 'admin\u202Egnp.exe', createdAt: '2026-01-01T00:00:00.000Z' },
    ]);
    expect(out.split('\n')).toEqual([
      't1  \\x1b[2J\\x1b[Hroot  2026-01-01T00:00:00.000Z',
      't2  ok\\rEVIL  2026-01-01T00:00:00.000Z',
      't3  admin\\u202egnp.exe  2026-01-01T00:00:00.000Z',
    ]);
    expect(out).not.toMatch(/[\u001b\r\u202e]/);
  });
});
