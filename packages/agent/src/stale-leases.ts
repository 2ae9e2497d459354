import type { MailboxAdmin } from '@smtp-slots/core';
import { isProcessAlive } from './spool/spool-lock.js';

/**
 * After this agent was killed (SIGKILL, OOM, power), its leases stay in Redis until they expire.
 * A restarted agent frees the ones held by its own previous process: same agent id, same host,
 * and that pid is gone — so its sockets were closed by the kernel when it died. A pid that is
 * alive (even if reused by another program) is left alone, so the check errs on the safe side.
 */
export async function reclaimStaleLeases(admin: MailboxAdmin, mailboxes: string[], me: { agentId: string; host: string; pid: number }): Promise<number> {
  let freed = 0;
  for (const mailbox of mailboxes) {
    const snapshot = await admin.snapshot(mailbox);
    for (const lease of snapshot?.leases ?? []) {
      const { holder } = lease;
      if (holder.agentId !== me.agentId || holder.host !== me.host || holder.pid === me.pid) continue;
      if (isProcessAlive(holder.pid)) continue;
      if (await admin.forceRelease(mailbox, lease.slot)) freed += 1;
    }
  }
  return freed;
}
