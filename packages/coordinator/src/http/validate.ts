import type { z } from 'zod';
import { InvalidInputError } from '../errors.js';

/**
 * Parses `value` with `schema` or throws an InvalidInputError naming each bad field and the
 * value it had, e.g. `limit: must be an integer between 1 and 100 (got "abc")`.
 */
export function validate<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.join('.') : where;
    const got = valueAt(value, issue.path);
    return got === undefined ? `${field}: ${issue.message}` : `${field}: ${issue.message} (got ${show(got)})`;
  });
  throw new InvalidInputError(`invalid ${where}: ${problems.join('; ')}`);
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
