export const ALERT_KINDS = ['dlq.item', 'dlq.depth', 'schedule.failing', 'playbook.run.failed', 'playbook.run.delivered', 'ti.budget', 'connector.failed'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * Repeats of one cause within this long of the alert's first notification are counted on the open alert instead of
 * notifying again. Measured from the first notification, not the last repeat: a cause that keeps failing is then
 * announced again at most once per window, rather than absorbed silently for as long as it keeps failing.
 */
export const ALERT_GROUPING_WINDOW_MS = 60 * 60 * 1000;

export type OpenAlert = { firstSeenAt: Date; severity: Severity };

/**
 * What a raise does to the open alert of its group:
 * - `open`: there is none; open one and notify.
 * - `replace`: the open one is older than the window; close it, open a new one and notify.
 * - `group`: count one more occurrence; no notification.
 * - `escalate`: within the window but more severe than before; raise the alert's severity and notify again, so a
 *   warning that turns critical is not swallowed by grouping.
 */
export type GroupingDecision = 'open' | 'replace' | 'group' | 'escalate';

const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

export function isMoreSevere(a: Severity, b: Severity): boolean {
  return RANK[a] > RANK[b];
}

export function decideGrouping(
  open: OpenAlert | null,
  now: Date,
  severity: Severity,
  windowMs: number = ALERT_GROUPING_WINDOW_MS,
): GroupingDecision {
  if (!open) return 'open';
  // A clock that stepped back (now before firstSeenAt) counts as inside the window: grouping errs towards quiet.
  if (now.getTime() - open.firstSeenAt.getTime() >= windowMs) return 'replace';
  return isMoreSevere(severity, open.severity) ? 'escalate' : 'group';
}

/** Decisions that put a row in the inbox and a delivery on every webhook channel. */
export function notifies(decision: GroupingDecision): boolean {
  return decision !== 'group';
}

/** The queue webhook deliveries run on; named here so the routing rule below can recognise its own failures. */
export const WEBHOOK_QUEUE = 'notifications.webhook';

/**
 * Alerts about webhook deliveries themselves (their dead letters, their queue's depth) go to the inbox only: sending
 * them to webhooks would feed a failing endpoint more deliveries that fail, each raising another alert.
 */
export function shouldDeliverToWebhooks(alert: { data?: Record<string, unknown> }): boolean {
  return alert.data?.queue !== WEBHOOK_QUEUE;
}
