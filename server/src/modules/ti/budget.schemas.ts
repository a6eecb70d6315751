import { z } from 'zod';
import { pageQuerySchema } from '../../platform/pagination.js';

const caps = z.object({ maxCalls: z.number().int(), maxCostCents: z.number().int() });

export const budgetStatusSchema = z.object({
  provider: z.string(),
  month: z.string().describe('The current budget month, YYYY-MM in the tenant\'s budget time zone.'),
  timeZone: z.string(),
  resetAt: z.iso.datetime().describe('When the month ends and usage starts again from zero.'),
  costCentsPerCall: z.number().int(),
  budget: caps.nullable().describe('The configured caps; null: no budget, so no cap.'),
  effective: caps.nullable().describe('The caps in force: budget plus active overrides; null when uncapped.'),
  usage: z.object({ calls: z.number().int(), costCents: z.number().int(), reservedCalls: z.number().int(), reservedCostCents: z.number().int() }),
  overrides: z.array(
    z.object({
      id: z.uuid(),
      extraCalls: z.number().int(),
      extraCostCents: z.number().int(),
      until: z.iso.datetime().nullable(),
      reason: z.string(),
      grantedBy: z.string(),
      grantedAt: z.iso.datetime(),
      active: z.boolean(),
    }),
  ),
  percent: z.object({ calls: z.number().int().nullable(), cost: z.number().int().nullable() }),
  callsRemaining: z.number().int().nullable(),
  state: z.enum(['uncapped', 'ok', 'warning', 'exhausted']),
  notifiedAt: z.iso.datetime().nullable().describe('When this month\'s 80% notification went out.'),
});

export const updateBudgetBody = z.object({
  maxCalls: z.number().int().min(0, 'a budget cannot be negative').max(100_000_000).describe('Calls allowed per month.'),
  maxCostCents: z.number().int().min(0, 'a budget cannot be negative').max(1_000_000_000_000).describe('Spend allowed per month, in integer cents.'),
});

export const overrideBody = z
  .object({
    extraCalls: z.number().int().min(1).max(100_000_000).optional(),
    extraCostCents: z.number().int().min(1).max(1_000_000_000_000).optional(),
    until: z.iso.datetime({ offset: true }).optional().describe('End of the override; alone (no extra amount) it lifts the caps until then.'),
    reason: z.string().trim().min(3, 'give a reason (at least 3 characters)').max(1000),
  })
  .refine((b) => b.extraCalls !== undefined || b.extraCostCents !== undefined || b.until !== undefined, {
    message: 'give extraCalls, extraCostCents or until',
    path: ['extraCalls'],
  });

export const overrideResponse = z.object({ overrideId: z.uuid(), budget: budgetStatusSchema, wokenJobIds: z.array(z.uuid()) });

export const usageQuery = pageQuerySchema.extend({
  month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'expected YYYY-MM').optional().describe('Defaults to the current month.'),
});

export const usageResponse = z.object({
  month: z.string(),
  timeZone: z.string(),
  providers: z.array(
    z.object({
      provider: z.string(),
      calls: z.number().int(),
      costCents: z.number().int(),
      reservedCalls: z.number().int(),
      reservedCostCents: z.number().int(),
      notifiedAt: z.iso.datetime().nullable(),
    }),
  ),
  items: z.array(
    z.object({
      id: z.uuid(),
      provider: z.string(),
      jobId: z.uuid(),
      entityId: z.uuid(),
      costCents: z.number().int(),
      status: z.enum(['reserved', 'committed', 'released']),
      verdict: z.string().nullable(),
      error: z.string().nullable(),
      reservedAt: z.iso.datetime(),
      settledAt: z.iso.datetime().nullable(),
    }),
  ),
  nextCursor: z.string().nullable(),
});

export const budgetSettingsSchema = z.object({
  timeZone: z.string().min(1).max(100).describe('IANA time zone budget months are counted in (default UTC).'),
});
