import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  GENESIS_HASH,
  createChainVerifier,
  hashEvent,
  redactSummary,
  type AuditEvent,
  type AuditEventBody,
  type ChainProblem,
} from './hash-chain.js';

const TENANT = '0190a0f0-0000-7000-8000-000000000001';

type BodyContent = Omit<AuditEventBody, 'tenantId' | 'sequence'>;

const summaryArb = fc.option(
  fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean()), {
    maxKeys: 3,
    noNullPrototype: true,
  }),
  { nil: null },
);

const contentArb: fc.Arbitrary<BodyContent> = fc.record({
  id: fc.uuid(),
  time: fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
  actor: fc.record({ type: fc.constantFrom('user' as const, 'operator' as const, 'system' as const), id: fc.string({ maxLength: 10 }) }),
  action: fc.constantFrom('user.create', 'token.revoke', 'authz.deny'),
  target: fc.option(fc.record({ type: fc.constantFrom('user', 'token'), id: fc.uuid() }), { nil: null }),
  requestId: fc.option(fc.uuid(), { nil: null }),
  outcome: fc.constantFrom('success' as const, 'denied' as const, 'failure' as const),
  before: summaryArb,
  after: summaryArb,
});

/** Links bodies into a chain the way the audit service writes one. */
function buildChain(contents: BodyContent[]): AuditEvent[] {
  let prevHash = GENESIS_HASH;
  return contents.map((content, index) => {
    const body: AuditEventBody = { tenantId: TENANT, sequence: index + 1, ...content };
    const hash = hashEvent(prevHash, body);
    const event = { ...body, prevHash, hash };
    prevHash = hash;
    return event;
  });
}

/** The first problem a fresh verifier reports over the events, or null when they all verify. */
function firstProblem(events: AuditEvent[]): ChainProblem | null {
  const verifier = createChainVerifier();
  for (const event of events) {
    const problem = verifier.push(event);
    if (problem) return problem;
  }
  return null;
}

const flipHex = (hex: string) => (hex[0] === 'a' ? 'b' : 'a') + hex.slice(1);

/** One change per field, each guaranteed to produce a different value. */
const ALTERATIONS: Record<keyof AuditEvent, (e: AuditEvent) => Partial<AuditEvent>> = {
  tenantId: (e) => ({ tenantId: `${e.tenantId}x` }),
  sequence: (e) => ({ sequence: e.sequence + 100 }),
  id: (e) => ({ id: `${e.id}x` }),
  time: (e) => ({ time: new Date(Date.parse(e.time) + 1).toISOString() }),
  actor: (e) => ({ actor: { ...e.actor, id: `${e.actor.id}x` } }),
  action: (e) => ({ action: `${e.action}x` }),
  target: (e) => ({ target: e.target ? null : { type: 'user', id: 'u' } }),
  requestId: (e) => ({ requestId: e.requestId ? null : 'r' }),
  outcome: (e) => ({ outcome: e.outcome === 'success' ? 'failure' : 'success' }),
  before: (e) => ({ before: e.before ? null : { added: 1 } }),
  after: (e) => ({ after: e.after ? { ...e.after, 'altered-key': 'x' } : {} }),
  prevHash: (e) => ({ prevHash: flipHex(e.prevHash) }),
  hash: (e) => ({ hash: flipHex(e.hash) }),
};

const chainArb = fc.array(contentArb, { minLength: 1, maxLength: 12 }).map(buildChain);

describe('createChainVerifier', () => {
  it('verifies an untouched chain of any length and ends on its last event', () => {
    fc.assert(
      fc.property(chainArb, (events) => {
        const verifier = createChainVerifier();
        for (const event of events) expect(verifier.push(event)).toBeNull();
        expect(verifier.checked).toBe(events.length);
        expect(verifier.last).toEqual({ sequence: events.length, hash: events.at(-1)!.hash });
      }),
    );
  });

  it('detects a change to any field of any event at that event', () => {
    const fieldArb = fc.constantFrom(...(Object.keys(ALTERATIONS) as (keyof AuditEvent)[]));
    fc.assert(
      fc.property(chainArb, fc.nat(), fieldArb, (events, pick, field) => {
        const index = pick % events.length;
        const altered = events.map((e, i) => (i === index ? { ...e, ...ALTERATIONS[field](e) } : e));
        const problem = firstProblem(altered);
        expect(problem?.sequence).toBe(index + 1);
      }),
    );
  });

  it('reports a change of body content as an altered event', () => {
    const events = buildChain(fc.sample(contentArb, { numRuns: 3, seed: 7 }));
    const problem = firstProblem(events.map((e, i) => (i === 1 ? { ...e, action: 'forged' } : e)));
    expect(problem).toEqual({ sequence: 2, reason: 'event 2 was altered: its content does not match its hash' });
  });

  it('detects a removed event at the sequence that went missing', () => {
    fc.assert(
      fc.property(fc.array(contentArb, { minLength: 2, maxLength: 12 }).map(buildChain), fc.nat(), (events, pick) => {
        // Removing the last event is a truncation: see the next test.
        const index = pick % (events.length - 1);
        const problem = firstProblem(events.filter((_, i) => i !== index));
        expect(problem?.sequence).toBe(index + 1);
        expect(problem?.reason).toContain(`event ${index + 1} is missing`);
      }),
    );
  });

  it('cannot see a truncated tail by itself: last tells the caller where the verified chain ends', () => {
    // Verification against the stored head (or a signed checkpoint) is what catches a dropped tail.
    const events = buildChain(fc.sample(contentArb, { numRuns: 4, seed: 1 }));
    const verifier = createChainVerifier();
    for (const event of events.slice(0, 3)) expect(verifier.push(event)).toBeNull();
    expect(verifier.last).toEqual({ sequence: 3, hash: events[2]!.hash });
    expect(verifier.last.hash).not.toBe(events[3]!.hash);
  });

  it('detects any reordering at the first position that moved', () => {
    const reorderedArb = fc
      .array(contentArb, { minLength: 2, maxLength: 10 })
      .map(buildChain)
      .chain((events) =>
        fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length })),
      )
      .filter(([events, shuffled]) => shuffled.some((e, i) => e !== events[i]));
    fc.assert(
      fc.property(reorderedArb, ([events, shuffled]) => {
        const firstMoved = shuffled.findIndex((e, i) => e !== events[i]);
        expect(firstProblem(shuffled)?.sequence).toBe(firstMoved + 1);
      }),
    );
  });

  it('verifies a long chain in batches when each batch starts from the previous one', () => {
    const events = buildChain(fc.sample(contentArb, { numRuns: 20, seed: 3 }));
    const first = createChainVerifier();
    for (const event of events.slice(0, 10)) expect(first.push(event)).toBeNull();
    const second = createChainVerifier(first.last);
    for (const event of events.slice(10)) expect(second.push(event)).toBeNull();
    expect(second.last.sequence).toBe(20);
    // A batch verifier started from the wrong point refuses the first event.
    expect(createChainVerifier({ sequence: 10, hash: GENESIS_HASH }).push(events[10]!)?.sequence).toBe(11);
  });
});

describe('hashEvent', () => {
  it('is a 64-char hex digest independent of key order, and depends on the previous hash', () => {
    const [event] = buildChain(fc.sample(contentArb, { numRuns: 1, seed: 5 }));
    const { prevHash, hash, ...body } = event!;
    const reversed = Object.fromEntries(Object.entries(body).reverse()) as AuditEventBody;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashEvent(prevHash, reversed)).toBe(hash);
    expect(hashEvent(flipHex(prevHash), body)).not.toBe(hash);
  });
});

const SENSITIVE = ['token', 'secret', 'password', 'secretHash', 'apiToken', 'privateKey', 'credentials', 'PASSWORD'];
const SENSITIVE_RE = /(secret|password|token|hash|credential|private)/i;

type Tree = unknown;
const treeArb: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.boolean(), fc.constant(null)),
    fc.array(tie('tree'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('name', 'email', 'roles', ...SENSITIVE), tie('tree'), { maxKeys: 4, noNullPrototype: true }),
  ),
})).tree;

function keysAtAnyDepth(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysAtAnyDepth);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [k, ...keysAtAnyDepth(v)]);
  return [];
}

describe('redactSummary', () => {
  it('drops secret-named keys at any depth, inside arrays too, and keeps the rest', () => {
    const summary = {
      name: 'ci',
      token: 'smt_x',
      nested: { password: 'p', keep: 1, deeper: { secretHash: 'h', secret: 's', email: 'a@b' } },
      list: [{ apiToken: 't', id: 'x' }],
    };
    expect(redactSummary(summary)).toEqual({
      name: 'ci',
      nested: { keep: 1, deeper: { email: 'a@b' } },
      list: [{ id: 'x' }],
    });
  });

  it('leaves no secret-named key anywhere in a random summary', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('name', 'roles', ...SENSITIVE), treeArb, { noNullPrototype: true }), (summary) => {
        const clean = redactSummary(summary);
        expect(keysAtAnyDepth(clean).filter((k) => SENSITIVE_RE.test(k))).toEqual([]);
        for (const key of ['name', 'roles']) expect(key in clean!).toBe(key in summary);
      }),
    );
  });

  it('converts Dates to ISO strings at any depth and drops undefined values', () => {
    const when = new Date('2026-03-04T05:06:07.008Z');
    expect(redactSummary({ at: when, nested: { at: when, gone: undefined }, list: [when] })).toEqual({
      at: '2026-03-04T05:06:07.008Z',
      nested: { at: '2026-03-04T05:06:07.008Z' },
      list: ['2026-03-04T05:06:07.008Z'],
    });
  });

  it('maps a missing summary to null', () => {
    expect(redactSummary(null)).toBeNull();
    expect(redactSummary(undefined)).toBeNull();
    expect(redactSummary({})).toEqual({});
  });

  it('drops whole secret keys but keeps keys that merely mention one', () => {
    const summary = {
      adminToken: 'smt_x',
      client_secret: 's',
      secretHash: 'h',
      privateKey: 'k',
      tokenId: 't-1',
      activeTokensRemoved: 2,
      passwordChangedAt: '2026-01-01',
      bytes: Buffer.from('ab'),
    };
    expect(redactSummary(summary)).toEqual({
      tokenId: 't-1',
      activeTokensRemoved: 2,
      passwordChangedAt: '2026-01-01',
      bytes: '[binary]',
    });
  });
});
