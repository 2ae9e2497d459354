#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { checkConfig, deadLetterCommand, EXIT, runAgent } from './main.js';

const USAGE = `Usage:
  smtp-slots-agent --config <file.yaml|file.json>            run the agent (SIGTERM stops it gracefully)
  smtp-slots-agent --config <file> --check                   validate the config and exit (0 valid, 2 invalid)
  smtp-slots-agent --config <file> dead-letters list [--json]
  smtp-slots-agent --config <file> dead-letters retry [id...] requeue (all when no id is given)
  smtp-slots-agent --config <file> dead-letters purge [id...] delete for good (all when no id is given)

Environment: SMTP_SLOTS_<KEY> overrides a config key, e.g. SMTP_SLOTS_REDIS_URL, SMTP_SLOTS_RELAY_PORT,
SMTP_SLOTS_MAILBOXES_0_UPSTREAM_AUTH_PASS. Config values may reference \${ENV_VAR} or file:/path.
`;

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      options: { config: { type: 'string', short: 'c' }, check: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
    });
  } catch (error) {
    err(`${(error as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out(USAGE);
    return EXIT.ok;
  }
  if (!values.config) {
    err(`--config is required\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (positionals[0] === 'dead-letters') {
    return deadLetterCommand(values.config, positionals[1] ?? 'list', positionals.slice(2), values.json ?? false, out, err);
  }
  if (positionals.length > 0) {
    err(`unknown command ${JSON.stringify(positionals[0])}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (values.check) return checkConfig(values.config, out, err);
  return runAgent(values.config);
}

main().then(
  (code) => {
    process.exitCode = code;
    // Open handles (sockets being torn down) must not keep a stopped agent alive.
    setTimeout(() => process.exit(code), 500).unref();
  },
  (error: unknown) => {
    err(`smtp-slots-agent failed: ${(error as Error).stack ?? String(error)}`);
    process.exit(EXIT.failed);
  },
);
