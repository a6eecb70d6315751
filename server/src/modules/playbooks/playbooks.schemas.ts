import { z } from 'zod';
import { pageQuerySchema } from '../../platform/pagination.js';
import { ROLES } from '../../platform/context.js';

const iso = z.iso.datetime();
const permission = z.enum(['view', 'run', 'edit', 'admin']);

export const playbookIdParams = z.object({ id: z.uuid().describe('Playbook id.') });
export const grantParams = z.object({ id: z.uuid().describe('Playbook id.'), grantId: z.uuid().describe('Grant id.') });
export const linkParams = z.object({ id: z.uuid().describe('Playbook id.'), linkId: z.uuid().describe('Share link id.') });
export const scheduleParams = z.object({ id: z.uuid().describe('Playbook id.'), scheduleId: z.uuid().describe('Schedule id.') });
export const tokenParams = z.object({ token: z.string().min(10).max(200).describe('The share link token.') });
export const versionParams = z.object({ id: z.uuid(), version: z.coerce.number().int().min(1) });

export const listPlaybooksQuery = pageQuerySchema.extend({
  tag: z.string().max(50).optional().describe('Only playbooks with this tag.'),
  q: z.string().min(1).max(200).optional().describe('Substring of the name, case-insensitive.'),
});

export const playbookSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string(),
  tags: z.array(z.string()),
  ownerId: z.uuid(),
  version: z.number().int().describe('The current version: each save adds one.'),
  yourPermission: permission.describe('The highest permission the caller holds on it.'),
  createdAt: iso,
  updatedAt: iso,
});
export const playbookDetailSchema = playbookSchema.extend({
  definition: z.record(z.string(), z.unknown()).describe('The current version\'s definition (see docs/playbooks.md).'),
});
export const versionSchema = z.object({ version: z.number().int(), createdBy: z.uuid(), createdAt: iso, definition: z.record(z.string(), z.unknown()) });

export const grantBody = z.object({
  subject: z.discriminatedUnion('type', [
    z.object({ type: z.literal('user'), id: z.uuid().describe('A user of this tenant.') }),
    z.object({ type: z.literal('role'), id: z.enum(ROLES).describe('Everyone holding this role.') }),
  ]),
  permission: permission.describe('view < run < edit < admin; admin may change grants and share links.'),
}).strict();
export const updateGrantBody = z.object({ permission }).strict();
export const grantSchema = z.object({
  id: z.uuid(),
  subject: z.object({ type: z.enum(['user', 'role']), id: z.string() }),
  permission,
  createdBy: z.uuid(),
  createdAt: iso,
});

export const runBody = z.object({
  params: z.record(z.string(), z.unknown()).default({}).describe('Parameter values by name; defaults fill the rest.'),
}).strict();
export const runStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
export const annotationSchema = z.object({ id: z.uuid(), entityId: z.uuid().nullable(), text: z.string(), authorId: z.uuid(), createdAt: iso });
export const runSchema = z.object({
  id: z.uuid(),
  playbookId: z.uuid(),
  version: z.number().int(),
  status: runStatus,
  trigger: z.enum(['manual', 'schedule', 'link']),
  requestedBy: z.uuid().nullable(),
  scheduleId: z.uuid().nullable(),
  params: z.record(z.string(), z.unknown()),
  trace: z.array(z.unknown()).describe('Per step: duration, input and output counts, warnings.'),
  error: z.object({ stepId: z.string().nullable(), message: z.string() }).nullable(),
  createdAt: iso,
  startedAt: iso.nullable(),
  finishedAt: iso.nullable(),
});
export const runDetailSchema = runSchema.extend({
  results: z.record(z.string(), z.unknown()).nullable().describe('Outputs, report rows, highlights, aggregates and provenance.'),
  annotations: z.array(annotationSchema),
});
export const annotationBody = z.object({
  text: z.string().trim().min(1).max(5000),
  entityId: z.uuid().optional().describe('The finding the note is about (an entity in the run\'s results).'),
}).strict();
export const exportQuery = z.object({ format: z.enum(['md', 'pdf']).default('md') });

export const linkBody = z.object({
  permission: z.enum(['view-results', 'run']),
  runId: z.uuid().optional().describe('view-results: the run to show; without it, the latest successful run at each visit.'),
  expiresIn: z.number().int().min(300).max(30 * 86_400).default(7 * 86_400)
    .describe('Seconds until the link stops working: 300 (5 minutes) to 2,592,000 (30 days); 7 days by default.'),
}).strict();
export const linkSchema = z.object({
  id: z.uuid(),
  playbookId: z.uuid(),
  runId: z.uuid().nullable(),
  permission: z.enum(['view-results', 'run']),
  expiresAt: iso,
  revokedAt: iso.nullable(),
  createdBy: z.uuid(),
  createdAt: iso,
  uses: z.number().int(),
  lastUsedAt: iso.nullable(),
});
export const createdLinkSchema = linkSchema.extend({
  url: z.string().describe('Path of the shared view; open it without logging in.'),
  token: z.string().describe('Shown once.'),
});

const notify = z.object({
  export: z.enum(['md', 'pdf']).optional().describe('Render this export with each run and announce it on the tenant\'s channels.'),
  onFailure: z.boolean().default(true).describe('Raise an alert on the tenant\'s channels when a run fails.'),
}).strict();
export const playbookScheduleBody = z.object({
  name: z.string().trim().min(1).max(100).optional().describe('Defaults to "<playbook name> <cron>".'),
  cron: z.string().min(1).max(200),
  timezone: z.string().min(1).max(64).default('UTC'),
  params: z.record(z.string(), z.unknown()).default({}),
  enabled: z.boolean().default(true),
  catchUp: z.enum(['skip', 'run-once']).default('skip'),
  notify: notify.default({ onFailure: true }),
}).strict();
export const updatePlaybookScheduleBody = z.object({
  name: z.string().trim().min(1).max(100).optional(),
  cron: z.string().min(1).max(200).optional(),
  timezone: z.string().min(1).max(64).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  enabled: z.boolean().optional(),
  catchUp: z.enum(['skip', 'run-once']).optional(),
  notify: notify.optional(),
}).strict();
export const playbookScheduleSchema = z.object({
  id: z.uuid(),
  playbookId: z.uuid(),
  name: z.string(),
  cron: z.string(),
  timezone: z.string(),
  params: z.record(z.string(), z.unknown()),
  enabled: z.boolean(),
  catchUp: z.enum(['skip', 'run-once']),
  notify: z.object({ export: z.enum(['md', 'pdf']).optional(), onFailure: z.boolean() }),
  ownerId: z.uuid().nullable(),
  nextFires: z.array(iso),
  lastFiredAt: iso.nullable(),
  createdAt: iso,
  updatedAt: iso,
});

const hexColor = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'a colour as #rrggbb');
export const settingsSchema = z.object({
  limits: z.object({
    maxConcurrentRuns: z.number().int(),
    maxRunsPerDay: z.number().int(),
    minScheduleIntervalSeconds: z.number().int(),
    maxSchedules: z.number().int(),
  }),
  branding: z.object({
    name: z.string().nullable(),
    accentColor: z.string(),
    footerText: z.string().nullable(),
    logo: z.object({ mediaType: z.enum(['image/png', 'image/jpeg']), bytes: z.number().int() }).nullable(),
  }),
  updatedAt: iso.nullable(),
});
export const settingsBody = z.object({
  limits: z.object({
    maxConcurrentRuns: z.number().int().min(1).max(100).optional(),
    maxRunsPerDay: z.number().int().min(1).max(100_000).optional(),
    minScheduleIntervalSeconds: z.number().int().min(60).max(86_400).optional(),
    maxSchedules: z.number().int().min(0).max(1_000).optional(),
  }).strict().optional(),
  branding: z.object({
    name: z.string().trim().min(1).max(100).nullable().optional().describe('Shown in export headers; the tenant name by default.'),
    accentColor: hexColor.optional(),
    footerText: z.string().max(300).nullable().optional(),
    logo: z.object({
      mediaType: z.enum(['image/png', 'image/jpeg']),
      data: z.base64().max(350_000).describe('Base64 of a PNG or JPEG, at most 256 KB.'),
    }).strict().nullable().optional().describe('null removes the logo.'),
  }).strict().optional(),
}).strict();

export const redactionRuleBody = z.object({
  name: z.string().trim().min(1).max(100),
  rule: z.record(z.string(), z.unknown()).describe(
    'One of {kind: "tlp", tlp: [..]}, {kind: "entity-type", types: [..]}, {kind: "property", names: [..]}, '
    + '{kind: "regex", pattern, flags?}; each with optional audiences ["member", "share-link"].',
  ),
}).strict();
export const redactionRuleSchema = z.object({ id: z.uuid(), name: z.string(), rule: z.record(z.string(), z.unknown()), createdBy: z.uuid(), createdAt: iso });
export const redactionRuleParams = z.object({ id: z.uuid().describe('Redaction rule id.') });
