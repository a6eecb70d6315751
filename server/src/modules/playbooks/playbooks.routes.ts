import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { pageOf, pageQuerySchema } from '../../platform/pagination.js';
import { userCtxOf } from '../../platform/request-context.js';
import type { RenderedExport } from './export-model.js';
import type { PlaybookService } from './playbook.service.js';
import {
  annotationBody, annotationSchema, createdLinkSchema, exportQuery, grantBody, grantParams, grantSchema, linkBody, linkParams,
  linkSchema, listPlaybooksQuery, playbookDetailSchema, playbookIdParams, playbookSchema, playbookScheduleBody,
  playbookScheduleSchema, redactionRuleBody, redactionRuleParams, redactionRuleSchema, runBody, runDetailSchema, runSchema,
  scheduleParams, settingsBody, settingsSchema, tokenParams, updateGrantBody, updatePlaybookScheduleBody, versionSchema,
} from './playbooks.schemas.js';
import type { RunService } from './run.service.js';
import type { PlaybookSettingsService } from './settings.service.js';
import type { ShareService, Visitor } from './share.service.js';

const definitionBody = z.record(z.string(), z.unknown()).describe(
  'A playbook definition: {name, description?, tags?, parameters[], steps[]} (see docs/playbooks.md); checked as a whole, each problem named by step and field.',
);
const runIdParams = z.object({ id: z.uuid().describe('Run id.') });

function sendExport(reply: FastifyReply, rendered: RenderedExport) {
  return reply
    .header('content-disposition', `attachment; filename="${rendered.filename}"`)
    .header('x-summit-sha256', rendered.sha256)
    .type(rendered.contentType)
    .send(rendered.content);
}

function visitorOf(request: FastifyRequest): Visitor {
  const agent = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof agent === 'string' ? agent.slice(0, 300) : null, requestId: request.id };
}

export function registerPlaybookRoutes(app: FastifyInstance, deps: {
  playbooks: PlaybookService;
  runs: RunService;
  shares: ShareService;
  settings: PlaybookSettingsService;
}) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { playbooks, runs, shares, settings } = deps;
  const tags = ['playbooks'];

  r.post('/api/v1/playbooks', {
    config: { action: 'playbook:create' },
    schema: { operationId: 'createPlaybook', tags, summary: 'Save a playbook (version 1).', body: definitionBody, response: { 201: playbookDetailSchema } },
    handler: async (request, reply) => reply.status(201).send(await playbooks.create(userCtxOf(request), request.body)),
  });
  r.get('/api/v1/playbooks', {
    config: { action: 'playbook:list' },
    schema: { operationId: 'listPlaybooks', tags, summary: 'Playbooks you may view, newest first.', querystring: listPlaybooksQuery, response: { 200: pageOf(playbookSchema) } },
    handler: async (request) => playbooks.list(userCtxOf(request), request.query),
  });
  r.get('/api/v1/playbooks/:id', {
    config: { action: 'playbook:read' },
    schema: { operationId: 'getPlaybook', tags, summary: 'A playbook with its current definition.', params: playbookIdParams, response: { 200: playbookDetailSchema } },
    handler: async (request) => playbooks.get(userCtxOf(request), request.params.id),
  });
  r.patch('/api/v1/playbooks/:id', {
    config: { action: 'playbook:update' },
    schema: {
      operationId: 'updatePlaybook', tags, params: playbookIdParams, response: { 200: playbookDetailSchema },
      summary: 'Save a new version: the fields given replace those of the current definition (parameters and steps as whole lists).',
      body: definitionBody,
    },
    handler: async (request) => {
      const ctx = userCtxOf(request);
      const current = await playbooks.get(ctx, request.params.id);
      return playbooks.update(ctx, request.params.id, { ...current.definition, ...request.body });
    },
  });
  r.delete('/api/v1/playbooks/:id', {
    config: { action: 'playbook:delete' },
    schema: { operationId: 'deletePlaybook', tags, summary: 'Delete a playbook with its versions, runs, schedules, grants and links.', params: playbookIdParams, response: { 204: z.null() } },
    handler: async (request, reply) => {
      await playbooks.remove(userCtxOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  });
  r.get('/api/v1/playbooks/:id/versions', {
    config: { action: 'playbook:versions' },
    schema: { operationId: 'listPlaybookVersions', tags, summary: 'Every saved version, newest first.', params: playbookIdParams, querystring: pageQuerySchema, response: { 200: pageOf(versionSchema) } },
    handler: async (request) => playbooks.versions(userCtxOf(request), request.params.id, request.query),
  });

  // Grants
  r.get('/api/v1/playbooks/:id/grants', {
    config: { action: 'playbook-grant:list' },
    schema: { operationId: 'listPlaybookGrants', tags, summary: 'Who besides the owner may use the playbook.', params: playbookIdParams, response: { 200: z.object({ items: z.array(grantSchema) }) } },
    handler: async (request) => playbooks.listGrants(userCtxOf(request), request.params.id),
  });
  r.post('/api/v1/playbooks/:id/grants', {
    config: { action: 'playbook-grant:create' },
    schema: { operationId: 'createPlaybookGrant', tags, summary: 'Grant a user or a role view, run, edit or admin.', params: playbookIdParams, body: grantBody, response: { 201: grantSchema } },
    handler: async (request, reply) => reply.status(201).send(await playbooks.createGrant(userCtxOf(request), request.params.id, request.body)),
  });
  r.patch('/api/v1/playbooks/:id/grants/:grantId', {
    config: { action: 'playbook-grant:update' },
    schema: { operationId: 'updatePlaybookGrant', tags, summary: 'Change a grant\'s permission.', params: grantParams, body: updateGrantBody, response: { 200: grantSchema } },
    handler: async (request) => playbooks.updateGrant(userCtxOf(request), request.params.id, request.params.grantId, request.body.permission),
  });
  r.delete('/api/v1/playbooks/:id/grants/:grantId', {
    config: { action: 'playbook-grant:delete' },
    schema: { operationId: 'deletePlaybookGrant', tags, summary: 'Remove a grant.', params: grantParams, response: { 204: z.null() } },
    handler: async (request, reply) => {
      await playbooks.deleteGrant(userCtxOf(request), request.params.id, request.params.grantId);
      return reply.status(204).send(null);
    },
  });

  // Runs
  r.post('/api/v1/playbooks/:id/runs', {
    config: { action: 'playbook:run' },
    schema: { operationId: 'runPlaybook', tags, summary: 'Run the current version with these parameters (a job; follow it at GET /runs/{id}).', params: playbookIdParams, body: runBody, response: { 202: runSchema.extend({ runId: z.uuid() }) } },
    handler: async (request, reply) => {
      const run = await runs.start(userCtxOf(request), request.params.id, request.body.params);
      return reply.status(202).send({ ...run, runId: run.id });
    },
  });
  r.get('/api/v1/playbooks/:id/runs', {
    config: { action: 'playbook-run:list' },
    schema: { operationId: 'listPlaybookRuns', tags, summary: 'Runs of a playbook, newest first (without results).', params: playbookIdParams, querystring: pageQuerySchema, response: { 200: pageOf(runSchema) } },
    handler: async (request) => runs.list(userCtxOf(request), request.params.id, request.query),
  });
  r.get('/api/v1/runs/:id', {
    config: { action: 'run:read' },
    schema: { operationId: 'getRun', tags, summary: 'A run: status, trace, results with provenance, annotations.', params: runIdParams, response: { 200: runDetailSchema } },
    handler: async (request) => runs.get(userCtxOf(request), request.params.id),
  });
  r.post('/api/v1/runs/:id/cancel', {
    config: { action: 'run:cancel' },
    schema: { operationId: 'cancelRun', tags, summary: 'Cancel a queued run at once, or stop a running one at its next step.', params: runIdParams, response: { 200: runSchema } },
    handler: async (request) => runs.cancel(userCtxOf(request), request.params.id),
  });
  r.post('/api/v1/runs/:id/annotations', {
    config: { action: 'run:annotate' },
    schema: { operationId: 'annotateRun', tags, summary: 'Add an analyst\'s note to a finished run; it appears in exports.', params: runIdParams, body: annotationBody, response: { 201: annotationSchema } },
    handler: async (request, reply) => reply.status(201).send(await runs.annotate(userCtxOf(request), request.params.id, request.body)),
  });
  r.get('/api/v1/runs/:id/export', {
    config: { action: 'run:export' },
    schema: {
      operationId: 'exportRun', tags, params: runIdParams, querystring: exportQuery,
      summary: 'The run as Markdown or PDF, with branding, highlights, annotations, provenance and the tenant\'s redaction rules applied; x-summit-sha256 names its hash.',
    },
    handler: async (request, reply) => sendExport(reply, await runs.exportRun(userCtxOf(request), request.params.id, request.query.format)),
  });

  // Schedules
  r.get('/api/v1/playbooks/:id/schedules', {
    config: { action: 'playbook-schedule:list' },
    schema: { operationId: 'listPlaybookSchedules', tags, summary: 'Schedules of the playbook, with their next 5 fire times.', params: playbookIdParams, response: { 200: z.object({ items: z.array(playbookScheduleSchema) }) } },
    handler: async (request) => settings.listSchedules(userCtxOf(request), request.params.id),
  });
  r.post('/api/v1/playbooks/:id/schedules', {
    config: { action: 'playbook-schedule:create' },
    schema: { operationId: 'createPlaybookSchedule', tags, summary: 'Run the playbook on a cron in a time zone, within the tenant\'s limits.', params: playbookIdParams, body: playbookScheduleBody, response: { 201: playbookScheduleSchema } },
    handler: async (request, reply) => reply.status(201).send(await settings.createSchedule(userCtxOf(request), request.params.id, request.body)),
  });
  r.patch('/api/v1/playbooks/:id/schedules/:scheduleId', {
    config: { action: 'playbook-schedule:update' },
    schema: { operationId: 'updatePlaybookSchedule', tags, summary: 'Change a schedule.', params: scheduleParams, body: updatePlaybookScheduleBody, response: { 200: playbookScheduleSchema } },
    handler: async (request) => settings.updateSchedule(userCtxOf(request), request.params.id, request.params.scheduleId, request.body),
  });
  r.delete('/api/v1/playbooks/:id/schedules/:scheduleId', {
    config: { action: 'playbook-schedule:delete' },
    schema: { operationId: 'deletePlaybookSchedule', tags, summary: 'Delete a schedule.', params: scheduleParams, response: { 204: z.null() } },
    handler: async (request, reply) => {
      await settings.deleteSchedule(userCtxOf(request), request.params.id, request.params.scheduleId);
      return reply.status(204).send(null);
    },
  });

  // Share links
  r.post('/api/v1/playbooks/:id/links', {
    config: { action: 'playbook-link:create' },
    schema: { operationId: 'createShareLink', tags, summary: 'A signed, expiring link to the results or to run the playbook; the token is shown once.', params: playbookIdParams, body: linkBody, response: { 201: createdLinkSchema } },
    handler: async (request, reply) => reply.status(201).send(await shares.create(userCtxOf(request), request.params.id, request.body)),
  });
  r.get('/api/v1/playbooks/:id/links', {
    config: { action: 'playbook-link:list' },
    schema: { operationId: 'listShareLinks', tags, summary: 'Share links of the playbook (never their tokens).', params: playbookIdParams, querystring: pageQuerySchema, response: { 200: pageOf(linkSchema) } },
    handler: async (request) => shares.list(userCtxOf(request), request.params.id, request.query),
  });
  r.delete('/api/v1/playbooks/:id/links/:linkId', {
    config: { action: 'playbook-link:revoke' },
    schema: { operationId: 'revokeShareLink', tags, summary: 'Revoke a link at once (204, like every delete).', params: linkParams, response: { 204: z.null() } },
    handler: async (request, reply) => {
      await shares.revoke(userCtxOf(request), request.params.id, request.params.linkId);
      return reply.status(204).send(null);
    },
  });

  const sharedView = z.object({
    permission: z.enum(['view-results', 'run']),
    expiresAt: z.iso.datetime(),
    playbook: z.object({ name: z.string(), description: z.string() }),
    parameters: z.array(z.unknown()).describe('run links: the parameters a run takes.'),
    runs: z.array(z.object({ id: z.uuid(), status: z.string(), createdAt: z.iso.datetime(), finishedAt: z.iso.datetime().nullable() })).describe('run links: runs started through this link.'),
    run: z.object({ id: z.uuid(), status: z.string(), finishedAt: z.iso.datetime().nullable(), markdown: z.string(), sha256: z.string() }).nullable()
      .describe('view-results links: the shared run, rendered with the tenant\'s redaction rules for share links.'),
  });
  r.get('/api/v1/shared/:token', {
    config: { public: true },
    schema: { operationId: 'openShareLink', tags: ['shared'], summary: 'What a share link grants, without logging in; 410 once expired or revoked.', params: tokenParams, response: { 200: sharedView } },
    handler: async (request) => shares.show(request.params.token, visitorOf(request)),
  });
  r.get('/api/v1/shared/:token/export', {
    config: { public: true },
    schema: { operationId: 'exportShared', tags: ['shared'], summary: 'The shared results as Markdown or PDF (view-results links).', params: tokenParams, querystring: exportQuery },
    handler: async (request, reply) => sendExport(reply, await shares.exportShared(request.params.token, visitorOf(request), request.query.format)),
  });
  r.post('/api/v1/shared/:token/runs', {
    config: { public: true },
    schema: {
      operationId: 'runShared', tags: ['shared'], summary: 'Start a run through a run link.', params: tokenParams, body: runBody,
      response: { 202: z.object({ id: z.uuid(), status: z.string(), createdAt: z.iso.datetime() }) },
    },
    handler: async (request, reply) => reply.status(202).send(await shares.runShared(request.params.token, visitorOf(request), request.body.params)),
  });

  // Tenant settings
  r.get('/api/v1/playbook-settings', {
    config: { action: 'playbook-settings:read' },
    schema: { operationId: 'getPlaybookSettings', tags, summary: 'Run and schedule limits, and export branding.', response: { 200: settingsSchema } },
    handler: async (request) => settings.getSettings(userCtxOf(request)),
  });
  r.put('/api/v1/playbook-settings', {
    config: { action: 'playbook-settings:update' },
    schema: { operationId: 'updatePlaybookSettings', tags, summary: 'Change limits and branding (fields not given keep their values).', body: settingsBody, response: { 200: settingsSchema } },
    handler: async (request) => settings.updateSettings(userCtxOf(request), request.body),
  });
  r.get('/api/v1/redaction-rules', {
    config: { action: 'redaction-rule:list' },
    schema: { operationId: 'listRedactionRules', tags, summary: 'The tenant\'s export redaction rules.', response: { 200: z.object({ items: z.array(redactionRuleSchema) }) } },
    handler: async (request) => settings.listRedactionRules(userCtxOf(request)),
  });
  r.post('/api/v1/redaction-rules', {
    config: { action: 'redaction-rule:create' },
    schema: { operationId: 'createRedactionRule', tags, summary: 'Add a redaction rule (by TLP, entity type, property name or an RE2 regex).', body: redactionRuleBody, response: { 201: redactionRuleSchema } },
    handler: async (request, reply) => reply.status(201).send(await settings.createRedactionRule(userCtxOf(request), request.body)),
  });
  r.delete('/api/v1/redaction-rules/:id', {
    config: { action: 'redaction-rule:delete' },
    schema: { operationId: 'deleteRedactionRule', tags, summary: 'Remove a redaction rule.', params: redactionRuleParams, response: { 204: z.null() } },
    handler: async (request, reply) => {
      await settings.deleteRedactionRule(userCtxOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  });
}
