import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { agentConfigSchema, parseAgentConfig, type AgentConfig } from './config.js';

/** Environment variables that override config keys: `SMTP_SLOTS_RELAY_PORT` sets `relay.port`. */
export const ENV_PREFIX = 'SMTP_SLOTS_';

export type LoadResult = { ok: true; config: AgentConfig } | { ok: false; problems: string[] };

/**
 * Reads a YAML or JSON config file, applies `SMTP_SLOTS_*` overrides, resolves secret references
 * and validates. Every problem is listed with its path; nothing throws.
 */
export function loadAgentConfig(file: string, env: NodeJS.ProcessEnv = process.env): LoadResult {
  const read = readConfigDocument(file);
  if (!read.ok) return read;
  let document = read.document;
  if (document === null || document === undefined) document = {};
  if (typeof document !== 'object' || Array.isArray(document)) {
    return { ok: false, problems: [`${file}: the top level must be a mapping of keys`] };
  }
  return resolveAgentConfig(document as Record<string, unknown>, env);
}

/** Reads and parses a YAML or JSON file; a problem names the file. */
function readConfigDocument(file: string): { ok: true; document: unknown } | { ok: false; problems: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return { ok: false, problems: [`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`] };
  }
  let document: unknown;
  try {
    document = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    return { ok: false, problems: [`${file}: not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'} (${(error as Error).message.split('\n')[0]})`] };
  }
  return { ok: true, document };
}

export type SpoolDirResult = { ok: true; dir: string } | { ok: false; problems: string[] };

/**
 * Reads only `spool.dir` (or `SMTP_SLOTS_SPOOL_DIR`) from a config file, without resolving secret
 * references or validating the rest: the dead-letters CLI must work without the mailboxes' secrets.
 */
export function readSpoolDir(file: string, env: NodeJS.ProcessEnv = process.env): SpoolDirResult {
  const fromEnv = env[`${ENV_PREFIX}SPOOL_DIR`];
  const read = readConfigDocument(file);
  if (!read.ok) return read;
  const document = read.document;
  if (fromEnv !== undefined && fromEnv !== '') return { ok: true, dir: fromEnv };
  const spool = (document as { spool?: { dir?: unknown } } | null)?.spool;
  const dir = spool?.dir;
  if (dir === undefined) {
    return { ok: true, dir: (agentConfigSchema.shape.spool.parse({}) as { dir: string }).dir };
  }
  if (typeof dir !== 'string' || dir === '') return { ok: false, problems: [`spool.dir: must be a non-empty string, got ${JSON.stringify(dir)}`] };
  return { ok: true, dir };
}

/** Applies env overrides and secret references to a config object, then validates it. */
export function resolveAgentConfig(document: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): LoadResult {
  const problems: string[] = [];
  const merged = structuredClone(document);
  applyEnvOverrides(merged, env, problems);
  const resolved = resolveSecrets(merged, [], env, problems);
  if (problems.length > 0) return { ok: false, problems };
  return parseAgentConfig(resolved);
}

// ---- env overrides --------------------------------------------------------------------------

type Def = { type: string; shape?: Record<string, unknown>; innerType?: unknown; in?: unknown; element?: unknown; options?: unknown[] };
const defOf = (schema: unknown): Def => (schema as { _zod: { def: Def } })._zod.def;

/** The object shapes or array element reachable from a schema, through defaults/optional/unions. */
function unwrap(schema: unknown): unknown[] {
  const def = defOf(schema);
  if (def.type === 'object' || def.type === 'array') return [schema];
  if (def.type === 'union') return (def.options ?? []).flatMap(unwrap);
  const inner = def.innerType ?? def.in;
  return inner ? unwrap(inner) : [];
}

const toEnvWord = (key: string): string => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/**
 * Turns `RELAY_MAX_MESSAGE_BYTES` into `['relay', 'maxMessageBytes']` by matching the schema's own
 * key names level by level (array levels take an index: `MAILBOXES_0_UPSTREAM_AUTH_PASS`).
 */
export function envNameToPath(rest: string): Array<string | number> | undefined {
  const walk = (schemas: unknown[], remaining: string): Array<string | number> | undefined => {
    if (remaining === '') return [];
    for (const schema of schemas) {
      const def = defOf(schema);
      if (def.type === 'array') {
        const match = /^(\d+)(?:_|$)/.exec(remaining);
        if (!match) continue;
        const tail = walk(unwrap(def.element), remaining.slice(match[0].length));
        if (tail) return [Number(match[1]), ...tail];
        continue;
      }
      const keys = Object.keys(def.shape ?? {}).sort((a, b) => b.length - a.length);
      for (const key of keys) {
        const word = toEnvWord(key);
        if (remaining === word) return [key];
        if (remaining.startsWith(`${word}_`)) {
          const tail = walk(unwrap(def.shape![key]), remaining.slice(word.length + 1));
          if (tail) return [key, ...tail];
        }
      }
    }
    return undefined;
  };
  return walk(unwrap(agentConfigSchema), rest);
}

function applyEnvOverrides(target: Record<string, unknown>, env: NodeJS.ProcessEnv, problems: string[]): void {
  for (const [name, value] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
    const rest = name.slice(ENV_PREFIX.length);
    const path = envNameToPath(rest);
    if (!path) {
      // SMTP_SLOTS_ADMIN_TOKEN and friends belong to other services: only flag names that look like ours.
      if (/^(AGENT|REDIS|RELAY|SPOOL|METRICS|SLOTS|SENDER|MAILBOXES|HEARTBEAT|SHUTDOWN|LOG)_?/.test(rest)) {
        problems.push(`${name}: does not name an agent config key`);
      }
      continue;
    }
    let node: Record<string | number, unknown> = target;
    for (const [i, key] of path.entries()) {
      if (i === path.length - 1) {
        node[key] = value;
        break;
      }
      const next = node[key];
      if (typeof next !== 'object' || next === null) node[key] = typeof path[i + 1] === 'number' ? [] : {};
      node = node[key] as Record<string | number, unknown>;
    }
  }
}

// ---- secret references ------------------------------------------------------------------------

/**
 * `${NAME}` inside a string is replaced by the environment variable, `${file:/path}` by the file's
 * content, and a whole value `file:/path` by the file's content (trailing newline trimmed).
 */
function resolveSecrets(value: unknown, path: Array<string | number>, env: NodeJS.ProcessEnv, problems: string[]): unknown {
  if (Array.isArray(value)) return value.map((item, i) => resolveSecrets(item, [...path, i], env, problems));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveSecrets(v, [...path, k], env, problems)]));
  }
  if (typeof value !== 'string') return value;
  const where = path.join('.');
  const readSecretFile = (file: string): string => {
    try {
      return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      problems.push(`${where}: cannot read secret file ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      return '';
    }
  };
  if (value.startsWith('file:')) return readSecretFile(value.slice('file:'.length));
  return value.replace(/\$\{([^}]+)\}/g, (_whole, ref: string) => {
    if (ref.startsWith('file:')) return readSecretFile(ref.slice('file:'.length));
    const resolved = env[ref];
    if (resolved === undefined) {
      problems.push(`${where}: environment variable ${ref} is not set`);
      return '';
    }
    return resolved;
  });
}
