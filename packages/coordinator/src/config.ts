import { parseArgs } from 'node:util';
import { z } from 'zod';
import { redisConnectionSchema } from '@smtp-slots/core';
import { applyEnvOverrides, parseConfig as parseSchema, readConfigDocument, validateConfig, type Problem } from '@smtp-slots/service-kit';

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
        /**
         * Above this many registered mailboxes a scrape answers at once with the state read
         * after the previous scrape (its age in smtp_slots_coordinator_state_age_seconds) and
         * reads the next one in the background, so a scrape stays fast at any size.
         */
        cacheAboveMailboxes: z.number().int().min(0).default(2_000),
        /** A cached state older than this is not served: the scrape reads afresh. */
        cacheMaxAgeMs: z.number().int().min(0).max(3_600_000).default(120_000),
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
                    \${NAME} in a string is replaced by the environment variable NAME, \${file:/path} and
                    a whole value file:/path by the file's content
  --redis <url>     Redis URL, replaces the file's redis section (default redis://127.0.0.1:6379)
  --port <port>     HTTP port (default 8080)
  --host <host>     HTTP bind address (default 127.0.0.1)
  --check           validate the configuration, print a summary and exit (0 valid, 2 invalid)
  --help            show this text

Environment:
  SMTP_SLOTS_ADMIN_TOKEN   Bearer token that enables the admin endpoints (at least 16 characters)
  SMTP_SLOTS_<KEY>         overrides a config key, e.g. SMTP_SLOTS_HTTP_PORT, SMTP_SLOTS_REDIS_URL
                           (flags win over variables, variables over the file; empty means unset)
`;

/** Validates a config object (e.g. from tests) and applies defaults. */
export function parseConfig(input: unknown): ConfigResult {
  return parseSchema(coordinatorConfigSchema, input);
}

/**
 * Builds the config from CLI arguments, `SMTP_SLOTS_*` variables and an optional config file, in
 * that order of precedence. Every problem is listed; nothing is thrown for bad input.
 */
export async function loadConfig(argv: string[], env: NodeJS.ProcessEnv): Promise<ConfigResult> {
  let args: ReturnType<typeof parseCli>;
  try {
    args = parseCli(argv);
  } catch (error) {
    return { ok: false, problems: [(error as Error).message] };
  }
  if (args.help) return { ok: true, help: true, usage: USAGE };

  const problems: Problem[] = [];
  let document: Record<string, unknown> = {};
  if (args.config !== undefined) {
    const read = readConfigDocument(args.config);
    if (read.ok) document = read.document;
    else problems.push(...read.problems);
  }
  if ('adminToken' in document) {
    problems.push({ path: 'adminToken', message: 'set it through SMTP_SLOTS_ADMIN_TOKEN, not the config file' });
    delete document['adminToken'];
  }
  // SMTP_SLOTS_ADMIN_TOKEN is the override of `adminToken`, like SMTP_SLOTS_HTTP_PORT of `http.port`.
  problems.push(...applyEnvOverrides(document, coordinatorConfigSchema, env, { service: 'coordinator' }));

  // The flag names a whole deployment: it replaces the file's section instead of merging into it.
  if (args.redis !== undefined) document['redis'] = { url: args.redis };
  const http = { ...asObject(document['http']) };
  if (args.host !== undefined) http['host'] = args.host;
  if (args.port !== undefined) {
    if (/^\d+$/.test(args.port)) http['port'] = Number(args.port);
    else problems.push({ path: '--port', message: `expected a number, got "${args.port}"` });
  }
  if (Object.keys(http).length > 0) document['http'] = http;

  const result = validateConfig(coordinatorConfigSchema, document, env, problems);
  if (!result.ok) return result;
  return args.check ? { ...result, check: true } : result;
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

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
