import type { Histogram } from 'prom-client';
import type { Logger, TenantCtx } from '../../platform/context.js';
import { actionsGrantedBy, loadPolicyBundle, type PolicyBundle } from './policy-set.js';
import { createPolicyEngine } from './policy-engine.js';
import { computeCoverage } from './coverage.js';
import { createRouteRegistry } from './route-registry.js';
import { registerPolicyRoutes } from './policy.routes.js';
import type { FastifyInstance } from 'fastify';

export { registerAuthorizationHook } from './authorization-hook.js';
export { createPolicyEngine, principalSlice, defaultResource, type PolicyEngine, type Decision } from './policy-engine.js';
export { loadPolicyBundle, type PolicyBundle, type PolicySource } from './policy-set.js';
export type { RouteEntry, RouteRegistry } from './route-registry.js';
export type { CoverageReport } from './coverage.js';

/** Leaf actions: those no other action is a member of (groups are only for granting). */
function leafActionsOf(bundle: PolicyBundle): string[] {
  const groups = new Set([...bundle.actionGroups.values()].flatMap((g) => [...g]));
  return [...bundle.actionGroups.keys()].filter((a) => !groups.has(a)).sort();
}

export async function createPolicyModule(deps: { log: Logger; histogram?: Histogram<'decision' | 'cache'>; bundle?: PolicyBundle }) {
  const bundle = deps.bundle ?? (await loadPolicyBundle());
  const engine = createPolicyEngine({ bundle, log: deps.log, histogram: deps.histogram });
  const leafActions = leafActionsOf(bundle);
  const registry = createRouteRegistry(new Set(leafActions));
  const grants = actionsGrantedBy(bundle);
  const coverage = () => computeCoverage(registry.entries(), grants, leafActions);
  return {
    engine,
    registry,
    leafActions,
    coverage,
    routes: (app: FastifyInstance) => registerPolicyRoutes(app, { coverage }),
    isAllowed: (ctx: TenantCtx, action: string) => engine.authorize({ principal: ctx.principal, action }).allowed,
    /** Every leaf action the caller may perform on its own tenant (the console uses it to show what it can do). */
    permissionsOf: (ctx: TenantCtx) => leafActions.filter((action) => engine.authorize({ principal: ctx.principal, action }).allowed),
  };
}

export type PolicyModule = Awaited<ReturnType<typeof createPolicyModule>>;
