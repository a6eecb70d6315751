import { canonicalJson, sha256Hex } from '../../platform/crypto.js';
import type { Actor } from '../../platform/context.js';

export const GENESIS_HASH = '0'.repeat(64);

export type AuditOutcome = 'success' | 'denied' | 'failure';
export type AuditTarget = { type: string; id: string };

/** The hashed body of an event: everything but the links. */
export type AuditEventBody = {
  tenantId: string;
  sequence: number;
  id: string;
  time: string;
  actor: Actor;
  action: string;
  target: AuditTarget | null;
  requestId: string | null;
  outcome: AuditOutcome;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
};
export type AuditEvent = AuditEventBody & { prevHash: string; hash: string };

/** hash = SHA-256(prevHash ‖ RFC 8785 canonical JSON of the body), hex. */
export function hashEvent(prevHash: string, body: AuditEventBody): string {
  return sha256Hex(prevHash + canonicalJson(body));
}

export type ChainProblem = { sequence: number; reason: string };

/**
 * Checks events one at a time, in sequence order, so a long log can be verified in batches: each event must follow
 * the previous one without a gap, link to its hash, and hash to what it claims.
 */
export function createChainVerifier(start = { sequence: 0, hash: GENESIS_HASH }) {
  let last = { ...start };
  let checked = 0;
  return {
    push(event: AuditEvent): ChainProblem | null {
      const expected = last.sequence + 1;
      if (event.sequence !== expected) {
        return { sequence: expected, reason: `event ${expected} is missing (next present is ${event.sequence})` };
      }
      if (event.prevHash !== last.hash) {
        return { sequence: event.sequence, reason: `event ${event.sequence} does not link to the hash of event ${last.sequence}` };
      }
      const { prevHash, hash, ...body } = event;
      if (hashEvent(prevHash, body) !== hash) {
        return { sequence: event.sequence, reason: `event ${event.sequence} was altered: its content does not match its hash` };
      }
      last = { sequence: event.sequence, hash };
      checked++;
      return null;
    },
    get last() {
      return last;
    },
    get checked() {
      return checked;
    },
  };
}

// Keys whose value is a secret, compared after dropping case and separators: a whole key or its last word
// (adminToken, client_secret, secretHash) — not any key that merely contains one (tokenId, activeTokensRemoved).
const SECRET_SUFFIXES = ['secret', 'password', 'passwd', 'token', 'secrethash', 'privatekey', 'credential', 'credentials', 'apikey'];

function isSecretKey(key: string): boolean {
  const normalised = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  return SECRET_SUFFIXES.some((suffix) => normalised === suffix || normalised.endsWith(suffix));
}

/** Before/after summaries never carry secrets: a defensive pass drops any key that names one. */
export function redactSummary(summary: Record<string, unknown> | null | undefined): Record<string, unknown> | null {
  if (!summary) return null;
  const clean = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(clean);
    if (value instanceof Date) return value.toISOString();
    if (Buffer.isBuffer(value) || value instanceof Uint8Array) return '[binary]';
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value)
          .filter(([key, v]) => !isSecretKey(key) && v !== undefined)
          .map(([key, v]) => [key, clean(v)]),
      );
    }
    return value;
  };
  return clean(summary) as Record<string, unknown>;
}
