import type { FastifyRequest } from 'fastify';
import { actorOf, type Ctx, type Principal, type TenantCtx } from './context.js';
import { ForbiddenError, UnauthenticatedError } from './errors.js';

type UserPrincipal = Extract<Principal, { kind: 'user' }>;
export type UserCtx = TenantCtx & { principal: UserPrincipal };

/** The service ctx of an authenticated request. */
export function ctxOf(request: FastifyRequest): Ctx {
  const principal = request.principal;
  if (!principal) throw new UnauthenticatedError();
  return { principal, actor: actorOf(principal), requestId: request.id, log: request.log };
}

/** The ctx of a request made by a tenant user; the authorisation hook has already refused anyone else. */
export function userCtxOf(request: FastifyRequest): UserCtx {
  const ctx = ctxOf(request);
  const principal = ctx.principal;
  if (principal.kind !== 'user') throw new ForbiddenError('This route acts inside a tenant and needs a tenant user\'s token.');
  return { ...ctx, principal, tenantId: principal.tenantId };
}
