import { once } from 'node:events';
import { createConnection } from 'node:net';
import { hostname } from 'node:os';
import { LeaseLostError, SlotClient } from '@smtp-slots/core';
import { Redis } from 'ioredis';

// Using the slot semaphore directly, for a sender of your own. One SlotClient per process.
const redis = new Redis('redis://redis.internal:6379');
const slots = new SlotClient({ redis, holder: { agentId: 'billing-batch', host: hostname(), pid: process.pid } });

const lease = await slots.acquire('reports@contoso.com', { worker: 'w1', timeoutMs: 120_000 });
// Connect only now, while the lease is held.
const socket = createConnection({ host: 'smtp.office365.com', port: 587 });
// Lost slot: the lease could not be renewed in time (Redis unreachable, event loop stalled, an
// operator force-released it, Redis lost its data). Another holder may get the slot as soon as
// the lease expires in Redis, so the connection must be gone before that: destroy it at once.
lease.signal.addEventListener('abort', () => socket.destroy(lease.signal.reason as LeaseLostError), { once: true });
try {
  // ... SMTP conversation; before each message check that the lease is still good:
  if (lease.signal.aborted || lease.remainingMs() < 5_000) throw lease.signal.reason ?? new Error('lease ends soon');
} catch (error) {
  if (error instanceof LeaseLostError) console.warn(`slot ${error.slot} lost (${error.reason}): retry the message later`);
  else throw error;
} finally {
  socket.end();
  if (!socket.closed) await once(socket, 'close'); // release only after the socket closed
  await lease.release();
  await slots.close();
  redis.disconnect();
}
