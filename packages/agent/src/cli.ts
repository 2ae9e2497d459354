#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { readSpoolDir } from './config-loader.js';
import { checkConfig, deadLetterCommand, EXIT, runAgent } from './main.js';

const USAGE = `Usage:
  smtp-slots-agent --config <file.yaml|file.json>            run the agent (SIGTERM stops it gracefully)
  smtp-slots-agent --config <file> --check                   validate the config and exit (0 valid, 2 invalid)
  smtp-slots-agent --spool-dir <dir> dead-letters list [--json]
  smtp-slots-agent --spool-dir <dir> dead-letters retry [id...]  requeue (all when no id is given)
  smtp-slots-agent --spool-dir <dir> dead-letters purge <id...>  delete for good
  smtp-slots-agent --spool-dir <dir> dead-letters purge --all    delete every dead letter for good

dead-letters works on the spool files only: no Redis, no secrets. Instead of --spool-dir it takes
--config <file> and reads only spool.dir from it. A folder that is not a spool, purge without ids
or --all, and ids that are not dead letters exit 1 (the known ids are still processed).

Environment: SMTP_SLOTS_<KEY> overrides a config key, e.g. SMTP_SLOTS_REDIS_URL, SMTP_SLOTS_RELAY_PORT,
SMTP_SLOTS_MAILBOXES_0_UPSTREAM_AUTH_PASS. Config values may reference \${ENV_VAR} or file:/path.
`;

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      options: { config: { type: 'string', short: 'c' }, check: { type: 'boolean' }, json: { type: 'boolean' }, all: { type: 'boolean' }, 'spool-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
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
  if (positionals[0] === 'dead-letters') {
    const spoolDir = values['spool-dir'] ?? (values.config ? spoolDirFromConfig(values.config) : undefined);
    if (spoolDir === undefined) {
      if (!values.config) err(`dead-letters needs --spool-dir <dir> or --config <file>\n\n${USAGE}`);
      return EXIT.usage;
    }
    const options = { json: values.json ?? false, all: values.all ?? false };
    return deadLetterCommand(spoolDir, positionals[1] ?? 'list', positionals.slice(2), options, out, err);
  }
  if (!values.config) {
    err(`--config is required\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (positionals.length > 0) {
    err(`unknown command ${JSON.stringify(positionals[0])}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (values.check) return checkConfig(values.config, out, err);
  return runAgent(values.config);
}

/** Only spool.dir: listing dead letters must not need the mailboxes' secrets. */
function spoolDirFromConfig(file: string): string | undefined {
  const result = readSpoolDir(file);
  if (result.ok) return result.dir;
  err(`invalid config ${file}:`);
  for (const problem of result.problems) err(`  ${problem}`);
  return undefined;
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
