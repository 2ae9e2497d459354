import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { redisConnectionSchema } from '@smtp-slots/core';

/**
 * The coordinator's only config schema. Defaults live here and nowhere else. Every object is
 * strict, so a misspelt key (`http: { hots: ... }`) is an error instead of a silent default.
 */
export const coordinatorConfigSchema = z
  .object({
    /**
     * The Redis deployment holding the slot state, the same one the agents use: one server
     * (`url`), a Sentinel-monitored primary (`sentinels` + `name`) or a Cluster (`cluster`).
     */
    redis: redisConnectionSchema.default({ url: 'redis://127.0.0.1:6379' }),
    http: z
      .object({
        /** Loopback by default: put a reverse proxy with TLS in front for remote access. */
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65_535).default(8080),
      })
      .strict()
      .prefault({}),
    /**
     * Bearer token for admin actions (config, pause, resume, force-release). Taken from
     * SMTP_SLOTS_ADMIN_TOKEN; when absent, admin endpoints answer 403.
     */
    adminToken: z.string().min(16, 'must be at least 16 characters').optional(),
    api: z
      .object({
        /** Default and maximum page size of GET /api/mailboxes. */
        defaultPageSize: z.number().int().min(1).max(1000).default(50),
        maxPageSize: z.number().int().min(1).max(1000).default(500),
      })
      .strict()
      .prefault({}),
    events: z
      .object({
        /** SSE comment interval; keeps proxies from closing idle streams. */
        heartbeatMs: z.number().int().min(100).max(300_000).default(15_000),
      })
      .strict()
      .prefault({}),
    metrics: z
      .object({
        /**
         * Mailboxes exported with their own `mailbox` label. The rest are summed into
         * `mailbox="_other"` so a scrape stays bounded at any number of mailboxes.
         */
        maxMailboxes: z.number().int().min(0).max(10_000).default(100),
      })
      .strict()
      .prefault({}),
    /**
     * SIGTERM/SIGINT: the coordinator exits within this, even when Redis does not answer
     * (requests still open get half of it, then their sockets are closed).
     */
    shutdownTimeoutMs: z.number().int().min(0).max(600_000).default(10_000),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();

export type CoordinatorConfig = z.infer<typeof coordinatorConfigSchema>;
/** Config as written in a file or passed to `createApp` (defaults not yet applied). */
export type CoordinatorConfigInput = z.input<typeof coordinatorConfigSchema>;

export type ConfigResult =
  | { ok: true; config: CoordinatorConfig; help?: false; check?: boolean }
  | { ok: true; help: true; usage: string }
  | { ok: false; problems: string[] };

export const USAGE = `Usage: smtp-slots-coordinator [--config <file.yaml|file.json>] [--redis <url>] [--port <port>] [--host <host>]

  --config <file>   YAML or JSON config (keys: redis.*, http.host, http.port, api.*, events.*, metrics.*, shutdownTimeoutMs, logLevel);
                    \${NAME} in a string is replaced by the environment variable NAME
  --redis <url>     Redis URL, replaces the file's redis section (default redis://127.0.0.1:6379)
  --port <port>     HTTP port (default 8080)
  --host <host>     HTTP bind address (default 127.0.0.1)
  --check           validate the configuration, print a summary and exit (0 valid, 2 invalid)
  --help            show this text

Environment:
  SMTP_SLOTS_ADMIN_TOKEN   Bearer token that enables the admin endpoints (at least 16 characters)
`;

/** Validates a config object (e.g. from tests) and applies defaults. */
export function parseConfig(input: unknown): ConfigResult {
  const parsed = coordinatorConfigSchema.safeParse(input);
  if (parsed.success) return { ok: true, config: parsed.data };
  return { ok: false, problems: parsed.error.issues.flatMap(describeProblems) };
}

/** One line per problem, led by its path; each unknown key is named by its full path (`http.hots`). */
function describeProblems(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `${[...issue.path, key].join('.')}: unknown key`);
  return [`${issue.path.join('.') || '(root)'}: ${describeIssue(issue)}`];
}

/** zod reports a value matching no shape of a union as just "Invalid input"; name the shapes. */
function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_union' && issue.path.join('.') === 'redis') {
    return 'must be exactly one of { url }, { sentinels, name } or { cluster } (with optional username, password, tls)';
  }
  return issue.message;
}

/**
 * Builds the config from CLI arguments, an optional config file and the environment, in that
 * order of precedence. Every problem is listed; nothing is thrown for bad input.
 */
export async function loadConfig(argv: string[], env: NodeJS.ProcessEnv): Promise<ConfigResult> {
  let args: ReturnType<typeof parseCli>;
  try {
    args = parseCli(argv);
  } catch (error) {
    return { ok: false, problems: [(error as Error).message] };
  }
  if (args.help) return { ok: true, help: true, usage: USAGE };

  const problems: string[] = [];
  let fromFile: Record<string, unknown> = {};
  if (args.config !== undefined) {
    try {
      const text = await readFile(args.config, 'utf8');
      const value: unknown = extname(args.config) === '.json' ? JSON.parse(text) : parseYaml(text);
      if (value !== null && value !== undefined) {
        if (typeof value !== 'object' || Array.isArray(value)) problems.push(`${args.config}: must contain an object`);
        else fromFile = expandEnv(value, [], env, problems) as Record<string, unknown>;
      }
    } catch (error) {
      problems.push(`${args.config}: ${(error as Error).message}`);
    }
  }

  const merged: Record<string, unknown> = { ...fromFile };
  // The flag names a whole deployment: it replaces the file's section instead of merging into it.
  if (args.redis !== undefined) merged['redis'] = { url: args.redis };
  const http = { ...asObject(fromFile['http']) };
  if (args.host !== undefined) http['host'] = args.host;
  if (args.port !== undefined) {
    const port = /^\d+$/.test(args.port) ? Number(args.port) : NaN;
    if (Number.isNaN(port)) problems.push(`--port: expected a number, got "${args.port}"`);
    else http['port'] = port;
  }
  if (Object.keys(http).length > 0) merged['http'] = http;
  if ('adminToken' in fromFile) problems.push('adminToken: set it through SMTP_SLOTS_ADMIN_TOKEN, not the config file');
  const token = env['SMTP_SLOTS_ADMIN_TOKEN'];
  if (token !== undefined && token !== '') merged['adminToken'] = token;
  else delete merged['adminToken'];

  const result = parseConfig(merged);
  if (!result.ok) return { ok: false, problems: [...problems, ...result.problems] };
  if (problems.length > 0) return { ok: false, problems };
  return args.check && !result.help ? { ...result, check: true } : result;
}

function parseCli(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      config: { type: 'string', short: 'c' },
      redis: { type: 'string' },
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      check: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  return values;
}

/** Replaces `${NAME}` in every string of the file (e.g. a Redis password) by the environment variable. */
function expandEnv(value: unknown, path: string[], env: NodeJS.ProcessEnv, problems: string[]): unknown {
  if (Array.isArray(value)) return value.map((item, i) => expandEnv(item, [...path, String(i)], env, problems));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, expandEnv(child, [...path, key], env, problems)]));
  }
  if (typeof value !== 'string') return value;
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole: string, name: string) => {
    const resolved = env[name];
    if (resolved !== undefined) return resolved;
    problems.push(`${path.join('.')}: environment variable ${name} is not set`);
    return whole;
  });
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
