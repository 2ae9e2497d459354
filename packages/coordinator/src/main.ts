import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { closeRedisWithin, createRedisClient, describeRedisConnection, settlesWithin } from '@smtp-slots/core';
import { createServiceLogger } from '@smtp-slots/service-kit';
import { createApp } from './app.js';
import { loadConfig, type CoordinatorConfig } from './config.js';
import { ConnectionTracker } from './http/connection-tracker.js';

/** Exit code for unusable configuration. */
export const EXIT_CONFIG = 2;
/** How long startup waits for the events subscription before serving without it. */
const SUBSCRIBE_WAIT_MS = 5000;

export interface RunningCoordinator {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  port: number;
  /** Stops serving, ends event streams, closes the Redis connections. */
  close(): Promise<void>;
}

/** Connects to Redis, subscribes to slot events and listens. */
export async function startCoordinator(config: CoordinatorConfig, logger: Logger = pino({ level: 'silent' })): Promise<RunningCoordinator> {
  // Fail API calls fast while Redis is away (503) instead of queueing them for long.
  // A dropped connection whose server does not answer the close is destroyed after 200 ms.
  const redisOptions = { maxRetriesPerRequest: 1, connectTimeout: 2000, disconnectTimeout: 200 };
  const redis = createRedisClient(config.redis, { connectionName: 'smtp-slots-coordinator', redisOptions });
  const subscriber = createRedisClient(config.redis, { connectionName: 'smtp-slots-coordinator-events', redisOptions });
  const coordinator = createApp({ config, redis, subscriber, logger });
  try {
    // A Cluster client queues commands until it has found the cluster: do not wait for it forever.
    await withTimeout(coordinator.start(), SUBSCRIBE_WAIT_MS);
  } catch (error) {
    // Serve anyway: /readyz reports Redis, and the hub subscribes once Redis is back.
    logger.warn({ err: (error as Error).message }, 'could not subscribe to slot events yet');
  }
  const server = coordinator.app.listen(config.http.port, config.http.host);
  const connections = new ConnectionTracker(server);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
  const url = `http://${host}:${port}`;
  logger.info({ url, redis: describeRedisConnection(config.redis), admin: config.adminToken !== undefined }, 'coordinator listening');

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      // Bounded as a whole: a frozen Redis never fails the requests and QUITs waiting for it.
      const deadline = performance.now() + config.shutdownTimeoutMs;
      const left = () => Math.max(0, deadline - performance.now());
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      coordinator.close();
      connections.drain();
      const timer = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs / 2);
      if (!(await settlesWithin(closed, left()))) server.closeAllConnections();
      clearTimeout(timer);
      const ends = await Promise.all([closeRedisWithin(redis, left()), closeRedisWithin(subscriber, left())]);
      if (ends.includes('dropped')) logger.warn({ shutdownTimeoutMs: config.shutdownTimeoutMs }, 'Redis did not answer before the shutdown deadline: connections dropped');
    })();
    return closing;
  };
  return { url, port, close };
}

/** The CLI: parses config (exit 2 listing every problem), `--check` stops there, else runs until SIGTERM/SIGINT. */
export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const result = await loadConfig(argv, env);
  if (!result.ok) {
    process.stderr.write(`smtp-slots-coordinator: invalid configuration\n${result.problems.map((p) => `  - ${p}\n`).join('')}`);
    return EXIT_CONFIG;
  }
  if (result.help) {
    process.stdout.write(result.usage);
    return 0;
  }
  if (result.check) {
    const { config } = result;
    // Never connects anywhere: a unit's ExecStartPre may run it before Redis is up.
    process.stdout.write(
      `configuration is valid: redis ${describeRedisConnection(config.redis)}, http ${config.http.host}:${config.http.port}, admin endpoints ${config.adminToken === undefined ? 'off (no SMTP_SLOTS_ADMIN_TOKEN)' : 'on'}\n`,
    );
    return 0;
  }
  const logger = createServiceLogger({ service: 'smtp-slots-coordinator', level: result.config.logLevel });
  const coordinator = await startCoordinator(result.config, logger);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  logger.info({ signal }, 'shutting down');
  await coordinator.close();
  logger.info('stopped');
  return 0;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
