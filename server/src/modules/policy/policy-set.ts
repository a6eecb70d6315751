import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { policiesDir } from '../../platform/paths.js';

export type PolicySource = { id: string; text: string; file: string };
export type PolicyBundle = {
  schemaText: string;
  policies: PolicySource[];
  /** action id → the action groups it belongs to, transitively (from the schema). */
  actionGroups: Map<string, Set<string>>;
};

const NAMESPACE = 'Summit';

function describe(errors: { message: string }[]): string {
  return errors.map((e) => e.message).join('; ');
}

/** Splits a .cedar file into policies and reads each one's @id, which decisions cite. */
function splitPolicies(file: string, text: string): PolicySource[] {
  const parts = cedar.policySetTextToParts(text);
  if (parts.type === 'failure') throw new Error(`${file}: ${describe(parts.errors)}`);
  if (parts.policy_templates.length) throw new Error(`${file}: templates are not used in Summit's policy set`);
  return parts.policies.map((policyText) => {
    const json = cedar.policyToJson(policyText);
    if (json.type === 'failure') throw new Error(`${file}: ${describe(json.errors)}`);
    const id = json.json.annotations?.id;
    if (!id) throw new Error(`${file}: every policy needs an @id("…") annotation; one starts "${policyText.slice(0, 60)}"`);
    return { id, text: policyText, file };
  });
}

function readActionGroups(schemaText: string): Map<string, Set<string>> {
  const json = cedar.schemaToJson(schemaText);
  if (json.type === 'failure') throw new Error(`schema.cedarschema: ${describe(json.errors)}`);
  const actions = json.json[NAMESPACE]?.actions ?? {};
  const direct = new Map<string, string[]>(
    Object.entries(actions).map(([id, def]) => [id, (def.memberOf ?? []).map((m) => m.id)]),
  );
  const closure = new Map<string, Set<string>>();
  const ancestors = (id: string, seen = new Set<string>()): Set<string> => {
    for (const parent of direct.get(id) ?? []) {
      if (!seen.has(parent)) {
        seen.add(parent);
        ancestors(parent, seen);
      }
    }
    return seen;
  };
  for (const id of direct.keys()) closure.set(id, ancestors(id));
  return closure;
}

/**
 * Loads every *.cedar file and the schema from a folder and validates the policies against the schema (strict
 * mode). An invalid policy stops the server from starting: a typo must never silently deny or allow.
 */
export async function loadPolicyBundle(dir = policiesDir, extra: PolicySource[] = []): Promise<PolicyBundle> {
  const files = (await readdir(dir)).sort();
  const schemaText = await readFile(path.join(dir, 'schema.cedarschema'), 'utf8');
  const policies: PolicySource[] = [];
  for (const file of files.filter((f) => f.endsWith('.cedar'))) {
    policies.push(...splitPolicies(file, await readFile(path.join(dir, file), 'utf8')));
  }
  policies.push(...extra);
  const seen = new Set<string>();
  for (const p of policies) {
    if (seen.has(p.id)) throw new Error(`Two policies share the id "${p.id}" (${p.file})`);
    seen.add(p.id);
  }
  const validation = cedar.validate({
    schema: schemaText,
    policies: { staticPolicies: Object.fromEntries(policies.map((p) => [p.id, p.text])) },
    validationSettings: { mode: 'strict' },
  });
  if (validation.type === 'failure') throw new Error(`Cedar policies: ${describe(validation.errors)}`);
  if (validation.validationErrors.length) {
    throw new Error(
      `Cedar policies do not validate against the schema: ${validation.validationErrors
        .map((e) => `${e.policyId}: ${e.error.message}`)
        .join('; ')}`,
    );
  }
  return { schemaText, policies, actionGroups: readActionGroups(schemaText) };
}

/** Which leaf actions each permit policy can grant, read from its action scope (conditions aside). */
export function actionsGrantedBy(bundle: PolicyBundle): Map<string, string[]> {
  const leafActions = [...bundle.actionGroups.keys()];
  const granted = new Map<string, string[]>(leafActions.map((a) => [a, []]));
  for (const policy of bundle.policies) {
    const json = cedar.policyToJson(policy.text);
    if (json.type === 'failure' || json.json.effect !== 'permit') continue;
    const scope = json.json.action;
    let targets: string[] = [];
    if (scope.op === 'All') targets = leafActions;
    else if (scope.op === '==' && 'entity' in scope) targets = [entityId(scope.entity)];
    else if (scope.op === 'in') {
      const groups = 'entities' in scope ? scope.entities.map(entityId) : [entityId(scope.entity)];
      targets = leafActions.filter((a) => groups.includes(a) || groups.some((g) => bundle.actionGroups.get(a)?.has(g)));
    }
    for (const action of targets) granted.get(action)?.push(policy.id);
  }
  return granted;
}

function entityId(uid: cedar.EntityUidJson): string {
  return '__entity' in uid ? uid.__entity.id : uid.id;
}
