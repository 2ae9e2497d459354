import type { AgentFleet } from '../support/agent-fleet.js';
import type { MeteredConnection } from '@smtp-slots/testkit';
import type { ChaosMonkey } from './chaos.js';

/** How far around a connection's life its agent's log lines and faults are shown. */
const AROUND_MS = 1_000;

/**
 * For a connection above the limit: the faults that hit its agent and the agent's lease lines
 * (granted slots lost, restarts) during the connection's life, so the report says which lease
 * the connection ran under and what ended it. Agents are named `<prefix>-<n>` in their EHLO.
 */
export function overlapNotes(fleet: AgentFleet, prefix: string, monkey: ChaosMonkey, wallOffset: number): (c: MeteredConnection) => string[] {
  const logs = fleet.agents.map((agent) => agent.log().split('\n').flatMap((line) => {
    try {
      const entry = JSON.parse(line) as { time: string; msg: string; slot?: number; fencingToken?: number; reason?: string; localPort?: number };
      return [{ ...entry, at: Date.parse(entry.time) }];
    } catch {
      return [];
    }
  }));
  return (c) => {
    const index = Number(c.label.slice(prefix.length + 1));
    const from = c.openedAt + wallOffset - AROUND_MS;
    const to = (c.closedAt ?? c.lastDataAt) + wallOffset + AROUND_MS;
    const clock = (at: number) => new Date(at).toISOString().slice(11, 23);
    const faults = monkey.events.filter((e) => e.agent === index && e.at >= from && e.at <= to).map((e) => `${clock(e.at)} chaos: ${e.fault}`);
    const lines = (logs[index - 1] ?? [])
      .filter((e) => e.at >= from && e.at <= to && (e.localPort === undefined ? /lease|slot|started|in flight/.test(e.msg) : e.localPort === c.clientPort))
      .map((e) => `${clock(e.at)} agent: ${e.msg}${e.slot === undefined ? '' : ` (slot ${e.slot}, token ${e.fencingToken}${e.reason ? `, ${e.reason}` : ''})`}`);
    return [...faults, ...lines].sort();
  };
}
