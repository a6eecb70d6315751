import { tokenStatus } from './api-token.js';
import type { TenantRow, TokenRow, UserRow } from './tenancy.repo.js';

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export function toTenantDto(t: TenantRow) {
  return { id: t.id, name: t.name, createdAt: iso(t.createdAt)! };
}

export function toUserDto(u: UserRow) {
  return {
    id: u.id,
    email: u.email,
    displayName: u.displayName,
    roles: u.roles,
    disabled: u.disabled,
    createdAt: iso(u.createdAt)!,
    updatedAt: iso(u.updatedAt)!,
  };
}

export function toTokenDto(t: TokenRow, now: Date) {
  return {
    id: t.id,
    name: t.name,
    userId: t.userId,
    createdBy: t.createdBy,
    createdAt: iso(t.createdAt)!,
    expiresAt: iso(t.expiresAt),
    lastUsedAt: iso(t.lastUsedAt),
    revokedAt: iso(t.revokedAt),
    status: tokenStatus({ expiresAt: t.expiresAt && new Date(t.expiresAt), revokedAt: t.revokedAt }, now),
  };
}

/** The audit summary of a user: what changed, never anything secret. */
export function userSummary(u: UserRow) {
  return { email: u.email, displayName: u.displayName, roles: u.roles, disabled: u.disabled };
}

export function tokenSummary(t: TokenRow) {
  return { name: t.name, userId: t.userId, expiresAt: iso(t.expiresAt), revokedAt: iso(t.revokedAt) };
}
