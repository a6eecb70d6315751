import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ALERT_GROUPING_WINDOW_MS,
  decideGrouping,
  notifies,
  SEVERITIES,
  shouldDeliverToWebhooks,
  WEBHOOK_QUEUE,
  type Severity,
} from './alert-grouping.js';

const t0 = new Date('2026-03-01T10:00:00.000Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

describe('decideGrouping', () => {
  it('opens an alert when its group has none open', () => {
    expect(decideGrouping(null, t0, 'warning')).toBe('open');
  });

  it('groups a repeat within the window', () => {
    expect(decideGrouping({ firstSeenAt: t0, severity: 'warning' }, at(ALERT_GROUPING_WINDOW_MS - 1), 'warning')).toBe('group');
  });

  it('groups a repeat of lower severity', () => {
    expect(decideGrouping({ firstSeenAt: t0, severity: 'critical' }, at(60_000), 'info')).toBe('group');
  });

  it('replaces the open alert once the window since its first notification has passed', () => {
    expect(decideGrouping({ firstSeenAt: t0, severity: 'warning' }, at(ALERT_GROUPING_WINDOW_MS), 'warning')).toBe('replace');
  });

  it('escalates a more severe repeat within the window', () => {
    expect(decideGrouping({ firstSeenAt: t0, severity: 'warning' }, at(1_000), 'critical')).toBe('escalate');
  });

  it('groups when the clock stepped back', () => {
    expect(decideGrouping({ firstSeenAt: t0, severity: 'info' }, at(-5_000), 'info')).toBe('group');
  });

  it('honours a custom window', () => {
    expect(decideGrouping({ firstSeenAt: t0, severity: 'info' }, at(10), 'info', 10)).toBe('replace');
  });

  it('notifies for every decision but group', () => {
    expect(['open', 'replace', 'group', 'escalate'].filter((d) => notifies(d as never))).toEqual(['open', 'replace', 'escalate']);
  });

  it('never notifies twice within the window for repeats that do not raise severity', () => {
    const severity = fc.constantFrom<Severity>(...SEVERITIES);
    fc.assert(
      fc.property(severity, fc.array(fc.tuple(fc.integer({ min: 0, max: ALERT_GROUPING_WINDOW_MS - 1 }), severity)), (first, repeats) => {
        // Replays a group's raises in time order, as the service would, and counts notifications.
        let open = { firstSeenAt: t0, severity: first };
        let notified = 1;
        for (const [offset, s] of [...repeats].sort((a, b) => a[0] - b[0])) {
          const decision = decideGrouping(open, at(offset), s);
          expect(decision === 'group' || decision === 'escalate').toBe(true);
          if (notifies(decision)) notified++;
          if (decision === 'escalate') open = { ...open, severity: s };
        }
        // Severity can only climb, so at most one notification per level.
        expect(notified).toBeLessThanOrEqual(SEVERITIES.length);
      }),
    );
  });
});

describe('shouldDeliverToWebhooks', () => {
  it('keeps alerts about webhook deliveries out of webhooks, so a failing endpoint cannot feed itself', () => {
    expect(shouldDeliverToWebhooks({ data: { queue: WEBHOOK_QUEUE } })).toBe(false);
    expect(shouldDeliverToWebhooks({ data: { queue: 'ingest.run' } })).toBe(true);
    expect(shouldDeliverToWebhooks({})).toBe(true);
  });
});
