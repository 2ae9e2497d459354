import { AgentCommands, type AgentCommand, type CommandStatus, type RedisClient } from '@smtp-slots/core';
import type { Logger } from 'pino';
import type { Spool } from '../spool/spool.js';

/** How long one XREAD waits before looking again (also bounds how long stop() waits). */
const BLOCK_MS = 2_000;
const RETRY_AFTER_ERROR_MS = 1_000;

/**
 * Carries out the retry/purge commands operators send through the coordinator. Reads the agent's
 * command stream from the cursor persisted in Redis, so commands sent while the agent was stopped
 * run when it starts. The cursor moves only after the result is reported: a crash in between
 * runs the command again, which is harmless (the ids are then reported unknown).
 */
export class CommandConsumer {
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly commands: AgentCommands;

  constructor(
    private readonly redis: RedisClient,
    /** A connection of its own: XREAD BLOCK holds it. */
    private readonly blocking: RedisClient,
    private readonly agentId: string,
    private readonly spool: Spool,
    private readonly log: Logger,
  ) {
    this.commands = new AgentCommands(redis);
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.blocking.disconnect();
    await this.loop;
  }

  private async run(): Promise<void> {
    let cursor: string | undefined;
    while (!this.stopped) {
      try {
        cursor ??= await this.commands.cursor(this.agentId);
        for (const { entryId, command } of await AgentCommands.read(this.blocking, this.agentId, cursor, BLOCK_MS)) {
          if (command) await this.commands.report(await this.execute(command));
          else this.log.warn({ entryId }, 'unreadable command in the command stream: skipped');
          await this.commands.saveCursor(this.agentId, entryId);
          cursor = entryId;
        }
      } catch (error) {
        if (this.stopped) break;
        this.log.debug({ err: (error as Error).message }, 'command stream unavailable; trying again');
        await new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_ERROR_MS));
      }
    }
  }

  /** Runs one command against the spool (the source of truth) and says what happened. */
  async execute(command: AgentCommand): Promise<CommandStatus> {
    const dead = await this.spool.listDead();
    let chosen: string[];
    let unknown: string[] = [];
    if (command.all) {
      chosen = dead.filter((l) => command.mailbox === undefined || l.mailbox === command.mailbox).map((l) => l.id);
    } else {
      const known = new Set(dead.map((l) => l.id));
      chosen = (command.ids ?? []).filter((id) => known.has(id));
      unknown = (command.ids ?? []).filter((id) => !known.has(id));
    }
    const done = { ...command, unknown, doneAt: '' };
    try {
      if (command.action === 'retry') {
        const requeued = chosen.length > 0 ? await this.spool.retryDead(chosen) : [];
        this.log.info({ commandId: command.commandId, requeued: requeued.length, unknown: unknown.length }, 'dead letters requeued by an operator command');
        return { ...done, status: 'done', requeued, doneAt: new Date().toISOString() };
      }
      const purged = chosen.length > 0 ? await this.spool.purgeDead(chosen) : [];
      this.log.info({ commandId: command.commandId, purged: purged.length, unknown: unknown.length }, 'dead letters purged by an operator command');
      return { ...done, status: 'done', purged, doneAt: new Date().toISOString() };
    } catch (error) {
      this.log.error({ commandId: command.commandId, err: (error as Error).message }, 'operator command failed');
      return { ...done, status: 'failed', error: (error as Error).message, doneAt: new Date().toISOString() };
    }
  }
}
