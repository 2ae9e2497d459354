import { randomUUID } from 'node:crypto';
import { agentKeys } from '../redis/keys.js';
import type { RedisClient } from '../redis/connect.js';

export type CommandAction = 'retry' | 'purge';

/** An operator's request for one agent, relayed through the agent's command stream. */
export interface AgentCommand {
  commandId: string;
  agentId: string;
  action: CommandAction;
  /** Spool ids of dead letters on that agent; absent with `all`. */
  ids?: string[];
  /** With `all`: every dead letter of this mailbox on that agent. */
  mailbox?: string;
  all?: boolean;
  /** ISO time the coordinator received it. */
  requestedAt: string;
}

/** A command and what became of it: pending until the agent reports, then done with its result. */
export interface CommandStatus extends AgentCommand {
  status: 'pending' | 'done' | 'failed';
  /** Dead letters moved back to the queue (retry). */
  requeued?: string[];
  /** Dead letters deleted (purge). */
  purged?: string[];
  /** Ids that were not dead letters on the agent (already retried or purged, or never there). */
  unknown?: string[];
  /** Why it failed, when the agent could not carry it out. */
  error?: string;
  doneAt?: string;
}

/** Command results are kept this long after the last command of the agent. */
const RESULTS_TTL_MS = 7 * 86_400_000;
/** The stream keeps about this many commands (a stopped agent's backlog beyond it is lost). */
const STREAM_MAX_LENGTH = 10_000;

/**
 * Per-agent command streams. The coordinator appends; the agent reads from its persisted cursor,
 * so commands sent while it is stopped wait in the stream and run when it returns.
 */
export class AgentCommands {
  constructor(private readonly redis: RedisClient) {}

  /** Appends a command for `agentId`; its status is `pending` until the agent reports. */
  async send(input: Omit<AgentCommand, 'commandId' | 'requestedAt'>): Promise<CommandStatus> {
    const command: AgentCommand = { ...input, commandId: randomUUID(), requestedAt: new Date().toISOString() };
    const status: CommandStatus = { ...command, status: 'pending' };
    const k = agentKeys(command.agentId);
    // The status is written before the stream entry, so the agent's report always lands after it.
    await this.redis.multi()
      .hset(k.commandResults, command.commandId, JSON.stringify(status))
      .pexpire(k.commandResults, RESULTS_TTL_MS)
      .xadd(k.commands, 'MAXLEN', '~', STREAM_MAX_LENGTH, '*', 'command', JSON.stringify(command))
      .exec();
    return status;
  }

  /** The agent reports what it did. */
  async report(result: CommandStatus): Promise<void> {
    const k = agentKeys(result.agentId);
    await this.redis.multi().hset(k.commandResults, result.commandId, JSON.stringify(result)).pexpire(k.commandResults, RESULTS_TTL_MS).exec();
  }

  /** Every known command of `agentId`, newest first. */
  async statuses(agentId: string): Promise<CommandStatus[]> {
    const all = await this.redis.hgetall(agentKeys(agentId).commandResults);
    return Object.values(all)
      .map((json) => JSON.parse(json) as CommandStatus)
      .sort((a, b) => b.requestedAt.localeCompare(a.requestedAt));
  }

  /** Id of the last stream entry the agent finished ('0' before the first). */
  async cursor(agentId: string): Promise<string> {
    return (await this.redis.get(agentKeys(agentId).commandCursor)) ?? '0';
  }

  async saveCursor(agentId: string, entryId: string): Promise<void> {
    await this.redis.set(agentKeys(agentId).commandCursor, entryId);
  }

  /**
   * Waits up to `blockMs` for commands after `cursor`. Pass a connection of its own: XREAD BLOCK
   * holds it for the whole wait.
   */
  static async read(blocking: RedisClient, agentId: string, cursor: string, blockMs: number): Promise<{ entryId: string; command: AgentCommand | undefined }[]> {
    const reply = (await blocking.xread('COUNT', 100, 'BLOCK', blockMs, 'STREAMS', agentKeys(agentId).commands, cursor)) as [string, [string, string[]][]][] | null;
    const entries = reply?.[0]?.[1] ?? [];
    return entries.map(([entryId, fields]) => {
      const json = fields[fields.indexOf('command') + 1];
      let command: AgentCommand | undefined;
      try {
        command = json ? (JSON.parse(json) as AgentCommand) : undefined;
      } catch {
        command = undefined;
      }
      return { entryId, command };
    });
  }
}
