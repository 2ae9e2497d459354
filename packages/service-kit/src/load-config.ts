import type { z } from 'zod';
import { readConfigDocument } from './config-document.js';
import { applyEnvOverrides } from './env-overrides.js';
import { describeIssues } from './format-issues.js';
import { formatProblem, type Problem } from './problem.js';
import { resolveReferences } from './references.js';

export type ConfigResult<T> = { ok: true; config: T } | { ok: false; problems: string[] };

/** Validates a config object whose references are already resolved, and applies defaults. */
export function parseConfig<S extends z.ZodType>(schema: S, input: unknown): ConfigResult<z.output<S>> {
  const checked = checkSchema(schema, input);
  return checked.ok ? checked : { ok: false, problems: checked.problems.map(formatProblem) };
}

function checkSchema<S extends z.ZodType>(schema: S, input: unknown): { ok: true; config: z.output<S> } | { ok: false; problems: Problem[] } {
  // reportInput lets a union name the value it refused (`"passwd" is not one of ...`).
  const parsed = schema.safeParse(input, { reportInput: true });
  return parsed.success ? { ok: true, config: parsed.data } : { ok: false, problems: describeIssues(parsed.error.issues) };
}

/**
 * Resolves secret references in a document and validates it. Every problem is listed: those
 * found before (`earlier`, e.g. bad flags), each unresolvable reference, and every schema problem
 * except those at a reference's own path (its value is still the unresolved text, and the missing
 * secret is the one thing to say about it).
 */
export function validateConfig<S extends z.ZodType>(schema: S, document: unknown, env: NodeJS.ProcessEnv, earlier: readonly Problem[] = []): ConfigResult<z.output<S>> {
  const references = resolveReferences(document, env);
  const checked = checkSchema(schema, references.value);
  const unresolved = references.problems.map((problem) => problem.path);
  const schemaProblems = checked.ok
    ? []
    : checked.problems.filter((problem) => !unresolved.some((path) => problem.path === path || problem.path.startsWith(`${path}.`)));
  const problems = [...earlier, ...references.problems, ...schemaProblems];
  if (problems.length > 0 || !checked.ok) return { ok: false, problems: problems.map(formatProblem) };
  return checked;
}

export interface LoadConfigOptions<S extends z.ZodType> {
  schema: S;
  /** `agent`, `coordinator`: named in the problem for a stray `SMTP_SLOTS_*` variable. */
  service: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * A service's whole config load: the YAML or JSON file, then `SMTP_SLOTS_*` overrides, then
 * secret references, then the schema. Nothing throws; every problem is listed with its path.
 */
export function loadConfigFile<S extends z.ZodType>(file: string, options: LoadConfigOptions<S>): ConfigResult<z.output<S>> {
  const read = readConfigDocument(file);
  if (!read.ok) return { ok: false, problems: read.problems.map(formatProblem) };
  return resolveConfig(read.document, options);
}

/** {@link loadConfigFile} for a document already in memory (overrides, references, schema). */
export function resolveConfig<S extends z.ZodType>(document: Record<string, unknown>, options: LoadConfigOptions<S>): ConfigResult<z.output<S>> {
  const env = options.env ?? process.env;
  const merged = structuredClone(document);
  const overrides = applyEnvOverrides(merged, options.schema, env, { service: options.service });
  return validateConfig(options.schema, merged, env, overrides);
}
