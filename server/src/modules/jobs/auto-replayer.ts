import type { Clock } from '../../platform/clock.js';
import type { Logger } from '../../platform/context.js';
import type { Database, Sql } from '../../platform/db.js';
import { isReplayable, windowAt, type AutoReplayPolicy } from './auto-replay-policy.js';
import type { DlqRow } from './dlq.repo.js';
import type { DlqService } from './dlq.service.js';

const COLS = `tenant_id as "tenantId", id, queue, job_id as "jobId", payload, attempts, errors,
  idempotency_key as "idempotencyKey", status, replay_count as "replayCount", dead_at as "deadAt", updated_at as "updatedAt"`;

/**
 * Replays dead letters on its own, as ops/dlq/auto_replay.yaml allows: only inside a queue's safe window, only
 * items whose last error class is replayable, old enough and not replayed too often, and at most the window's
 * batch (counted per queue across tenants and replicas, in the same transaction as the replays).
 */
export function createAutoReplayer(deps: {
  db: Database;
  dlq: Pick<DlqService, 'replayIn'>;
  policy: AutoReplayPolicy;
  clock: Clock;
  log: Logger;
  intervalMs?: number;
}) {
  const { db, dlq, policy, clock, log } = deps;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> = Promise.resolve();

  async function replayQueue(tx: Sql, queue: string, now: Date): Promise<number> {
    const queuePolicy = policy.queues[queue]!;
    const window = windowAt(queuePolicy, now);
    if (!window) return 0;
    await tx.query(
      `insert into dlq_auto_replay_windows (queue, window_key, replayed) values ($1, $2, 0) on conflict do nothing`,
      [queue, window.key],
    );
    const { rows: [counter] } = await tx.query<{ replayed: number }>(
      'select replayed from dlq_auto_replay_windows where queue = $1 and window_key = $2 for update',
      [queue, window.key],
    );
    let budget = queuePolicy.maxBatchPerWindow - counter!.replayed;
    if (budget <= 0) return 0;
    // Oldest first; locked so another replica's replayer takes different items.
    const { rows } = await tx.query<DlqRow>(
      `select ${COLS} from dlq_items where queue = $1 and status = 'dead' order by dead_at limit 500 for update skip locked`,
      [queue],
    );
    let replayed = 0;
    for (const row of rows) {
      if (budget <= 0) break;
      const decision = isReplayable(queuePolicy, { errors: row.errors, replayCount: row.replayCount, deadAt: new Date(row.deadAt) }, now);
      if (!decision.replay) continue;
      await dlq.replayIn(tx, { tenantId: row.tenantId, actor: { type: 'system', id: 'dlq-auto-replay' }, requestId: null }, row, 'auto');
      budget--;
      replayed++;
    }
    await tx.query('update dlq_auto_replay_windows set replayed = replayed + $3 where queue = $1 and window_key = $2', [queue, window.key, replayed]);
    return replayed;
  }

  /** One pass over every queue in the policy; returns how many items it replayed. */
  async function tick(): Promise<number> {
    const now = clock.now();
    let total = 0;
    for (const queue of Object.keys(policy.queues)) {
      const replayed = await db.withSystem((tx) => replayQueue(tx, queue, now));
      if (replayed) log.info({ queue, replayed }, 'auto-replayed dead letters');
      total += replayed;
    }
    return total;
  }

  return {
    tick,
    start() {
      if (timer) return;
      const loop = () => {
        running = tick()
          .catch((error) => log.error({ err: error }, 'auto-replay pass failed'))
          .finally(() => {
            if (timer) timer = setTimeout(loop, deps.intervalMs ?? 60_000);
          });
      };
      timer = setTimeout(loop, 0);
    },
    async stop() {
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}

export type AutoReplayer = ReturnType<typeof createAutoReplayer>;
