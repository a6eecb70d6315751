import { toIso } from '../../platform/clock.js';
import { tokenStatus } from './api-token.js';
import type { TenantRow, TokenRow, UserRow } from './tenancy.repo.js';


export function toTenantDto(t: TenantRow) {
  return { id: t.id, name: t.name, createdAt: toIso(t.createdAt)! };
}

export function toUserDto(u: UserRow) {
  return {
    id: u.id,
    email: u.email,
    displayName: u.displayName,
    roles: u.roles,
    disabled: u.disabled,
    createdAt: toIso(u.createdAt)!,
    updatedAt: toIso(u.updatedAt)!,
  };
}

export function toTokenDto(t: TokenRow, now: Date) {
  return {
    id: t.id,
    name: t.name,
    userId: t.userId,
    createdBy: t.createdBy,
    createdAt: toIso(t.createdAt)!,
    expiresAt: toIso(t.expiresAt),
    lastUsedAt: toIso(t.lastUsedAt),
    revokedAt: toIso(t.revokedAt),
    status: tokenStatus({ expiresAt: t.expiresAt && new Date(t.expiresAt), revokedAt: t.revokedAt }, now),
  };
}

/** The audit summary of a user: what changed, never anything secret. */
export function userSummary(u: UserRow) {
  return { email: u.email, displayName: u.displayName, roles: u.roles, disabled: u.disabled };
}

export function tokenSummary(t: TokenRow) {
  return { name: t.name, userId: t.userId, expiresAt: toIso(t.expiresAt), revokedAt: toIso(t.revokedAt) };
}
