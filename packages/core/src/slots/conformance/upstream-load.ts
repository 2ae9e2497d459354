import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import type { CountingServer } from '@smtp-slots/testkit';
import type { SlotBackend } from '../slot-backend.js';
import type { Lease } from '../../types.js';

/**
 * Holds a lease the way the agent does: connect upstream only while the lease is valid, close
 * the connection (and wait for it to be closed) before releasing; drop it at once when the
 * lease signal aborts.
 */
export async function holdUpstream(lease: Lease, server: CountingServer, holdMs: number): Promise<'released' | 'lost'> {
  if (lease.signal.aborted) {
    await lease.release().catch(() => undefined);
    return 'lost';
  }
  const socket = connect({ port: server.port, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  const lost = new Promise<'lost'>((resolve) => lease.signal.addEventListener('abort', () => resolve('lost'), { once: true }));
  const outcome = await Promise.race([
    once(socket, 'connect').then(() => new Promise<'released'>((r) => setTimeout(r, holdMs, 'released'))),
    lost,
  ]);
  await closeSocket(socket, outcome === 'lost');
  await lease.release().catch(() => undefined);
  return outcome;
}

async function closeSocket(socket: Socket, now: boolean): Promise<void> {
  if (socket.closed) return;
  const closed = once(socket, 'close');
  if (now) socket.destroy();
  else socket.end(); // graceful: the upstream sees the close before we release
  await closed;
}

/** Workers on several backends that acquire, hold an upstream connection and release, until stopped. */
export class UpstreamLoad {
  grants = 0;
  lost = 0;
  errors = 0;
  readonly grantsByWorker = new Map<string, number>();
  private running = true;
  private readonly done: Array<Promise<void>> = [];

  constructor(
    private readonly backends: SlotBackend[],
    private readonly options: { mailbox: string; workersPerBackend: number; server: CountingServer; holdMs: number },
  ) {}

  start(): this {
    this.backends.forEach((backend, b) => {
      for (let w = 0; w < this.options.workersPerBackend; w += 1) this.done.push(this.worker(backend, `b${b}w${w}`));
    });
    return this;
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.done);
  }

  private async worker(backend: SlotBackend, worker: string): Promise<void> {
    while (this.running) {
      let lease: Lease;
      try {
        lease = await backend.acquire(this.options.mailbox, { worker, timeoutMs: 1_000 });
      } catch {
        this.errors += 1; // timeouts, Redis failing over: try again
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      this.grants += 1;
      this.grantsByWorker.set(worker, (this.grantsByWorker.get(worker) ?? 0) + 1);
      const jitter = Math.random() * this.options.holdMs;
      if ((await holdUpstream(lease, this.options.server, this.options.holdMs / 2 + jitter)) === 'lost') this.lost += 1;
    }
  }
}
