/**
 * Every operation in /openapi.json, fuzzed on a fixed seed: path and query parameters and bodies generated from the
 * operation's own schemas (fast-check), mixed with hostile values (NUL, lone surrogates, bidi and ANSI controls,
 * huge strings, nesting past the cap, wrong types, `__proto__`). Requests go as a tenant admin, or as the operator
 * for the operator's routes, so they reach the handlers; ids come from a pool of real objects made first and from
 * earlier answers. Every answer must be below 500, every error complete problem+json, no answer may carry database
 * text or a secret, and no log line a token, a write-only secret, an e-mail address or a value we sent in a body.
 *
 * Bounded: FUZZ_REQUESTS_PER_OPERATION (default 24) requests per operation; FC_SEED changes the seed as for every
 * property test (test/property-seed.ts).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATOR_TOKEN, createTestApp, storeKind, type TestApp, type TestTenant } from './harness.js';
import { createFuzzPool } from './fuzz-pool.js';
import { seedFuzzTenant } from './fuzz-seed.js';
import { answerProblem, arbitraryFor, HOSTILE_STRINGS, mutatedBody, percentEncode, stringsIn, type JsonSchema } from './fuzz-support.js';

const REQUESTS_PER_OPERATION = Number(process.env.FUZZ_REQUESTS_PER_OPERATION ?? 24);
const SEED = Number(process.env.FC_SEED && process.env.FC_SEED !== 'random' ? process.env.FC_SEED : 20_261_128);

type Parameter = { name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema?: JsonSchema };
type Operation = { method: string; path: string; parameters: Parameter[]; body?: JsonSchema; bodyType?: string };
type Sent = { method: string; url: string; token: string | null; payload?: string; contentType?: string };

const logLines: string[] = [];
let t: TestApp;
let tenant: TestTenant;
let doc: { paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: { content?: Record<string, { schema?: JsonSchema }> } }>>; components?: { schemas?: Record<string, JsonSchema> } };
const outboundCalls: string[] = [];

/** Never a path parameter of a write: the admin we act as and its token, whose loss would end the session. */
const protectedIds = new Set<string>();
/** Strings sent in bodies, which no log line may repeat (a bind value, a name, an e-mail). */
const sentValues = new Set<string>();
const failures: string[] = [];
let requests = 0;
/** Answers by status, and the operations that answered at least one 2xx (reached their handler and succeeded). */
const statusCounts = new Map<string, number>();
const succeededOps = new Set<string>();
/** Fields whose values are never shown again: they join the secrets when a request sends them. */
const WRITE_ONLY_FIELDS = new Set(['password', 'clientSecret', 'authValue', 'secret']);
const pool = createFuzzPool([OPERATOR_TOKEN]);

async function send(op: Pick<Operation, 'method' | 'path'>, request: Sent): Promise<void> {
  requests++;
  const res = await t.summit.app.inject({
    method: request.method as 'GET',
    url: request.url,
    headers: { ...(request.token ? { authorization: `Bearer ${request.token}` } : {}), ...(request.contentType ? { 'content-type': request.contentType } : {}) },
    ...(request.payload !== undefined ? { payload: request.payload } : {}),
  });
  let parsed: unknown = null;
  try {
    parsed = res.body ? JSON.parse(res.body) : null;
  } catch {
    // Markdown, CSV, metrics: checked as text.
  }
  let sentStrings: string[] = [];
  try {
    sentStrings = [...stringsIn(request.payload === undefined ? null : JSON.parse(request.payload)), ...decodedQuery(request.url)];
  } catch {
    // A body that is not JSON on purpose.
  }
  const problem = answerProblem({ status: res.statusCode, headers: res.headers, body: res.body }, sentStrings);
  const leaked = [...pool.answerSecrets].find((secret) => res.body.includes(secret));
  if (problem || leaked) {
    failures.push(`${request.method} ${request.url.slice(0, 200)} ${request.payload?.slice(0, 300) ?? ''}\n    → ${problem ?? `answer carries a secret (${leaked!.slice(0, 6)}…)`}`);
  }
  statusCounts.set(String(res.statusCode), (statusCounts.get(String(res.statusCode)) ?? 0) + 1);
  if (res.statusCode < 300) {
    succeededOps.add(`${op.method} ${op.path}`);
    const endsWithParam = /\/\{[^}]+\}$/.test(op.path);
    const path = request.url.split('?')[0]!;
    pool.learn(op.path.replace(/\/\{[^}]+\}$/, ''), parsed, endsWithParam ? path.slice(0, path.lastIndexOf('/')) : path);
  }
}

/** Strings a body sends, which no log line may repeat, and its write-only secrets, which no answer may either. */
function noteSent(body: unknown) {
  for (const s of stringsIn(body)) if (s.length >= 12 && !HOSTILE_STRINGS.includes(s)) sentValues.add(s);
  const stack = [body];
  while (stack.length) {
    const value = stack.pop();
    if (value === null || typeof value !== 'object') continue;
    for (const [key, child] of Object.entries(value)) {
      if (WRITE_ONLY_FIELDS.has(key) && typeof child === 'string' && child.length >= 8 && !HOSTILE_STRINGS.includes(child)) pool.addSecret(child, true);
      stack.push(child);
    }
  }
}

function decodedQuery(url: string): string[] {
  const at = url.indexOf('?');
  if (at === -1) return [];
  return url.slice(at + 1).split('&').flatMap((pair) => {
    try {
      return [decodeURIComponent(pair.split('=')[1] ?? '')];
    } catch {
      return [];
    }
  });
}

function operations(): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const content = op.requestBody?.content ?? {};
      const bodyType = Object.keys(content)[0];
      ops.push({ method: method.toUpperCase(), path, parameters: op.parameters ?? [], body: bodyType ? content[bodyType]!.schema : undefined, bodyType });
    }
  }
  // Creations first so later operations find objects, deletions last so they do not remove them early.
  const rank = (m: string) => ({ POST: 0, PUT: 1, PATCH: 2, GET: 3, DELETE: 4 })[m] ?? 3;
  return ops.sort((a, b) => rank(a.method) - rank(b.method));
}

const resolveRef = (ref: string) => doc.components?.schemas?.[ref.split('/').at(-1)!] ?? {};

/** A known id or name for a path parameter, else one from its schema. */
function pathValue(op: Operation, p: Parameter): fc.Arbitrary<unknown> {
  const known = pool.knownValues(op.path, p.name).filter((v) => op.method === 'GET' || !protectedIds.has(v));
  return known.length ? fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: arbitraryFor(p.schema, resolveRef) }) : arbitraryFor(p.schema, resolveRef);
}

/** Valid query values: required ones always, optional ones now and then; a cursor only comes from a previous page. */
function queryValues(op: Operation): fc.Arbitrary<Array<[string, unknown]>> {
  const params = op.parameters.filter((p) => p.in === 'query' && p.name !== 'cursor');
  return fc
    .tuple(...params.map((p) => (p.required ? arbitraryFor(p.schema, resolveRef) : fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arbitraryFor(p.schema, resolveRef) }))))
    .map((values) => params.map((p, i) => [p.name, values[i]] as [string, unknown]).filter(([, v]) => v !== null && v !== undefined));
}

function queryString(pairs: Array<[string, unknown]>): string {
  const parts = pairs.flatMap(([name, v]) => (Array.isArray(v) ? v : [v]).map((item) => `${encodeURIComponent(name)}=${percentEncode(typeof item === 'string' ? item : JSON.stringify(item))}`));
  return parts.length ? `?${parts.join('&')}` : '';
}

/** A valid body: a seeded example with a fresh name (names are unique per tenant), or one from the schema. */
function cleanBody(op: Operation): fc.Arbitrary<unknown> {
  const known = pool.examplesOf(`${op.method} ${op.path}`);
  const fromSchema = arbitraryFor(op.body, resolveRef);
  if (!known.length) return fromSchema;
  const fromExample = fc.tuple(fc.constantFrom(...known), fc.uuid()).map(([example, id]) => {
    const body = { ...(example as Record<string, unknown>) };
    if (typeof body.name === 'string') body.name = `${body.name}-${id.slice(0, 8)}`;
    if (typeof body.email === 'string') body.email = `u-${id.slice(0, 8)}@fuzz.example`;
    return body;
  });
  return fc.oneof({ weight: 3, arbitrary: fromExample }, { weight: 1, arbitrary: fromSchema });
}

type Mutation = 'none' | 'body' | 'query' | 'path' | 'unknown-query' | 'token';

/**
 * One request for an operation: a clean one (the right token, known ids, valid parameters and a valid body) so it
 * reaches the handler and its writes, or the same with exactly one thing made hostile, so the hostile value gets as
 * far as it can: a body field, a query or path parameter, an unknown query parameter, or no or a forged token.
 */
function requestArbitrary(op: Operation, token: string): fc.Arbitrary<Sent> {
  const pathParams = op.parameters.filter((p) => p.in === 'path');
  const hasBody = op.body !== undefined || ['POST', 'PUT', 'PATCH'].includes(op.method);
  const mutations: Mutation[] = ['none', 'none', 'none', 'none', 'unknown-query', 'token'];
  if (hasBody) mutations.push('body', 'body', 'body', 'body', 'body');
  if (op.parameters.some((p) => p.in === 'query')) mutations.push('query', 'query');
  if (pathParams.length) mutations.push('path', 'path');
  return fc
    .tuple(
      fc.constantFrom(...mutations),
      fc.tuple(...pathParams.map((p) => pathValue(op, p))),
      queryValues(op),
      hasBody ? cleanBody(op) : fc.constant(null),
      hasBody ? mutatedBody(cleanBody(op)) : fc.constant(null),
      fc.constantFrom(...HOSTILE_STRINGS),
      fc.nat(1_000),
      fc.constantFrom<string | null>(null, 'smt_not-a-real-token', `${token}x`),
    )
    .map(([mutation, pathValues, query, body, badBody, hostile, pick, badToken]) => {
      const values = [...pathValues];
      if (mutation === 'path') values[pick % values.length] = hostile;
      const pairs = [...query];
      if (mutation === 'query') {
        const params = op.parameters.filter((p) => p.in === 'query');
        pairs.push([params[pick % params.length]!.name, hostile]);
      }
      if (mutation === 'unknown-query') pairs.push([['unknownParam', 'status', 'token'][pick % 3]!, 'x']);
      const members = pathParams.length > 1 && mutation !== 'path' ? pool.membersOf(op.path.replace(/\/\{[^}]+\}$/, '')) : [];
      const path = members.length && pick % 4 !== 0
        ? members[pick % members.length]!
        : pathParams.reduce((out, p, i) => out.replace(`{${p.name}}`, percentEncode(String(values[i]))), op.path);
      const sentBody = mutation === 'body' ? badBody : body;
      return {
        method: op.method,
        url: `${path}${queryString(pairs)}`,
        token: mutation === 'token' ? badToken : token,
        ...(sentBody === null ? {} : { payload: JSON.stringify(sentBody), contentType: op.bodyType ?? 'application/json' }),
      };
    });
}

/** The token that reaches an operation's handler: the operator's for what only the operator may do. */
function tokenFor(op: Operation): string {
  const route = t.summit.modules.policy.registry.entries().find((r) => r.method === op.method && r.path === op.path);
  if (!route?.action) return tenant.adminToken;
  const principal = { kind: 'user' as const, tenantId: tenant.id, userId: tenant.adminUserId, email: 'x', roles: ['admin' as const], tokenId: 'x' };
  return t.summit.modules.policy.engine.authorize({ principal, action: route.action }).allowed ? tenant.adminToken : OPERATOR_TOKEN;
}

beforeAll(async () => {
  t = await createTestApp({
    logStream: { write: (line) => void logLines.push(line) },
    // Nothing leaves the machine: every outbound call gets a web server's 404, which no client takes for its API.
    outbound: {
      fetch: async (input) => {
        outboundCalls.push(String(input));
        return new Response('<h1>Not Found</h1>', { status: 404, headers: { 'content-type': 'text/html' } });
      },
    },
  });
  tenant = await t.createTenant('fuzz');
  pool.addSecret(tenant.adminToken, true);
  protectedIds.add(tenant.adminUserId);
  doc = (await t.anonymous.get('/openapi.json')).json();
  await seedFuzzTenant(t, tenant, pool);
  const tokens = (await tenant.admin.get('/api/v1/tokens')).json().items as Array<{ id: string; name: string }>;
  for (const token of tokens) if (token.name !== 'fuzz') protectedIds.add(token.id);
}, 300_000);
afterAll(() => t.close());

describe(`fuzzing every operation of /openapi.json (${storeKind})`, () => {
  it('answers every generated request below 500 with complete problem+json errors and no leaks', { timeout: 600_000 }, async () => {
    const ops = operations();
    let index = 0;
    for (const op of ops) {
      const token = tokenFor(op);
      const cases = fc.sample(requestArbitrary(op, token), { seed: SEED + index++, numRuns: REQUESTS_PER_OPERATION });
      for (const request of cases) {
        if (request.payload !== undefined) noteSent(JSON.parse(request.payload));
        await send(op, request);
      }
    }
    console.info(
      `fuzz-openapi (${storeKind}): ${ops.length} operations, ${requests} requests (${succeededOps.size} operations answered 2xx at least once), ` +
        `statuses ${JSON.stringify(Object.fromEntries([...statusCounts].sort()))}, ${outboundCalls.length} outbound calls answered by the stub`,
    );
    expect(ops.length).toBe(Object.values(doc.paths).reduce((n, methods) => n + Object.keys(methods).length, 0));
    const unreached = ops.map((o) => `${o.method} ${o.path}`).filter((o) => !succeededOps.has(o));
    console.info(`operations that never answered 2xx: ${unreached.join(', ')}`);
    expect(failures, failures.slice(0, 25).join('\n')).toEqual([]);
  });

  it('wrote no token, write-only secret, e-mail address or sent value into any log line', () => {
    expect(logLines.length).toBeGreaterThan(requests);
    const problems: string[] = [];
    for (const line of logLines) {
      for (const secret of pool.logSecrets) if (line.includes(secret)) problems.push(`secret ${secret.slice(0, 6)}… in ${line.slice(0, 200)}`);
      const email = line.match(/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/);
      if (email) problems.push(`e-mail ${email[0]} in ${line.slice(0, 200)}`);
      // The request line's URL names paths and query values by design (credentials redacted, checked above).
      const entry = JSON.parse(line) as { req?: { url?: string } };
      if (entry.req) delete entry.req.url;
      const rest = JSON.stringify(entry);
      for (const value of sentValues) if (rest.includes(JSON.stringify(value).slice(1, -1))) problems.push(`sent value ${JSON.stringify(value)} in ${line.slice(0, 300)}`);
      if (/"(params|query)":\s*\[/.test(line)) problems.push(`bind parameters in ${line.slice(0, 200)}`);
    }
    expect(problems.slice(0, 20)).toEqual([]);
  });
});
