import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '../../platform/crypto.js';

export const SIGNATURE_HEADER = 'x-summit-signature';
export const DELIVERY_HEADER = 'x-summit-delivery';
export const TIMESTAMP_HEADER = 'x-summit-timestamp';
export const EVENT_HEADER = 'x-summit-event';

/**
 * `sha256=<hex HMAC-SHA256 of the exact body bytes>` (the GitHub convention, which receivers' libraries know). The
 * body carries its own `sentAt`, so the signature also covers the time and a receiver can refuse stale replays.
 */
export function signWebhookBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** What a receiver does: recompute and compare in constant time. Exported for tests and for receivers' docs. */
export function verifyWebhookSignature(secret: string, body: string | Buffer, header: string | undefined): boolean {
  if (!header) return false;
  return constantTimeEqual(signWebhookBody(secret, body), header);
}

export type DeliveryOutcome = 'delivered' | 'retry' | 'permanent';

/**
 * 2xx: delivered. 408, 429 and 5xx are the endpoint saying "not now": retry. Any other status (a 4xx, or a 3xx: we
 * never follow redirects, so a signed body cannot be bounced somewhere else) will not change by retrying.
 */
export function classifyDeliveryStatus(status: number): DeliveryOutcome {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'permanent';
}
