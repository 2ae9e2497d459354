import type { SlotBackend } from '../slot-backend.js';

/** How the conformance suite creates backends for one deployment (standalone, Sentinel, Cluster, quorum). */
export interface ConformanceTarget {
  /** Shown in test names. */
  name: string;
  /** Grants are FIFO across processes (the default backend promises it; quorum mode does not). */
  fifo: boolean;
  /** Starts the deployment's Redis processes. */
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** A new backend with its own connections, as one agent process would have. */
  createBackend(options: { leaseTtlMs: number; agentId: string }): Promise<SlotBackend>;
  /** A process crash: drop the backend's connections without releasing anything. */
  crash(backend: SlotBackend): Promise<void>;
  setLimit(mailbox: string, limit: number): Promise<void>;
  /** Queued waiters of a mailbox (FIFO targets only): lets a test enqueue in a known order. */
  waiters?(mailbox: string): Promise<number>;
  /** A fault injected while workers hold and hand over slots; safety and progress must survive it. */
  fault?: { name: string; inject(mailbox: string): Promise<void> };
}
