import { randomBytes } from 'node:crypto';
import { DEMO_MAILBOX, type DemoStack } from './stack.js';
import { submitBatch } from './submit.js';

/**
 * While the demo waits for Ctrl-C, a burst of mail every `everyMs` keeps the slots changing hands,
 * so the dashboard has something to show. Returns a function that stops it (and waits for the
 * burst in progress).
 */
export function startBackgroundTraffic(stack: DemoStack, options: { burst: number; everyMs: number; connectionsPerRelay: number }): () => Promise<void> {
  let inFlight: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    inFlight = submitBatch({
      relays: stack.agents.map((agent) => ({ host: '127.0.0.1', port: agent.relayPort })),
      from: DEMO_MAILBOX,
      count: options.burst,
      connectionsPerRelay: options.connectionsPerRelay,
      runId: randomBytes(4).toString('hex'),
    }).catch(() => undefined);
  }, options.everyMs);
  return async () => {
    clearInterval(timer);
    await inFlight;
  };
}
