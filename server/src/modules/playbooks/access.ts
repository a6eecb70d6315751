/**
 * Who may do what with a playbook, decided by Cedar: the playbook and its grants become one entity whose attributes
 * the policies in policies/playbooks.cedar read (owner, and cumulative sets of users and roles per level).
 */
import type { UserCtx } from '../../platform/request-context.js';
import { ForbiddenError, NotFoundError } from '../../platform/errors.js';
import type { PolicyEngine } from '../policy/index.js';
import { PERMISSIONS, type GrantRow, type Permission, type PlaybookRow } from './playbook.repo.js';

const NS = 'Summit';
const LEVEL: Record<Permission, number> = { view: 0, run: 1, edit: 2, admin: 3 };

/** The Cedar entity of a playbook: a user granted `edit` is in editUsers, runUsers and viewUsers. */
export function playbookEntity(playbook: PlaybookRow, grants: GrantRow[]) {
  const attrs: Record<string, unknown> = {
    tenant: { __entity: { type: `${NS}::Tenant`, id: playbook.tenantId } },
    owner: { __entity: { type: `${NS}::User`, id: playbook.ownerId } },
  };
  for (const level of PERMISSIONS) {
    const holders = grants.filter((g) => g.playbookId === playbook.id && LEVEL[g.permission] >= LEVEL[level]);
    // Sorted so that the same grants in another order make the same decision-cache key.
    attrs[`${level}Users`] = holders.filter((g) => g.subjectType === 'user').map((g) => g.subjectId).sort()
      .map((id) => ({ __entity: { type: `${NS}::User`, id } }));
    attrs[`${level}Roles`] = holders.filter((g) => g.subjectType === 'role').map((g) => g.subjectId).sort()
      .map((id) => ({ __entity: { type: `${NS}::Role`, id } }));
  }
  return { uid: { type: `${NS}::Playbook`, id: playbook.id }, attrs, parents: [] };
}

export type PlaybookAccess = ReturnType<typeof createPlaybookAccess>;

export function createPlaybookAccess(engine: PolicyEngine) {
  function allowed(ctx: UserCtx, action: string, playbook: PlaybookRow, grants: GrantRow[]): boolean {
    return engine.authorize({
      principal: ctx.principal,
      action,
      resource: { type: `${NS}::Playbook`, id: playbook.id },
      entities: [playbookEntity(playbook, grants) as never],
    }).allowed;
  }
  return {
    allowed,
    /**
     * Refuses an action on a playbook. A caller who may not even view it learns nothing of its existence (404, as
     * for another tenant's objects); one who may view it but not do this gets 403 naming what is missing.
     */
    require(ctx: UserCtx, action: string, playbook: PlaybookRow, grants: GrantRow[], what = 'Playbook'): void {
      if (allowed(ctx, action, playbook, grants)) return;
      if (!allowed(ctx, 'playbook:read', playbook, grants)) throw new NotFoundError(what, playbook.id);
      throw new PlaybookForbidden(action, playbook);
    },
    /** The highest level the caller holds (for the API's `yourPermission`), or null. */
    levelOf(ctx: UserCtx, playbook: PlaybookRow, grants: GrantRow[]): Permission | null {
      const probes: Array<[Permission, string]> = [['admin', 'playbook:delete'], ['edit', 'playbook:update'], ['run', 'playbook:run'], ['view', 'playbook:read']];
      for (const [level, action] of probes) if (allowed(ctx, action, playbook, grants)) return level;
      return null;
    },
  };
}


const NEEDS: Record<string, Permission> = {
  'playbook:run': 'run', 'run:cancel': 'run', 'run:annotate': 'run',
  'playbook:update': 'edit', 'playbook-schedule:create': 'edit', 'playbook-schedule:update': 'edit', 'playbook-schedule:delete': 'edit',
};

export class PlaybookForbidden extends ForbiddenError {
  constructor(action: string, playbook: PlaybookRow) {
    const level = NEEDS[action] ?? 'admin';
    super(`${action} on playbook "${playbook.name}" needs the ${level} permission on it; ask its owner or an admin of the playbook for a grant.`);
  }
}
