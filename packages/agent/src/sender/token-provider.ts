import { AgentError } from '../errors.js';

/**
 * Supplies OAuth2 access tokens for XOAUTH2. Plug in your own (managed identity, a vault, a
 * refresh-token flow); the agent ships the client-credentials flow Exchange Online supports.
 */
export interface AccessTokenProvider {
  /** A valid access token; `forceRenew` skips any cache (after the server refused the last one). */
  getToken(options?: { forceRenew?: boolean }): Promise<string>;
}

/** The token endpoint refused or could not be reached. Never carries the secret. */
export class TokenRequestError extends AgentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TOKEN_REQUEST_FAILED', message, options);
  }
}

export interface ClientCredentialsOptions {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope: string;
  /** Fetch a new token this long before the current one expires. */
  refreshAheadMs: number;
  /** Request timeout. Default 15 s. */
  timeoutMs?: number;
}

/** The Entra ID v2 token endpoint of a tenant. */
export const entraTokenUrl = (tenantId: string): string =>
  `https://login.microsoftonline.com/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`;

/**
 * OAuth2 client-credentials flow (RFC 6749 §4.4) with a cached token renewed ahead of expiry.
 * Concurrent callers share one request.
 */
export class ClientCredentialsTokenProvider implements AccessTokenProvider {
  private token: { value: string; renewAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(private readonly options: ClientCredentialsOptions) {}

  getToken(options: { forceRenew?: boolean } = {}): Promise<string> {
    if (!options.forceRenew && this.token && performance.now() < this.token.renewAt) return Promise.resolve(this.token.value);
    this.pending ??= this.request().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async request(): Promise<string> {
    const { tokenUrl, clientId, clientSecret, scope, refreshAheadMs, timeoutMs = 15_000 } = this.options;
    const started = performance.now();
    let response: Response;
    try {
      response = await fetch(tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, scope }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new TokenRequestError(`token endpoint ${new URL(tokenUrl).origin} unreachable: ${(error as Error).message}`, { cause: error });
    }
    const body = (await response.json().catch(() => ({}))) as { access_token?: string; expires_in?: number | string; error?: string; error_description?: string };
    if (!response.ok || typeof body.access_token !== 'string') {
      const reason = body.error ? `${body.error}: ${(body.error_description ?? '').split('\n')[0]}` : `HTTP ${response.status}`;
      throw new TokenRequestError(`token request for client ${clientId} refused (${reason})`);
    }
    const lifetimeMs = Number(body.expires_in ?? 3600) * 1000;
    // Renew ahead of expiry, but never sooner than half the lifetime (short-lived test tokens).
    const renewAt = started + Math.max(lifetimeMs / 2, lifetimeMs - refreshAheadMs);
    this.token = { value: body.access_token, renewAt };
    return body.access_token;
  }
}

/** A fixed token (tests, or tokens managed outside the agent). */
export class StaticTokenProvider implements AccessTokenProvider {
  constructor(private readonly token: string) {}
  getToken(): Promise<string> {
    return Promise.resolve(this.token);
  }
}
