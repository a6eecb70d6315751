import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import type { Clock } from '../../platform/clock.js';
import type { Actor, TenantCtx } from '../../platform/context.js';
import { canonicalJson, signText, verifyText, type SigningKey } from '../../platform/crypto.js';
import type { Database, Sql } from '../../platform/db.js';
import { decodeCursor, toPage, type Page } from '../../platform/pagination.js';
import { auditRepo, type Checkpoint } from './audit.repo.js';
import {
  createChainVerifier,
  GENESIS_HASH,
  hashEvent,
  redactSummary,
  type AuditEvent,
  type AuditOutcome,
  type AuditTarget,
} from './hash-chain.js';

export type AuditEntry = {
  action: string;
  target?: AuditTarget;
  outcome?: AuditOutcome;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
};

/** What an audit append needs to know about who acted; a TenantCtx satisfies it. */
export type AuditScope = { tenantId: string; actor: Actor; requestId: string | null };

export type VerifyResult = {
  ok: boolean;
  checked: number;
  lastSequence: number;
  firstBadSequence?: number;
  reason?: string;
  checkpoint?: { sequence: number; signatureValid: boolean };
};

export type SignedCheckpoint = Checkpoint & { publicKey: string };

const VERIFY_BATCH = 1000;
const cursorShape = z.object({ s: z.number().int().nonnegative() });

function checkpointText(tenantId: string, c: Pick<Checkpoint, 'sequence' | 'hash' | 'signedAt'>): string {
  return canonicalJson({ tenantId, sequence: c.sequence, hash: c.hash, signedAt: c.signedAt });
}

export function createAuditService(deps: { db: Database; clock: Clock; signingKey: SigningKey }) {
  const { db, clock, signingKey } = deps;

  /**
   * Appends one event to the tenant's chain inside the caller's transaction, so the change and its audit row
   * commit or roll back together. Locking the head row serialises appends per tenant.
   */
  async function record(tx: Sql, scope: AuditScope, entry: AuditEntry): Promise<AuditEvent> {
    const head = await auditRepo.lockHead(tx, scope.tenantId);
    const body = {
      tenantId: scope.tenantId,
      sequence: head.sequence + 1,
      id: uuidv7(),
      time: clock.now().toISOString(),
      actor: scope.actor,
      action: entry.action,
      target: entry.target ?? null,
      requestId: scope.requestId,
      outcome: entry.outcome ?? 'success',
      before: redactSummary(entry.before),
      after: redactSummary(entry.after),
    };
    const event: AuditEvent = { ...body, prevHash: head.hash, hash: hashEvent(head.hash, body) };
    await auditRepo.append(tx, event);
    return event;
  }

  async function list(
    ctx: TenantCtx,
    query: { limit: number; cursor?: string; action?: string; actor?: string; since?: Date },
  ): Promise<Page<AuditEvent>> {
    const position = decodeCursor(query.cursor, cursorShape);
    const rows = await db.withTenant(ctx.tenantId, (tx) =>
      auditRepo.list(tx, ctx.tenantId, { ...query, afterSequence: position?.s, limit: query.limit + 1 }),
    );
    return toPage(rows, query.limit, (last) => ({ s: last.sequence }));
  }

  /**
   * Walks the whole chain in batches (each its own short transaction), then checks the end of the chain against
   * the head row and the latest signed checkpoint: deleting the newest events breaks no link, so only a record
   * kept elsewhere (a signed checkpoint an auditor may also hold) reveals it.
   */
  async function verify(ctx: TenantCtx): Promise<VerifyResult> {
    const verifier = createChainVerifier();
    for (;;) {
      const batch = await db.withTenant(ctx.tenantId, (tx) =>
        auditRepo.list(tx, ctx.tenantId, { afterSequence: verifier.last.sequence, limit: VERIFY_BATCH }),
      );
      for (const event of batch) {
        const problem = verifier.push(event);
        if (problem) {
          return { ok: false, checked: verifier.checked, lastSequence: verifier.last.sequence, firstBadSequence: problem.sequence, reason: problem.reason };
        }
      }
      if (batch.length < VERIFY_BATCH) break;
    }
    const last = verifier.last;
    const result: VerifyResult = { ok: true, checked: verifier.checked, lastSequence: last.sequence };
    const { head, checkpoint } = await db.withTenant(ctx.tenantId, async (tx) => ({
      head: await auditRepo.readHead(tx, ctx.tenantId),
      // Only this server's key can be checked here; checkpoints under an earlier key are for whoever kept that key.
      checkpoint: await auditRepo.latestCheckpoint(tx, ctx.tenantId, signingKey.keyId),
    }));
    if (checkpoint) {
      const signatureValid = verifyText(signingKey, checkpointText(ctx.tenantId, checkpoint), checkpoint.signature);
      result.checkpoint = { sequence: checkpoint.sequence, signatureValid };
      if (!signatureValid) {
        return { ...result, ok: false, reason: `the latest checkpoint (sequence ${checkpoint.sequence}) has an invalid signature` };
      }
      if (checkpoint.sequence > last.sequence) {
        return {
          ...result,
          ok: false,
          firstBadSequence: last.sequence + 1,
          reason: `the log ends at ${last.sequence} but a signed checkpoint covers ${checkpoint.sequence}: events were removed`,
        };
      }
      const atCheckpoint =
        checkpoint.sequence === last.sequence
          ? last.hash
          : (await db.withTenant(ctx.tenantId, (tx) =>
              auditRepo.list(tx, ctx.tenantId, { afterSequence: checkpoint.sequence - 1, limit: 1 }),
            ))[0]?.hash;
      if (checkpoint.sequence > 0 && atCheckpoint !== checkpoint.hash) {
        return {
          ...result,
          ok: false,
          firstBadSequence: checkpoint.sequence,
          reason: `event ${checkpoint.sequence} differs from the signed checkpoint`,
        };
      }
    }
    if (head && head.sequence !== last.sequence) {
      return {
        ...result,
        ok: false,
        firstBadSequence: last.sequence + 1,
        reason: `the chain head records ${head.sequence} events but the log ends at ${last.sequence}`,
      };
    }
    return result;
  }

  /** Signs the current head (storing the checkpoint if the head moved since the last one) and returns it. */
  async function checkpoint(ctx: TenantCtx): Promise<SignedCheckpoint> {
    return db.withTenant(ctx.tenantId, async (tx) => {
      const head = (await auditRepo.readHead(tx, ctx.tenantId)) ?? { sequence: 0, hash: GENESIS_HASH };
      const latest = await auditRepo.latestCheckpoint(tx, ctx.tenantId, signingKey.keyId);
      if (latest && latest.sequence === head.sequence) {
        return { ...latest, publicKey: signingKey.publicKeyPem };
      }
      const signedAt = clock.now().toISOString();
      const signature = signText(signingKey, checkpointText(ctx.tenantId, { sequence: head.sequence, hash: head.hash, signedAt }));
      const created: Checkpoint = { sequence: head.sequence, hash: head.hash, signedAt, keyId: signingKey.keyId, signature };
      await auditRepo.insertCheckpoint(tx, ctx.tenantId, created);
      return { ...created, publicKey: signingKey.publicKeyPem };
    });
  }

  return { record, list, verify, checkpoint, initTenant: auditRepo.createHead };
}

export type AuditService = ReturnType<typeof createAuditService>;
