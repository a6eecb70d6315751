import type { Clock } from '../../platform/clock.js';
import type { TenantCtx } from '../../platform/context.js';
import type { Database } from '../../platform/db.js';
import type { AuditService } from '../audit/index.js';
import { createAuthenticator } from './authenticator.js';
import { createTenantService } from './tenant.service.js';
import { createTokenService } from './token.service.js';
import { createUserService } from './user.service.js';
import { registerTenancyRoutes } from './tenancy.routes.js';
import type { FastifyInstance } from 'fastify';

export { INITIAL_TOKEN_NAME, type TenantService } from './tenant.service.js';
export { createTenantBody } from './tenancy.schemas.js';
export { issueApiToken, parseApiToken } from './api-token.js';

export function createTenancyModule(deps: {
  db: Database;
  clock: Clock;
  audit: AuditService;
  operatorToken: string;
  isAllowed: (ctx: TenantCtx, action: string) => boolean;
  permissionsOf: (ctx: TenantCtx) => string[];
}) {
  const tenants = createTenantService({ db: deps.db, audit: deps.audit });
  const users = createUserService({ db: deps.db, audit: deps.audit, permissionsOf: deps.permissionsOf });
  const tokens = createTokenService({ db: deps.db, clock: deps.clock, audit: deps.audit, isAllowed: deps.isAllowed });
  return {
    authenticate: createAuthenticator({ db: deps.db, clock: deps.clock, operatorToken: deps.operatorToken }),
    tenants,
    users,
    tokens,
    routes: (app: FastifyInstance) => registerTenancyRoutes(app, { tenants, users, tokens }),
  };
}

export type TenancyModule = ReturnType<typeof createTenancyModule>;
