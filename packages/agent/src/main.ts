import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createAgent } from './agent.js';
import type { AgentConfig } from './config.js';
import { loadAgentConfig } from './config-loader.js';
import { createAgentLogger } from './logger.js';
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
  const log = createAgentLogger(config);
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

export interface DeadLetterOptions {
  json: boolean;
  /** `purge` with no ids deletes every dead letter only when this is set. */
  all: boolean;
}

/** The spool's own subfolders: a folder without them is not a spool (a typo, a wrong mount). */
const SPOOL_SUBFOLDERS = ['queued', 'dead'] as const;

/** Why `dir` cannot be used as a spool, or undefined when it can. */
async function notASpool(dir: string): Promise<string | undefined> {
  const info = await stat(dir).catch((error: NodeJS.ErrnoException) => error);
  if (info instanceof Error) return `spool dir ${dir} cannot be read (${info.code ?? info.message})`;
  if (!info.isDirectory()) return `spool dir ${dir} is not a directory`;
  for (const name of SPOOL_SUBFOLDERS) {
    const sub = await stat(join(dir, name)).catch(() => undefined);
    if (!sub?.isDirectory()) return `${dir} is not a spool: it has no ${name}/ folder (expected ${SPOOL_SUBFOLDERS.map((n) => `${n}/`).join(', ')})`;
  }
  return undefined;
}

/**
 * `dead-letters list|retry|purge`: works on the spool files only (no secrets, no Redis), also while
 * the agent runs. Ids that are not dead letters are reported and make the exit code 1; the others
 * are still processed.
 */
export async function deadLetterCommand(spoolDir: string, action: string, ids: string[], options: DeadLetterOptions, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  if (!['list', 'retry', 'purge'].includes(action)) {
    err(`unknown dead-letters action ${JSON.stringify(action)}: use list, retry or purge`);
    return EXIT.usage;
  }
  const problem = await notASpool(spoolDir);
  if (problem) {
    err(problem);
    return EXIT.failed;
  }
  const store = new DeadLetterStore(spoolDir);
  if (action === 'list') {
    const letters = await store.list();
    if (options.json) out(JSON.stringify(letters, null, 2));
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
  if (action === 'purge' && ids.length === 0 && !options.all) {
    err('dead-letters purge deletes for good: name the ids, or pass --all to delete every dead letter');
    return EXIT.failed;
  }
  const known = new Set(await store.ids());
  const unknown = ids.filter((id) => !known.has(id));
  const chosen = ids.length > 0 ? ids.filter((id) => known.has(id)) : undefined;
  if (action === 'retry') {
    const moved = chosen?.length === 0 ? [] : await store.retry(chosen);
    out(`requeued ${moved.length} dead letter(s)${moved.length ? `: ${moved.map((h) => h.id).join(' ')}` : ''}`);
  } else {
    const removed = chosen?.length === 0 ? [] : await store.purge(chosen);
    out(`purged ${removed.length} dead letter(s)`);
  }
  if (unknown.length > 0) {
    err(`not a dead letter in ${spoolDir}: ${unknown.join(' ')}`);
    return EXIT.failed;
  }
  return EXIT.ok;
}
