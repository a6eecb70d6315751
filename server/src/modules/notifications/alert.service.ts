import { v7 as uuidv7 } from 'uuid';
import type { Clock } from '../../platform/clock.js';
import type { Actor } from '../../platform/context.js';
import type { Sql } from '../../platform/db.js';
import { ValidationError } from '../../platform/errors.js';
import { fieldPath } from '../../platform/http.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import type { AuditService } from '../audit/index.js';
import { decideGrouping, isMoreSevere, shouldDeliverToWebhooks, WEBHOOK_QUEUE, type GroupingDecision } from './alert-grouping.js';
import { raiseAlertInput, type RaiseAlertInput } from './notifications.schemas.js';
import { alertRepo, channelRepo, inboxRepo, type AlertRow, type NotificationEvent } from './notifications.repo.js';
import type { WebhookPayload } from './webhook.job.js';

/** Who raises: the caller's tenant, actor and request (or job) id; a TenantCtx or a JobContext satisfies it. */
export type RaiseScope = { tenantId: string; actor: Actor; requestId: string | null };

export type RaiseResult = {
  alertId: string;
  decision: GroupingDecision;
  occurrences: number;
  /** The inbox notification written by this raise; null when it was grouped onto an alert that already notified. */
  notificationId: string | null;
  /** Webhook delivery jobs enqueued by this raise. */
  deliveryJobIds: string[];
};

const iso = (d: Date | string) => new Date(d).toISOString();

function parseAlert(input: RaiseAlertInput) {
  const parsed = raiseAlertInput.safeParse(input);
  if (parsed.success) return { ...parsed.data, data: parsed.data.data ?? {} };
  const fields = parsed.error.issues.map((i) => ({ path: fieldPath('alert', i.path), message: i.message }));
  throw new ValidationError(`The alert is not valid: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`, fields);
}

export function createAlertService(deps: {
  clock: Clock;
  audit: Pick<AuditService, 'record'>;
  jobs: Pick<JobQueue, 'enqueue'>;
}) {
  const { clock, audit, jobs } = deps;

  /** Writes the inbox row and one delivery job per webhook channel, and audits that the tenant was notified. */
  async function notify(tx: Sql, scope: RaiseScope, alert: AlertRow, event: NotificationEvent) {
    const notificationId = uuidv7();
    await inboxRepo.insert(tx, {
      tenantId: scope.tenantId,
      id: notificationId,
      alertId: alert.id,
      event,
      severity: alert.severity,
      title: alert.title,
      detail: alert.detail,
      at: clock.now(),
    });
    const channelIds = shouldDeliverToWebhooks(alert) ? await channelRepo.webhookIds(tx, scope.tenantId) : [];
    const deliveryJobIds: string[] = [];
    for (const channelId of channelIds) {
      const payload: WebhookPayload = {
        channelId,
        notificationId,
        event,
        // A snapshot: the receiver learns what was true when it was notified, however the alert grows afterwards.
        alert: {
          id: alert.id,
          kind: alert.kind,
          groupKey: alert.groupKey,
          severity: alert.severity,
          title: alert.title,
          detail: alert.detail,
          data: alert.data,
          occurrences: alert.occurrences,
          firstSeenAt: iso(alert.firstSeenAt),
          lastSeenAt: iso(alert.lastSeenAt),
        },
      };
      deliveryJobIds.push(
        await jobs.enqueue(tx, scope, WEBHOOK_QUEUE, payload, { idempotencyKey: `${WEBHOOK_QUEUE}:${notificationId}:${channelId}` }),
      );
    }
    // Only notifying raises are audited: a grouped repeat changes a counter, and auditing each one would put back
    // into the audit log the flood that grouping keeps out of people's inboxes.
    await audit.record(tx, scope, {
      action: event === 'alert.opened' ? 'alert.open' : 'alert.escalate',
      target: { type: 'alert', id: alert.id },
      after: { kind: alert.kind, groupKey: alert.groupKey, severity: alert.severity, title: alert.title, webhookDeliveries: deliveryJobIds.length },
    });
    return { notificationId, deliveryJobIds };
  }

  /**
   * Raises an alert inside the caller's transaction, so the alert, its inbox row and its webhook jobs commit with
   * the change that caused them, or not at all. A repeat of an open alert's cause within the grouping window only
   * counts an occurrence, unless it is more severe (then it notifies again).
   */
  async function raise(tx: Sql, scope: RaiseScope, input: RaiseAlertInput): Promise<RaiseResult> {
    const alert = parseAlert(input);
    const now = clock.now();
    // Twice at most: a first attempt to open can lose to another transaction opening the same group, and the
    // second then finds that alert and groups onto it.
    for (let attempt = 0; attempt < 2; attempt++) {
      const open = await alertRepo.lockOpen(tx, scope.tenantId, alert.groupKey);
      const decision = decideGrouping(open && { firstSeenAt: new Date(open.firstSeenAt), severity: open.severity }, now, alert.severity);
      if (open && (decision === 'group' || decision === 'escalate')) {
        const severity = isMoreSevere(alert.severity, open.severity) ? alert.severity : open.severity;
        const row = await alertRepo.recordOccurrence(tx, scope.tenantId, open.id, { ...alert, severity, at: now });
        const notified = decision === 'escalate' ? await notify(tx, scope, row, 'alert.escalated') : null;
        return {
          alertId: row.id,
          decision,
          occurrences: row.occurrences,
          notificationId: notified?.notificationId ?? null,
          deliveryJobIds: notified?.deliveryJobIds ?? [],
        };
      }
      if (open) await alertRepo.close(tx, scope.tenantId, open.id, now);
      const row = await alertRepo.tryOpen(tx, { ...alert, tenantId: scope.tenantId, id: uuidv7(), at: now });
      if (row) {
        const notified = await notify(tx, scope, row, 'alert.opened');
        return { alertId: row.id, decision, occurrences: 1, ...notified };
      }
    }
    throw new Error(`raise: could neither open nor find the open alert of group ${alert.groupKey}`);
  }

  return { raise };
}

export type AlertService = ReturnType<typeof createAlertService>;
