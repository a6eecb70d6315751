/**
 * The ServiceNow connector's operations files (issue 6, "Health and SLOs"): the Prometheus rules pass
 * `promtool check rules` and their unit tests (`promtool test rules`, which prove a burst of errors pages and a
 * healthy series does not), and the Grafana dashboard is importable JSON whose every query parses as PromQL and uses
 * only the connector's four metric families. promtool comes from Debian's `prometheus` package (.ci/run installs
 * it); without it these tests fail and say so, rather than skip.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const rulesFile = path.join(repoRoot, 'ops/alerts/servicenow.rules.yml');
const rulesTestFile = path.join(repoRoot, 'ops/alerts/servicenow.rules.test.yml');
const dashboardFile = path.join(repoRoot, 'ops/dashboards/connector_servicenow_slo.json');

/** The connector's metric families (issue 6); histograms also expose _bucket, _sum and _count series. */
const CONNECTOR_METRICS = ['servicenow_requests_total', 'servicenow_request_duration_seconds', 'connector_sync_lag_seconds', 'connector_records_total'];

// PromQL functions, aggregations and keywords: every other bare identifier in an expression is a metric name.
const PROMQL_WORDS = new Set(
  (
    'sum min max avg count stddev stdvar topk bottomk quantile count_values group by without on ignoring group_left ' +
    'group_right bool and or unless offset rate irate increase delta idelta deriv predict_linear resets changes ' +
    'histogram_quantile clamp clamp_min clamp_max abs ceil floor round exp ln log2 log10 sqrt sgn absent absent_over_time ' +
    'avg_over_time min_over_time max_over_time sum_over_time count_over_time quantile_over_time stddev_over_time ' +
    'last_over_time present_over_time label_replace label_join vector scalar time timestamp sort sort_desc ' +
    'label_values inf nan'
  ).split(' '),
);

/**
 * The metric names an expression reads. Label matchers, grouping label lists, ranges, strings and numbers are not
 * names; a recording rule's name (`a:b:c`) is kept whole so it can be told apart from a raw metric.
 */
function metricNames(expr: string): string[] {
  const stripped = expr
    // Grafana's label_values(metric, label): the second argument names a label.
    .replace(/\blabel_values\(([^,)]*),[^)]*\)/g, '$1')
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\b\d+(\.\d+)?(e-?\d+)?\b/gi, ' ');
  return [...stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)].map((m) => m[0]).filter((word) => !PROMQL_WORDS.has(word));
}

function familyOf(name: string): string {
  return name.replace(/_(bucket|sum|count)$/, '');
}

function requirePromtool(): string {
  const found = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  if (found.error || found.status !== 0) {
    throw new Error(
      'promtool is not installed: it checks ops/alerts/servicenow.rules.yml. Install Debian\'s `prometheus` package ' +
        '(`apt-get install --no-install-recommends prometheus`); .ci/run does this when promtool is missing.',
    );
  }
  return 'promtool';
}

/** Runs promtool and returns its output; a failure carries promtool's own report. */
function promtool(args: string[], cwd = repoRoot): string {
  const result = spawnSync(requirePromtool(), args, { cwd, encoding: 'utf8' });
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) throw new Error(`promtool ${args.join(' ')} failed:\n${output}`);
  return output;
}

type Target = { expr?: string; refId?: string };
type Panel = { type: string; title: string; targets?: Target[]; panels?: Panel[] };
type RuleGroup = { name: string; rules: Array<{ alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }> };

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('metricNames', () => {
  it('finds metric names and leaves out functions, labels, ranges and numbers', () => {
    expect(metricNames('histogram_quantile(0.95, sum by (le) (rate(servicenow_request_duration_seconds_bucket{status=~"5..|x"}[5m])))')).toEqual([
      'servicenow_request_duration_seconds_bucket',
    ]);
    expect(metricNames('avg_over_time((max by (connector) (connector_sync_lag_seconds) > bool 900)[1h:1m]) / 0.01')).toEqual(['connector_sync_lag_seconds']);
    expect(metricNames('servicenow:request_errors:ratio_rate1h > (14.4 * 0.01) and up')).toEqual(['servicenow:request_errors:ratio_rate1h', 'up']);
    expect(metricNames('label_values(connector_sync_lag_seconds, connector)')).toEqual(['connector_sync_lag_seconds']);
  });
});

describe('ops/alerts/servicenow.rules.yml', () => {
  const groups = (parse(readFileSync(rulesFile, 'utf8')) as { groups: RuleGroup[] }).groups;
  const rules = groups.flatMap((g) => g.rules);
  const alerts = rules.filter((r) => r.alert);

  it('passes promtool check rules', () => {
    expect(promtool(['check', 'rules', rulesFile])).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('passes its promtool unit tests: a burst of errors pages, a healthy series does not', () => {
    expect(promtool(['test', 'rules', rulesTestFile])).toMatch(/SUCCESS/);
  });

  it('fails its unit tests when the fast-burn threshold is wrong (the unit tests can fail)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'servicenow-rules-'));
    tempDirs.push(dir);
    // A page that needs half the requests to fail would miss the burst the unit test feeds it.
    writeFileSync(path.join(dir, 'servicenow.rules.yml'), readFileSync(rulesFile, 'utf8').replaceAll('> (14.4 * 0.01)', '> (50 * 0.01)'));
    writeFileSync(path.join(dir, 'servicenow.rules.test.yml'), readFileSync(rulesTestFile, 'utf8'));
    expect(() => promtool(['test', 'rules', 'servicenow.rules.test.yml'], dir)).toThrow(/ServiceNowErrorBudgetFastBurn/);
  });

  it('has multi-window burn-rate pages on errors and on lag, each with for:, severity, summary and runbook', () => {
    const names = alerts.map((a) => a.alert);
    for (const name of ['ServiceNowErrorBudgetFastBurn', 'ServiceNowErrorBudgetSustainedBurn', 'ServiceNowSyncLagFastBurn', 'ServiceNowSyncLagSustainedBurn']) {
      expect(names).toContain(name);
    }
    for (const alert of alerts) {
      expect(['warning', 'critical'], alert.alert).toContain(alert.labels?.severity);
      expect(alert.annotations?.summary?.length ?? 0, alert.alert).toBeGreaterThan(10);
      expect(alert.annotations?.runbook?.length ?? 0, alert.alert).toBeGreaterThan(20);
      if (/Burn$/.test(alert.alert!)) {
        expect(alert.for, alert.alert).toMatch(/^\d+m$/);
        // Two windows joined by `and`: a long one that proves the burn, a short one that ends the page soon after.
        expect(alert.expr, alert.alert).toMatch(/ratio_\w+ > \([\d.]+ \* 0\.01\)\s+and\s+\S+ratio_\w+ > \([\d.]+ \* 0\.01\)/);
      }
    }
    expect(rules.filter((r) => r.record).length).toBeGreaterThanOrEqual(8);
  });

  it('reads only the connector metrics and its own recording rules', () => {
    const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
    for (const rule of rules) {
      const used = metricNames(rule.expr);
      expect(used.length, rule.alert ?? rule.record).toBeGreaterThan(0);
      for (const name of used) {
        const known = recorded.has(name) || CONNECTOR_METRICS.includes(familyOf(name));
        expect(known, `${rule.alert ?? rule.record} uses ${name}`).toBe(true);
      }
    }
  });
});

describe('ops/dashboards/connector_servicenow_slo.json', () => {
  const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as {
    __inputs: Array<{ name: string; type: string; pluginId: string }>;
    panels: Panel[];
    templating: { list: Array<{ name: string; query: { query: string } | string }> };
    uid: string;
    title: string;
  };
  const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
  const targets = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? '' })));

  it('is an importable dashboard with a Prometheus datasource input', () => {
    expect(dashboard.uid).toBe('summit-servicenow-slo');
    expect(dashboard.title.length).toBeGreaterThan(0);
    expect(dashboard.__inputs).toContainEqual(expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }));
    expect(JSON.stringify(dashboard.panels)).toContain('${DS_PROMETHEUS}');
  });

  it('gives every panel at least one query', () => {
    expect(panels.length).toBeGreaterThanOrEqual(8);
    for (const panel of panels) {
      expect(panel.targets?.length ?? 0, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets!) expect(target.expr?.trim().length ?? 0, panel.title).toBeGreaterThan(0);
    }
  });

  it('covers rate by status, error ratio, P95 latency, lag, records, throttling and burn rates', () => {
    const all = targets.map((t) => t.expr).join('\n');
    expect(all).toMatch(/sum by \(status\) \(rate\(servicenow_requests_total/);
    expect(all).toMatch(/status=~"5\.\.\|network_error"/);
    expect(all).toMatch(/histogram_quantile\(0\.95, sum by \(le\) \(rate\(servicenow_request_duration_seconds_bucket/);
    expect(all).toMatch(/connector_sync_lag_seconds/);
    expect(all).toMatch(/sum by \(direction, outcome\) \(rate\(connector_records_total/);
    expect(all).toMatch(/status="429"/);
    expect(all).toMatch(/\/ 0\.01/);
  });

  it('uses only the four connector metric families', () => {
    const templateQueries = dashboard.templating.list.map((v) => (typeof v.query === 'string' ? v.query : v.query.query));
    for (const { panel, expr } of [...targets, ...templateQueries.map((q) => ({ panel: 'templating', expr: q }))]) {
      const used = metricNames(expr);
      expect(used.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const name of used) expect(CONNECTOR_METRICS, `${panel} uses ${name}`).toContain(familyOf(name));
    }
  });

  it('has queries that parse as PromQL (checked by promtool with the Grafana variables filled in)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'servicenow-dashboard-'));
    tempDirs.push(dir);
    const rules = targets.map((t, i) => ({
      record: `dashboard:query:${i}`,
      expr: t.expr.replaceAll('$__rate_interval', '5m').replaceAll('$__range', '1h').replaceAll('$connector', '.*'),
    }));
    expect(rules.every((r) => !r.expr.includes('$'))).toBe(true);
    const file = path.join(dir, 'dashboard.rules.yml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
    expect(promtool(['check', 'rules', file])).toMatch(new RegExp(`SUCCESS: ${rules.length} rules found`));
  });
});
