import { randomBytes } from 'node:crypto';
import type { UserStats } from '@smtp-slots/exchange-sim';
import { startExchangeSim, type ExchangeSim, type ExchangeSimOptions } from '@smtp-slots/exchange-sim';
import { waitFor } from '@smtp-slots/testkit';
import { afterEach } from 'vitest';
import { AgentFleet, type FleetConfigOptions, type MailboxUnderTest, type UpstreamAuthInput, type UpstreamInput } from './agent-fleet.js';
import { fetchUserStats, missingIds } from './sim-stats.js';
import { submitMessages, type SubmitOptions, type SubmitResult } from './smtp-submitter.js';

export interface ScenarioOptions {
  /** Agent processes. */
  agents: number;
  redisUrl: string;
  /** The mailbox's settings in the agents' config (limit 3, rates unlimited unless given). */
  mailbox?: Omit<MailboxUnderTest, 'address' | 'password'>;
  /** Simulator options besides its one user (default: unlimited rate). */
  sim?: Omit<ExchangeSimOptions, 'users'>;
  workers?: number;
  leaseTtlMs?: number;
  extra?: FleetConfigOptions['extra'];
  /** The agents' upstream auth for the run's mailbox address (default: its password). */
  auth?: (address: string, sim: ExchangeSim) => UpstreamAuthInput;
  /** Replaces the agents' whole upstream for the run's mailbox (e.g. Graph at the simulator). */
  upstream?: (address: string, sim: ExchangeSim) => UpstreamInput;
}

/** One e2e run: a random mailbox, the Exchange simulator knowing it, agents sending for it. */
export interface Scenario {
  run: string;
  mailbox: MailboxUnderTest;
  sim: ExchangeSim;
  fleet: AgentFleet;
  /** The simulator's stats for the mailbox, read over its HTTP API (with Message-IDs unless told not to). */
  stats(messageIds?: boolean): Promise<UserStats>;
  /** Messages from the mailbox to the agents' relays, Message-IDs unique to this run (or to `runId`). */
  submit(options: Pick<SubmitOptions, 'count' | 'threads'> & Partial<Omit<SubmitOptions, 'relays' | 'from'>>): Promise<SubmitResult>;
  /** Waits until the simulator holds every one of `messageIds`; fails with the agents' logs. */
  waitForDelivery(messageIds: string[], options?: { timeoutMs?: number; message?: string }): Promise<void>;
  /** Waits until no spool holds a queued, sending or deferred message (the last removals follow the 250s). */
  waitForEmptySpools(timeoutMs?: number): Promise<void>;
}

/**
 * Registers the clean-up of a test file's scenarios: after each test, its agents get SIGTERM
 * (they drain), then its simulator stops, then whatever the test handed to `after()` (e.g. its
 * own Redis, which the draining agents may still need).
 */
export function useAgentScenarios(): { start(options: ScenarioOptions): Promise<Scenario>; after(cleanup: () => Promise<unknown>): void } {
  const cleanups: Array<() => Promise<unknown>> = [];
  const late: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of [...cleanups.splice(0).reverse(), ...late.splice(0)]) await cleanup();
  });
  return {
    after: (cleanup) => void late.push(cleanup),
    start: async (options) => {
      const run = randomBytes(4).toString('hex');
      const mailbox: MailboxUnderTest = { address: `reports-${run}@contoso.example`, password: 'upstream-secret', ...options.mailbox };
      const sim = await startExchangeSim({ ratePerMinute: 1_000_000, ...options.sim, users: [{ address: mailbox.address, password: mailbox.password }] });
      cleanups.push(() => sim.stop());
      const fleet = await AgentFleet.start(options.agents, `fe-${run}`, {
        redisUrl: options.redisUrl, upstreamPort: sim.smtpPort, mailbox, workers: options.workers, leaseTtlMs: options.leaseTtlMs, extra: options.extra,
        ...(options.auth ? { auth: options.auth(mailbox.address, sim) } : {}),
        ...(options.upstream ? { upstream: options.upstream(mailbox.address, sim) } : {}),
      });
      cleanups.push(() => fleet.stop());
      const httpUrl = sim.httpUrl!;
      const stats = (messageIds = true) => fetchUserStats(httpUrl, mailbox.address, messageIds);
      return {
        run, mailbox, sim, fleet, stats,
        submit: (submit) => submitMessages({ relays: fleet.relayPorts, from: mailbox.address, runId: run, ...submit }),
        waitForDelivery: async (messageIds, { timeoutMs = 60_000, message = 'every submitted Message-ID at the simulator' } = {}) => {
          await waitFor(async () => missingIds(await stats(), messageIds).length === 0, { timeoutMs, intervalMs: 250, message }).catch((error: Error) => {
            throw new Error(`${error.message}\n${fleet.logs()}`);
          });
        },
        waitForEmptySpools: async (timeoutMs = 10_000) => {
          await waitFor(() => fleet.spoolDepth() === 0, { timeoutMs, message: 'empty spools' });
        },
      };
    },
  };
}
