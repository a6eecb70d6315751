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

type PolicyTexts = Record<string, string>;

function entityKey(uid: cedar.EntityUidJson): string {
  const { type, id } = '__entity' in uid ? uid.__entity : uid;
  return `${type}::${id}`;
}

/**
 * Splits the policy set so a decision evaluates only the policies that could apply. Cedar evaluates every policy
 * it is given (about 2 µs each here), so a set that grows with per-user or per-resource grants would make every
 * decision slower. A policy whose scope pins one principal (`principal == …`) or, failing that, one resource
 * (`resource == …`) can only match requests naming that entity: it goes into that entity's slice. The rest are
 * general and always evaluated. Extra policies never change a decision, only its cost, so the split is exact.
 */
export function partitionPolicies(bundle: PolicyBundle): { general: PolicyTexts; byEntity: Map<string, PolicyTexts> } {
  const general: PolicyTexts = {};
  const byEntity = new Map<string, PolicyTexts>();
  for (const policy of bundle.policies) {
    const json = cedar.policyToJson(policy.text);
    if (json.type === 'failure') throw new Error(`Cedar: ${json.errors.map((e) => e.message).join('; ')}`);
    const { principal, resource } = json.json;
    const pinned =
      principal.op === '==' && 'entity' in principal
        ? entityKey(principal.entity)
        : resource.op === '==' && 'entity' in resource
          ? entityKey(resource.entity)
          : null;
    if (!pinned) general[policy.id] = policy.text;
    else byEntity.set(pinned, { ...byEntity.get(pinned), [policy.id]: policy.text });
  }
  return { general, byEntity };
}

type PolicySetInfo = { id: string; literals: Set<string>; hasLike: boolean };

/** Every string a policy set mentions (entity ids and string literals), and whether any `like` pattern occurs. */
function literalsOf(policies: PolicyTexts): { literals: Set<string>; hasLike: boolean } {
  const literals = new Set<string>();
  let hasLike = false;
  const walk = (node: unknown): void => {
    if (typeof node === 'string') literals.add(node);
    else if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'like') hasLike = true;
        walk(value);
      }
    }
  };
  for (const text of Object.values(policies)) {
    const json = cedar.policyToJson(text);
    if (json.type === 'success') walk(json.json);
  }
  return { literals, hasLike };
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The decision-cache key: the request as Cedar sees it, with every UUID that the evaluated policies never name
 * replaced by a placeholder ($0, $1, … in order of appearance). Cedar can only tell such an id apart from another
 * by comparing it with something in the request, and a consistent renaming keeps every such comparison as it was,
 * so two requests with the same key get the same decision. That lets every analyst of every tenant share one entry
 * per (roles, action), instead of one per user. A policy set with a `like` pattern could match part of an id, so
 * then nothing is renamed.
 */
export function decisionKey(request: unknown[], ids: string[], policySet: Pick<PolicySetInfo, 'literals' | 'hasLike'>): string {
  let key = JSON.stringify(request);
  if (policySet.hasLike) return key;
  let n = 0;
  for (const id of new Set(ids)) {
    if (UUID_RE.test(id) && !policySet.literals.has(id)) key = key.split(id).join(`$${n++}`);
  }
  return key;
}

/**
 * Cedar decision point. Policies are pre-parsed into wasm once per slice (see partitionPolicies); each decision
 * sends the request, a small entity slice and the action with its groups (cheaper than having Cedar consult the
 * schema on every call). Decisions are cached on exactly the inputs Cedar sees (principal, action, resource,
 * context and entities, serialised), so a cache hit can never differ from a fresh evaluation; the policy set is
 * immutable for the life of an engine, so entries never go stale. Any failure denies (fail closed) and is logged.
 */
export function createPolicyEngine(deps: {
  bundle: PolicyBundle;
  log: Logger;
  histogram?: Histogram<'decision' | 'cache'>;
  cacheSize?: number;
  /** Pre-parsed policy-set slots kept for principals/resources with their own policies. */
  sliceSlots?: number;
}): PolicyEngine {
  const { bundle, log, histogram } = deps;
  const cacheSize = deps.cacheSize ?? 10_000;
  const sliceSlots = deps.sliceSlots ?? 2_000;
  const engineId = `summit-${randomUUID()}`;
  const { general, byEntity } = partitionPolicies(bundle);

  function preparse(id: string, policies: PolicyTexts): PolicySetInfo {
    const parsed = cedar.preparsePolicySet(id, { staticPolicies: policies });
    if (parsed.type === 'failure') throw new Error(`Cedar: ${parsed.errors.map((e) => e.message).join('; ')}`);
    return { id, ...literalsOf(policies) };
  }
  const generalSet = preparse(`${engineId}-general`, general);

  // Slices in use, least recently used first; an evicted slice's wasm slot id is reused, which replaces it.
  const slices = new Map<string, PolicySetInfo>();
  let slotsCreated = 0;
  function policySetFor(principalKey: string, resourceKey: string): PolicySetInfo {
    const own = byEntity.get(principalKey);
    const onResource = byEntity.get(resourceKey);
    if (!own && !onResource) return generalSet;
    const key = `${own ? principalKey : ''}|${onResource ? resourceKey : ''}`;
    const existing = slices.get(key);
    if (existing) {
      slices.delete(key);
      slices.set(key, existing);
      return existing;
    }
    let slotId: string;
    if (slotsCreated < sliceSlots) slotId = `${engineId}-slice-${slotsCreated++}`;
    else {
      const [oldest, oldSlot] = slices.entries().next().value!;
      slices.delete(oldest);
      slotId = oldSlot.id;
    }
    const info = preparse(slotId, { ...general, ...own, ...onResource });
    slices.set(key, info);
    return info;
  }

  // Pre-parse each principal's slice up front (as far as the slots go), so no request pays for parsing.
  for (const key of [...byEntity.keys()].slice(0, sliceSlots)) policySetFor(key, '');

  const actionEntities = new Map<string, cedar.EntityJson>(
    [...bundle.actionGroups].map(([action, groups]) => [
      action,
      {
        uid: { type: `${NS}::Action`, id: action },
        attrs: {},
        parents: [...groups].map((group) => ({ type: `${NS}::Action`, id: group })),
      },
    ]),
  );
  const cache = new Map<string, { allowed: boolean; policies: string[] }>();

  function evaluate(request: AuthzRequest): Decision {
    const actionEntity = actionEntities.get(request.action);
    if (!actionEntity) {
      log.error({ action: request.action }, 'policy check for an action the schema does not declare; denying');
      return { allowed: false, policies: [], cached: false, error: `unknown action ${request.action}` };
    }
    const principal = principalSlice(request.principal);
    const resource = request.resource ?? defaultResource(request.principal);
    const entities = [...principal.entities, ...(request.entities ?? [])];
    const policySet = policySetFor(`${principal.uid.type}::${principal.uid.id}`, `${resource.type}::${resource.id}`);
    const tenantId = request.principal.kind === 'user' ? request.principal.tenantId : '';
    const key = decisionKey(
      [policySet.id, principal.uid, request.action, resource, request.context ?? {}, entities],
      [principal.uid.id, tenantId, resource.id],
      policySet,
    );
    const hit = cache.get(key);
    if (hit) {
      // Refresh recency: Map iteration order is insertion order, so the first key is the least recently used.
      cache.delete(key);
      cache.set(key, hit);
      return { ...hit, cached: true };
    }
    let answer: cedar.AuthorizationAnswer;
    try {
      answer = cedar.statefulIsAuthorized({
        principal: uid(principal.uid),
        action: actionEntity.uid,
        resource: uid(resource),
        context: request.context ?? {},
        entities: [...entities, actionEntity],
        preparsedPolicySetId: policySet.id,
      });
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
    if (cacheSize > 0) {
      cache.set(key, result);
      if (cache.size > cacheSize) cache.delete(cache.keys().next().value!);
    }
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
