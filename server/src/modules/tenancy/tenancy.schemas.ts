import { z } from 'zod';
import { ROLES } from '../../platform/context.js';
import { pageQuerySchema } from '../../platform/pagination.js';

export const idParams = z.object({ id: z.uuid().describe('Resource id (UUID).') });

const email = z.email().max(254).describe('E-mail address; unique within the tenant, case-insensitively.');
const roles = z
  .array(z.enum(ROLES))
  .min(1, 'give at least one role')
  .max(ROLES.length)
  .refine((r) => new Set(r).size === r.length, 'roles must not repeat')
  .describe('Roles: admin, analyst, viewer, auditor.');

export const tenantSchema = z.object({ id: z.uuid(), name: z.string(), createdAt: z.iso.datetime() });
export const createTenantBody = z.object({
  name: z.string().trim().min(1).max(100).describe('Tenant name; unique on the platform, case-insensitively.'),
  adminEmail: email.describe('E-mail of the tenant\'s first admin user.'),
});
export const createdTenantSchema = tenantSchema.extend({
  adminUserId: z.uuid(),
  adminToken: z.string().describe('The first admin\'s API token. Shown once: store it now.'),
});

export const userSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  displayName: z.string().nullable(),
  roles: z.array(z.enum(ROLES)),
  disabled: z.boolean(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export const createUserBody = z.object({
  email,
  displayName: z.string().trim().min(1).max(200).optional(),
  roles,
  disabled: z.boolean().default(false),
});
export const updateUserBody = z
  .object({
    email: email.optional(),
    displayName: z.string().trim().min(1).max(200).nullable().optional(),
    roles: roles.optional(),
    disabled: z.boolean().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'give at least one of email, displayName, roles, disabled');
export const listUsersQuery = pageQuerySchema.extend({
  role: z.enum(ROLES).optional().describe('Only users holding this role.'),
  disabled: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  q: z.string().trim().min(1).max(200).optional().describe('Substring of e-mail or display name.'),
});

export const tokenSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  userId: z.uuid(),
  createdBy: z.uuid().nullable(),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime().nullable(),
  lastUsedAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
  status: z.enum(['active', 'expired', 'revoked']),
});
export const createTokenBody = z.object({
  name: z.string().trim().min(1).max(100).describe('What the token is for, e.g. "splunk forwarder".'),
  userId: z.uuid().optional().describe('Owner of the token; defaults to the caller. Others\' tokens need admin.'),
  expiresAt: z.iso.datetime({ offset: true }).optional().describe('When the token stops working (ISO 8601); omit for no expiry.'),
});
export const createdTokenSchema = tokenSchema.extend({
  token: z.string().describe('The secret. Shown once: it is stored only as a hash.'),
});
export const listTokensQuery = pageQuerySchema.extend({
  userId: z.uuid().optional().describe('Only this user\'s tokens (admins); others always see their own.'),
});

export const meSchema = z.object({
  user: userSchema,
  tenant: tenantSchema,
  token: z.object({ id: z.uuid() }),
  permissions: z.array(z.string()).describe('Actions the caller is allowed on its tenant.'),
});
