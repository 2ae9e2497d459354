import { rmSync } from 'node:fs';
import { parseDemoArgs, USAGE } from './args.js';
import { startBackgroundTraffic } from './background-traffic.js';
import { runBatch, summaryPassed } from './batch.js';
import { startDemoStack } from './stack.js';
import { formatSummary } from './summary.js';

/** Exit codes: 0 ok, 1 the run did not show the expected outcome, 2 bad arguments, 3 could not start. */
export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parseDemoArgs(argv, env);
  if (!parsed.ok) {
    process.stderr.write(`smtp-slots-demo: ${parsed.problem}\n\n${USAGE}`);
    return 2;
  }
  const options = parsed.options;
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const out = process.stdout;
  const say = (line: string) => out.write(`${line}\n`);

  // Ctrl-C during start-up or the batch stops everything; afterwards it ends the wait below.
  const interrupted = new AbortController();
  let onInterrupt: () => void = () => undefined;
  const interrupt = () => {
    interrupted.abort();
    onInterrupt();
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);

  say(`smtp-slots demo: ${options.agents} front-end servers x ${options.workers} sending threads share one mailbox limited to ${options.limit} connections\n`);
  let stack;
  try {
    stack = await startDemoStack(options, (label, detail) => say(`  ${label.padEnd(20)}${detail}`));
  } catch (error) {
    process.stderr.write(`smtp-slots-demo: could not start: ${(error as Error).message}\n`);
    return 3;
  }
  let code = 1;
  try {
    if (interrupted.signal.aborted) return 130;
    say(`\nSending ${options.messages} messages over SMTP to the ${options.agents} relays (${options.agents * options.workers} client connections)...`);
    const summary = await runBatch(stack, options, out, interrupted.signal);
    code = summaryPassed(summary) ? 0 : 1;
    out.write(formatSummary(summary, { adminTokenFile: options.once ? undefined : stack.adminTokenFile, workDir: code === 0 && !options.keep ? undefined : stack.workDir }));
    if (!options.once && !interrupted.signal.aborted) {
      const burst = Math.min(options.messages, 30);
      say(`Everything keeps running so that you can explore the dashboard and the API; a burst of ${burst} messages every 10 s keeps the slots moving. Ctrl-C stops it all.`);
      const stopTraffic = startBackgroundTraffic(stack, { burst, everyMs: 10_000, connectionsPerRelay: options.workers });
      await new Promise<void>((resolve) => {
        onInterrupt = resolve;
      });
      await stopTraffic();
    }
    say('\nStopping: agents drain and release their slots, then the coordinator, the simulator and Redis stop.');
    return code;
  } finally {
    await stack.stop();
    if (code === 0 && !options.keep) rmSync(stack.workDir, { recursive: true, force: true });
    else say(`Configs, spools and logs are kept in ${stack.workDir}`);
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}
