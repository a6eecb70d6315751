import type { FastifyInstance } from 'fastify';
import { actorOf, type Principal } from '../../platform/context.js';
import { ForbiddenError } from '../../platform/errors.js';
import type { AuditService } from '../audit/index.js';
import type { PolicyEngine } from './policy-engine.js';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function denialMessage(principal: Principal, action: string): string {
  if (principal.kind === 'operator') {
    return `The operator token administers the platform (tenants) and cannot perform ${action}; use a token of a user in the tenant.`;
  }
  if (principal.kind === 'user' && action.startsWith('tenant:')) {
    return `Only the platform operator can perform ${action}.`;
  }
  const roles = principal.kind === 'user' ? principal.roles.join(', ') : principal.kind;
  return `Your roles (${roles}) do not allow ${action}. Ask a tenant admin for a role that does.`;
}

/**
 * Authenticates and authorises every non-public route before its body is read: 401 without a valid token, 403
 * when the policy set does not permit the route's action. A denied write by a tenant user is itself audited, since
 * failed attempts are what a security team looks for first.
 */
export function registerAuthorizationHook(
  app: FastifyInstance,
  deps: {
    authenticate: (header: string | undefined) => Promise<Principal>;
    engine: PolicyEngine;
    audit: Pick<AuditService, 'record'>;
    withTenantTx: <T>(tenantId: string, fn: (tx: Parameters<AuditService['record']>[0]) => Promise<T>) => Promise<T>;
  },
) {
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    // No url means no route matched: the not-found handler answers, and must not demand a token first.
    if (!request.routeOptions.url || config.public) return;
    const action = config.action;
    if (!action) throw new ForbiddenError('This route declares no policy action.');
    const principal = await deps.authenticate(request.headers.authorization);
    request.principal = principal;
    const decision = deps.engine.authorize({ principal, action });
    if (!decision.allowed) throw new ForbiddenError(denialMessage(principal, action));
  });

  // Whether the route's policy or a service's finer check said no, a refused write by a tenant user is recorded.
  // (The operator has no tenant chain to record into; its refusals are in the request log.)
  app.addHook('onError', async (request, _reply, error) => {
    const principal = request.principal;
    if (!(error instanceof ForbiddenError) || principal?.kind !== 'user' || READ_METHODS.has(request.method)) return;
    try {
      await deps.withTenantTx(principal.tenantId, (tx) =>
        deps.audit.record(tx, { tenantId: principal.tenantId, actor: actorOf(principal), requestId: request.id }, {
          action: 'authz.deny',
          target: { type: 'route', id: `${request.method} ${request.routeOptions.url}` },
          outcome: 'denied',
          after: { action: request.routeOptions.config.action ?? null, reason: error.message },
        }),
      );
    } catch (auditError) {
      request.log.error({ err: auditError }, 'could not record a denied request in the audit log');
    }
  });
}
