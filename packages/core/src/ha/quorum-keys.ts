import { mailboxKeys } from '../redis/keys.js';

/**
 * Keys of the quorum backend on each independent master. They share the mailbox hash tag and
 * the `config` hash (limit, paused) with the default backend's layout.
 */
export function quorumKeys(mailbox: string): { config: string; fence: string; slot(n: number): string } {
  const base = mailboxKeys(mailbox);
  const prefix = base.config.slice(0, -'config'.length);
  return {
    config: base.config,
    fence: `${prefix}qfence`,
    slot: (n: number) => `${prefix}qslot:${n}`,
  };
}
