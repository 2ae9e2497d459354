import express, { type Express, type RequestHandler } from 'express';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { AgentCommands, AgentRegistry, DeadLetterIndex, MailboxAdmin, MessageTrail, type RedisClient } from '@smtp-slots/core';
import { dashboardDir, vendorDir } from '@smtp-slots/dashboard';
import type { CoordinatorConfig } from './config.js';
import { RouteNotFoundError } from './errors.js';
import { fleetHandlers } from './handlers/fleet.js';
import { healthHandlers } from './handlers/health.js';
import { mailboxHandlers } from './handlers/mailboxes.js';
import { agentsHandler, eventsHandler, metricsHandler } from './handlers/misc.js';
import { requireAdmin } from './http/admin-auth.js';
import { errorHandler } from './http/error-handler.js';
import { ClusterStateReader } from './metrics/cluster-state.js';
import { registerClusterMetrics } from './metrics/cluster-metrics.js';
import { CoordinatorMetrics } from './metrics/coordinator-metrics.js';
import { routeTable } from './routes.js';
import { AgentService } from './services/agent-service.js';
import { DeadLetterService } from './services/dead-letter-service.js';
import { EventHub } from './services/event-hub.js';
import { MailboxService } from './services/mailbox-service.js';
import { MessageService } from './services/message-service.js';
import { SseStreams } from './services/sse-streams.js';

export interface CreateAppOptions {
  config: CoordinatorConfig;
  /** Command connection (caller owns it). */
  redis: RedisClient;
  /** Connection dedicated to the events subscription (caller owns it). */
  subscriber: RedisClient;
  logger?: Logger;
}

export interface CoordinatorApp {
  app: Express;
  /** Subscribes to slot events; call before serving so /api/events has data. */
  start(): Promise<void>;
  /** Ends event streams. Connections stay open: the caller owns them. */
  close(): void;
}

/** Builds the coordinator's express app without listening, so tests can serve it on port 0. */
export function createApp(options: CreateAppOptions): CoordinatorApp {
  const { config, redis, subscriber } = options;
  const logger = options.logger ?? pino({ level: 'silent' });
  const admin = new MailboxAdmin(redis);
  const agentRegistry = new AgentRegistry(redis);
  const deadLetterIndex = new DeadLetterIndex(redis);

  const registry = new Registry();
  const hub = new EventHub(subscriber, logger);
  const metrics = new CoordinatorMetrics(registry, () => streams.size);
  const streams = new SseStreams(hub, { heartbeatMs: config.events.heartbeatMs, onDropped: () => metrics.error('sse_dropped') });
  watchConnection(redis, 'commands', logger, () => metrics.error('redis_connection'));
  watchConnection(subscriber, 'events', logger, () => metrics.error('redis_connection'));
  hub.on('event', (event) => metrics.eventReceived(event.type));
  hub.on('malformed', () => metrics.error('event_malformed'));
  registerClusterMetrics(registry, new ClusterStateReader(admin, agentRegistry, deadLetterIndex), {
    maxMailboxes: config.metrics.maxMailboxes,
    cacheAboveMailboxes: config.metrics.cacheAboveMailboxes,
    cacheMaxAgeMs: config.metrics.cacheMaxAgeMs,
    redisReady: () => redis.status === 'ready',
    onReadError: (error) => {
      metrics.error('redis_read');
      logger.warn({ err: error }, 'could not read cluster state for /metrics');
    },
  });

  const deadLetters = new DeadLetterService(deadLetterIndex, new AgentCommands(redis), agentRegistry);
  const mailboxes = mailboxHandlers(new MailboxService(admin), config.api);
  const health = healthHandlers(redis);
  const routes = routeTable({
    live: health.live,
    ready: health.ready,
    metrics: metricsHandler(registry),
    events: eventsHandler(streams),
    agents: agentsHandler(new AgentService(agentRegistry)),
    mailboxes,
    fleet: fleetHandlers(new MessageService(new MessageTrail(redis)), deadLetters, redis),
  });

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(metrics.middleware());
  app.use(securityHeaders);
  app.use(express.json({ limit: '16kb' }));
  const adminOnly = requireAdmin(config.adminToken);
  for (const route of routes) {
    if (route.admin) app[route.method](route.path, adminOnly, route.handler);
    else app[route.method](route.path, route.handler);
  }
  app.use(express.static(dashboardDir, { index: 'index.html', maxAge: 0 }));
  app.use('/vendor', express.static(vendorDir, { index: false, maxAge: 0 }));
  app.use((req, _res, next) => next(new RouteNotFoundError(req.method, req.path)));
  app.use(errorHandler(logger));

  return {
    app,
    start: () => hub.start(),
    close: () => streams.closeAll(),
  };
}

/** The dashboard loads only its own files and talks only to this origin. */
const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  });
  next();
};

/** Logs a connection's first error and its recovery, not every reconnect attempt; counts errors. */
function watchConnection(connection: RedisClient, name: string, logger: Logger, count: () => void): void {
  let down = false;
  connection.on('error', (error: Error) => {
    count();
    if (down) return;
    down = true;
    logger.warn({ connection: name, err: error.message }, 'redis connection lost; reconnecting');
  });
  connection.on('ready', () => {
    if (!down) return;
    down = false;
    logger.info({ connection: name }, 'redis connection restored');
  });
}
