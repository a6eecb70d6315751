/**
 * OAuth access tokens from ServiceNow's `/oauth_token.do`: password or client-credentials grant, cached until
 * shortly before `expires_in`, renewed with the refresh token when there is one (a full grant otherwise, or when
 * the refresh is refused).
 */
import type { Clock } from '../../../platform/clock.js';
import { ServiceNowAuthError, ServiceNowError } from './errors.js';

export type OAuthSettings =
  | { grant: 'password'; clientId: string; clientSecret: string; username: string; password: string }
  | { grant: 'client_credentials'; clientId: string; clientSecret: string };

/** Renew this long before expiry, so a token never expires between being read and being used. */
const EXPIRY_MARGIN_MS = 60_000;

type Token = { access: string; refresh: string | null; expiresAt: number };

export function createTokenSource(
  settings: OAuthSettings,
  deps: { clock: Clock; request: (form: Record<string, string>) => Promise<{ body: unknown }> },
) {
  let token: Token | null = null;
  let pending: Promise<Token> | null = null;

  async function grant(form: Record<string, string>): Promise<Token> {
    let body: unknown;
    try {
      ({ body } = await deps.request({ ...form, client_id: settings.clientId, client_secret: settings.clientSecret }));
    } catch (error) {
      if (error instanceof ServiceNowAuthError) throw new ServiceNowAuthError(401, 'ServiceNow refused the OAuth client or user credentials');
      throw error;
    }
    const answer = body as { access_token?: unknown; refresh_token?: unknown; expires_in?: unknown } | null;
    if (typeof answer?.access_token !== 'string' || answer.access_token === '') {
      throw new ServiceNowError('auth', 'ServiceNow answered the token request without an access_token', { retryable: false });
    }
    const expiresIn = Number(answer.expires_in);
    return {
      access: answer.access_token,
      refresh: typeof answer.refresh_token === 'string' ? answer.refresh_token : token?.refresh ?? null,
      expiresAt: deps.clock.now().getTime() + (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn * 1000 : 1_799_000),
    };
  }

  async function renew(): Promise<Token> {
    if (token?.refresh) {
      try {
        return await grant({ grant_type: 'refresh_token', refresh_token: token.refresh });
      } catch (error) {
        if (!(error instanceof ServiceNowAuthError)) throw error;
        // The refresh token was revoked or expired: fall back to a full grant below.
      }
    }
    return settings.grant === 'password'
      ? grant({ grant_type: 'password', username: settings.username, password: settings.password })
      : grant({ grant_type: 'client_credentials' });
  }

  return {
    async accessToken(): Promise<string> {
      if (token && deps.clock.now().getTime() < token.expiresAt - EXPIRY_MARGIN_MS) return token.access;
      // Concurrent callers share one token request.
      pending ??= renew().finally(() => {
        pending = null;
      });
      token = await pending;
      return token.access;
    },
    /** Forget the access token (after a 401); the refresh token is kept for renewing it. */
    invalidate(): void {
      if (token) token = { ...token, expiresAt: 0 };
    },
  };
}
