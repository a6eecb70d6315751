/**
 * Policy decision benchmark: 10,000 authorisation decisions through createPolicyEngine(...).authorize({principal,
 * action}), the call the HTTP authorisation hook makes, over the shipped policies plus generated per-user grants
 * and forbids (>= 200 policies in all). Traffic is skewed the way API traffic is: a few hot users (CI tokens,
 * dashboards) make most requests. Everything is drawn from a seeded PRNG, so two runs see the same requests.
 *
 * Run: cd server && npx tsx ../bench/policy.ts   (npm run bench:policy). Prints one JSON object to stdout.
 */
import type { Logger, Principal, Role } from '../server/src/platform/context.js';
import { createPolicyEngine } from '../server/src/modules/policy/policy-engine.js';
import { loadPolicyBundle, type PolicyBundle, type PolicySource } from '../server/src/modules/policy/policy-set.js';

const SEED = 20_260_101;
const TENANTS = 50;
const USERS_PER_TENANT = 20;
const GRANT_POLICIES = 200;
const FORBID_POLICIES = 50;
const WARMUP = 1_000;
const DECISIONS = 10_000;
/** Share of requests from the hottest 2% of users. */
const HOT_USER_SHARE = 0.7;
/** Share of requests made with the operator token (tenant administration is rare). */
const OPERATOR_SHARE = 0.01;

/** mulberry32: small, fast and good enough to make a benchmark reproducible. */
function createRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number) => Math.floor(next() * max);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const uuid = () => {
    const hex = Array.from({ length: 32 }, () => int(16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20)}`;
  };
  return { next, int, pick, uuid };
}

/** Picks from weighted options; weights need not sum to 1. */
function weighted<T>(random: () => number, options: ReadonlyArray<readonly [T, number]>): T {
  const total = options.reduce((sum, [, w]) => sum + w, 0);
  let r = random() * total;
  for (const [value, w] of options) {
    r -= w;
    if (r < 0) return value;
  }
  return options[options.length - 1]![0];
}

type User = Extract<Principal, { kind: 'user' }>;

function buildDirectory(rng: ReturnType<typeof createRandom>): User[] {
  const roleMix: ReadonlyArray<readonly [Role[], number]> = [
    [['viewer'], 40],
    [['analyst'], 35],
    [['admin'], 8],
    [['auditor'], 7],
    [['analyst', 'auditor'], 5],
    [['admin', 'auditor'], 3],
    [[], 2],
  ];
  const users: User[] = [];
  for (let t = 0; t < TENANTS; t++) {
    const tenantId = rng.uuid();
    for (let u = 0; u < USERS_PER_TENANT; u++) {
      const userId = rng.uuid();
      const roles = weighted(rng.next, roleMix);
      users.push({ kind: 'user', tenantId, userId, email: `u${t}-${u}@example.test`, roles, tokenId: rng.uuid() });
    }
  }
  return users;
}

/** Per-user exceptions of the kind a tenant admin adds: extra grants for some users, forbids for others. */
function buildExtraPolicies(rng: ReturnType<typeof createRandom>, users: User[]): PolicySource[] {
  const grantGroups = ['audit-read', 'directory-read'];
  const forbidGroups = ['directory-admin', 'audit-read', 'self-service'];
  // Fisher–Yates with the seeded PRNG, so the same users get exceptions on every run.
  const shuffled = [...users];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  const grants = shuffled.slice(0, GRANT_POLICIES).map((user, i) => ({
    id: `grant-u${i}`,
    file: 'generated-grants.cedar',
    text: `@id("grant-u${i}") permit (principal == Summit::User::"${user.userId}", action in Summit::Action::"${rng.pick(grantGroups)}", resource == Summit::Tenant::"${user.tenantId}");`,
  }));
  const forbids = shuffled.slice(GRANT_POLICIES, GRANT_POLICIES + FORBID_POLICIES).map((user, i) => ({
    id: `forbid-u${i}`,
    file: 'generated-forbids.cedar',
    text: `@id("forbid-u${i}") forbid (principal == Summit::User::"${user.userId}", action in Summit::Action::"${rng.pick(forbidGroups)}", resource);`,
  }));
  return [...grants, ...forbids];
}

type Request = { principal: Principal; action: string };

function buildRequests(rng: ReturnType<typeof createRandom>, users: User[], leafActions: string[], count: number): Request[] {
  // Reads dominate real traffic; writes and audit work are rarer.
  const actionWeight = (a: string) =>
    a === 'me:read' ? 20 : a.endsWith(':list') || a.endsWith(':read') ? 8 : a.startsWith('tenant:') ? 0 : 2;
  const tenantActions = leafActions.map((a) => [a, actionWeight(a)] as const).filter(([, w]) => w > 0);
  const hot = users.slice(0, Math.max(1, Math.round(users.length * 0.02)));
  return Array.from({ length: count }, () => {
    if (rng.next() < OPERATOR_SHARE) {
      return { principal: { kind: 'operator' } as const, action: rng.pick(['tenant:create', 'tenant:list']) };
    }
    const principal = rng.next() < HOT_USER_SHARE ? rng.pick(hot) : rng.pick(users);
    return { principal, action: weighted(rng.next, tenantActions) };
  });
}

function leafActionsOf(bundle: PolicyBundle): string[] {
  const groups = new Set([...bundle.actionGroups.values()].flatMap((g) => [...g]));
  return [...bundle.actionGroups.keys()].filter((a) => !groups.has(a)).sort();
}

const round = (n: number) => Math.round(n * 10) / 10;

function summarise(samples: Float64Array, hits: number, allows: number) {
  const sorted = Float64Array.from(samples).sort();
  // Nearest-rank percentile.
  const at = (p: number) => round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
  const mean = sorted.reduce((sum, v) => sum + v, 0) / sorted.length;
  return {
    p50Us: at(50),
    p95Us: at(95),
    p99Us: at(99),
    maxUs: round(sorted[sorted.length - 1]!),
    meanUs: round(mean),
    cacheHitRate: Math.round((hits / sorted.length) * 1000) / 1000,
    allowRate: Math.round((allows / sorted.length) * 1000) / 1000,
  };
}

function run(bundle: PolicyBundle, cacheSize: number | undefined, warmup: Request[], measured: Request[]) {
  let engineErrors = 0;
  const noop = () => undefined;
  const log: Logger = { error: () => void engineErrors++, warn: noop, info: noop, debug: noop };
  const engine = createPolicyEngine({ bundle, log, ...(cacheSize === undefined ? {} : { cacheSize }) });
  for (const request of warmup) engine.authorize(request);
  const samples = new Float64Array(measured.length);
  const allowed = new Uint8Array(measured.length);
  let hits = 0;
  let allows = 0;
  for (let i = 0; i < measured.length; i++) {
    const started = process.hrtime.bigint();
    const decision = engine.authorize(measured[i]!);
    samples[i] = Number(process.hrtime.bigint() - started) / 1000;
    if (decision.cached) hits++;
    if (decision.allowed) allows++;
    allowed[i] = decision.allowed ? 1 : 0;
  }
  return { figures: { ...summarise(samples, hits, allows), engineErrors }, allowed };
}

async function main() {
  const rng = createRandom(SEED);
  const users = buildDirectory(rng);
  const bundle = await loadPolicyBundle(undefined, buildExtraPolicies(rng, users));
  const leafActions = leafActionsOf(bundle);
  const warmup = buildRequests(rng, users, leafActions, WARMUP);
  const measured = buildRequests(rng, users, leafActions, DECISIONS);

  const cached = run(bundle, undefined, warmup, measured);
  const uncached = run(bundle, 0, warmup, measured);
  // A cache that changed any answer would make the fast figures meaningless: both passes must decide alike.
  const decisionsAgree = cached.allowed.every((v, i) => v === uncached.allowed[i]);
  const result = {
    decisions: DECISIONS,
    warmup: WARMUP,
    policies: bundle.policies.length,
    tenants: TENANTS,
    users: users.length,
    leafActions: leafActions.length,
    seed: SEED,
    ...cached.figures,
    uncached: uncached.figures,
    decisionsAgree,
    node: process.version,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

await main();
