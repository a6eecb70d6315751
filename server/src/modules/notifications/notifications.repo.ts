import type { Sql } from '../../platform/db.js';
import type { AlertKind, Severity } from './alert-grouping.js';

export type ChannelKind = 'webhook' | 'inbox';
export type ChannelRow = {
  id: string;
  tenantId: string;
  name: string;
  kind: ChannelKind;
  url: string | null;
  secretSealed: string | null;
  createdBy: string;
  createdAt: Date;
};
export type AlertRow = {
  id: string;
  tenantId: string;
  kind: AlertKind;
  groupKey: string;
  severity: Severity;
  title: string;
  detail: string;
  data: Record<string, unknown>;
  occurrences: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
  closedAt: Date | null;
};
export type NotificationEvent = 'alert.opened' | 'alert.escalated';
export type InboxRow = {
  id: string;
  event: NotificationEvent;
  severity: Severity;
  title: string;
  detail: string;
  createdAt: Date;
  readAt: Date | null;
  alert: Pick<AlertRow, 'id' | 'kind' | 'groupKey' | 'occurrences' | 'firstSeenAt' | 'lastSeenAt' | 'closedAt' | 'data'>;
};

const CHANNEL_COLS = `id, tenant_id as "tenantId", name, kind, url, secret_sealed as "secretSealed", created_by as "createdBy",
  created_at as "createdAt"`;
const ALERT_COLS = `id, tenant_id as "tenantId", kind, group_key as "groupKey", severity, title, detail, data, occurrences,
  first_seen_at as "firstSeenAt", last_seen_at as "lastSeenAt", closed_at as "closedAt"`;

export const channelRepo = {
  async insert(tx: Sql, c: Omit<ChannelRow, 'createdAt'>): Promise<ChannelRow> {
    const { rows } = await tx.query<ChannelRow>(
      `insert into notification_channels (tenant_id, id, name, kind, url, secret_sealed, created_by)
       values ($1, $2, $3, $4, $5, $6, $7) returning ${CHANNEL_COLS}`,
      [c.tenantId, c.id, c.name, c.kind, c.url, c.secretSealed, c.createdBy],
    );
    return rows[0]!;
  },
  async get(tx: Sql, tenantId: string, id: string): Promise<ChannelRow | null> {
    const { rows } = await tx.query<ChannelRow>(
      `select ${CHANNEL_COLS} from notification_channels where tenant_id = $1 and id = $2`,
      [tenantId, id],
    );
    return rows[0] ?? null;
  },
  async list(tx: Sql, tenantId: string, filter: { after?: string; limit: number }): Promise<ChannelRow[]> {
    const { rows } = await tx.query<ChannelRow>(
      `select ${CHANNEL_COLS} from notification_channels
        where tenant_id = $1 and ($2::uuid is null or id > $2::uuid) order by id limit $3`,
      [tenantId, filter.after ?? null, filter.limit],
    );
    return rows;
  },
  async webhookIds(tx: Sql, tenantId: string): Promise<string[]> {
    const { rows } = await tx.query<{ id: string }>(
      `select id from notification_channels where tenant_id = $1 and kind = 'webhook' order by id`,
      [tenantId],
    );
    return rows.map((r) => r.id);
  },
  async count(tx: Sql, tenantId: string): Promise<number> {
    const { rows } = await tx.query<{ n: number }>('select count(*)::int as n from notification_channels where tenant_id = $1', [tenantId]);
    return rows[0]?.n ?? 0;
  },
  async delete(tx: Sql, tenantId: string, id: string): Promise<void> {
    await tx.query('delete from notification_channels where tenant_id = $1 and id = $2', [tenantId, id]);
  },
};

export const alertRepo = {
  /** The group's open alert, locked: concurrent raises of one cause queue here instead of double-counting. */
  async lockOpen(tx: Sql, tenantId: string, groupKey: string): Promise<AlertRow | null> {
    const { rows } = await tx.query<AlertRow>(
      `select ${ALERT_COLS} from alerts where tenant_id = $1 and group_key = $2 and closed_at is null for update`,
      [tenantId, groupKey],
    );
    return rows[0] ?? null;
  },
  /**
   * Opens an alert unless another transaction opened one for the group first (the partial unique index decides);
   * returns null in that case, and the caller groups onto the winner's alert.
   */
  async tryOpen(
    tx: Sql,
    a: Pick<AlertRow, 'tenantId' | 'id' | 'kind' | 'groupKey' | 'severity' | 'title' | 'detail' | 'data'> & { at: Date },
  ): Promise<AlertRow | null> {
    const { rows } = await tx.query<AlertRow>(
      `insert into alerts (tenant_id, id, kind, group_key, severity, title, detail, data, first_seen_at, last_seen_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $9)
       on conflict (tenant_id, group_key) where closed_at is null do nothing
       returning ${ALERT_COLS}`,
      [a.tenantId, a.id, a.kind, a.groupKey, a.severity, a.title, a.detail, JSON.stringify(a.data), a.at.toISOString()],
    );
    return rows[0] ?? null;
  },
  async close(tx: Sql, tenantId: string, id: string, at: Date): Promise<void> {
    await tx.query('update alerts set closed_at = $3 where tenant_id = $1 and id = $2', [tenantId, id, at.toISOString()]);
  },
  /** One more occurrence: the latest detail and data replace the earlier ones; severity only ever rises. */
  async recordOccurrence(
    tx: Sql,
    tenantId: string,
    id: string,
    o: { severity: Severity; title: string; detail: string; data: Record<string, unknown>; at: Date },
  ): Promise<AlertRow> {
    const { rows } = await tx.query<AlertRow>(
      `update alerts set occurrences = occurrences + 1, last_seen_at = greatest(last_seen_at, $3),
              severity = $4, title = $5, detail = $6, data = $7::jsonb
        where tenant_id = $1 and id = $2 returning ${ALERT_COLS}`,
      [tenantId, id, o.at.toISOString(), o.severity, o.title, o.detail, JSON.stringify(o.data)],
    );
    return rows[0]!;
  },
};

const INBOX_SELECT = `select n.id, n.event, n.severity, n.title, n.detail, n.created_at as "createdAt", n.read_at as "readAt",
    a.id as "alertId", a.kind as "alertKind", a.group_key as "groupKey", a.occurrences, a.first_seen_at as "firstSeenAt",
    a.last_seen_at as "lastSeenAt", a.closed_at as "closedAt", a.data
  from notifications n join alerts a on a.tenant_id = n.tenant_id and a.id = n.alert_id`;

type FlatInboxRow = Omit<InboxRow, 'alert'> &
  Omit<InboxRow['alert'], 'id' | 'kind'> & { alertId: string; alertKind: AlertKind };

function toInboxRow(r: FlatInboxRow): InboxRow {
  return {
    id: r.id,
    event: r.event,
    severity: r.severity,
    title: r.title,
    detail: r.detail,
    createdAt: r.createdAt,
    readAt: r.readAt,
    alert: {
      id: r.alertId,
      kind: r.alertKind,
      groupKey: r.groupKey,
      occurrences: r.occurrences,
      firstSeenAt: r.firstSeenAt,
      lastSeenAt: r.lastSeenAt,
      closedAt: r.closedAt,
      data: r.data,
    },
  };
}

export const inboxRepo = {
  async insert(
    tx: Sql,
    n: { tenantId: string; id: string; alertId: string; event: NotificationEvent; severity: Severity; title: string; detail: string; at: Date },
  ): Promise<void> {
    await tx.query(
      `insert into notifications (tenant_id, id, alert_id, event, severity, title, detail, created_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [n.tenantId, n.id, n.alertId, n.event, n.severity, n.title, n.detail, n.at.toISOString()],
    );
  },
  async get(tx: Sql, tenantId: string, id: string): Promise<InboxRow | null> {
    const { rows } = await tx.query<FlatInboxRow>(`${INBOX_SELECT} where n.tenant_id = $1 and n.id = $2`, [tenantId, id]);
    return rows[0] ? toInboxRow(rows[0]) : null;
  },
  /** Newest first: ids are UUIDv7, so id order is creation order. */
  async list(tx: Sql, tenantId: string, filter: { unread?: boolean; before?: string; limit: number }): Promise<InboxRow[]> {
    const { rows } = await tx.query<FlatInboxRow>(
      `${INBOX_SELECT}
        where n.tenant_id = $1 and (not $2::boolean or n.read_at is null) and ($3::uuid is null or n.id < $3::uuid)
        order by n.id desc limit $4`,
      [tenantId, filter.unread ?? false, filter.before ?? null, filter.limit],
    );
    return rows.map(toInboxRow);
  },
  /** Returns whether the row changed, so a no-op is neither written nor audited. */
  async setRead(tx: Sql, tenantId: string, id: string, read: { at: Date; by: string } | null): Promise<boolean> {
    const { rowCount } = read
      ? await tx.query(
          'update notifications set read_at = $3, read_by = $4 where tenant_id = $1 and id = $2 and read_at is null',
          [tenantId, id, read.at.toISOString(), read.by],
        )
      : await tx.query(
          'update notifications set read_at = null, read_by = null where tenant_id = $1 and id = $2 and read_at is not null',
          [tenantId, id],
        );
    return rowCount > 0;
  },
  async markAllRead(tx: Sql, tenantId: string, read: { at: Date; by: string }): Promise<number> {
    const { rowCount } = await tx.query(
      'update notifications set read_at = $2, read_by = $3 where tenant_id = $1 and read_at is null',
      [tenantId, read.at.toISOString(), read.by],
    );
    return rowCount;
  },
};
