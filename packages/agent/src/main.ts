import { createAgent } from './agent.js';
import type { AgentConfig } from './config.js';
import { loadAgentConfig } from './config-loader.js';
import { createLogger } from './logger.js';
import { DeadLetterStore } from './spool/dead-letters.js';

/** Exit codes: 0 done, 1 failed at runtime, 2 bad usage or invalid config. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Loads and validates the config; prints every problem with its path. */
export function loadOrReport(file: string, err: (line: string) => void): AgentConfig | undefined {
  const result = loadAgentConfig(file);
  if (result.ok) return result.config;
  err(`invalid config ${file}:`);
  for (const problem of result.problems) err(`  ${problem}`);
  return undefined;
}

/** `--check`: validate and describe, never connect anywhere. */
export function checkConfig(file: string, out: (line: string) => void, err: (line: string) => void): number {
  const config = loadOrReport(file, err);
  if (!config) return EXIT.usage;
  out(`config ${file} is valid: agent ${config.agentId}, relay ${config.relay.host}:${config.relay.port}, spool ${config.spool.dir}, ${config.mailboxes.length} mailbox(es): ${config.mailboxes.map((m) => m.address).join(', ')}`);
  return EXIT.ok;
}

/** Runs the agent until SIGTERM/SIGINT, then shuts down gracefully (exit 0). */
export async function runAgent(file: string): Promise<number> {
  const config = loadOrReport(file, (line) => process.stderr.write(`${line}\n`));
  if (!config) return EXIT.usage;
  const log = createLogger(config.logLevel, { agentId: config.agentId });
  let agent;
  try {
    agent = await createAgent(config, { logger: log });
  } catch (error) {
    log.fatal({ err: (error as Error).message, code: (error as { code?: string }).code }, 'agent could not start');
    return EXIT.failed;
  }
  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals += 1;
      if (signals > 1) {
        log.warn({ signal }, 'second signal: exiting now; unsent messages stay in the spool');
        resolve(EXIT.failed);
        return;
      }
      log.info({ signal }, 'shutting down');
      agent.stop().then(
        () => resolve(EXIT.ok),
        (error: Error) => {
          log.error({ err: error.message }, 'shutdown failed; unsent messages stay in the spool');
          resolve(EXIT.failed);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** `dead-letters list|retry|purge`: works on the spool files, also while the agent runs. */
export async function deadLetterCommand(file: string, action: string, ids: string[], json: boolean, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const config = loadOrReport(file, err);
  if (!config) return EXIT.usage;
  const store = new DeadLetterStore(config.spool.dir);
  const chosen = ids.length > 0 ? ids : undefined;
  switch (action) {
    case 'list': {
      const letters = await store.list();
      if (json) out(JSON.stringify(letters, null, 2));
      else if (letters.length === 0) out('no dead letters');
      else {
        for (const l of letters) {
          out(`${l.id}  ${l.receivedAt}  ${l.mailbox} -> ${l.to.join(', ')}  ${l.messageId}`);
          out(`    reason: ${l.reason}`);
          for (const a of l.attempts) out(`    ${a.at}  ${a.kind}  ${a.response.replace(/\n/g, '\n        ')}`);
        }
      }
      return EXIT.ok;
    }
    case 'retry': {
      const moved = await store.retry(chosen);
      out(`requeued ${moved.length} dead letter(s)${moved.length ? `: ${moved.map((h) => h.id).join(' ')}` : ''}`);
      return EXIT.ok;
    }
    case 'purge': {
      const removed = await store.purge(chosen);
      out(`purged ${removed.length} dead letter(s)`);
      return EXIT.ok;
    }
    default:
      err(`unknown dead-letters action ${JSON.stringify(action)}: use list, retry or purge`);
      return EXIT.usage;
  }
}
