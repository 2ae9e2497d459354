import { parseArgs } from 'node:util';

/** What the demo runs; every value has a default that shows the 12-workers-for-3-slots case. */
export interface DemoOptions {
  /** Messages submitted over SMTP to the agents' relays. */
  messages: number;
  /** Exit after the summary instead of keeping everything up for the dashboard. */
  once: boolean;
  /** Agent processes ("front-end servers"). */
  agents: number;
  /** Sender workers per agent for the mailbox. */
  workers: number;
  /** The mailbox's concurrent connection limit (Exchange Online: 3). */
  limit: number;
  /**
   * Messages per minute for the mailbox, at the simulator and in the agents. Exchange Online allows
   * 30; the demo raises it so that a batch takes seconds, not minutes.
   */
  ratePerMinute: number;
  /** Simulated upstream latency per SMTP reply, in milliseconds. */
  latencyMs: number;
  /** Dashboard/API port; undefined prefers 8080 and falls back to a free one, 0 always picks a free one. */
  port: number | undefined;
  /** Keep the work folder (configs, spools, agent logs) after a successful run. */
  keep: boolean;
  /** How the agents reach the mailbox: SMTP submission, or Microsoft Graph sendMail. */
  transport: 'smtp' | 'graph';
  /** Use this Redis instead of starting a private redis-server. */
  redisUrl: string | undefined;
  help: boolean;
}

export const USAGE = `Usage: smtp-slots-demo [options]   (./scripts/demo.sh [options])

Starts Redis (unless REDIS_URL is set), the Exchange Online simulator, the coordinator with the
dashboard and N agent processes x W workers for one mailbox with a limit of 3 connections, sends a
batch of mail through the agents' SMTP relays and prints what the upstream saw.

  --messages <n>   messages to send (default 200)
  --once           exit after the summary (default: keep running for the dashboard until Ctrl-C)
  --agents <n>     agent processes, i.e. front-end servers (default 4)
  --workers <n>    sender workers per agent (default 3)
  --limit <n>      concurrent connections allowed per mailbox (default 3; Graph: 4 requests)
  --transport <t>  smtp (SMTP AUTH submission, default) or graph (Microsoft Graph sendMail)
  --rate <n>       messages per minute for the mailbox (default 1200; Exchange Online: 30)
  --latency <ms>   upstream reply latency (default 40)
  --port <port>    dashboard port (default 8080 when free, otherwise any free port)
  --keep           keep the configs, spools and agent logs (always kept when the run fails)
  --help           show this text

Environment:
  REDIS_URL        use this Redis (e.g. redis://127.0.0.1:6379) instead of a private one
`;

export type ArgsResult = { ok: true; options: DemoOptions } | { ok: false; problem: string };

/** Parses the demo's command line; never throws. */
export function parseDemoArgs(argv: string[], env: NodeJS.ProcessEnv): ArgsResult {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        messages: { type: 'string', short: 'n' },
        once: { type: 'boolean' },
        agents: { type: 'string' },
        workers: { type: 'string' },
        limit: { type: 'string' },
        rate: { type: 'string' },
        latency: { type: 'string' },
        transport: { type: 'string' },
        port: { type: 'string' },
        keep: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    return { ok: false, problem: (error as Error).message };
  }
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const value = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`--${name}: expected a whole number from ${min} to ${max}, got "${String(raw)}"`);
      return fallback;
    }
    return value;
  };
  const transport = values['transport'] ?? 'smtp';
  if (transport !== 'smtp' && transport !== 'graph') problems.push(`--transport: expected smtp or graph, got "${String(transport)}"`);
  const options: DemoOptions = {
    transport: transport === 'graph' ? 'graph' : 'smtp',
    messages: int('messages', 200, 1, 100_000),
    once: values['once'] === true,
    agents: int('agents', 4, 1, 32),
    workers: int('workers', 3, 1, 50),
    limit: int('limit', transport === 'graph' ? 4 : 3, 1, 100),
    ratePerMinute: int('rate', 1200, 1, 1_000_000),
    latencyMs: int('latency', 40, 0, 10_000),
    port: values['port'] === undefined ? undefined : int('port', 0, 0, 65_535),
    keep: values['keep'] === true,
    redisUrl: env['REDIS_URL'] || undefined,
    help: values['help'] === true,
  };
  if (problems.length > 0) return { ok: false, problem: problems.join('\n') };
  return { ok: true, options };
}
