import type { MessageTrail, TrailAttempt, TrailQuery, TrailRecord, TrailStatus } from '@smtp-slots/core';

/** A message as GET /api/messages shows it. */
export interface MessageView {
  messageId: string;
  mailbox: string;
  agentId: string;
  status: TrailStatus;
  acceptedAt: string;
  updatedAt: string;
  attempts: TrailAttempt[];
  /** Spool id on the agent (the dead-letter id when it is dead). */
  id: string;
  sender?: string;
  /** As stored: plain, hashed (`sha256:…`), or absent when the agents do not store them. */
  recipients?: string[];
  subject?: string;
  size?: number;
  queueId?: string;
  possibleDuplicate?: boolean;
  splitFrom?: string;
}

/** Searches the fleet-wide message trail the agents write. */
export class MessageService {
  constructor(private readonly trail: MessageTrail) {}

  async search(query: TrailQuery): Promise<MessageView[]> {
    return (await this.trail.search(query)).map(toView);
  }
}

function toView(r: TrailRecord): MessageView {
  const { acceptedMs, updatedMs, ...rest } = r;
  return {
    messageId: rest.messageId, mailbox: rest.mailbox, agentId: rest.agentId, status: rest.status,
    acceptedAt: new Date(acceptedMs).toISOString(), updatedAt: new Date(updatedMs).toISOString(),
    attempts: rest.attempts, id: rest.id,
    ...pick(rest, ['sender', 'recipients', 'subject', 'size', 'queueId', 'possibleDuplicate', 'splitFrom']),
  };
}

function pick<T extends object, K extends keyof T>(value: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (value[key] !== undefined) out[key] = value[key];
  return out;
}
