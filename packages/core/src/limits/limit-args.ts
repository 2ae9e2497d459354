import { InvalidArgumentError } from '../errors.js';

/** Argument checks shared by RateLimiter, RecipientLedger and MessageBudget. */
export function checkRate(perMinute: number, burst: number): void {
  if (!(perMinute > 0)) throw new InvalidArgumentError(`perMinute must be > 0 (got ${perMinute})`);
  if (!(Number.isInteger(burst) && burst >= 1)) throw new InvalidArgumentError(`burst must be an integer >= 1 (got ${burst})`);
}

export function checkRecipients(recipients: number, perDay: number): void {
  if (!(Number.isInteger(recipients) && recipients >= 1)) throw new InvalidArgumentError(`recipients must be an integer >= 1 (got ${recipients})`);
  if (!(Number.isInteger(perDay) && perDay >= 1)) throw new InvalidArgumentError(`perDay must be an integer >= 1 (got ${perDay})`);
}
