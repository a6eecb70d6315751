import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAutoReplayPolicy } from '../src/modules/jobs/auto-replay-policy.js';
import { insertDeadLetter } from './fixtures.js';
import { createTestApp, type TestApp, type TestTenant } from './harness.js';

let t: TestApp;
let tenant: TestTenant;

beforeAll(async () => {
  t = await createTestApp();
  tenant = await t.createTenant();
});
afterAll(() => t.close());

const policy = parseAutoReplayPolicy(`
version: 1
queues:
  audit.checkpoint:
    timezone: UTC
    windows:
      - days: [mon, tue, wed, thu, fri]
        start: "00:00"
        end: "24:00"
    maxReplaysPerItem: 2
    minAgeMinutes: 30
    replayableErrorClasses: [Error]
    maxBatchPerWindow: 2
`);

async function statusOf(id: string) {
  return (await tenant.admin.get(`/api/v1/dlq/${id}`)).json().status as string;
}

describe('dead-letter auto-replay', () => {
  it('replays inside the window only what the policy allows, oldest first, at most the batch', async () => {
    const monday = new Date('2026-11-30T12:00:00Z');
    t.clock.set(monday);
    const hourAgo = (minutes: number) => new Date(monday.getTime() - minutes * 60_000);
    const a = await insertDeadLetter(t, tenant.id, 'audit.checkpoint', { deadAt: hourAgo(90) });
    const b = await insertDeadLetter(t, tenant.id, 'audit.checkpoint', { deadAt: hourAgo(80) });
    const c = await insertDeadLetter(t, tenant.id, 'audit.checkpoint', { deadAt: hourAgo(70) });
    const young = await insertDeadLetter(t, tenant.id, 'audit.checkpoint', { deadAt: hourAgo(5) });
    const permanent = await insertDeadLetter(t, tenant.id, 'audit.checkpoint', { deadAt: hourAgo(100), errorClass: 'PermanentJobError' });
    const tired = await insertDeadLetter(t, tenant.id, 'audit.checkpoint', { deadAt: hourAgo(100), replayCount: 2 });

    const replayer = t.summit.modules.jobsModule.autoReplayer(policy);
    expect(await replayer.tick()).toBe(2);
    expect([await statusOf(a.id), await statusOf(b.id), await statusOf(c.id)]).toEqual(['replayed', 'replayed', 'dead']);
    expect(await replayer.tick()).toBe(0);

    // The next day is another window with its own batch.
    t.clock.set(new Date('2026-12-01T12:00:00Z'));
    expect(await replayer.tick()).toBe(2);
    expect(await statusOf(c.id)).toBe('replayed');
    expect(await statusOf(young.id)).toBe('replayed');
    for (const item of [permanent, tired]) expect(await statusOf(item.id)).toBe('dead');

    const events = (await tenant.admin.get('/api/v1/audit?action=dlq.replay')).json().items;
    expect(events.every((e: { actor: { id: string }; after: { trigger: string } }) => e.actor.id === 'dlq-auto-replay' && e.after.trigger === 'auto')).toBe(true);
  });

  it('replays nothing outside its windows', async () => {
    t.clock.set(new Date('2026-12-05T12:00:00Z')); // a Saturday
    const item = await insertDeadLetter(t, tenant.id, 'audit.checkpoint', { deadAt: new Date('2026-12-05T10:00:00Z') });
    expect(await t.summit.modules.jobsModule.autoReplayer(policy).tick()).toBe(0);
    expect(await statusOf(item.id)).toBe('dead');
  });

  it('refuses a policy naming a queue that is not a job type', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const dir = mkdtempSync('/tmp/summit-policy-');
    writeFileSync(`${dir}/p.yaml`, 'version: 1\nqueues:\n  no.such.queue:\n    timezone: UTC\n    windows: [{days: [mon], start: "00:00", end: "01:00"}]\n    maxReplaysPerItem: 1\n    minAgeMinutes: 0\n    replayableErrorClasses: ["*"]\n    maxBatchPerWindow: 1\n');
    await expect(t.summit.modules.jobsModule.loadReplayPolicy(`${dir}/p.yaml`)).rejects.toThrow(/"no.such.queue" are not job types/);
  });
});
