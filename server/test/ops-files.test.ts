import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { insertDeadLetter } from './fixtures.js';
import { createTestApp, type TestApp } from './harness.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

type Rule = { alert: string; expr: string; labels: { severity: string }; annotations: { summary: string } };

describe('ops/prometheus/summit-alerts.yml', () => {
  const file = parse(readFileSync(path.join(repoRoot, 'ops/prometheus/summit-alerts.yml'), 'utf8')) as { groups: { rules: Rule[] }[] };
  const rules = file.groups.flatMap((g) => g.rules);

  it('gives every rule a name, a severity and a summary', () => {
    expect(rules.length).toBeGreaterThanOrEqual(5);
    for (const rule of rules) {
      expect(rule.alert).toMatch(/^Summit[A-Za-z]+$/);
      expect(['warning', 'critical']).toContain(rule.labels.severity);
      expect(rule.annotations.summary.length).toBeGreaterThan(10);
    }
  });

  it('uses only metrics the server exports', async () => {
    const tenant = await t.createTenant();
    await insertDeadLetter(t, tenant.id);
    await tenant.admin.get('/api/v1/me');
    const exported = (await t.anonymous.get('/metrics')).body;
    expect(exported).toMatch(/dlq_depth\{queue="audit.checkpoint"\} 1/);
    const families = new Set([...exported.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    for (const rule of rules) {
      // Label lists (`by (queue)`) and label matchers are not metrics; what is left before {, [ or ) is.
      const expr = rule.expr.replace(/\b(by|without)\s*\([^)]*\)/g, '').replace(/\{[^}]*\}/g, '{}');
      const used = [...expr.matchAll(/\b([a-z][a-z0-9_]*?)(_bucket|_count|_sum)?(?=\{|\[|\))/g)].map((m) => m[1]!);
      expect(used.length, rule.alert).toBeGreaterThan(0);
      for (const metric of used) expect(families, `${rule.alert} uses ${metric}`).toContain(metric);
    }
  });
});
