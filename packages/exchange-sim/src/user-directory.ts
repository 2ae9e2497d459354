import { timingSafeEqual } from 'node:crypto';
import type { IssuedTokens } from './entra/issued-tokens.js';
import type { FaultState } from './faults.js';
import { defaultUser, type ResolvedOptions, type ResolvedUser } from './options.js';
import { Reply, ReplyCode } from './replies.js';

/** What the client offered in AUTH. */
export interface Credentials {
  method: string;
  username: string;
  password?: string | null | undefined;
  accessToken?: string | undefined;
}

export type AuthDecision =
  | { ok: true; user: ResolvedUser }
  | { ok: false; responseCode: number; message: string };

const UNSUCCESSFUL: AuthDecision = { ok: false, responseCode: ReplyCode.authUnsuccessful, message: Reply.authUnsuccessful };
const SMTP_AUTH_DISABLED: AuthDecision = { ok: false, responseCode: ReplyCode.smtpAuthDisabled, message: Reply.smtpAuthDisabled };

/** Knows who may authenticate and how; decides AUTH attempts. */
export class UserDirectory {
  readonly #options: ResolvedOptions;
  readonly #faults: FaultState;
  readonly #tokens: IssuedTokens;
  readonly #permissive = new Map<string, ResolvedUser>();

  constructor(options: ResolvedOptions, faults: FaultState, tokens: IssuedTokens) {
    this.#options = options;
    this.#faults = faults;
    this.#tokens = tokens;
  }

  /** A listed user, or (with `anyUser`) a user with the server-wide limits. */
  find(address: string): ResolvedUser | undefined {
    const key = address.trim().toLowerCase();
    const listed = this.#options.users.get(key);
    if (listed || !this.#options.anyUser || !key) return listed;
    let user = this.#permissive.get(key);
    if (!user) {
      user = defaultUser(this.#options, key);
      this.#permissive.set(key, user);
    }
    return user;
  }

  /** Listed users (they appear in stats before their first session). */
  listed(): ResolvedUser[] {
    return [...this.#options.users.values()];
  }

  async authenticate(credentials: Credentials): Promise<AuthDecision> {
    const user = this.find(credentials.username);
    const faults = this.#faults.get(user?.address);
    if (faults.smtpAuthDisabled) return SMTP_AUTH_DISABLED;
    if (credentials.method === 'XOAUTH2') {
      const token = credentials.accessToken ?? '';
      // A token from the simulator's own token endpoint: valid for Exchange with SMTP.SendAsApp.
      const grant = this.#tokens.find(token);
      if (grant) {
        return user && grant.audience === 'exchange' && grant.permissions.has('SMTP.SendAsApp') ? { ok: true, user } : UNSUCCESSFUL;
      }
      const validate = this.#options.validateToken;
      if (validate) {
        if (!user) return UNSUCCESSFUL;
        const valid = await Promise.resolve(validate(user.address, token)).catch(() => false);
        return valid ? { ok: true, user } : UNSUCCESSFUL;
      }
      if (!user || !token) return UNSUCCESSFUL;
      const listed = this.#options.users.has(user.address);
      if (this.#options.anyUser || (listed && user.tokens.some((accepted) => sameSecret(accepted, token)))) {
        return { ok: true, user };
      }
      return UNSUCCESSFUL;
    }
    // LOGIN and PLAIN: basic authentication.
    if (this.#options.oauthOnly || faults.basicAuthDisabled) {
      return { ok: false, responseCode: ReplyCode.basicAuthDisabled, message: Reply.basicAuthDisabled };
    }
    if (!user) return UNSUCCESSFUL;
    if (this.#options.anyUser) return { ok: true, user };
    const password = credentials.password ?? '';
    if (user.password !== undefined && sameSecret(user.password, password)) return { ok: true, user };
    return UNSUCCESSFUL;
  }
}

function sameSecret(expected: string, offered: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(offered);
  return a.length === b.length && timingSafeEqual(a, b);
}
