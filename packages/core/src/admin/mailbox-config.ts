import { InvalidArgumentError } from '../errors.js';
import { DEFAULT_MAILBOX_CONFIG, type MailboxConfig } from '../types.js';

/** The config fields of a mailbox's state hash (the Lua side lists them in includes/config.lua). */
export const CONFIG_FIELDS = ['limit', 'ratePerMinute', 'recipientsPerDay', 'paused', 'pauseReason'] as const;

/** Reads a config hash as stored in Redis (missing fields take the defaults). */
export function parseMailboxConfig(hash: Record<string, string>, defaults: Partial<MailboxConfig> = {}): MailboxConfig {
  const base = { ...DEFAULT_MAILBOX_CONFIG, ...defaults };
  const number = (field: string, fallback: number) => {
    const value = Number(hash[field]);
    return hash[field] !== undefined && Number.isFinite(value) ? value : fallback;
  };
  const config: MailboxConfig = {
    limit: number('limit', base.limit),
    ratePerMinute: number('ratePerMinute', base.ratePerMinute),
    recipientsPerDay: number('recipientsPerDay', base.recipientsPerDay),
    paused: hash['paused'] === '1',
  };
  if (config.paused && hash['pauseReason']) config.pauseReason = hash['pauseReason'];
  return config;
}

/** Rejects values that would break the scripts (fractional or non-positive limits...). */
export function validateConfigPatch(patch: Partial<MailboxConfig>): void {
  const positiveInt = (field: 'limit' | 'ratePerMinute' | 'recipientsPerDay') => {
    const value = patch[field];
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
      throw new InvalidArgumentError(`${field} must be an integer >= 1 (got ${String(value)})`);
    }
  };
  positiveInt('limit');
  positiveInt('ratePerMinute');
  positiveInt('recipientsPerDay');
}
