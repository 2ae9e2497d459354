import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentConfigInput } from '@smtp-slots/agent';
import { resolvePackageCli, startAgentFleet, type AgentProcess } from '@smtp-slots/testkit/launch';
import { metricSum, metricValue, parseMetrics } from '@smtp-slots/testkit';

export interface MailboxUnderTest {
  address: string;
  /** Password the upstream accepts for it. */
  password: string;
  limit?: number;
  ratePerMinute?: number;
  recipientsPerDay?: number;
}

export type UpstreamInput = AgentConfigInput['mailboxes'][number]['upstream'];
/** How the agents sign in upstream over SMTP (default: the mailbox's password). */
export type UpstreamAuthInput = NonNullable<Extract<UpstreamInput, { host: string }>['auth']>;

export interface FleetConfigOptions {
  redisUrl: string;
  upstreamPort: number;
  mailbox: MailboxUnderTest;
  auth?: UpstreamAuthInput;
  /** Replaces the whole upstream (e.g. a Graph one). */
  upstream?: UpstreamInput;
  workers?: number;
  /** Short enough that the new-Redis grace and killed agents cost little; long enough for a loaded CI box. */
  leaseTtlMs?: number;
  extra?: Partial<AgentConfigInput>;
}

/** A config for one e2e agent: loopback only (ports bound by the agent), fast retries, JSON logs at info. */
export function fleetAgentConfig(agentId: string, options: FleetConfigOptions): AgentConfigInput {
  const { mailbox } = options;
  return {
    agentId,
    redis: { url: options.redisUrl },
    relay: { host: '127.0.0.1' },
    metrics: { host: '127.0.0.1' },
    slots: { leaseTtlMs: options.leaseTtlMs ?? 4_000 },
    sender: { workers: options.workers ?? 4, retry: { initialDelayMs: 200, maxDelayMs: 2_000 } },
    heartbeatMs: 1_000,
    shutdownTimeoutMs: 10_000,
    logLevel: 'info',
    mailboxes: [{
      address: mailbox.address,
      // The EHLO name says which agent a connection belongs to (the soak's proxy reports it).
      upstream: options.upstream ?? { host: '127.0.0.1', port: options.upstreamPort, name: agentId, auth: options.auth ?? { user: mailbox.address, pass: '${E2E_UPSTREAM_PASSWORD}' } },
      ...(mailbox.limit !== undefined || !options.upstream ? { limit: mailbox.limit ?? 3 } : {}),
      ratePerMinute: mailbox.ratePerMinute ?? 1_000_000,
      recipientsPerDay: mailbox.recipientsPerDay ?? 1_000_000,
    }],
    ...options.extra,
  };
}

/**
 * Several agent processes ("front-end servers") for one mailbox, each in its own folder, started
 * by testkit's launcher, with what the e2e tests read across all of them.
 */
export class AgentFleet {
  private constructor(readonly agents: AgentProcess[]) {}

  static async start(count: number, prefix: string, options: FleetConfigOptions): Promise<AgentFleet> {
    const agents = await startAgentFleet({
      cli: resolvePackageCli('@smtp-slots/agent', import.meta.url),
      count,
      dir: mkdtempSync(join(tmpdir(), 'smtp-slots-e2e-')),
      config: (index) => fleetAgentConfig(`${prefix}-${index}`, options),
      env: { E2E_UPSTREAM_PASSWORD: options.mailbox.password },
    });
    return new AgentFleet(agents);
  }

  /** Current relay ports (a restarted agent binds a new one). */
  get relayPorts(): number[] {
    return this.agents.map((a) => a.relayPort);
  }

  /** Messages in all spools (queued + sending + deferred), counted from the files on disk. */
  spoolDepth(): number {
    return this.agents.reduce((sum, a) => sum + a.spoolFiles('queued').length + a.spoolFiles('sending').length + a.spoolFiles('deferred').length, 0);
  }

  deadLetters(): number {
    return this.agents.reduce((sum, a) => sum + a.spoolFiles('dead').length, 0);
  }

  /** Sum of a metric over every running agent. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const all = await Promise.all(this.agents.filter((a) => a.running).map(async (a) => parseMetrics(await a.metricsText())));
    return all.reduce((sum, samples) => sum + metricSum(samples, name, labels), 0);
  }

  /**
   * Largest value of each metric over every running agent (0 when none reports it), from one
   * scrape per agent: prom-client resets its event-loop delay histogram on every scrape.
   */
  async metricMax(names: string[]): Promise<number[]> {
    const all = await Promise.all(this.agents.filter((a) => a.running).map(async (a) => parseMetrics(await a.metricsText())));
    return names.map((name) => Math.max(0, ...all.map((samples) => metricValue(samples, name) ?? 0)));
  }

  /** Last lines of every agent's log (for failure messages). */
  logs(lines = 20): string {
    return this.agents.map((a) => `--- ${a.name}\n${a.tail(lines)}`).join('\n');
  }

  /** SIGTERM to all; resolves with their exit codes. */
  async stop(): Promise<Array<number | null | undefined>> {
    return Promise.all(this.agents.map(async (a) => (await a.stop(20_000))?.code));
  }
}
