import type { MessageTrail, TrailQuery, TrailRecord } from '@smtp-slots/core';

/**
 * A message as GET /api/messages shows it: the trail record with ISO times. `id` is the spool id
 * on the agent (the dead-letter id when it is dead); `recipients` and `subject` are as stored
 * (plain, hashed `sha256:…`, or absent, by the agents' trail settings).
 */
export type MessageView = Omit<TrailRecord, 'acceptedMs' | 'updatedMs'> & { acceptedAt: string; updatedAt: string };

/** Searches the fleet-wide message trail the agents write. */
export class MessageService {
  constructor(private readonly trail: MessageTrail) {}

  async search(query: TrailQuery): Promise<MessageView[]> {
    return (await this.trail.search(query)).map(({ acceptedMs, updatedMs, ...rest }) => ({
      ...rest,
      acceptedAt: new Date(acceptedMs).toISOString(),
      updatedAt: new Date(updatedMs).toISOString(),
    }));
  }
}
