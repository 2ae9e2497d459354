import { formatIssues } from '@smtp-slots/service-kit';
import type { z } from 'zod';
import { InvalidInputError } from '../errors.js';

/**
 * Parses `value` with `schema` or throws an InvalidInputError naming each bad field and the
 * value it had, e.g. `limit: must be an integer between 1 and 100 (got "abc")`.
 */
export function validate<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  const parsed = schema.safeParse(value, { reportInput: true });
  if (parsed.success) return parsed.data;
  throw new InvalidInputError(`invalid ${where}: ${formatIssues(parsed.error.issues, { quoteInput: true, root: where }).join('; ')}`);
}
