import { randomUUID } from 'node:crypto';
import type { TestApp } from './harness.js';

/** A dead letter as the job queue writes one, for the audit.checkpoint job type the app registers. */
export async function insertDeadLetter(
  app: Pick<TestApp, 'db'>,
  tenantId: string,
  queue = 'audit.checkpoint',
  options: { errorClass?: string; deadAt?: Date; replayCount?: number } = {},
) {
  const id = randomUUID();
  const jobId = randomUUID();
  const deadAt = options.deadAt ?? new Date();
  const errors = [{ attempt: 5, class: options.errorClass ?? 'Error', message: 'upstream timed out', at: deadAt.toISOString() }];
  await app.db.withSystem((tx) =>
    tx.query(
      `insert into dlq_items (tenant_id, id, queue, job_id, payload, attempts, errors, idempotency_key, dead_at, replay_count)
       values ($1, $2, $3, $4, '{}'::jsonb, 5, $5::jsonb, $6, $7, $8)`,
      [tenantId, id, queue, jobId, JSON.stringify(errors), `${queue}:${jobId}`, deadAt.toISOString(), options.replayCount ?? 0],
    ),
  );
  return { id, jobId };
}

