import { resolveApps, type ResolvedApp, type SimApp } from './entra/app-directory.js';
import { ExchangeSimError, checkInteger } from './errors.js';
import { NO_FAULTS, parseFaultPatch, type Faults } from './faults.js';

/** A mailbox that may authenticate. Limits left out fall back to the server-wide ones. */
export interface SimUser {
  /** The mailbox address; also the AUTH user name (compared case-insensitively). */
  address: string;
  /** Accepted by AUTH LOGIN/PLAIN. Without it, only XOAUTH2 works for this user. */
  password?: string;
  /** Access tokens accepted by AUTH XOAUTH2 (unless `validateToken` decides). */
  tokens?: string[];
  limit?: number;
  ratePerMinute?: number;
  recipientsPerDay?: number;
  mailboxQuotaBytes?: number;
}

/** Decides whether an XOAUTH2 access token is valid for `user` (lower-case address). */
export type TokenValidator = (user: string, accessToken: string) => boolean | Promise<boolean>;

export interface ExchangeSimOptions {
  /** Interface both listeners bind to. Default `127.0.0.1`. */
  host?: string;
  /** SMTP port. Default 0 (the OS picks; read `sim.smtpPort`). */
  port?: number;
  /** HTTP stats/admin port. Default 0; `false` starts no HTTP listener. */
  httpPort?: number | false;
  /** Server name in the greeting and in `[Hostname=...]`. Default `EXSIM01.prod.exchange-sim.local`. */
  hostname?: string;
  /** Concurrent authenticated sessions per user before 432s start. Default 3. */
  limit?: number;
  /** Messages released per user per minute; the excess is accepted and released later. Default 30. */
  ratePerMinute?: number;
  /** Recipients per user in any rolling 24 hours. Default 10,000. */
  recipientsPerDay?: number;
  /** Bytes a user may submit in total before `554 5.2.2` (a mailbox quota). Default: no quota. */
  mailboxQuotaBytes?: number;
  /** The users that may authenticate. */
  users?: SimUser[];
  /** Accept any user name with any password or token (users not listed use the server-wide limits). */
  anyUser?: boolean;
  /** Refuse AUTH LOGIN/PLAIN with `550 5.7.30`, as tenants with basic auth disabled do. */
  oauthOnly?: boolean;
  /** Pluggable XOAUTH2 token check; replaces the `tokens` lists (and `anyUser`) for XOAUTH2. */
  validateToken?: TokenValidator;
  /** Offer STARTTLS with a generated self-signed certificate and require it before AUTH. */
  starttls?: boolean;
  /** Refuse a MAIL FROM other than the authenticated user with `550 5.7.60`. Default true. */
  enforceSender?: boolean;
  /** App registrations the token endpoint (`/{tenant}/oauth2/v2.0/token`) serves. */
  apps?: SimApp[];
  /** Lifetime of issued access tokens. Default 3599 s (as Entra ID). */
  tokenLifetimeSeconds?: number;
  /** Graph sendMail requests in flight per mailbox before 429 MailboxConcurrency. Default 4. */
  graphConcurrency?: number;
  /** Graph requests per app and mailbox in any 10 minutes before 429 + Retry-After. Default 10,000. */
  graphRequestsPerTenMinutes?: number;
  /** Largest Graph request body; larger ones get 413. Default 4 MiB. */
  graphMaxRequestBytes?: number;
  /** Initial faults (latency, 451 rate, ...). Default none. */
  faults?: Partial<Faults>;
  /** Idle timeout of an SMTP session. Default 60 s. */
  socketTimeoutMs?: number;
  /** Clock for the rate, quota and ghost windows (tests move it forward). Default `Date.now`. */
  now?: () => number;
  /** Random source for latency ranges and the 451 rate. Default `Math.random`. */
  random?: () => number;
}

export interface ResolvedUser {
  address: string;
  password: string | undefined;
  tokens: readonly string[];
  limit: number;
  ratePerMinute: number;
  recipientsPerDay: number;
  mailboxQuotaBytes: number | undefined;
}

export interface ResolvedOptions {
  host: string;
  port: number;
  httpPort: number | false;
  hostname: string;
  limit: number;
  ratePerMinute: number;
  recipientsPerDay: number;
  mailboxQuotaBytes: number | undefined;
  users: ReadonlyMap<string, ResolvedUser>;
  anyUser: boolean;
  oauthOnly: boolean;
  validateToken: TokenValidator | undefined;
  apps: ReadonlyMap<string, ResolvedApp>;
  tokenLifetimeSeconds: number;
  graphConcurrency: number;
  graphRequestsPerTenMinutes: number;
  graphMaxRequestBytes: number;
  starttls: boolean;
  enforceSender: boolean;
  faults: Faults;
  socketTimeoutMs: number;
  now: () => number;
  random: () => number;
}

export const DEFAULT_HOSTNAME = 'EXSIM01.prod.exchange-sim.local';

/** Applies defaults and validates; throws ExchangeSimError(INVALID_OPTION) naming the bad option. */
export function resolveOptions(options: ExchangeSimOptions = {}): ResolvedOptions {
  const limit = checkInteger('limit', options.limit ?? 3, 1);
  const ratePerMinute = checkInteger('ratePerMinute', options.ratePerMinute ?? 30, 1);
  const recipientsPerDay = checkInteger('recipientsPerDay', options.recipientsPerDay ?? 10_000, 1);
  const mailboxQuotaBytes =
    options.mailboxQuotaBytes === undefined ? undefined : checkInteger('mailboxQuotaBytes', options.mailboxQuotaBytes, 0);
  const hostname = options.hostname ?? DEFAULT_HOSTNAME;
  if (!/^[A-Za-z0-9.-]+$/.test(hostname)) {
    throw new ExchangeSimError('INVALID_OPTION', `hostname must be a DNS name, got ${JSON.stringify(hostname)}`);
  }
  const users = new Map<string, ResolvedUser>();
  for (const user of options.users ?? []) {
    const address = user.address.trim().toLowerCase();
    if (!address.includes('@')) {
      throw new ExchangeSimError('INVALID_OPTION', `users: ${JSON.stringify(user.address)} is not an address`);
    }
    if (users.has(address)) throw new ExchangeSimError('INVALID_OPTION', `users: ${address} is listed twice`);
    users.set(address, {
      address,
      password: user.password,
      tokens: [...(user.tokens ?? [])],
      limit: checkInteger(`users[${address}].limit`, user.limit ?? limit, 1),
      ratePerMinute: checkInteger(`users[${address}].ratePerMinute`, user.ratePerMinute ?? ratePerMinute, 1),
      recipientsPerDay: checkInteger(`users[${address}].recipientsPerDay`, user.recipientsPerDay ?? recipientsPerDay, 1),
      mailboxQuotaBytes:
        user.mailboxQuotaBytes === undefined
          ? mailboxQuotaBytes
          : checkInteger(`users[${address}].mailboxQuotaBytes`, user.mailboxQuotaBytes, 0),
    });
  }
  const faultPatch = parseFaultPatch(options.faults ?? {}, 'INVALID_OPTION');
  const faults: Faults = { ...NO_FAULTS };
  for (const [key, value] of Object.entries(faultPatch)) {
    if (value !== null && value !== undefined) Object.assign(faults, { [key]: value });
  }
  return {
    host: options.host ?? '127.0.0.1',
    port: checkInteger('port', options.port ?? 0, 0, 65_535),
    httpPort: options.httpPort === false ? false : checkInteger('httpPort', options.httpPort ?? 0, 0, 65_535),
    hostname,
    limit,
    ratePerMinute,
    recipientsPerDay,
    mailboxQuotaBytes,
    users,
    anyUser: options.anyUser ?? false,
    oauthOnly: options.oauthOnly ?? false,
    validateToken: options.validateToken,
    apps: resolveApps(options.apps ?? []),
    tokenLifetimeSeconds: checkInteger('tokenLifetimeSeconds', options.tokenLifetimeSeconds ?? 3599, 1),
    graphConcurrency: checkInteger('graphConcurrency', options.graphConcurrency ?? 4, 1),
    graphRequestsPerTenMinutes: checkInteger('graphRequestsPerTenMinutes', options.graphRequestsPerTenMinutes ?? 10_000, 1),
    graphMaxRequestBytes: checkInteger('graphMaxRequestBytes', options.graphMaxRequestBytes ?? 4 * 1024 * 1024, 1),
    starttls: options.starttls ?? false,
    enforceSender: options.enforceSender ?? true,
    faults,
    socketTimeoutMs: checkInteger('socketTimeoutMs', options.socketTimeoutMs ?? 60_000, 1),
    now: options.now ?? Date.now,
    random: options.random ?? Math.random,
  };
}

/** The limits of a user that is not listed (accepted through `anyUser`). */
export function defaultUser(options: ResolvedOptions, address: string): ResolvedUser {
  return {
    address,
    password: undefined,
    tokens: [],
    limit: options.limit,
    ratePerMinute: options.ratePerMinute,
    recipientsPerDay: options.recipientsPerDay,
    mailboxQuotaBytes: options.mailboxQuotaBytes,
  };
}
