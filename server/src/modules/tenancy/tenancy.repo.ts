import type { Sql } from '../../platform/db.js';
import type { Role } from '../../platform/context.js';

export type TenantRow = { id: string; name: string; createdAt: Date };
export type UserRow = {
  id: string;
  tenantId: string;
  email: string;
  displayName: string | null;
  roles: Role[];
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date;
};
export type TokenRow = {
  id: string;
  tenantId: string;
  userId: string;
  name: string;
  createdBy: string | null;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
};

const TENANT_COLS = 'id, name, created_at as "createdAt"';
const USER_COLS = `id, tenant_id as "tenantId", email, display_name as "displayName", roles, disabled,
  created_at as "createdAt", updated_at as "updatedAt"`;
const TOKEN_COLS = `id, tenant_id as "tenantId", user_id as "userId", name, created_by as "createdBy",
  created_at as "createdAt", expires_at as "expiresAt", last_used_at as "lastUsedAt", revoked_at as "revokedAt"`;

/** Tenants are platform-level: the operator's queries run in system scope, a member's in its own tenant's scope. */
export const tenantRepo = {
  async insert(tx: Sql, tenant: { id: string; name: string }): Promise<TenantRow> {
    const { rows } = await tx.query<TenantRow>(
      `insert into tenants (id, name) values ($1, $2) returning ${TENANT_COLS}`,
      [tenant.id, tenant.name],
    );
    return rows[0]!;
  },
  async findByName(tx: Sql, name: string): Promise<TenantRow | null> {
    const { rows } = await tx.query<TenantRow>(`select ${TENANT_COLS} from tenants where lower(name) = lower($1)`, [name]);
    return rows[0] ?? null;
  },
  async get(tx: Sql, id: string): Promise<TenantRow | null> {
    const { rows } = await tx.query<TenantRow>(`select ${TENANT_COLS} from tenants where id = $1`, [id]);
    return rows[0] ?? null;
  },
  async list(tx: Sql, after: string | undefined, limit: number): Promise<TenantRow[]> {
    const { rows } = await tx.query<TenantRow>(
      `select ${TENANT_COLS} from tenants where ($1::uuid is null or id > $1::uuid) order by id limit $2`,
      [after ?? null, limit],
    );
    return rows;
  },
};

export type UserFilter = { role?: Role; disabled?: boolean; q?: string; after?: string; limit: number };

export const userRepo = {
  async insert(
    tx: Sql,
    user: { tenantId: string; id: string; email: string; displayName: string | null; roles: Role[]; disabled: boolean },
  ): Promise<UserRow> {
    const { rows } = await tx.query<UserRow>(
      `insert into users (tenant_id, id, email, display_name, roles, disabled) values ($1, $2, $3, $4, $5, $6)
       returning ${USER_COLS}`,
      [user.tenantId, user.id, user.email, user.displayName, user.roles, user.disabled],
    );
    return rows[0]!;
  },
  async get(tx: Sql, tenantId: string, id: string, options: { forUpdate?: boolean } = {}): Promise<UserRow | null> {
    const { rows } = await tx.query<UserRow>(
      `select ${USER_COLS} from users where tenant_id = $1 and id = $2 ${options.forUpdate ? 'for update' : ''}`,
      [tenantId, id],
    );
    return rows[0] ?? null;
  },
  async findByEmail(tx: Sql, tenantId: string, email: string): Promise<UserRow | null> {
    const { rows } = await tx.query<UserRow>(
      `select ${USER_COLS} from users where tenant_id = $1 and lower(email) = lower($2)`,
      [tenantId, email],
    );
    return rows[0] ?? null;
  },
  async list(tx: Sql, tenantId: string, filter: UserFilter): Promise<UserRow[]> {
    const { rows } = await tx.query<UserRow>(
      `select ${USER_COLS} from users
        where tenant_id = $1
          and ($2::text is null or $2 = any(roles))
          and ($3::boolean is null or disabled = $3)
          and ($4::text is null or strpos(lower(email), lower($4)) > 0 or strpos(lower(coalesce(display_name, '')), lower($4)) > 0)
          and ($5::uuid is null or id > $5::uuid)
        order by id limit $6`,
      [tenantId, filter.role ?? null, filter.disabled ?? null, filter.q ?? null, filter.after ?? null, filter.limit],
    );
    return rows;
  },
  async update(
    tx: Sql,
    tenantId: string,
    id: string,
    patch: { email: string; displayName: string | null; roles: Role[]; disabled: boolean },
  ): Promise<UserRow> {
    const { rows } = await tx.query<UserRow>(
      `update users set email = $3, display_name = $4, roles = $5, disabled = $6, updated_at = now()
        where tenant_id = $1 and id = $2 returning ${USER_COLS}`,
      [tenantId, id, patch.email, patch.displayName, patch.roles, patch.disabled],
    );
    return rows[0]!;
  },
  async delete(tx: Sql, tenantId: string, id: string): Promise<void> {
    await tx.query('delete from users where tenant_id = $1 and id = $2', [tenantId, id]);
  },
  /** Locks and returns the ids of the tenant's enabled admins, so two concurrent demotions cannot both pass. */
  async lockActiveAdmins(tx: Sql, tenantId: string): Promise<string[]> {
    const { rows } = await tx.query<{ id: string }>(
      `select id from users where tenant_id = $1 and 'admin' = any(roles) and not disabled order by id for update`,
      [tenantId],
    );
    return rows.map((r) => r.id);
  },
};

export type TokenFilter = { userId?: string; after?: string; limit: number };

export const tokenRepo = {
  async insert(
    tx: Sql,
    token: { tenantId: string; id: string; userId: string; name: string; secretHash: Buffer; createdBy: string | null; expiresAt: Date | null },
  ): Promise<TokenRow> {
    const { rows } = await tx.query<TokenRow>(
      `insert into api_tokens (tenant_id, id, user_id, name, secret_hash, created_by, expires_at)
       values ($1, $2, $3, $4, $5, $6, $7) returning ${TOKEN_COLS}`,
      [token.tenantId, token.id, token.userId, token.name, token.secretHash, token.createdBy, token.expiresAt?.toISOString() ?? null],
    );
    return rows[0]!;
  },
  async get(tx: Sql, tenantId: string, id: string): Promise<TokenRow | null> {
    const { rows } = await tx.query<TokenRow>(`select ${TOKEN_COLS} from api_tokens where tenant_id = $1 and id = $2`, [
      tenantId,
      id,
    ]);
    return rows[0] ?? null;
  },
  async list(tx: Sql, tenantId: string, filter: TokenFilter): Promise<TokenRow[]> {
    const { rows } = await tx.query<TokenRow>(
      `select ${TOKEN_COLS} from api_tokens
        where tenant_id = $1 and ($2::uuid is null or user_id = $2::uuid) and ($3::uuid is null or id > $3::uuid)
        order by id limit $4`,
      [tenantId, filter.userId ?? null, filter.after ?? null, filter.limit],
    );
    return rows;
  },
  async revoke(tx: Sql, tenantId: string, id: string, at: Date): Promise<void> {
    await tx.query('update api_tokens set revoked_at = $3 where tenant_id = $1 and id = $2 and revoked_at is null', [
      tenantId,
      id,
      at.toISOString(),
    ]);
  },
  async countActiveForUser(tx: Sql, tenantId: string, userId: string): Promise<number> {
    const { rows } = await tx.query<{ n: number }>(
      `select count(*)::int as n from api_tokens where tenant_id = $1 and user_id = $2 and revoked_at is null`,
      [tenantId, userId],
    );
    return rows[0]?.n ?? 0;
  },
};

/** Authentication runs before the tenant is known, in system scope: it finds a token by its globally unique id. */
export type Credential = {
  tenantId: string;
  tokenId: string;
  userId: string;
  secretHash: Buffer;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  email: string;
  roles: Role[];
  disabled: boolean;
};

export const credentialRepo = {
  async findByTokenId(tx: Sql, tokenId: string): Promise<Credential | null> {
    const { rows } = await tx.query<Credential>(
      `select t.tenant_id as "tenantId", t.id as "tokenId", t.user_id as "userId", t.secret_hash as "secretHash",
              t.expires_at as "expiresAt", t.revoked_at as "revokedAt", t.last_used_at as "lastUsedAt",
              u.email, u.roles, u.disabled
         from api_tokens t join users u on u.tenant_id = t.tenant_id and u.id = t.user_id
        where t.id = $1`,
      [tokenId],
    );
    const row = rows[0];
    return row ? { ...row, secretHash: Buffer.from(row.secretHash) } : null;
  },
  async touch(tx: Sql, tenantId: string, tokenId: string, at: Date): Promise<void> {
    await tx.query('update api_tokens set last_used_at = $3 where tenant_id = $1 and id = $2', [tenantId, tokenId, at.toISOString()]);
  },
};
