import type { z } from 'zod';
import { formatProblem, joinPath, type Problem } from './problem.js';

type Issue = z.core.$ZodIssue;
type UnionIssue = z.core.$ZodIssueInvalidUnion;
type ValueIssue = z.core.$ZodIssueInvalidValue;

export interface FormatIssuesOptions {
  /**
   * Quote the offending value after each message (`(got "abc")`). Needs the value parsed with
   * `{ reportInput: true }`. For API bodies only: config files hold secrets.
   */
  quoteInput?: boolean;
  /** Names a problem of the value as a whole (empty path); default `(root)`. */
  root?: string;
}

/** zod's text for a union that matched no option: says nothing about what would match. */
const PLAIN_UNION_MESSAGE = 'Invalid input';

/**
 * Turns zod issues into problems, each led by its full path: an unknown key is named by its own
 * path (`http.hots: unknown key`), a missing value is `required`, and a union says why it failed
 * (`auth.type: "passwd" is not one of oauth2, password`) instead of zod's bare "Invalid input".
 */
export function describeIssues(issues: readonly Issue[], options: FormatIssuesOptions = {}, prefix: readonly PropertyKey[] = []): Problem[] {
  return issues.flatMap((issue) => describeIssue(issue, options, [...prefix, ...issue.path]));
}

/** {@link describeIssues} as printable lines. */
export function formatIssues(issues: readonly Issue[], options: FormatIssuesOptions = {}): string[] {
  return describeIssues(issues, options).map(formatProblem);
}

function describeIssue(issue: Issue, options: FormatIssuesOptions, path: PropertyKey[]): Problem[] {
  const at = (where: PropertyKey[], message: string, got?: { value: unknown }): Problem => ({
    path: joinPath(where, options.root),
    message: options.quoteInput && got !== undefined && got.value !== undefined ? `${message} (got ${show(got.value)})` : message,
  });
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => at([...path, key], 'unknown key', { value: propertyOf(issue.input, key) }));
    case 'invalid_union':
      return describeUnion(issue, options, path) ?? [at(path, issue.message === PLAIN_UNION_MESSAGE ? 'matches none of the allowed forms' : issue.message, inputOf(issue))];
    case 'invalid_type':
      // zod's default text for an absent value; a schema's own message is kept.
      return [issue.message.endsWith('received undefined') ? at(path, 'required') : at(path, issue.message, inputOf(issue))];
    default:
      return [at(path, issue.message, inputOf(issue))];
  }
}

/**
 * A union of objects told apart by one literal key (`type: password | oauth2`): when no option's
 * literal matched, name the allowed values; when exactly one matched, report that option's own
 * problems. Undefined when the union has no such key (its own message is used).
 */
function describeUnion(issue: UnionIssue, options: FormatIssuesOptions, path: PropertyKey[]): Problem[] | undefined {
  if (issue.message !== PLAIN_UNION_MESSAGE) return undefined;
  const literalMisses = issue.errors.map((errors) => errors.find((e): e is ValueIssue => e.code === 'invalid_value' && e.path.length === 1));
  const keys = new Set(literalMisses.filter((miss) => miss !== undefined).map((miss) => miss.path[0]));
  if (keys.size !== 1) return undefined;
  const key = [...keys][0]!;
  const matched = issue.errors.filter((_, i) => literalMisses[i] === undefined);
  if (matched.length === 1) return describeIssues(matched[0]!, options, path);
  if (matched.length > 0) return undefined;
  const allowed = literalMisses.flatMap((miss) => miss!.values.map(String)).join(', ');
  // The given value is known when parsed with `reportInput` (zod leaves `input` out when absent).
  const first = literalMisses[0]!;
  const message = 'input' in first ? `${show(first.input)} is not one of ${allowed}` : `must be one of ${allowed}`;
  return [{ path: joinPath([...path, key], options.root), message }];
}

const inputOf = (issue: Issue): { value: unknown } | undefined => ('input' in issue ? { value: issue.input } : undefined);

function propertyOf(value: unknown, key: PropertyKey): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[key] : undefined;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
