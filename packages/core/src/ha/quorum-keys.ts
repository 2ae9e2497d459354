import { mailboxKeyPrefix, mailboxKeys } from '../redis/keys.js';

/**
 * Keys of the quorum backend on each independent master. They share the mailbox hash tag and
 * the config fields of the `state` hash (limit, paused) with the default backend's layout.
 */
export function quorumKeys(mailbox: string): { config: string; fence: string; slot(n: number): string } {
  const prefix = mailboxKeyPrefix(mailbox);
  return {
    config: mailboxKeys(mailbox).state,
    fence: `${prefix}qfence`,
    slot: (n: number) => `${prefix}qslot:${n}`,
  };
}
