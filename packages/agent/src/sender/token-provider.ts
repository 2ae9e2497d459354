import { createPrivateKey } from 'node:crypto';
import type { ConfidentialClientApplication, Configuration } from '@azure/msal-node';
import { AgentError } from '../errors.js';

/**
 * Supplies OAuth2 access tokens for XOAUTH2 and Graph. Plug in your own (managed identity, a
 * vault, a refresh-token flow); the agent ships the client-credentials flow Entra ID supports.
 */
export interface AccessTokenProvider {
  /** A valid access token; `forceRenew` skips any cache (after the server refused the last one). */
  getToken(options?: { forceRenew?: boolean }): Promise<string>;
}

/**
 * The token endpoint refused or could not be reached. Never carries the secret or the key.
 * `refused`: the endpoint answered with an OAuth error (wrong secret, certificate not registered,
 * unknown app): retrying cannot help until the configuration changes, so the mailbox pauses.
 */
export class TokenRequestError extends AgentError {
  constructor(message: string, readonly refused: boolean, options?: { cause?: unknown }) {
    super('TOKEN_REQUEST_FAILED', message, options);
  }
}

/** A certificate credential: the key signs the client assertion; Entra ID knows the certificate by its thumbprint. */
export interface CertificateCredential {
  privateKey: string;
  passphrase?: string | undefined;
  thumbprintSha256?: string | undefined;
  thumbprint?: string | undefined;
  x5c?: string | undefined;
}

export interface ClientCredentialsOptions {
  clientId: string;
  /** Exactly one of `clientSecret` and `certificate`. */
  clientSecret?: string | undefined;
  certificate?: CertificateCredential | undefined;
  /** Entra ID tenant; default the tenant segment of `tokenUrl`. */
  tenantId?: string | undefined;
  /** Default `https://login.microsoftonline.com`; national clouds have their own host. */
  authorityHost?: string | undefined;
  /** Default `<authorityHost>/<tenantId>/oauth2/v2.0/token`. */
  tokenUrl?: string | undefined;
  scope: string;
  /** Fetch a new token this long before the current one expires. */
  refreshAheadMs: number;
}

type Msal = typeof import('@azure/msal-node');
/**
 * MSAL (about 7 MiB resident once loaded) is imported on the first token request: an agent with
 * password auth only never loads it.
 */
let msalModule: Promise<Msal> | undefined;
const loadMsal = (): Promise<Msal> => (msalModule ??= import('@azure/msal-node'));

export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';

/** The Entra ID v2 token endpoint of a tenant. */
export const entraTokenUrl = (tenantId: string, authorityHost = DEFAULT_AUTHORITY_HOST): string =>
  `${authorityHost.replace(/\/+$/, '')}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`;

/**
 * OAuth2 client-credentials flow through MSAL (certificate assertions, authority handling) with
 * a cached token renewed ahead of expiry. The authority's metadata is given to MSAL locally, so
 * it makes no discovery calls: the token endpoint is the only host it talks to (offline tests,
 * national clouds, proxies that allow only that host). Concurrent callers share one request.
 */
export class ClientCredentialsTokenProvider implements AccessTokenProvider {
  private token: { value: string; renewAt: number } | undefined;
  private pending: Promise<string> | undefined;
  private app: ConfidentialClientApplication | undefined;
  private readonly configuration: Configuration;
  private readonly tokenUrl: string;

  constructor(private readonly options: ClientCredentialsOptions) {
    const authorityHost = (options.authorityHost ?? DEFAULT_AUTHORITY_HOST).replace(/\/+$/, '');
    // Only the authority string needs a tenant when tokenUrl has none; the token URL is used as given.
    const tenant = options.tenantId ?? tenantOf(options.tokenUrl) ?? 'tenant';
    this.tokenUrl = options.tokenUrl ?? entraTokenUrl(tenant, authorityHost);
    // Built here so a bad certificate fails at start-up; MSAL itself loads on the first request.
    this.configuration = msalConfiguration(options, authorityHost, tenant, this.tokenUrl);
  }

  getToken(options: { forceRenew?: boolean } = {}): Promise<string> {
    if (!options.forceRenew && this.token && performance.now() < this.token.renewAt) return Promise.resolve(this.token.value);
    this.pending ??= this.request().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async request(): Promise<string> {
    const { clientId, scope, refreshAheadMs } = this.options;
    const started = performance.now();
    let result: Awaited<ReturnType<ConfidentialClientApplication['acquireTokenByClientCredential']>>;
    const msal = await loadMsal();
    this.app ??= new msal.ConfidentialClientApplication(this.configuration);
    try {
      // Our own cache decides renewal (refreshAheadMs); MSAL's is skipped so forceRenew is real.
      result = await this.app.acquireTokenByClientCredential({ scopes: [scope], skipCache: true });
    } catch (error) {
      throw tokenError(msal, error, clientId, new URL(this.tokenUrl).origin);
    }
    if (!result?.accessToken) throw new TokenRequestError(`token request for client ${clientId} returned no access token`, false);
    const lifetimeMs = Math.max(0, (result.expiresOn?.getTime() ?? Date.now() + 3_600_000) - Date.now());
    // Renew ahead of expiry, but never sooner than half the lifetime (short-lived test tokens).
    const renewAt = started + Math.max(lifetimeMs / 2, lifetimeMs - refreshAheadMs);
    this.token = { value: result.accessToken, renewAt };
    return result.accessToken;
  }
}

function msalConfiguration(options: ClientCredentialsOptions, authorityHost: string, tenant: string, tokenUrl: string): Configuration {
  const host = new URL(authorityHost).host;
  const authority = `${authorityHost}/${tenant}`;
  const metadata = {
    token_endpoint: tokenUrl,
    authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
    issuer: `${authority}/v2.0`,
    jwks_uri: `${authority}/discovery/v2.0/keys`,
  };
  const discovery = {
    tenant_discovery_endpoint: `${authority}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  };
  return {
    auth: {
      clientId: options.clientId,
      authority,
      knownAuthorities: [host],
      authorityMetadata: JSON.stringify(metadata),
      cloudDiscoveryMetadata: JSON.stringify(discovery),
      ...(options.certificate ? { clientCertificate: certificateFor(options.certificate) } : { clientSecret: options.clientSecret ?? '' }),
    },
    // MSAL's own retries would hide a refused credential behind delays; the sender has its backoff.
    system: { disableInternalRetries: true },
  };
}

function certificateFor(credential: CertificateCredential): NonNullable<NonNullable<Configuration['auth']>['clientCertificate']> {
  // MSAL wants an unencrypted PKCS#8 PEM; convert PKCS#1 and encrypted keys once, here.
  const privateKey = createPrivateKey({ key: credential.privateKey, ...(credential.passphrase ? { passphrase: credential.passphrase } : {}) })
    .export({ format: 'pem', type: 'pkcs8' })
    .toString();
  return {
    privateKey,
    ...(credential.thumbprintSha256 ? { thumbprintSha256: credential.thumbprintSha256 } : { thumbprint: credential.thumbprint ?? '' }),
    ...(credential.x5c ? { x5c: credential.x5c } : {}),
  };
}

/** `contoso.onmicrosoft.com` from `https://host/contoso.onmicrosoft.com/oauth2/v2.0/token`. */
function tenantOf(tokenUrl: string | undefined): string | undefined {
  if (!tokenUrl) return undefined;
  return /^\/([^/]+)\/oauth2\//.exec(new URL(tokenUrl).pathname)?.[1];
}

/** OAuth error codes (RFC 6749 §5.2) that say the app's registration or credential is wrong: no retry helps. */
const REFUSALS = new Set(['invalid_client', 'unauthorized_client', 'invalid_grant', 'invalid_scope', 'invalid_request', 'unsupported_grant_type', 'access_denied']);

/** A refusal (an OAuth error reply) or a failed request, without any secret. */
function tokenError(msal: Msal, error: unknown, clientId: string, origin: string): TokenRequestError {
  const { AuthError, ServerError } = msal;
  if (error instanceof AuthError) {
    // MSAL wraps the server's text: "Error(s): 700027 - Timestamp: ... - Description: AADSTS700027: ... - Correlation ID: ...".
    const raw = error.errorMessage ?? '';
    const description = (/Description: ([\s\S]*?)(?: - Correlation ID|$)/.exec(raw)?.[1] ?? raw).split(/\r?\n| Trace ID/)[0]?.trim();
    const detail = `${error.errorCode}${description ? `: ${description}` : ''}`;
    if (error instanceof ServerError && REFUSALS.has(error.errorCode)) {
      return new TokenRequestError(`token request for client ${clientId} refused (${detail})`, true, { cause: error });
    }
    return new TokenRequestError(`token request for client ${clientId} to ${origin} failed (${detail})`, false, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new TokenRequestError(`token endpoint ${origin} unreachable: ${message.split(/\r?\n/)[0]}`, false, { cause: error });
}

/** A fixed token (tests, or tokens managed outside the agent). */
export class StaticTokenProvider implements AccessTokenProvider {
  constructor(private readonly token: string) {}
  getToken(): Promise<string> {
    return Promise.resolve(this.token);
  }
}
