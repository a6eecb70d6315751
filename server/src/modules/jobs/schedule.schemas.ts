import { z } from 'zod';
import { pageQuerySchema } from '../../platform/pagination.js';

const cron = z.string().trim().min(1).max(200).describe('Cron expression: 5 fields, or 6 with seconds first ("0 9 * * MON").');
const timezone = z.string().trim().min(1).max(100).describe('IANA time zone the expression is read in ("America/Denver").');

export const createScheduleBody = z.object({
  name: z.string().trim().min(1).max(100).describe('Unique within the tenant.'),
  jobType: z.string().min(1).max(100).describe('The job to run; GET /api/v1/schedules/job-types lists them.'),
  payload: z.record(z.string(), z.unknown()).default({}).describe('The job\'s payload, validated against its schema.'),
  cron,
  timezone: timezone.default('UTC'),
  enabled: z.boolean().default(true),
  catchUp: z.enum(['skip', 'run-once']).default('skip').describe('After downtime: skip missed fire times, or run the latest once.'),
});
export const updateScheduleBody = createScheduleBody
  .partial()
  .refine((b) => Object.keys(b).length > 0, 'give at least one field to change');

export const scheduleSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  jobType: z.string(),
  payload: z.record(z.string(), z.unknown()),
  cron: z.string(),
  timezone: z.string(),
  enabled: z.boolean(),
  catchUp: z.enum(['skip', 'run-once']),
  ownerId: z.uuid().nullable(),
  nextFireAt: z.iso.datetime().nullable(),
  lastFiredAt: z.iso.datetime().nullable(),
  consecutiveFailures: z.number().int(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export const scheduleDetailSchema = scheduleSchema.extend({
  nextFires: z.array(z.iso.datetime()).describe('The next five fire times (empty when disabled).'),
});

export const previewQuery = z.object({
  cron,
  timezone: timezone.default('UTC'),
  count: z.coerce.number().int().min(1).max(50).default(5),
});
export const listSchedulesQuery = pageQuerySchema;
