import type { Clock } from '../../platform/clock.js';
import type { Principal } from '../../platform/context.js';
import { constantTimeEqual, sha256 } from '../../platform/crypto.js';
import type { Database } from '../../platform/db.js';
import { UnauthenticatedError } from '../../platform/errors.js';
import { parseApiToken } from './api-token.js';
import { credentialRepo } from './tenancy.repo.js';

// lastUsedAt is written at most once a minute per token: access reviews need "used recently", not every request,
// and a write per request would double the cost of reads.
const TOUCH_INTERVAL_MS = 60_000;

/**
 * Turns an Authorization header into a principal, or throws 401 with a message saying what to fix. Revocation and
 * disabling take effect on the next request: nothing about a token is cached.
 */
export function createAuthenticator(deps: { db: Database; clock: Clock; operatorToken: string }) {
  const { db, clock } = deps;
  const operatorSecret = sha256(deps.operatorToken);

  return async function authenticate(header: string | undefined): Promise<Principal> {
    if (!header) throw new UnauthenticatedError();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new UnauthenticatedError('The Authorization header must be "Bearer <token>".');
    const presented = match[1]!;

    const parsed = parseApiToken(presented);
    if (!parsed) {
      if (constantTimeEqual(sha256(presented), operatorSecret)) return { kind: 'operator' };
      throw new UnauthenticatedError('The bearer token is not valid.');
    }
    const now = clock.now();
    // One statement, outside a transaction (a transaction would add begin and commit: three round trips for one
    // read, on every request). The touch below is a separate statement when it is due, after the secret checked out.
    const credential = await db.withSystem((tx) => credentialRepo.findByTokenId(tx, parsed.id), { autocommit: true });
    // Compare even when the token id is unknown, so a miss and a wrong secret take the same time.
    const expected = credential?.secretHash ?? sha256('no such token');
    if (!constantTimeEqual(sha256(parsed.secret), expected) || !credential) {
      throw new UnauthenticatedError('The bearer token is not valid.');
    }
    if (credential.revokedAt) throw new UnauthenticatedError('The bearer token was revoked.');
    if (credential.expiresAt && credential.expiresAt.getTime() <= now.getTime()) {
      throw new UnauthenticatedError(`The bearer token expired at ${credential.expiresAt.toISOString()}.`);
    }
    if (credential.disabled) throw new UnauthenticatedError('The user of this token is disabled.');
    if (!credential.lastUsedAt || now.getTime() - credential.lastUsedAt.getTime() >= TOUCH_INTERVAL_MS) {
      await db.withSystem((tx) => credentialRepo.touch(tx, credential.tenantId, credential.tokenId, now), { autocommit: true });
    }
    return {
      kind: 'user',
      tenantId: credential.tenantId,
      userId: credential.userId,
      email: credential.email,
      roles: credential.roles,
      tokenId: credential.tokenId,
    };
  };
}

export type Authenticate = ReturnType<typeof createAuthenticator>;
