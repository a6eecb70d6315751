import { describe, expect, it } from 'vitest';
import { computeCoverage } from './coverage.js';
import { actionsGrantedBy, loadPolicyBundle } from './policy-set.js';
import type { RouteEntry } from './route-registry.js';

const route = (method: string, path: string, action: string | null, isPublic = false): RouteEntry => ({
  method,
  path,
  action,
  public: isPublic,
});

describe('computeCoverage', () => {
  const grants = new Map<string, string[]>([
    ['user:read', ['admins-manage-directory', 'auditors-read-directory']],
    ['user:create', ['admins-manage-directory']],
    ['user:delete', []],
  ]);
  const leafActions = ['user:create', 'user:delete', 'user:read', 'widget:spin'];

  it('counts public routes as covered and lists the permits behind each covered route', () => {
    const report = computeCoverage(
      [route('GET', '/healthz', null, true), route('GET', '/api/v1/users/{id}', 'user:read')],
      grants,
      leafActions,
    );
    expect(report.total).toBe(2);
    expect(report.covered).toBe(2);
    expect(report.percent).toBe(100);
    expect(report.routes).toEqual([
      { ...route('GET', '/api/v1/users/{id}', 'user:read'), covered: true, policies: ['admins-manage-directory', 'auditors-read-directory'] },
      { ...route('GET', '/healthz', null, true), covered: true, policies: [] },
    ]);
  });

  it('marks a route uncovered when no permit grants its action, and lists that action', () => {
    const report = computeCoverage(
      [route('DELETE', '/api/v1/users/{id}', 'user:delete'), route('POST', '/api/v1/widgets', 'widget:spin')],
      grants,
      leafActions,
    );
    expect(report.routes.map((r) => [r.method, r.covered])).toEqual([
      ['DELETE', false],
      ['POST', false],
    ]);
    expect(report.covered).toBe(0);
    expect(report.percent).toBe(0);
    // Actions without a permit are listed whether or not a route uses them (user:delete has an empty grant list).
    expect(report.actionsWithoutPolicy).toEqual(['user:delete', 'widget:spin']);
  });

  it('rounds the percentage to one decimal', () => {
    const covered = route('GET', '/a', 'user:read');
    const uncovered = route('GET', '/b', 'user:delete');
    expect(computeCoverage([covered, uncovered, uncovered], grants, leafActions).percent).toBe(33.3);
    expect(computeCoverage([covered, covered, uncovered], grants, leafActions).percent).toBe(66.7);
    expect(computeCoverage([covered, ...Array(7).fill(uncovered)], grants, leafActions).percent).toBe(12.5);
    const many = [...Array(2).fill(covered), ...Array(998).fill(uncovered)];
    expect(computeCoverage(many, grants, leafActions).percent).toBe(0.2);
  });

  it('reports 100% of nothing for an app without routes', () => {
    expect(computeCoverage([], grants, leafActions)).toMatchObject({ total: 0, covered: 0, percent: 100, routes: [] });
  });

  it('sorts routes by path, then method', () => {
    const report = computeCoverage(
      [route('POST', '/b', 'user:create'), route('GET', '/b', 'user:read'), route('GET', '/a', 'user:read')],
      grants,
      leafActions,
    );
    expect(report.routes.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /a', 'GET /b', 'POST /b']);
  });
});

describe('coverage of the shipped policies', () => {
  it('grants every leaf action of the schema through at least one permit', async () => {
    const bundle = await loadPolicyBundle();
    const grants = actionsGrantedBy(bundle);
    const groups = new Set([...bundle.actionGroups.values()].flatMap((g) => [...g]));
    const leafActions = [...bundle.actionGroups.keys()].filter((a) => !groups.has(a));
    expect(leafActions).toHaveLength(104);
    const report = computeCoverage(
      leafActions.map((action) => route('GET', `/${action}`, action)),
      grants,
      leafActions,
    );
    expect(report.actionsWithoutPolicy).toEqual([]);
    expect(report.percent).toBe(100);
    expect(grants.get('user:create')).toEqual(['admins-manage-directory']);
    expect(grants.get('user:read')!.sort()).toEqual(['admins-manage-directory', 'auditors-read-directory']);
    expect(grants.get('tenant:list')).toEqual(['operators-administer-platform']);
  });

  it('never counts a forbid as a grant', async () => {
    const forbid = {
      id: 'nobody-deletes-users',
      file: 'test.cedar',
      text: '@id("nobody-deletes-users") forbid (principal, action == Summit::Action::"user:delete", resource);',
    };
    const grants = actionsGrantedBy(await loadPolicyBundle(undefined, [forbid]));
    expect(grants.get('user:delete')).toEqual(['admins-manage-directory']);
    expect([...grants.values()].flat()).not.toContain('nobody-deletes-users');
  });
});
