import type { ExchangeSim } from '@smtp-slots/exchange-sim';
import { sleep, type RedisProcess } from '@smtp-slots/testkit';
import type { AgentFleet } from '../support/agent-fleet.js';

export interface ChaosCounts {
  kills: number;
  freezes: number;
  redisRestarts: number;
  upstream421: number;
  upstreamResets: number;
}

export type Fault = 'kill' | 'freeze' | 'redis' | '421' | 'reset';
/** Every fault comes round within one cycle; the upstream ones twice as often. */
const CYCLE: Fault[] = ['421', 'kill', 'reset', 'freeze', '421', 'redis', 'reset', 'kill', '421', 'freeze', 'reset'];

/**
 * One fault every few seconds, one at a time: an agent SIGKILLed and restarted on its spool,
 * an agent SIGSTOPped past its lease TTL and resumed, Redis restarted empty, the upstream's next
 * message answered `421 4.3.2` (connection closed), or accepted and then the connection reset
 * before the `250` (outcome unknown).
 */
export class ChaosMonkey {
  readonly counts: ChaosCounts = { kills: 0, freezes: 0, redisRestarts: 0, upstream421: 0, upstreamResets: 0 };
  /** Every fault injected: when (wall clock), what, and on which agent (its index, from 1). */
  readonly events: Array<{ at: number; fault: Fault; agent?: number }> = [];
  finished = false;
  private stopped = false;
  private step = 0;

  constructor(private readonly target: { fleet: AgentFleet; redis: RedisProcess; sim: ExchangeSim; relays: number[]; freezeMs: number }) {}

  /** Runs until `stop()` or `maxMs`; resolves once the last fault is undone (every agent running, Redis up). */
  async run(intervalMs: number, maxMs: number): Promise<void> {
    const until = Date.now() + maxMs;
    try {
      while (!this.stopped && Date.now() < until) {
        await sleep(intervalMs);
        if (this.stopped) break;
        await this.inject(CYCLE[this.step++ % CYCLE.length]!);
      }
    } finally {
      this.finished = true;
    }
  }

  /** Full rounds of the fault cycle injected so far. */
  get cycles(): number {
    return Math.floor(this.step / CYCLE.length);
  }

  stop(): void {
    this.stopped = true;
  }

  private async inject(fault: Fault): Promise<void> {
    const { fleet, redis, sim, relays, freezeMs } = this.target;
    const index = Math.floor(Math.random() * fleet.agents.length);
    const agent = fleet.agents[index]!;
    this.events.push({ at: Date.now(), fault, ...(fault === 'kill' || fault === 'freeze' ? { agent: index + 1 } : {}) });
    switch (fault) {
      case 'kill':
        await agent.kill();
        this.counts.kills += 1;
        await sleep(300);
        await agent.restart();
        relays[index] = agent.relayPort;
        return;
      case 'freeze':
        process.kill(agent.pid!, 'SIGSTOP');
        this.counts.freezes += 1;
        await sleep(freezeMs);
        process.kill(agent.pid!, 'SIGCONT');
        return;
      case 'redis':
        await redis.restart();
        this.counts.redisRestarts += 1;
        return;
      case '421':
        sim.setFaults({ disconnectNext: 1 });
        this.counts.upstream421 += 1;
        return;
      case 'reset':
        sim.setFaults({ dropAfterAcceptNext: 1 });
        this.counts.upstreamResets += 1;
        return;
    }
  }
}
