import { ExchangeSimError, checkInteger } from './errors.js';

/** Per-message latency: a fixed number of milliseconds or a uniform range [min, max]. */
export type Latency = number | readonly [min: number, max: number];

/** Injected misbehaviour. Set server-wide, or per user (a user's value wins over the global one). */
export interface Faults {
  /** Every submission is answered `554 5.2.2 mailbox full; ...`. */
  mailboxFull: boolean;
  /** Chance (0..1) that a message is answered `451 4.3.111` instead of being accepted. */
  transientRate: number;
  /** The next N messages are answered `421 4.3.2` and the server closes the connection. */
  disconnectNext: number;
  /** The next N messages are accepted and recorded, then the connection is cut before the 250 is sent. */
  dropAfterAcceptNext: number;
  /** Delay before the reply to the end of DATA. */
  latencyMs: Latency;
  /** A session that drops without QUIT keeps counting toward the user's concurrency this long. */
  ghostMs: number;
  /** AUTH LOGIN/PLAIN is answered `550 5.7.30` (the tenant turned Basic authentication off); XOAUTH2 still works. */
  basicAuthDisabled: boolean;
  /** Every AUTH is answered `535 5.7.139` (SMTP AUTH disabled for the tenant or mailbox). */
  smtpAuthDisabled: boolean;
  /** Graph sendMail requests another client of the same app keeps in flight for the mailbox (they count toward MailboxConcurrency). */
  graphOutsideInFlight: number;
  /** Every message is refused at the end of DATA with `554 5.6.0` (content Exchange cannot convert). */
  contentRejected: boolean;
  /** These recipient addresses (case-insensitive) are refused at RCPT TO with `550 5.1.1`. */
  unknownRecipients: readonly string[];
}

/** A change to the faults; `null` removes a user's override (or restores the global default). */
export type FaultPatch = { [K in keyof Faults]?: Faults[K] | null };

export const NO_FAULTS: Readonly<Faults> = Object.freeze({
  mailboxFull: false,
  transientRate: 0,
  disconnectNext: 0,
  dropAfterAcceptNext: 0,
  latencyMs: 0,
  ghostMs: 0,
  basicAuthDisabled: false,
  smtpAuthDisabled: false,
  graphOutsideInFlight: 0,
  contentRejected: false,
  unknownRecipients: [],
});

const FAULT_KEYS = Object.keys(NO_FAULTS) as (keyof Faults)[];

/** Validates an untrusted fault patch (from options or the HTTP admin API). */
export function parseFaultPatch(input: unknown, code: 'INVALID_OPTION' | 'INVALID_REQUEST'): FaultPatch {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ExchangeSimError(code, 'faults must be an object');
  }
  const patch: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (key === 'user') continue;
    if (!FAULT_KEYS.includes(key as keyof Faults)) {
      throw new ExchangeSimError(code, `unknown fault "${key}" (known: ${FAULT_KEYS.join(', ')})`);
    }
    patch[key] = value === null ? null : checkFault(key as keyof Faults, value, code);
  }
  return patch as FaultPatch;
}

function checkFault(key: keyof Faults, value: unknown, code: 'INVALID_OPTION' | 'INVALID_REQUEST'): unknown {
  switch (key) {
    case 'contentRejected':
    case 'mailboxFull':
    case 'basicAuthDisabled':
    case 'smtpAuthDisabled':
      if (typeof value !== 'boolean') throw new ExchangeSimError(code, `${key} must be a boolean, got ${JSON.stringify(value)}`);
      return value;
    case 'unknownRecipients':
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.length > 0)) {
        throw new ExchangeSimError(code, `unknownRecipients must be an array of addresses, got ${JSON.stringify(value)}`);
      }
      return value.map((v: string) => v.toLowerCase());
    case 'transientRate':
      if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
        throw new ExchangeSimError(code, `transientRate must be a number from 0 to 1, got ${JSON.stringify(value)}`);
      }
      return value;
    case 'latencyMs':
      return parseLatency(value, code);
    default:
      return checkInteger(key, value, 0, Number.MAX_SAFE_INTEGER, code);
  }
}

/** Accepts `20` or `[10, 50]`. */
export function parseLatency(value: unknown, code: 'INVALID_OPTION' | 'INVALID_REQUEST' = 'INVALID_OPTION'): Latency {
  if (Array.isArray(value) && value.length === 2) {
    const min = checkInteger('latencyMs[0]', value[0], 0, Number.MAX_SAFE_INTEGER, code);
    const max = checkInteger('latencyMs[1]', value[1], min, Number.MAX_SAFE_INTEGER, code);
    return [min, max];
  }
  return checkInteger('latencyMs', value, 0, Number.MAX_SAFE_INTEGER, code);
}

/** The current faults and the per-message decisions drawn from them. */
export class FaultState {
  #global: Faults;
  readonly #defaults: Faults;
  readonly #perUser = new Map<string, Partial<Faults>>();
  readonly #random: () => number;

  constructor(initial: Faults, random: () => number) {
    this.#defaults = { ...initial };
    this.#global = { ...initial };
    this.#random = random;
  }

  /** The faults in effect for `user` (or the global ones). */
  get(user?: string): Faults {
    const own = user === undefined ? undefined : this.#perUser.get(user);
    return { ...this.#global, ...own };
  }

  /** Applies a validated patch globally or to one user; returns what is now in effect there. */
  set(patch: FaultPatch, user?: string): Faults {
    if (user === undefined) {
      for (const key of FAULT_KEYS) {
        const value = patch[key];
        if (value === undefined) continue;
        Object.assign(this.#global, { [key]: value === null ? this.#defaults[key] : value });
      }
      return this.get();
    }
    const own = { ...this.#perUser.get(user) };
    for (const key of FAULT_KEYS) {
      const value = patch[key];
      if (value === undefined) continue;
      if (value === null) delete own[key];
      else Object.assign(own, { [key]: value });
    }
    if (Object.keys(own).length === 0) this.#perUser.delete(user);
    else this.#perUser.set(user, own);
    return this.get(user);
  }

  /** Users that have overrides, with those overrides. */
  overrides(): Record<string, Partial<Faults>> {
    return Object.fromEntries(this.#perUser);
  }

  latencyFor(user: string): number {
    const latency = this.get(user).latencyMs;
    if (typeof latency === 'number') return latency;
    const [min, max] = latency;
    return min + Math.floor(this.#random() * (max - min + 1));
  }

  rollTransient(user: string): boolean {
    const rate = this.get(user).transientRate;
    return rate > 0 && this.#random() < rate;
  }

  /** Whether `recipient` is refused at RCPT TO for sessions of `user`. */
  isUnknownRecipient(user: string, recipient: string): boolean {
    return this.get(user).unknownRecipients.includes(recipient.toLowerCase());
  }

  takeDisconnect(user: string): boolean {
    return this.#take(user, 'disconnectNext');
  }

  takeDropAfterAccept(user: string): boolean {
    return this.#take(user, 'dropAfterAcceptNext');
  }

  /** Consumes one unit of a "next N" counter, from the user's override if it has one. */
  #take(user: string, key: 'disconnectNext' | 'dropAfterAcceptNext'): boolean {
    const own = this.#perUser.get(user);
    const holder: Partial<Faults> = own?.[key] !== undefined ? own : this.#global;
    const left = holder[key] ?? 0;
    if (left <= 0) return false;
    holder[key] = left - 1;
    return true;
  }
}
