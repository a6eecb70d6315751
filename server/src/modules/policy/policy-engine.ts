import { randomUUID } from 'node:crypto';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { Histogram } from 'prom-client';
import type { Logger, Principal } from '../../platform/context.js';
import type { PolicyBundle } from './policy-set.js';

export type EntityRef = { type: string; id: string };
export type AuthzRequest = {
  principal: Principal;
  action: string;
  /** Defaults to the principal's tenant (users) or the platform (operator). */
  resource?: EntityRef;
  context?: Record<string, cedar.CedarValueJson>;
  /** Extra entities the policies need (resource attributes, ACL entries); keep them few. */
  entities?: cedar.EntityJson[];
};
export type Decision = { allowed: boolean; policies: string[]; cached: boolean; error?: string };

export type PolicyEngine = {
  authorize(request: AuthzRequest): Decision;
  readonly bundle: PolicyBundle;
};

const NS = 'Summit';
const PLATFORM: EntityRef = { type: `${NS}::Platform`, id: 'summit' };

function uid(ref: EntityRef): cedar.EntityUidJson {
  return { type: ref.type, id: ref.id };
}

/**
 * The smallest entity slice that describes a principal: moving entities into wasm is most of a decision's cost.
 * Role entities need not be sent; membership is carried by the principal's parents.
 */
export function principalSlice(principal: Principal): { uid: EntityRef; entities: cedar.EntityJson[] } {
  if (principal.kind === 'user') {
    const ref = { type: `${NS}::User`, id: principal.userId };
    return {
      uid: ref,
      entities: [
        {
          uid: uid(ref),
          attrs: { tenant: { __entity: { type: `${NS}::Tenant`, id: principal.tenantId } } },
          // Sorted, so the same roles in another order hit the same decision-cache entry.
          parents: [...principal.roles].sort().map((role) => ({ type: `${NS}::Role`, id: role })),
        },
      ],
    };
  }
  // System principals act as the operator in policy terms; they never reach HTTP routes.
  const ref = { type: `${NS}::Operator`, id: principal.kind === 'operator' ? 'operator' : principal.name };
  return { uid: ref, entities: [{ uid: uid(ref), attrs: {}, parents: [] }] };
}

export function defaultResource(principal: Principal): EntityRef {
  return principal.kind === 'user' ? { type: `${NS}::Tenant`, id: principal.tenantId } : PLATFORM;
}

/**
 * Cedar decision point. Policies are pre-parsed into wasm once; each decision sends only the request and a small
 * entity slice. Decisions are cached on exactly the inputs Cedar sees (principal, action, resource, context and
 * entities, serialised), so a cache hit can never differ from a fresh evaluation. The policy set is immutable for
 * the life of an engine, so entries never go stale. Any engine failure denies (fail closed) and is logged.
 */
export function createPolicyEngine(deps: {
  bundle: PolicyBundle;
  log: Logger;
  histogram?: Histogram<'decision' | 'cache'>;
  cacheSize?: number;
}): PolicyEngine {
  const { bundle, log, histogram } = deps;
  const cacheSize = deps.cacheSize ?? 10_000;
  const policySetId = `summit-${randomUUID()}`;
  const parsed = cedar.preparsePolicySet(policySetId, {
    staticPolicies: Object.fromEntries(bundle.policies.map((p) => [p.id, p.text])),
  });
  if (parsed.type === 'failure') throw new Error(`Cedar: ${parsed.errors.map((e) => e.message).join('; ')}`);
  // The schema supplies the action hierarchy (leaf actions in groups) that `action in …` scopes rely on.
  const schemaParsed = cedar.preparseSchema(policySetId, bundle.schemaText);
  if (schemaParsed.type === 'failure') throw new Error(`Cedar schema: ${schemaParsed.errors.map((e) => e.message).join('; ')}`);
  const cache = new Map<string, { allowed: boolean; policies: string[] }>();

  function evaluate(request: AuthzRequest): Decision {
    const principal = principalSlice(request.principal);
    const resource = request.resource ?? defaultResource(request.principal);
    const call: cedar.StatefulAuthorizationCall = {
      principal: uid(principal.uid),
      action: { type: `${NS}::Action`, id: request.action },
      resource: uid(resource),
      context: request.context ?? {},
      entities: request.entities ? [...principal.entities, ...request.entities] : principal.entities,
      preparsedPolicySetId: policySetId,
      preparsedSchemaName: policySetId,
      // Requests come from our own route registry and principal slices; policies were validated at load.
      validateRequest: false,
    };
    const key = JSON.stringify([call.principal, request.action, call.resource, call.context, call.entities]);
    const hit = cache.get(key);
    if (hit) {
      // Refresh recency: Map iteration order is insertion order, so the first key is the least recently used.
      cache.delete(key);
      cache.set(key, hit);
      return { ...hit, cached: true };
    }
    let answer: cedar.AuthorizationAnswer;
    try {
      answer = cedar.statefulIsAuthorized(call);
    } catch (error) {
      log.error({ err: error, action: request.action }, 'policy engine threw; denying');
      return { allowed: false, policies: [], cached: false, error: 'policy engine error' };
    }
    if (answer.type === 'failure') {
      const message = answer.errors.map((e) => e.message).join('; ');
      log.error({ action: request.action, errors: message }, 'policy evaluation failed; denying');
      return { allowed: false, policies: [], cached: false, error: message };
    }
    const { decision, diagnostics } = answer.response;
    if (diagnostics.errors.length) {
      // A policy that errors is skipped by Cedar; a forbid that errors therefore cannot deny. Treat it as a deny.
      const message = diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`).join('; ');
      log.error({ action: request.action, errors: message }, 'policy evaluation errors; denying');
      return { allowed: false, policies: [], cached: false, error: message };
    }
    const result = { allowed: decision === 'allow', policies: diagnostics.reason };
    cache.set(key, result);
    if (cache.size > cacheSize) cache.delete(cache.keys().next().value!);
    return { ...result, cached: false };
  }

  return {
    bundle,
    authorize(request) {
      const started = process.hrtime.bigint();
      const decision = evaluate(request);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      histogram?.observe({ decision: decision.allowed ? 'allow' : 'deny', cache: decision.cached ? 'hit' : 'miss' }, seconds);
      return decision;
    },
  };
}
