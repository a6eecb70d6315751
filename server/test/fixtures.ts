import { randomUUID } from 'node:crypto';
import type { TestApp } from './harness.js';

/** A dead letter as the job queue writes one, for the audit.checkpoint job type the app registers. */
export async function insertDeadLetter(app: Pick<TestApp, 'db'>, tenantId: string, queue = 'audit.checkpoint') {
  const id = randomUUID();
  const jobId = randomUUID();
  await app.db.withSystem((tx) =>
    tx.query(
      `insert into dlq_items (tenant_id, id, queue, job_id, payload, attempts, errors, idempotency_key, dead_at)
       values ($1, $2, $3, $4, '{}'::jsonb, 5, $5::jsonb, $6, now())`,
      [tenantId, id, queue, jobId, JSON.stringify([{ attempt: 5, class: 'Error', message: 'upstream timed out', at: new Date().toISOString() }]), `${queue}:${jobId}`],
    ),
  );
  return { id, jobId };
}

