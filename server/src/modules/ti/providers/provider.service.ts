/**
 * The providers a tenant can enrich with: the built-in `local` and the HTTP providers it configured. Resolving a
 * provider builds its client once per configuration version and keeps it, so its token bucket spans lookups.
 */
import { createOutboundHttp } from '../../../platform/outbound-fetch.js';
import { checkOutboundUrl, type OutboundPolicy } from '../../../platform/outbound-url.js';
import type { z } from 'zod';
import type { Clock } from '../../../platform/clock.js';
import type { Database, Sql } from '../../../platform/db.js';
import { isUniqueViolation } from '../../../platform/db.js';
import { ConflictError, NotFoundError, ValidationError } from '../../../platform/errors.js';
import type { UserCtx } from '../../../platform/request-context.js';
import type { AuditService } from '../../audit/index.js';
import { createHttpProvider } from './http.provider.js';
import { LOCAL_PROVIDER } from './local.provider.js';
import type { EnrichmentProvider } from './provider.js';
import { providerRepo, type ProviderRow } from './provider.repo.js';
import type { createProviderBody, ProviderDto, updateProviderBody } from './provider.schemas.js';
import type { SecretBox } from '../../../platform/secret-box.js';
import type { Sleep } from './token-bucket.js';

const sealContext = (tenantId: string, provider: string) => `ti-provider:${tenantId}:${provider}`;

function toDto(row: ProviderRow): ProviderDto {
  return {
    name: row.name,
    kind: 'http',
    baseUrl: row.baseUrl,
    authHeader: row.authHeader,
    hasAuthValue: row.authValueSealed !== null,
    costCents: row.costCents,
    ratePerMinute: row.ratePerMinute,
    burst: row.burst,
    timeoutMs: row.timeoutMs,
    enabled: row.enabled,
  };
}

const LOCAL_DTO: ProviderDto = {
  name: LOCAL_PROVIDER, kind: 'local', baseUrl: null, authHeader: null, hasAuthValue: false, costCents: 0,
  ratePerMinute: null, burst: null, timeoutMs: null, enabled: true,
};

export function createProviderService(deps: {
  db: Database;
  clock: Clock;
  audit: Pick<AuditService, 'record'>;
  /** Seals credentials bound to their tenant and provider, so a sealed value copied elsewhere does not open. */
  seal: SecretBox;
  local: EnrichmentProvider;
  /** Where providers may be (platform/outbound-url.ts): in prod https to public addresses; dev allows http://127.0.0.1. */
  outboundPolicy: OutboundPolicy;
  sleep?: Sleep;
  fetch?: typeof fetch;
}) {
  const { db, clock, audit, seal } = deps;
  const clients = new Map<string, { version: number; provider: EnrichmentProvider }>();

  const doFetch = deps.fetch ?? createOutboundHttp({ policy: deps.outboundPolicy }).fetch;

  function checkUrl(url: string | undefined) {
    if (url === undefined) return;
    const check = checkOutboundUrl(url, deps.outboundPolicy);
    if (!check.ok) throw new ValidationError(`The provider baseUrl ${check.problem}.`, [{ path: 'body.baseUrl', message: check.problem }]);
  }

  /** The provider by name, or null when the tenant has none by that name (or it is disabled). */
  async function resolve(tx: Sql, tenantId: string, name: string): Promise<EnrichmentProvider | null> {
    if (name === LOCAL_PROVIDER) return deps.local;
    const row = await providerRepo.get(tx, tenantId, name);
    if (!row || !row.enabled) return null;
    const key = `${tenantId}/${name}`;
    const version = new Date(row.updatedAt).getTime();
    const cached = clients.get(key);
    if (cached && cached.version === version) return cached.provider;
    const provider = createHttpProvider(
      { ...row, authValue: row.authValueSealed ? seal.open(row.authValueSealed, sealContext(tenantId, name)) : null },
      { clock, sleep: deps.sleep, fetch: doFetch },
    );
    clients.set(key, { version, provider });
    return provider;
  }

  return {
    resolve,

    /** Throws 404 unless the tenant has a provider of that name (enabled or not). */
    async assertExists(tx: Sql, tenantId: string, name: string): Promise<void> {
      if (name !== LOCAL_PROVIDER && !(await providerRepo.get(tx, tenantId, name))) throw new NotFoundError('Enrichment provider', name);
    },

    async names(tx: Sql, tenantId: string): Promise<string[]> {
      return [LOCAL_PROVIDER, ...(await providerRepo.list(tx, tenantId)).map((p) => p.name)];
    },

    async list(ctx: UserCtx): Promise<{ items: ProviderDto[] }> {
      const rows = await db.withTenant(ctx.tenantId, (tx) => providerRepo.list(tx, ctx.tenantId));
      return { items: [LOCAL_DTO, ...rows.map(toDto)] };
    },

    async create(ctx: UserCtx, body: z.output<typeof createProviderBody>): Promise<ProviderDto> {
      checkUrl(body.baseUrl);
      const now = clock.now();
      const row: Omit<ProviderRow, 'kind'> = {
        name: body.name,
        baseUrl: body.baseUrl,
        authHeader: body.authHeader,
        authValueSealed: body.authValue ? seal.seal(body.authValue, sealContext(ctx.tenantId, body.name)) : null,
        costCents: body.costCents,
        ratePerMinute: body.ratePerMinute,
        burst: body.burst ?? Math.min(10, body.ratePerMinute),
        timeoutMs: body.timeoutMs,
        enabled: body.enabled,
        createdAt: now,
        updatedAt: now,
      };
      try {
        await db.withTenant(ctx.tenantId, async (tx) => {
          await providerRepo.insert(tx, ctx.tenantId, row);
          const { authValueSealed: _sealed, ...shown } = row;
          await audit.record(tx, ctx, { action: 'ti.provider.create', target: { type: 'ti-provider', id: row.name }, after: { ...shown, hasAuthValue: _sealed !== null } });
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConflictError(`A provider named ${row.name} already exists.`);
        throw error;
      }
      return toDto({ ...row, kind: 'http' });
    },

    async update(ctx: UserCtx, name: string, body: z.output<typeof updateProviderBody>): Promise<ProviderDto> {
      if (name === LOCAL_PROVIDER) throw new ValidationError('The built-in local provider has no settings to change.', [{ path: 'params.provider', message: 'local is built in' }]);
      checkUrl(body.baseUrl);
      return db.withTenant(ctx.tenantId, async (tx) => {
        const before = await providerRepo.get(tx, ctx.tenantId, name);
        if (!before) throw new NotFoundError('Enrichment provider', name);
        const authHeader = body.authHeader !== undefined ? body.authHeader : before.authHeader;
        const authValueSealed = body.authValue !== undefined ? (body.authValue === null ? null : seal.seal(body.authValue, sealContext(ctx.tenantId, name))) : before.authValueSealed;
        if ((authHeader === null) !== (authValueSealed === null)) {
          throw new ValidationError('Give authHeader and authValue together.', [{ path: 'body.authValue', message: 'needs authHeader (and the other way round)' }]);
        }
        const after: ProviderRow = {
          ...before,
          ...Object.fromEntries(Object.entries(body).filter(([k, v]) => v !== undefined && k !== 'authValue')),
          authHeader,
          authValueSealed,
          updatedAt: clock.now(),
        };
        await providerRepo.update(tx, ctx.tenantId, after);
        await audit.record(tx, ctx, {
          action: 'ti.provider.update',
          target: { type: 'ti-provider', id: name },
          before: { ...toDto(before) },
          after: { ...toDto(after), authValueChanged: body.authValue !== undefined },
        });
        return toDto(after);
      });
    },
  };
}

export type ProviderService = ReturnType<typeof createProviderService>;
