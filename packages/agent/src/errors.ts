// The errors entry alone: the spool (and its crash-test child) need not load the Redis client.
import { SlotsError } from '@smtp-slots/core/errors';

/** Base of the agent's own errors; `code` is stable and safe to show. */
export class AgentError extends SlotsError {}

/** The config did not validate; `problems` lists every issue with its path. */
export class ConfigError extends AgentError {
  constructor(readonly problems: string[]) {
    super('CONFIG_INVALID', `invalid agent config:\n  ${problems.join('\n  ')}`);
  }
}

/** Another live process owns this spool directory. */
export class SpoolLockedError extends AgentError {
  constructor(dir: string, readonly pid: number) {
    super('SPOOL_LOCKED', `spool ${dir} is in use by process ${pid}`);
  }
}

/** A spool file is unreadable or has an unknown format. */
export class SpoolCorruptError extends AgentError {
  constructor(file: string, reason: string) {
    super('SPOOL_CORRUPT', `spool file ${file}: ${reason}`);
  }
}

/** No message with that id in the state the operation needs. */
export class SpoolMessageNotFoundError extends AgentError {
  constructor(id: string, state: string) {
    super('SPOOL_NOT_FOUND', `no ${state} message ${id}`);
  }
}

/** The agent is stopping or stopped and accepts no more mail. */
export class AgentStoppedError extends AgentError {
  constructor() {
    super('AGENT_STOPPED', 'the agent is stopped');
  }
}

/** A message handed to `agent.send` cannot be sent as given. */
export class InvalidMessageError extends AgentError {
  constructor(message: string) {
    super('INVALID_MESSAGE', message);
  }
}

/** The spool could not make a message durable (disk full, I/O error): nothing was promised. */
export class SpoolWriteError extends AgentError {
  constructor(
    /** errno name of the underlying failure (ENOSPC, EIO, ...). */
    readonly errno: string,
    /** True when the disk is full or over quota (the relay answers 452 4.3.1). */
    readonly diskFull: boolean,
    cause: unknown,
  ) {
    super('SPOOL_WRITE_FAILED', `the spool could not store the message durably (${errno})`, { cause });
  }
}
