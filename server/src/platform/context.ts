import type { FastifyBaseLogger } from 'fastify';

export const ROLES = ['admin', 'analyst', 'viewer', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

/** Who is acting. Users belong to one tenant; the operator administers the platform; system runs jobs and the CLI. */
export type Principal =
  | { kind: 'user'; tenantId: string; userId: string; email: string; roles: Role[]; tokenId: string }
  | { kind: 'operator' }
  | { kind: 'system'; name: string };

export type Actor = { type: 'user' | 'operator' | 'system'; id: string };

export function actorOf(principal: Principal): Actor {
  switch (principal.kind) {
    case 'user':
      return { type: 'user', id: principal.userId };
    case 'operator':
      return { type: 'operator', id: 'operator' };
    case 'system':
      return { type: 'system', id: principal.name };
  }
}

export type Logger = Pick<FastifyBaseLogger, 'info' | 'warn' | 'error' | 'debug'>;

/** What every service call receives first. */
export type Ctx = {
  principal: Principal;
  actor: Actor;
  requestId: string;
  log: Logger;
};

/** A tenant-scoped ctx: services that act inside a tenant require one. */
export type TenantCtx = Ctx & { tenantId: string };
