import { isIP } from 'node:net';
import { z } from 'zod';

/** https, or http/https to a loopback address (tests and local test servers). */
export function isAllowedInstanceUrl(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  if (url.username || url.password || url.search || url.hash) return false;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || (isIP(host) === 4 && host.startsWith('127.')) || host === '::1';
  return url.protocol === 'https:' || (url.protocol === 'http:' && loopback);
}

const secretText = z.string().min(1).max(1000);
export const authSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('basic'), username: z.string().min(1).max(200), password: secretText }),
  z.strictObject({ type: z.literal('oauth'), clientId: z.string().min(1).max(200), clientSecret: secretText, username: z.string().min(1).max(200).optional(), password: secretText.optional() }),
]);
export const rateLimitSchema = z.strictObject({
  requestsPerSecond: z.number().positive().max(1000).optional(),
  requestsPerHour: z.number().int().positive().max(10_000_000).optional(),
  burst: z.number().int().positive().max(1000).optional(),
});
export const configSchema = z.strictObject({
  instanceUrl: z.string().max(500).refine(isAllowedInstanceUrl, 'must be an https URL (http only to a loopback address), without credentials, query or fragment'),
  table: z.enum(['incident', 'sn_si_incident']).default('incident'),
  auth: authSchema,
  query: z.string().max(2000).optional(),
  schedule: z.strictObject({ cron: z.string().min(1).max(200), timezone: z.string().min(1).max(100) }).optional(),
  rateLimit: rateLimitSchema.default({}),
  pageSize: z.number().int().min(1).max(10_000).default(500),
  fieldMap: z.record(z.string().regex(/^[a-z][a-z0-9_]{0,62}$/), z.string().regex(/^[a-z][a-z0-9_]{0,79}$/)).optional(),
});
export type ConnectorConfigInput = z.output<typeof configSchema>;

export const createBody = z.strictObject({ kind: z.literal('servicenow'), name: z.string().trim().min(1).max(100), config: configSchema });
/** A PATCH replaces what it names; `config.auth` may be left out to keep the stored credentials. */
export const updateBody = z.strictObject({
  name: z.string().trim().min(1).max(100).optional(),
  // No defaults here: a field left out keeps its stored value.
  config: z
    .strictObject({
      instanceUrl: configSchema.shape.instanceUrl.optional(),
      table: z.enum(['incident', 'sn_si_incident']).optional(),
      auth: authSchema.optional(),
      query: z.string().max(2000).optional(),
      schedule: configSchema.shape.schedule.nullable(),
      rateLimit: rateLimitSchema.optional(),
      pageSize: z.number().int().min(1).max(10_000).optional(),
      fieldMap: configSchema.shape.fieldMap,
    })
    .partial()
    .optional(),
});
export const idParams = z.object({ id: z.uuid() });

export const connectorDto = z.object({
  id: z.string(),
  kind: z.literal('servicenow'),
  name: z.string(),
  config: z.object({
    instanceUrl: z.string(),
    table: z.string(),
    auth: z.object({ type: z.enum(['basic', 'oauth']), username: z.string().nullable(), clientId: z.string().nullable(), hasSecret: z.boolean() }),
    query: z.string().nullable(),
    schedule: z.object({ cron: z.string(), timezone: z.string() }).nullable(),
    rateLimit: z.record(z.string(), z.number()),
    pageSize: z.number(),
    fieldMap: z.record(z.string(), z.string()).nullable(),
  }),
  scheduleId: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export const runDto = z.object({
  id: z.string(),
  connectorId: z.string(),
  status: z.enum(['queued', 'running', 'succeeded', 'partial', 'failed']),
  trigger: z.enum(['manual', 'schedule']),
  counts: z.object({ fetched: z.number(), created: z.number(), updated: z.number(), unchanged: z.number(), failed: z.number(), pages: z.number() }),
  error: z.object({ kind: z.string(), message: z.string() }).nullable(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export const testResult = z.object({ ok: z.boolean(), kind: z.string().nullable(), message: z.string() });
export const healthDto = z.object({
  status: z.enum(['healthy', 'degraded', 'failing', 'never_synced']),
  lastSuccessAt: z.string().nullable(),
  watermark: z.string().nullable(),
  lagSeconds: z.number().nullable(),
  lastHour: z.object({ requests: z.number(), errorRate: z.number(), p95LatencyMs: z.number().nullable() }),
  throttled: z.boolean(),
  recordsSynced: z.number(),
  lastRun: runDto.nullable(),
});
export const incidentBody = z.strictObject({
  findingKey: z.string().min(1).max(200),
  shortDescription: z.string().min(1).max(160),
  description: z.string().max(32_000).optional(),
  priority: z.number().int().min(1).max(5).optional(),
  entityIds: z.array(z.uuid()).max(100).optional(),
});
export const incidentResult = z.object({ requestId: z.string(), sysId: z.string(), number: z.string(), created: z.boolean() });
export const incidentQueued = z.object({ requestId: z.string(), jobId: z.string(), status: z.literal('queued') });
export const incidentRequestParams = z.object({ id: z.uuid(), requestId: z.uuid() });
export const incidentRequestDto = z.object({
  requestId: z.string(),
  connectorId: z.string(),
  findingKey: z.string(),
  status: z.enum(['queued', 'pushed', 'failed']),
  jobId: z.string(),
  attempts: z.number(),
  sysId: z.string().nullable(),
  number: z.string().nullable(),
  created: z.boolean().nullable(),
  error: z.object({ kind: z.string(), message: z.string() }).nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
