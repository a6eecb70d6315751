import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { sha256 } from '../../platform/crypto.js';

/**
 * API tokens look like `smt_<token id, 32 hex>_<secret, 43 base64url chars>`. The id finds the row without
 * searching by secret; the secret (256 random bits) is stored only as its SHA-256 and compared in constant time.
 * A slow hash adds nothing for secrets of this entropy and would cost every request.
 */
const TOKEN_RE = /^smt_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

export type IssuedToken = { id: string; token: string; secretHash: Buffer };

export function issueApiToken(): IssuedToken {
  const id = uuidv7();
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `smt_${id.replaceAll('-', '')}_${secret}`, secretHash: sha256(secret) };
}

export function parseApiToken(token: string): { id: string; secret: string } | null {
  const match = TOKEN_RE.exec(token);
  if (!match) return null;
  const hex = match[1]!;
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { id, secret: match[2]! };
}

export type TokenStatus = 'active' | 'expired' | 'revoked';

export function tokenStatus(token: { expiresAt: Date | null; revokedAt: Date | null }, now: Date): TokenStatus {
  if (token.revokedAt) return 'revoked';
  if (token.expiresAt && token.expiresAt.getTime() <= now.getTime()) return 'expired';
  return 'active';
}
