import type { RouteEntry } from './route-registry.js';

export type CoverageReport = {
  total: number;
  covered: number;
  percent: number;
  routes: Array<RouteEntry & { covered: boolean; policies: string[] }>;
  actionsWithoutPolicy: string[];
};

/**
 * A route is covered when it is public or at least one permit policy can grant its action. Uncovered routes are
 * not a hole (the engine denies by default) but dead ends: nobody can call them. actionsWithoutPolicy lists every
 * leaf action of the schema that no policy grants, including those checked inside services.
 */
export function computeCoverage(
  routes: RouteEntry[],
  grants: ReadonlyMap<string, string[]>,
  leafActions: readonly string[],
): CoverageReport {
  const rows = routes
    .map((r) => {
      const policies = r.action ? (grants.get(r.action) ?? []) : [];
      return { ...r, covered: r.public || policies.length > 0, policies };
    })
    .sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
  const covered = rows.filter((r) => r.covered).length;
  return {
    total: rows.length,
    covered,
    percent: rows.length ? Math.round((covered / rows.length) * 1000) / 10 : 100,
    routes: rows,
    actionsWithoutPolicy: leafActions.filter((a) => (grants.get(a) ?? []).length === 0).sort(),
  };
}
