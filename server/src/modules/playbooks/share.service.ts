/**
 * Share links: a signed token that lets someone without an account see a run's results (`view-results`) or run
 * the playbook (`run`) until it expires or is revoked. The token carries the tenant and link ids under an HMAC
 * (key derived from SUMMIT_SECRET), so a forged or altered token is refused before any query; the link's row is
 * what makes revocation immediate and expiry authoritative. Every use is audited with the visitor's address.
 */
import { createHmac } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import type { Clock } from '../../platform/clock.js';
import { constantTimeEqual, deriveKey } from '../../platform/crypto.js';
import type { Database, Sql } from '../../platform/db.js';
import { AppError, GoneError, NotFoundError, ValidationError } from '../../platform/errors.js';
import { decodeCursor, toPage } from '../../platform/pagination.js';
import type { UserCtx } from '../../platform/request-context.js';
import type { AuditService } from '../audit/index.js';
import { playbookRepo, linkRepo, runRepo, type LinkRow } from './playbook.repo.js';
import { isoOf } from './playbook.repo.js';
import type { PlaybookService } from './playbook.service.js';
import { toRunDto, type RunService } from './run.service.js';
import type { ExportFormat } from './export-model.js';

const PREFIX = 'slk_';

function uuidBytes(id: string): Buffer {
  return Buffer.from(id.replace(/-/g, ''), 'hex');
}
function uuidOf(bytes: Buffer): string {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** `slk_<base64url(tenant id ‖ link id)>.<base64url(HMAC-SHA256)>`. */
export function createLinkSigner(secret: string) {
  const key = deriveKey(secret, 'playbook-share-links');
  const mac = (ids: Buffer) => createHmac('sha256', key).update(ids).digest().toString('base64url');
  return {
    sign(tenantId: string, linkId: string): string {
      const ids = Buffer.concat([uuidBytes(tenantId), uuidBytes(linkId)]);
      return `${PREFIX}${ids.toString('base64url')}.${mac(ids)}`;
    },
    /** The ids a token names, or null when it is not a token this secret signed. */
    verify(token: string): { tenantId: string; linkId: string } | null {
      if (!token.startsWith(PREFIX)) return null;
      const [body, signature] = token.slice(PREFIX.length).split('.');
      if (!body || !signature) return null;
      const ids = Buffer.from(body, 'base64url');
      if (ids.length !== 32 || !constantTimeEqual(mac(ids), signature)) return null;
      return { tenantId: uuidOf(ids.subarray(0, 16)), linkId: uuidOf(ids.subarray(16)) };
    },
  };
}

export function toLinkDto(row: LinkRow) {
  return {
    id: row.id, playbookId: row.playbookId, runId: row.runId, permission: row.permission, expiresAt: isoOf(row.expiresAt),
    revokedAt: row.revokedAt ? isoOf(row.revokedAt) : null, createdBy: row.createdBy, createdAt: isoOf(row.createdAt),
    uses: row.uses, lastUsedAt: row.lastUsedAt ? isoOf(row.lastUsedAt) : null,
  };
}

export type Visitor = { ip: string; userAgent: string | null; requestId: string };

export function createShareService(deps: {
  db: Database;
  clock: Clock;
  audit: Pick<AuditService, 'record'>;
  playbooks: PlaybookService;
  runs: RunService;
  secret: string;
}) {
  const { db, clock, audit, playbooks, runs } = deps;
  const signer = createLinkSigner(deps.secret);

  async function create(ctx: UserCtx, playbookId: string, input: { permission: 'view-results' | 'run'; runId?: string; expiresIn: number }) {
    return db.withTenant(ctx.tenantId, async (tx) => {
      await playbooks.load(tx, ctx, playbookId, 'playbook-link:create');
      if (input.runId) {
        if (input.permission !== 'view-results') {
          throw new ValidationError('runId only goes with permission "view-results"; a run link starts new runs.', [{ path: 'body.runId', message: 'only for view-results links' }]);
        }
        const run = await runRepo.get(tx, ctx.tenantId, input.runId);
        // Another tenant's run, or another playbook's, is simply not one this link can name.
        if (!run || run.playbookId !== playbookId) {
          throw new ValidationError(`Run ${input.runId} is not a run of this playbook.`, [{ path: 'body.runId', message: 'not a run of this playbook' }]);
        }
      }
      const now = clock.now();
      const link = await linkRepo.insert(tx, {
        tenantId: ctx.tenantId, id: uuidv7(), playbookId, runId: input.runId ?? null, permission: input.permission,
        expiresAt: new Date(now.getTime() + input.expiresIn * 1000), createdBy: ctx.principal.userId, createdAt: now,
      });
      await audit.record(tx, ctx, { action: 'playbook.link.create', target: { type: 'playbook', id: playbookId }, after: toLinkDto(link) });
      const token = signer.sign(ctx.tenantId, link.id);
      return { ...toLinkDto(link), token, url: `/api/v1/shared/${token}` };
    });
  }

  async function list(ctx: UserCtx, playbookId: string, query: { limit: number; cursor?: string }) {
    const after = decodeCursor(query.cursor, z.object({ id: z.uuid() }))?.id;
    return db.withTenant(ctx.tenantId, async (tx) => {
      await playbooks.load(tx, ctx, playbookId, 'playbook-link:list');
      const rows = await linkRepo.list(tx, ctx.tenantId, playbookId, after, query.limit + 1);
      const page = toPage(rows, query.limit, (last) => ({ id: last.id }));
      return { ...page, items: page.items.map(toLinkDto) };
    });
  }

  async function revoke(ctx: UserCtx, playbookId: string, linkId: string) {
    return db.withTenant(ctx.tenantId, async (tx) => {
      await playbooks.load(tx, ctx, playbookId, 'playbook-link:revoke');
      const link = await linkRepo.get(tx, ctx.tenantId, linkId);
      if (!link || link.playbookId !== playbookId) throw new NotFoundError('Share link', linkId);
      const after = await linkRepo.revoke(tx, ctx.tenantId, linkId, ctx.principal.userId, clock.now());
      await audit.record(tx, ctx, { action: 'playbook.link.revoke', target: { type: 'playbook', id: playbookId }, before: toLinkDto(link), after: toLinkDto(after) });
      return toLinkDto(after);
    });
  }

  /**
   * Resolves a token to a live link inside the link's tenant, and audits the use. A token that is not ours is a 404
   * (nothing to learn from it); a real link that expired or was revoked is a 410 saying so.
   */
  async function visit<T>(token: string, visitor: Visitor, use: string, fn: (tx: Sql, link: LinkRow) => Promise<T>): Promise<T> {
    const ids = signer.verify(token);
    if (!ids) throw new NotFoundError('Share link');
    return db.withTenant(ids.tenantId, async (tx) => {
      const link = await linkRepo.get(tx, ids.tenantId, ids.linkId);
      if (!link) throw new NotFoundError('Share link');
      const now = clock.now();
      if (link.revokedAt) throw new GoneError(`This share link was revoked on ${isoOf(link.revokedAt)}; ask whoever shared it for a new one.`);
      if (link.expiresAt <= now) throw new GoneError(`This share link expired on ${isoOf(link.expiresAt)}; ask whoever shared it for a new one.`);
      await linkRepo.recordUse(tx, ids.tenantId, link.id, now);
      await audit.record(tx, { tenantId: ids.tenantId, actor: { type: 'system', id: `share-link:${link.id}` }, requestId: visitor.requestId }, {
        action: 'playbook.link.use', target: { type: 'playbook', id: link.playbookId },
        after: { linkId: link.id, use, permission: link.permission, ip: visitor.ip, userAgent: visitor.userAgent },
      });
      return fn(tx, link);
    });
  }

  async function resultRun(tx: Sql, link: LinkRow) {
    const run = link.runId ? await runRepo.get(tx, link.tenantId, link.runId) : await runRepo.latestSucceeded(tx, link.tenantId, link.playbookId);
    return run;
  }

  /** What the link grants, and nothing more. Results are the redacted export model, never the raw run. */
  async function show(token: string, visitor: Visitor) {
    return visit(token, visitor, 'view', async (tx, link) => {
      const playbook = (await playbookRepo.get(tx, link.tenantId, link.playbookId))!;
      const base = { permission: link.permission, expiresAt: isoOf(link.expiresAt), playbook: { name: playbook.name, description: playbook.description } };
      if (link.permission === 'run') {
        const version = await playbookRepo.getVersion(tx, link.tenantId, playbook.id, playbook.currentVersion);
        const recent = await runRepo.list(tx, link.tenantId, playbook.id, undefined, 10, link.id);
        return {
          ...base,
          parameters: ((version!.definition as { parameters?: unknown[] }).parameters ?? []) as unknown[],
          runs: recent.map((r) => ({ id: r.id, status: r.status, createdAt: isoOf(r.createdAt), finishedAt: r.finishedAt ? isoOf(r.finishedAt) : null })),
          run: null,
        };
      }
      const run = await resultRun(tx, link);
      if (!run) return { ...base, parameters: [], runs: [], run: null };
      const rendered = await runs.renderRun(tx, link.tenantId, run, playbook, 'md', 'share-link');
      return {
        ...base, parameters: [], runs: [],
        run: { id: run.id, status: run.status, finishedAt: run.finishedAt ? isoOf(run.finishedAt) : null, markdown: rendered.content.toString('utf8'), sha256: rendered.sha256 },
      };
    });
  }

  async function exportShared(token: string, visitor: Visitor, format: ExportFormat) {
    return visit(token, visitor, `export:${format}`, async (tx, link) => {
      if (link.permission !== 'view-results') throw new NotFoundError('Shared results');
      const run = await resultRun(tx, link);
      if (!run) throw new NotFoundError('Shared results', undefined);
      const playbook = (await playbookRepo.get(tx, link.tenantId, link.playbookId))!;
      return runs.renderRun(tx, link.tenantId, run, playbook, format, 'share-link');
    });
  }

  /** A `run` link starts a run on behalf of the user who made the link (audited as the link). */
  async function runShared(token: string, visitor: Visitor, params: Record<string, unknown>) {
    return visit(token, visitor, 'run', async (tx, link) => {
      if (link.permission !== 'run') {
        throw new AppError('forbidden', 'This share link shows results only; it cannot start runs.');
      }
      const playbook = (await playbookRepo.get(tx, link.tenantId, link.playbookId))!;
      const scope = { tenantId: link.tenantId, actor: { type: 'system' as const, id: `share-link:${link.id}` }, requestId: visitor.requestId };
      const run = await runs.enqueueRun(tx, scope, playbook, params, 'link', { userId: link.createdBy, linkId: link.id });
      return { id: run.id, status: run.status, createdAt: toRunDto(run).createdAt };
    });
  }

  return { create, list, revoke, show, exportShared, runShared, signer };
}

export type ShareService = ReturnType<typeof createShareService>;
