import { randomBytes } from 'node:crypto';
import type { AppPermission } from './app-directory.js';

/** Which service a token is for, read from the requested scope's host. */
export type TokenAudience = 'graph' | 'exchange';

export interface IssuedToken {
  clientId: string;
  audience: TokenAudience;
  permissions: ReadonlySet<AppPermission>;
  expiresAt: number;
}

/** `https://graph.microsoft.com/.default` is for Graph; any other `.default` scope (outlook.office365.com) for Exchange. */
export function audienceOf(scope: string): TokenAudience | undefined {
  const match = /^https:\/\/([^/]+)\/\.default$/.exec(scope.trim());
  if (!match?.[1]) return undefined;
  return match[1].startsWith('graph.') ? 'graph' : 'exchange';
}

/**
 * Access tokens the token endpoint handed out. They are opaque random strings: the Graph double
 * and XOAUTH2 look them up here instead of parsing a JWT.
 */
export class IssuedTokens {
  #tokens = new Map<string, IssuedToken>();

  constructor(private readonly now: () => number) {}

  issue(grant: Omit<IssuedToken, 'expiresAt'>, lifetimeSeconds: number): string {
    const token = `sim.${randomBytes(24).toString('base64url')}`;
    this.#tokens.set(token, { ...grant, expiresAt: this.now() + lifetimeSeconds * 1000 });
    return token;
  }

  /** The grant behind a token; undefined when unknown, expired or revoked. */
  find(token: string): IssuedToken | undefined {
    const grant = this.#tokens.get(token);
    if (!grant) return undefined;
    if (grant.expiresAt <= this.now()) {
      this.#tokens.delete(token);
      return undefined;
    }
    return grant;
  }

  /** Forgets every token (of one app, or all): the next request with one gets 401. */
  revoke(clientId?: string): number {
    let revoked = 0;
    for (const [token, grant] of this.#tokens) {
      if (clientId !== undefined && grant.clientId !== clientId) continue;
      this.#tokens.delete(token);
      revoked++;
    }
    return revoked;
  }
}
