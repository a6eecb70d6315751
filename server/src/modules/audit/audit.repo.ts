import type { Sql } from '../../platform/db.js';
import type { AuditEvent } from './hash-chain.js';

type EventRow = {
  tenant_id: string;
  sequence: number;
  id: string;
  occurred_at: Date;
  actor_type: string;
  actor_id: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  request_id: string | null;
  outcome: AuditEvent['outcome'];
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  prev_hash: string;
  hash: string;
};

const COLUMNS =
  'tenant_id, sequence, id, occurred_at, actor_type, actor_id, action, target_type, target_id, request_id, outcome, before, after, prev_hash, hash';

function toEvent(row: EventRow): AuditEvent {
  return {
    tenantId: row.tenant_id,
    sequence: row.sequence,
    id: row.id,
    time: new Date(row.occurred_at).toISOString(),
    actor: { type: row.actor_type as AuditEvent['actor']['type'], id: row.actor_id },
    action: row.action,
    target: row.target_type && row.target_id ? { type: row.target_type, id: row.target_id } : null,
    requestId: row.request_id,
    outcome: row.outcome,
    before: row.before,
    after: row.after,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

export type AuditFilter = { action?: string; actor?: string; since?: Date; afterSequence?: number; limit: number };
export type Checkpoint = { sequence: number; hash: string; signedAt: string; keyId: string; signature: string };

export const auditRepo = {
  async createHead(tx: Sql, tenantId: string): Promise<void> {
    await tx.query(
      `insert into audit_heads (tenant_id, sequence, hash) values ($1, 0, $2) on conflict (tenant_id) do nothing`,
      [tenantId, '0'.repeat(64)],
    );
  },

  /** Locks the tenant's chain head until the transaction ends: appends are serialised per tenant. */
  async lockHead(tx: Sql, tenantId: string): Promise<{ sequence: number; hash: string }> {
    const { rows } = await tx.query<{ sequence: number; hash: string }>(
      'select sequence, hash from audit_heads where tenant_id = $1 for update',
      [tenantId],
    );
    if (!rows[0]) throw new Error(`audit chain head missing for tenant ${tenantId}`);
    return rows[0];
  },

  async readHead(tx: Sql, tenantId: string): Promise<{ sequence: number; hash: string } | null> {
    const { rows } = await tx.query<{ sequence: number; hash: string }>(
      'select sequence, hash from audit_heads where tenant_id = $1',
      [tenantId],
    );
    return rows[0] ?? null;
  },

  async append(tx: Sql, event: AuditEvent): Promise<void> {
    await tx.query(
      `insert into audit_events (${COLUMNS}) values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12::jsonb,$13::jsonb,$14,$15)`,
      [
        event.tenantId,
        event.sequence,
        event.id,
        event.time,
        event.actor.type,
        event.actor.id,
        event.action,
        event.target?.type ?? null,
        event.target?.id ?? null,
        event.requestId,
        event.outcome,
        event.before === null ? null : JSON.stringify(event.before),
        event.after === null ? null : JSON.stringify(event.after),
        event.prevHash,
        event.hash,
      ],
    );
    await tx.query('update audit_heads set sequence = $2, hash = $3 where tenant_id = $1', [
      event.tenantId,
      event.sequence,
      event.hash,
    ]);
  },

  async list(tx: Sql, tenantId: string, filter: AuditFilter): Promise<AuditEvent[]> {
    const where = ['tenant_id = $1'];
    const params: unknown[] = [tenantId];
    const add = (clause: string, value: unknown) => {
      params.push(value);
      where.push(clause.replace('?', `$${params.length}`));
    };
    if (filter.action) add('action = ?', filter.action);
    if (filter.actor) add('actor_id = ?', filter.actor);
    if (filter.since) add('occurred_at >= ?', filter.since.toISOString());
    if (filter.afterSequence !== undefined) add('sequence > ?', filter.afterSequence);
    params.push(filter.limit);
    const { rows } = await tx.query<EventRow>(
      `select ${COLUMNS} from audit_events where ${where.join(' and ')} order by sequence limit $${params.length}`,
      params,
    );
    return rows.map(toEvent);
  },

  /** The newest checkpoint, by any key or by the given one. */
  async latestCheckpoint(tx: Sql, tenantId: string, keyId?: string): Promise<Checkpoint | null> {
    const { rows } = await tx.query<{ sequence: number; hash: string; signed_at: Date; key_id: string; signature: string }>(
      `select sequence, hash, signed_at, key_id, signature from audit_checkpoints
        where tenant_id = $1 and ($2::text is null or key_id = $2) order by sequence desc, signed_at desc limit 1`,
      [tenantId, keyId ?? null],
    );
    const row = rows[0];
    return row
      ? { sequence: row.sequence, hash: row.hash, signedAt: new Date(row.signed_at).toISOString(), keyId: row.key_id, signature: row.signature }
      : null;
  },

  async insertCheckpoint(tx: Sql, tenantId: string, checkpoint: Checkpoint): Promise<void> {
    await tx.query(
      `insert into audit_checkpoints (tenant_id, sequence, hash, signed_at, key_id, signature)
       values ($1, $2, $3, $4, $5, $6) on conflict (tenant_id, sequence, key_id) do nothing`,
      [tenantId, checkpoint.sequence, checkpoint.hash, checkpoint.signedAt, checkpoint.keyId, checkpoint.signature],
    );
  },
};
