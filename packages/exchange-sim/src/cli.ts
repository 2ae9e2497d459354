#!/usr/bin/env node
import { CliUsageError, USAGE, parseCliArgs } from './cli-args.js';
import { startExchangeSim } from './exchange-sim.js';

/** `exchange-sim`: runs the simulator until SIGTERM/SIGINT. Exit 2 on a bad flag, 1 if it cannot start. */
async function main(argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof parseCliArgs>;
  try {
    parsed = parseCliArgs(argv);
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    process.stderr.write(`exchange-sim: ${error.message}\nRun "exchange-sim --help" for the list of flags.\n`);
    process.exit(2);
  }
  if (parsed.help) {
    process.stdout.write(USAGE);
    return;
  }
  const sim = await startExchangeSim(parsed.options);
  // One JSON line that scripts can wait for and read the ports from.
  process.stdout.write(
    `${JSON.stringify({
      event: 'listening',
      host: sim.host,
      smtpPort: sim.smtpPort,
      httpPort: sim.httpPort ?? null,
      hostname: sim.hostname,
    })}\n`,
  );
  const shutdown = () => {
    sim.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`exchange-sim: ${message}\n`);
  process.exit(1);
});
