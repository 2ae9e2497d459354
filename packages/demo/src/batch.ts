import { randomBytes } from 'node:crypto';
import type { Writable } from 'node:stream';
import type { DemoOptions } from './args.js';
import { histogramQuantileBound, mergeHistogram } from './histogram.js';
import { createProgress } from './progress.js';
import { DEMO_MAILBOX, type DemoStack } from './stack.js';
import { submitBatch } from './submit.js';

/** What the upstream saw while the batch went through, plus the agents' own slot-wait figures. */
export interface DemoSummary {
  mailbox: string;
  agents: number;
  workersPerAgent: number;
  limit: number;
  ratePerMinute: number;
  messages: number;
  /** Answered 250 by a relay (safely spooled). */
  accepted: number;
  submitFailures: Array<{ messageId: string; error: string }>;
  /** Distinct Message-IDs of this batch the upstream accepted. */
  delivered: number;
  /** Extra copies of Message-IDs already delivered. */
  duplicates: number;
  transport: 'smtp' | 'graph';
  /** `432 4.3.2` answers of the upstream (concurrent connection limit exceeded); Graph: 429 MailboxConcurrency. */
  rejected432: number;
  /** Most authenticated sessions of the mailbox open at once at the upstream; Graph: requests in flight. */
  peakConcurrency: number;
  /**
   * Time workers waited for a slot (seconds), from the agents' smtp_slots_slot_wait_seconds: the
   * bucket bounds that hold p50 and p99, and the exact mean.
   */
  slotWait: { p50AtMost: number; p99AtMost: number; mean: number; count: number } | undefined;
  /** How long each message waited: relay 250 → upstream 250 (seconds, exact). */
  messageWait: { p50: number; p99: number };
  elapsedSeconds: number;
  timedOut: boolean;
  dashboardUrl: string;
}

/** True when the run shows both invariants held and every message arrived. */
export const summaryPassed = (s: DemoSummary): boolean =>
  !s.timedOut && s.submitFailures.length === 0 && s.delivered === s.messages && s.rejected432 === 0 && s.peakConcurrency <= s.limit;

/**
 * Submits the batch over SMTP to the agents' relays, shows progress until the upstream has every
 * message (or a generous deadline passes), and collects the summary.
 */
export async function runBatch(
  stack: DemoStack,
  options: DemoOptions,
  out: Writable & { isTTY?: boolean },
  signal?: AbortSignal,
): Promise<DemoSummary> {
  const runId = randomBytes(4).toString('hex');
  const acceptedAt = new Map<string, number>();
  const latencies: number[] = [];
  const delivered = new Set<string>();
  let duplicates = 0;
  const prefix = `<demo-${runId}-`;
  const unsubscribe = stack.sim.onMessage((message) => {
    if (!message.messageId?.startsWith(prefix)) return;
    const id = message.messageId.slice(1, -1);
    if (delivered.has(id)) {
      duplicates++;
      return;
    }
    delivered.add(id);
    const submitted = acceptedAt.get(id);
    if (submitted !== undefined) latencies.push((message.acceptedAt - submitted) / 1000);
  });

  const progress = createProgress(out, options.messages);
  const openSessions = () => stack.sim.userStats(DEMO_MAILBOX, { messageIds: false })?.openSessions ?? 0;
  const draw = () => progress.update({ accepted: acceptedAt.size, delivered: delivered.size, connections: openSessions() });
  const ticker = setInterval(draw, 200);
  const started = performance.now();
  try {
    const submitted = await submitBatch({
      relays: stack.agents.map((agent) => ({ host: '127.0.0.1', port: agent.relayPort })),
      from: DEMO_MAILBOX,
      count: options.messages,
      connectionsPerRelay: options.workers,
      runId,
      onEachAccepted: (messageId) => acceptedAt.set(messageId, Date.now()),
    });
    // At the configured rate the batch needs messages / rate minutes; allow for a lot more.
    const expectedMs = (submitted.accepted.length / options.ratePerMinute) * 60_000;
    const deadline = Date.now() + Math.max(60_000, 3 * expectedMs + 30_000);
    while (submitted.accepted.some((id) => !delivered.has(id)) && Date.now() < deadline && !signal?.aborted) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    draw();
    progress.finish();
    const user = stack.sim.userStats(DEMO_MAILBOX, { messageIds: false });
    return {
      mailbox: DEMO_MAILBOX,
      agents: options.agents,
      workersPerAgent: options.workers,
      limit: options.limit,
      ratePerMinute: options.ratePerMinute,
      messages: options.messages,
      accepted: submitted.accepted.length,
      submitFailures: submitted.failed,
      delivered: delivered.size,
      duplicates,
      transport: options.transport,
      rejected432: (options.transport === 'graph' ? user?.graph.throttledConcurrency : user?.rejected432) ?? 0,
      peakConcurrency: (options.transport === 'graph' ? user?.graph.peakInFlight : user?.peakConcurrency) ?? 0,
      slotWait: await slotWaitQuantiles(stack),
      messageWait: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) },
      elapsedSeconds: (performance.now() - started) / 1000,
      timedOut: submitted.accepted.some((id) => !delivered.has(id)),
      dashboardUrl: `${stack.coordinator.url}/`,
    };
  } finally {
    clearInterval(ticker);
    unsubscribe();
  }
}

/** p50/p99 of slot waits across all agents, read from their Prometheus histograms. */
async function slotWaitQuantiles(stack: DemoStack): Promise<DemoSummary['slotWait']> {
  const documents = await Promise.all(
    stack.agents.map(async (agent) => {
      try {
        const response = await fetch(`http://127.0.0.1:${agent.metricsPort}/metrics`);
        return response.ok ? await response.text() : '';
      } catch {
        return '';
      }
    }),
  );
  const histogram = mergeHistogram(documents, 'smtp_slots_slot_wait_seconds');
  if (!histogram || histogram.count === 0) return undefined;
  return {
    p50AtMost: histogramQuantileBound(0.5, histogram),
    p99AtMost: histogramQuantileBound(0.99, histogram),
    mean: histogram.sum / histogram.count,
    count: histogram.count,
  };
}

/** Nearest-rank quantile of raw samples; NaN when there are none. */
export function quantile(samples: number[], q: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
