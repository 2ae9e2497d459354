import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { z } from 'zod';

/** A command connection to any of the three deployments (what the semaphore takes). */
export type RedisClient = Redis | Cluster;

/** `{ host, port }` of a Sentinel or Cluster node. */
export interface RedisNodeAddress {
  host: string;
  port: number;
}

const nodeAddress = z.union([
  z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65_535) }).strict(),
  z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be "host:port" or { host, port }').transform((text) => {
    const at = text.lastIndexOf(':');
    return { host: text.slice(0, at), port: Number(text.slice(at + 1)) };
  }),
]);

const credentials = {
  /** ACL user name (Redis 6+). */
  username: z.string().min(1).optional(),
  password: z.string().min(1).optional(),
  /** Connect with TLS (Sentinel: to the data nodes and the sentinels). */
  tls: z.boolean().optional(),
};

/**
 * The `redis` section of the agent and coordinator configs: exactly one of a single server
 * (`url`), a Sentinel-monitored primary (`sentinels` + `name`) or a Cluster (`cluster`).
 * Node addresses are `{ host, port }` objects or `"host:port"` strings.
 */
export const redisConnectionSchema = z.union([
  z.object({
    /** `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. */
    url: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
  }).strict(),
  z.object({
    /** Sentinels watching the primary; ioredis asks them where it is and follows failovers. */
    sentinels: z.array(nodeAddress).min(1),
    /** The master group name in `sentinel monitor <name> ...`. */
    name: z.string().min(1),
    ...credentials,
    sentinelUsername: z.string().min(1).optional(),
    sentinelPassword: z.string().min(1).optional(),
    db: z.number().int().min(0).optional(),
  }).strict(),
  z.object({
    /** Startup nodes of a Redis Cluster (a few are enough; the rest is discovered). */
    cluster: z.array(nodeAddress).min(1),
    ...credentials,
  }).strict(),
  // zod alone says "Invalid input" for a section that matches none of the three shapes.
], { error: 'must be exactly one of { url }, { sentinels, name } or { cluster } (with optional username, password, tls)' });

export type RedisConnectionConfig = z.output<typeof redisConnectionSchema>;
export type RedisConnectionInput = z.input<typeof redisConnectionSchema>;

/** Which deployment a config points at. */
export type RedisDeployment = 'standalone' | 'sentinel' | 'cluster';

export function redisDeployment(config: RedisConnectionConfig): RedisDeployment {
  if ('cluster' in config) return 'cluster';
  if ('sentinels' in config) return 'sentinel';
  return 'standalone';
}

export interface CreateRedisClientOptions {
  /** `CLIENT SETNAME` on every connection, e.g. `smtp-slots-agent:<agentId>` (helps `CLIENT LIST`). */
  connectionName?: string;
  /** Extra ioredis options for every data-node connection (merged last). */
  redisOptions?: RedisOptions;
  /** Extra ioredis Cluster options (Cluster only, merged last). */
  clusterOptions?: ClusterOptions;
}

/**
 * Builds an ioredis client for the configured deployment. The caller owns it (`quit()` it);
 * `duplicate()` on the result gives a second connection to the same deployment (the semaphore
 * uses that for its subscriber).
 *
 * Sentinel: `failoverDetector` is on, so the client reconnects to the promoted replica as soon
 * as the sentinels announce `+switch-master`, not only when the old socket errors.
 * Cluster: reads and scripts go to masters; every slot script touches one hash tag.
 */
export function createRedisClient(config: RedisConnectionConfig, options: CreateRedisClientOptions = {}): RedisClient {
  const common: RedisOptions = {
    ...(options.connectionName !== undefined ? { connectionName: options.connectionName } : {}),
  };
  if ('url' in config) {
    return new Redis(config.url, { ...common, ...options.redisOptions });
  }
  const auth: RedisOptions = {
    ...(config.username !== undefined ? { username: config.username } : {}),
    ...(config.password !== undefined ? { password: config.password } : {}),
    ...(config.tls ? { tls: {} } : {}),
  };
  if ('sentinels' in config) {
    return new Redis({
      ...common,
      ...auth,
      sentinels: config.sentinels,
      name: config.name,
      role: 'master',
      failoverDetector: true,
      ...(config.db !== undefined ? { db: config.db } : {}),
      ...(config.sentinelUsername !== undefined ? { sentinelUsername: config.sentinelUsername } : {}),
      ...(config.sentinelPassword !== undefined ? { sentinelPassword: config.sentinelPassword } : {}),
      ...(config.tls ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
      ...options.redisOptions,
    });
  }
  return new Cluster(config.cluster, {
    scaleReads: 'master',
    redisOptions: { ...common, ...auth, ...options.redisOptions },
    ...options.clusterOptions,
  });
}

/** A one-line description for logs and `/readyz`, without credentials. */
export function describeRedisConnection(config: RedisConnectionConfig): string {
  const nodes = (list: RedisNodeAddress[]) => list.map((n) => `${n.host}:${n.port}`).join(',');
  if ('cluster' in config) return `cluster ${nodes(config.cluster)}`;
  if ('sentinels' in config) return `sentinel ${config.name} via ${nodes(config.sentinels)}`;
  try {
    const url = new URL(config.url);
    url.username = '';
    url.password = '';
    return url.toString();
  } catch {
    return 'redis (unparsable url)';
  }
}
