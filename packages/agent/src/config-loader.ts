import { envNameToPath as schemaEnvNameToPath, ENV_PREFIX, formatProblem, loadConfigFile, readConfigDocument, resolveConfig, type ConfigResult } from '@smtp-slots/service-kit';
import { agentConfigSchema, type AgentConfig } from './config.js';

export { ENV_PREFIX };

export type LoadResult = ConfigResult<AgentConfig>;

const loading = (env: NodeJS.ProcessEnv) => ({ schema: agentConfigSchema, service: 'agent', env });

/**
 * Reads a YAML or JSON config file, applies `SMTP_SLOTS_*` overrides, resolves secret references
 * and validates. Every problem is listed with its path; nothing throws.
 */
export function loadAgentConfig(file: string, env: NodeJS.ProcessEnv = process.env): LoadResult {
  return loadConfigFile(file, loading(env));
}

/** Applies env overrides and secret references to a config object, then validates it. */
export function resolveAgentConfig(document: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): LoadResult {
  return resolveConfig(document, loading(env));
}

/** The agent config path a `SMTP_SLOTS_` variable (prefix removed) sets: `RELAY_PORT` → `relay.port`. */
export const envNameToPath = (rest: string): Array<string | number> | undefined => schemaEnvNameToPath(agentConfigSchema, rest);

export type SpoolDirResult = { ok: true; dir: string } | { ok: false; problems: string[] };

/**
 * Reads only `spool.dir` (or `SMTP_SLOTS_SPOOL_DIR`) from a config file, without resolving secret
 * references or validating the rest: the dead-letters CLI must work without the mailboxes' secrets.
 */
export function readSpoolDir(file: string, env: NodeJS.ProcessEnv = process.env): SpoolDirResult {
  const fromEnv = env[`${ENV_PREFIX}SPOOL_DIR`];
  const read = readConfigDocument(file);
  if (!read.ok) return { ok: false, problems: read.problems.map(formatProblem) };
  if (fromEnv !== undefined && fromEnv !== '') return { ok: true, dir: fromEnv };
  const dir = (read.document['spool'] as { dir?: unknown } | null | undefined)?.dir;
  if (dir === undefined) {
    return { ok: true, dir: (agentConfigSchema.shape.spool.parse({}) as { dir: string }).dir };
  }
  if (typeof dir !== 'string' || dir === '') return { ok: false, problems: [`spool.dir: must be a non-empty string, got ${JSON.stringify(dir)}`] };
  return { ok: true, dir };
}
