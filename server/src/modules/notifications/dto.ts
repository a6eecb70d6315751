import type { ChannelRow, InboxRow } from './notifications.repo.js';
import { redactUrl } from '../../platform/outbound-url.js';

const iso = (d: Date | string) => new Date(d).toISOString();

export function toChannelDto(c: ChannelRow) {
  return {
    id: c.id,
    name: c.name,
    kind: c.kind,
    url: c.url,
    hasSecret: c.secretSealed !== null,
    createdBy: c.createdBy,
    createdAt: iso(c.createdAt),
  };
}

/**
 * The audit summary of a channel. No secret, and no flag named after one either: the audit redactor drops any key
 * ending in "secret", so whether deliveries are signed is recorded as `signed`.
 */
export function channelSummary(c: ChannelRow) {
  return { name: c.name, kind: c.kind, url: c.url === null ? null : redactUrl(c.url), signed: c.secretSealed !== null };
}

export function toNotificationDto(n: InboxRow) {
  return {
    id: n.id,
    event: n.event,
    severity: n.severity,
    title: n.title,
    detail: n.detail,
    createdAt: iso(n.createdAt),
    read: n.readAt !== null,
    readAt: n.readAt === null ? null : iso(n.readAt),
    alert: {
      id: n.alert.id,
      kind: n.alert.kind,
      groupKey: n.alert.groupKey,
      occurrences: n.alert.occurrences,
      firstSeenAt: iso(n.alert.firstSeenAt),
      lastSeenAt: iso(n.alert.lastSeenAt),
      open: n.alert.closedAt === null,
      data: n.alert.data,
    },
  };
}
