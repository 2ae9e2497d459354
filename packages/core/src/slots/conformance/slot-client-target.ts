import { mailboxKeys } from '../../redis/keys.js';
import { MailboxAdmin } from '../../admin/mailbox-admin.js';
import { SlotClient } from '../slot-client.js';
import { createRedisClient, type RedisClient, type RedisConnectionConfig } from '../../redis/connect.js';
import type { SlotBackend } from '../slot-backend.js';
import type { ConformanceTarget } from './target.js';

/** A Redis deployment the default backend (SlotClient) runs on. */
export interface SlotClientDeployment {
  name: string;
  /** Starts the Redis processes; answers how clients connect. */
  start(): Promise<RedisConnectionConfig>;
  stop(): Promise<void>;
  fault?: ConformanceTarget['fault'];
}

/** Conformance target for SlotClient on a deployment, with connections built by createRedisClient. */
export function slotClientTarget(deployment: SlotClientDeployment): ConformanceTarget {
  let config: RedisConnectionConfig;
  let adminRedis: RedisClient | undefined;
  let admin: MailboxAdmin;
  const connections = new WeakMap<SlotBackend, RedisClient[]>();
  const crashed = new WeakSet<SlotBackend>();

  const connect = () => {
    const client = createRedisClient(config);
    client.on('error', () => undefined); // reconnects during failovers are expected here
    return client;
  };

  return {
    name: `SlotClient on ${deployment.name}`,
    fifo: true,
    async setup() {
      config = await deployment.start();
      adminRedis = connect();
      admin = new MailboxAdmin(adminRedis);
    },
    async teardown() {
      adminRedis?.disconnect();
      await deployment.stop();
    },
    async createBackend({ leaseTtlMs, agentId }) {
      const redis = connect();
      const subscriber = connect();
      const client = new SlotClient({
        redis,
        subscriber,
        holder: { agentId, host: 'conformance', pid: process.pid },
        leaseTtlMs,
        safetyMarginMs: 500,
        safetyPollMs: 250,
      });
      const close = client.close.bind(client);
      client.close = async () => {
        // A crashed process never closes; a disconnected ioredis Cluster would queue the goodbyes forever.
        if (!crashed.has(client)) await close();
        redis.disconnect();
        subscriber.disconnect();
      };
      connections.set(client, [redis, subscriber]);
      return client;
    },
    async crash(backend) {
      crashed.add(backend);
      for (const connection of connections.get(backend) ?? []) connection.disconnect();
    },
    async setLimit(mailbox, limit) {
      await admin.ensureMailbox(mailbox, { limit });
      await admin.setConfig(mailbox, { limit });
    },
    waiters: (mailbox) => adminRedis!.zcard(mailboxKeys(mailbox).waiters),
    ...(deployment.fault ? { fault: deployment.fault } : {}),
  };
}
