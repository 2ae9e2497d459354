import type { AgentFleet } from '../support/agent-fleet.js';

/**
 * Possible duplicates the agents reported in their logs (every start of each agent): a
 * connection lost after the final dot (retried with the same Message-ID), and messages found in
 * flight at start-up after a kill (requeued). Logs survive the kills; the metrics do not.
 */
export function countPossibleDuplicates(fleet: AgentFleet): number {
  let count = 0;
  for (const agent of fleet.agents) {
    for (const line of agent.log().split('\n')) {
      let entry: { msg?: string; requeued?: number };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue; // not JSON, or the last line of a killed process cut short
      }
      if (entry.msg?.startsWith('connection lost after the final dot')) count += 1;
      else if (entry.msg?.startsWith('messages that were in flight when the agent last stopped')) count += entry.requeued ?? 0;
    }
  }
  return count;
}
