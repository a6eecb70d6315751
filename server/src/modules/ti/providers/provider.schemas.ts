import { z } from 'zod';

export const providerName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{1,39}$/, 'a provider name is 2–40 lower-case letters, digits and dashes, starting with a letter')
  .describe('Provider name: `local` (built in) or one the tenant configured.');
export const providerParams = z.object({ provider: providerName });

const headerName = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'an HTTP header name (letters, digits, dashes)');

export const createProviderBody = z
  .object({
    name: providerName.refine((n) => n !== 'local', '`local` is the built-in provider'),
    baseUrl: z.url({ protocol: /^https?$/ }).max(2000).describe('Lookups go to GET <baseUrl>/lookup?type=&value='),
    authHeader: headerName.nullable().default(null).describe('Header that carries the credential, e.g. x-api-key.'),
    authValue: z.string().min(1).max(4000).nullable().default(null).describe('The credential; stored sealed, never returned.'),
    costCents: z.number().int().min(0).max(1_000_000).describe('What one call costs, in integer cents.'),
    ratePerMinute: z.number().int().min(1).max(100_000).describe('Calls per minute the provider allows.'),
    burst: z.number().int().min(1).max(10_000).optional().describe('Calls allowed back to back (default: ratePerMinute, at most 10).'),
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    enabled: z.boolean().default(true),
  })
  .refine((b) => (b.authHeader === null) === (b.authValue === null), { message: 'give authHeader and authValue together', path: ['authValue'] });

export const updateProviderBody = z
  .object({
    baseUrl: z.url({ protocol: /^https?$/ }).max(2000),
    authHeader: headerName.nullable(),
    authValue: z.string().min(1).max(4000).nullable(),
    costCents: z.number().int().min(0).max(1_000_000),
    ratePerMinute: z.number().int().min(1).max(100_000),
    burst: z.number().int().min(1).max(10_000),
    timeoutMs: z.number().int().min(100).max(120_000),
    enabled: z.boolean(),
  })
  .partial()
  .refine((b) => Object.keys(b).length > 0, 'give at least one field to change');

export const providerSchema = z.object({
  name: z.string(),
  kind: z.enum(['local', 'http']),
  baseUrl: z.string().nullable(),
  authHeader: z.string().nullable(),
  hasAuthValue: z.boolean(),
  costCents: z.number().int(),
  ratePerMinute: z.number().int().nullable(),
  burst: z.number().int().nullable(),
  timeoutMs: z.number().int().nullable(),
  enabled: z.boolean(),
});
export type ProviderDto = z.infer<typeof providerSchema>;
