/** What went wrong, in a form callers can switch on (HTTP maps it to a status in one place). */
export type ExchangeSimErrorCode = 'INVALID_OPTION' | 'INVALID_REQUEST' | 'NOT_FOUND';

/** The one error type the simulator throws for bad options, bad admin requests and unknown routes. */
export class ExchangeSimError extends Error {
  readonly code: ExchangeSimErrorCode;

  constructor(code: ExchangeSimErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

/** Throws INVALID_OPTION/INVALID_REQUEST unless `value` is an integer within [min, max]. */
export function checkInteger(
  name: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
  code: ExchangeSimErrorCode = 'INVALID_OPTION',
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
    throw new ExchangeSimError(code, `${name} must be ${range}, got ${JSON.stringify(value)}`);
  }
  return value;
}
