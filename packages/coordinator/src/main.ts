import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { createApp } from './app.js';
import { loadConfig, type CoordinatorConfig } from './config.js';
import { ConnectionTracker } from './http/connection-tracker.js';

/** Exit code for unusable configuration. */
export const EXIT_CONFIG = 2;
const SHUTDOWN_GRACE_MS = 5000;

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
  const redisOptions = { maxRetriesPerRequest: 1, connectTimeout: 2000, connectionName: 'smtp-slots-coordinator' };
  const redis = new Redis(config.redis.url, redisOptions);
  const subscriber = new Redis(config.redis.url, { ...redisOptions, connectionName: 'smtp-slots-coordinator-events' });
  const coordinator = createApp({ config, redis, subscriber, logger });
  try {
    await coordinator.start();
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
  logger.info({ url, redis: redactUrl(config.redis.url), admin: config.adminToken !== undefined }, 'coordinator listening');

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      coordinator.close();
      connections.drain();
      const timer = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      await closed;
      clearTimeout(timer);
      await Promise.allSettled([redis.quit(), subscriber.quit()]);
    })();
    return closing;
  };
  return { url, port, close };
}

/** The CLI: parses config (exit 2 listing every problem), runs until SIGTERM/SIGINT. */
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
  const logger = pino({ level: result.config.logLevel, base: { service: 'smtp-slots-coordinator' } });
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

/** The URL with any password replaced, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable url)';
  }
}
