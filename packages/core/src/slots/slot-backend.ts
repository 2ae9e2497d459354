import type { EventEmitter } from 'node:events';
import type { AcquireOptions, Lease, SlotClientEvents } from './slot-client.js';

/**
 * What a sender needs from a slot semaphore. SlotClient (standalone, Sentinel or Cluster Redis)
 * and QuorumSlots (independent masters) both provide it, and the conformance suite tests it.
 */
export interface SlotBackend extends Pick<EventEmitter<SlotClientEvents>, 'on' | 'off' | 'once'> {
  acquire(mailbox: string, opts: AcquireOptions): Promise<Lease>;
  tryAcquire(mailbox: string, opts: { worker: string }): Promise<Lease | null>;
  close(): Promise<void>;
}
