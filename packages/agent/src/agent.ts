import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import {
  AgentRegistry, closeRedisWithin, createRedisClient, describeRedisConnection, LimitFeedback, MailboxAdmin,
  MessageBudget, pingWithin, RecipientLedger, settlesWithin, SLOT_CONNECTION_OPTIONS, SlotClient,
} from '@smtp-slots/core';
import type { Logger } from 'pino';
import { isLoopback, parseAgentConfig, sharedLimitOf, type AgentConfig, type AgentConfigInput, type MailboxUpstream } from './config.js';
import { AgentStoppedError, ConfigError, InvalidMessageError } from './errors.js';
import { createAgentLogger } from './logger.js';
import { composeMail, type MailInput } from './mail-input.js';
import { AgentMetrics } from './metrics.js';
import { RelayServer } from './relay/relay-server.js';
import { MailboxSender } from './sender/mailbox-sender.js';
import { ClientCredentialsTokenProvider, type AccessTokenProvider } from './sender/token-provider.js';
import type { DeadLetter } from './spool/dead-letters.js';
import { ensureMessageId } from './spool/message-id.js';
import { Spool, type SettledEvent } from './spool/spool.js';
import { reclaimStaleLeases } from './stale-leases.js';
import { StatusServer } from './status-server.js';
import { DeliveryTracker, type DeliveryReport } from './delivery-tracker.js';
import { CommandConsumer } from './fleet/command-consumer.js';
import { createFleetRecords, trailSettings } from './fleet/fleet-records.js';

/** How often the agent rebuilds its part of the fleet's dead-letter index from its spool. */
const DEAD_LETTER_REPUBLISH_MS = 300_000;

/** The agent package version (reported in heartbeats). */
export const AGENT_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface CreateAgentOptions {
  /** Defaults to a pino JSON logger on stdout at `config.logLevel`. */
  logger?: Logger;
  /** XOAUTH2 token providers by mailbox address, replacing the built-in client-credentials flow. */
  tokenProviders?: Record<string, AccessTokenProvider>;
  /** Start the SMTP relay (default true). Library-only users may turn it off. */
  relay?: boolean;
}

/** What `agent.send` returns once the message is safely in the spool. */
export interface SendReceipt {
  /** Spool id (also in logs and dead letters). */
  id: string;
  messageId: string;
  /** Resolves when the message left the spool: sent (maybe with bounced recipients) or dead. */
  delivered(): Promise<DeliveryReport>;
}

/** A running agent: relay, spool, senders, heartbeat and metrics. */
export interface Agent {
  readonly agentId: string;
  readonly config: AgentConfig;
  /** Bound relay port (undefined when the relay is off). */
  readonly relayPort: number | undefined;
  /** Bound metrics port (undefined when metrics are off). */
  readonly metricsPort: number | undefined;
  /** Spools a message; resolves once it is fsynced (it will be sent even if this process dies now). */
  send(mail: MailInput): Promise<SendReceipt>;
  readonly deadLetters: {
    list(): Promise<DeadLetter[]>;
    /** Requeues dead letters (all when `ids` is omitted) with a fresh retry budget. */
    retry(ids?: string[]): Promise<string[]>;
    purge(ids?: string[]): Promise<string[]>;
  };
  /** Messages not yet sent. */
  spoolDepth(): number;
  /** Stop accepting, finish or requeue in-flight messages, release slots, close everything. */
  stop(): Promise<void>;
}

/** Validates the config, opens the spool and starts the relay, senders, heartbeat and metrics. */
export async function createAgent(input: AgentConfigInput | AgentConfig, options: CreateAgentOptions = {}): Promise<Agent> {
  const parsed = parseAgentConfig(input);
  if (!parsed.ok) throw new ConfigError(parsed.problems);
  const config = parsed.config;
  const host = hostname();
  const log = options.logger ?? createAgentLogger(config);
  const mailboxes = config.mailboxes.map((m) => m.address.toLowerCase());

  const { spool, recovered } = await Spool.open(config.spool.dir);
  if (recovered.requeued > 0) log.warn({ requeued: recovered.requeued }, 'messages that were in flight when the agent last stopped are queued again (same Message-ID)');
  for (const line of recovered.corrupt) log.error({ problem: line }, 'unreadable spool file moved to corrupt/');
  spool.on('warning', (error: Error) => log.error({ err: error.message }, 'spool problem'));
  // Every failure counts in smtp_slots_spool_write_errors_total; the log says when it starts and ends.
  spool.health.on('writable', (writable: boolean) => {
    const problem = spool.health.lastProblem;
    if (writable) log.info('spool writable again: the relay accepts mail and pending moves are retried');
    else log.error({ code: problem?.code, operation: problem?.operation }, 'spool cannot store messages (disk full or I/O error): the relay answers 452/451 and /readyz 503 until a write succeeds');
  });

  const redis = createRedisClient(config.redis, {
    connectionName: `smtp-slots-agent:${config.agentId}`,
    redisOptions: { maxRetriesPerRequest: 2, disconnectTimeout: DISCONNECT_TIMEOUT_MS, ...SLOT_CONNECTION_OPTIONS },
  });
  const redisWhere = describeRedisConnection(config.redis);
  let redisUp = false;
  let redisErrors = 0;
  redis.on('ready', () => {
    redisUp = true;
    if (redisErrors > 0) log.info({ redis: redisWhere }, 'Redis reachable again: sending resumes');
    redisErrors = 0;
  });
  redis.on('error', (error: Error) => {
    redisErrors += 1;
    if (redisErrors === 1 || redisErrors % 50 === 0) {
      log.error({ redis: redisWhere, err: error.message }, 'Redis unreachable: mail is accepted and spooled, but nothing is sent until Redis is back');
    }
  });
  redis.on('close', () => (redisUp = false));

  const admin = new MailboxAdmin(redis);
  const ledger = new RecipientLedger(redis);
  const slots = new SlotClient({ redis, holder: { agentId: config.agentId, host, pid: process.pid }, leaseTtlMs: config.slots.leaseTtlMs, safetyMarginMs: config.slots.safetyMarginMs });
  slots.on('error', (error) => log.warn({ err: error.message }, 'slot client problem'));
  slots.on('lost', (lease, reason) => log.warn({ mailbox: lease.mailbox, slot: lease.slot, fencingToken: lease.token, reason }, 'lease lost: upstream socket destroyed'));

  const recipients = new Map<string, number>();
  const senders = new Map<string, MailboxSender>();
  const metrics = new AgentMetrics(config.agentId, mailboxes, {
    spoolStats: () => spool.stats(),
    mailboxConfig: (mailbox) => senders.get(mailbox)?.live.current ?? { limit: 0, paused: false },
    recipients24h: (mailbox) => recipients.get(mailbox),
    redisUp: () => redisUp,
    spoolWritable: () => spool.health.writable,
  });
  spool.health.on('io-error', (code: string, operation: string) => metrics.spoolWriteError(code, operation));
  // Counters, trail, history and dead-letter index of one outcome share one pipeline.
  const fleet = createFleetRecords({ redis, agentId: config.agentId, trail: trailSettings(config.trail), spool, metrics, log });
  const publishDeadLetters = () => void fleet.publishDeadLetters().catch((error: Error) => log.warn({ err: error.message }, 'dead letters not published to Redis'));
  const services = { spool, slots, budget: new MessageBudget(redis), ledger, feedback: new LimitFeedback(redis), admin, observer: fleet.observer, log, count: fleet.count };
  for (const settings of config.mailboxes) {
    const mailbox = settings.address.toLowerCase();
    const sharedLimit = sharedLimitOf(settings);
    const sender = new MailboxSender(services, {
      settings,
      workers: settings.workers ?? config.sender.workers,
      // Graph: one request per lease, so a slot is held only while a request is in flight.
      maxMessagesPerConnection: settings.upstream.type === 'graph' ? 1 : settings.maxMessagesPerConnection ?? config.sender.maxMessagesPerConnection,
      maxRateWaitMs: config.sender.maxRateWaitMs,
      rateSafetyFraction: config.sender.rateSafetyFraction,
      retry: config.sender.retry,
      ehloName: (settings.upstream.type === 'smtp' ? settings.upstream.name : undefined) ?? host,
      ...(sharedLimit ? { sharedLimit } : {}),
      ...tokenProviderFor(settings, options.tokenProviders),
    });
    senders.set(mailbox, sender);
  }

  // Found in flight at start-up: the upstream may have taken them before the previous process stopped.
  for (const mailbox of recovered.requeuedMailboxes) if (senders.has(mailbox)) metrics.possibleDuplicate(mailbox);

  const tracker = new DeliveryTracker();
  spool.on('settled', (event: SettledEvent) => {
    tracker.settled(event);
    const { header } = event;
    const fields = { mailbox: header.mailbox, id: event.id, messageId: event.messageId, attempts: header.attempts.length + (event.status === 'sent' ? 1 : 0) };
    if (event.status === 'sent') log.info({ ...fields, bounced: event.bounced?.length ?? 0, pending: event.deferredCopy?.recipients.length ?? 0 }, 'sent');
    else log.warn({ ...fields, reason: header.deadReason }, 'dead letter');
  });
  if (!isLoopback(config.relay.host) && !config.relay.tls) {
    log.warn({ host: config.relay.host }, 'the relay listens beyond this machine without TLS: AUTH credentials and mail travel in clear text');
  }
  const accepting = { value: true };

  let relay: RelayServer | undefined;
  let relayPort: number | undefined;
  let status: StatusServer | undefined;
  let metricsPort: number | undefined;
  const timers: NodeJS.Timeout[] = [];
  try {
    if (options.relay ?? true) {
      relay = new RelayServer({
        relay: config.relay, mailboxes, name: host, spoolWritable: () => spool.health.writable,
        store: async ({ mailbox, envelope, raw }) => {
          const withId = ensureMessageId(raw, host);
          return (await spool.accept({ mailbox, envelope, raw: withId.raw, messageId: withId.messageId, origin: 'relay' })).id;
        },
      });
      relay.on('accepted', () => metrics.relayAccepted());
      relay.on('rejected', (reason) => metrics.relayRejected(reason));
      relay.on('warning', (error: Error) => log.debug({ err: error.message }, 'relay connection problem'));
      relayPort = await relay.listen();
    }
    if (config.metrics.enabled) {
      status = new StatusServer(metrics.registry, () => ({
        status: 'ok', agentId: config.agentId, version: AGENT_VERSION, redis: redisUp ? 'up' : 'down', spoolDepth: spool.depth(),
        spool: { writable: spool.health.writable, pendingMoves: spool.pendingMoves(), ...(spool.health.lastProblem ? { lastError: spool.health.lastProblem } : {}) },
        mailboxes: Object.fromEntries([...senders].map(([m, s]) => [m, s.status()])),
      }), () => pingWithin(redis), () => ({ writable: spool.health.writable, ...(spool.health.lastProblem ? { problem: spool.health.lastProblem } : {}) }));
      metricsPort = await status.listen(config.metrics.port, config.metrics.host);
    }
  } catch (error) {
    await relay?.close().catch(() => undefined);
    await status?.close().catch(() => undefined);
    redis.disconnect();
    await slots.closeWithin(0);
    await spool.close();
    throw error;
  }

  if (config.slots.reclaimStaleLeases) {
    void reclaimStaleLeases(admin, mailboxes, { agentId: config.agentId, host, pid: process.pid }).then(
      (freed) => freed > 0 && log.warn({ freed }, 'freed slots still held by this agent\'s previous (killed) process'),
      () => undefined,
    );
  }
  for (const sender of senders.values()) sender.start();

  // Heartbeat, recipient gauge and pickup of dead letters requeued by the CLI.
  const registry = new AgentRegistry(redis);
  const startedAt = Date.now();
  // The index is also rebuilt now and then: a write lost while Redis failed over heals by itself.
  const republishEvery = Math.max(1, Math.round(DEAD_LETTER_REPUBLISH_MS / config.heartbeatMs));
  let beats = 0;
  const beat = async () => {
    // While the spool is unwritable a probe write tells when space is back (nothing else may write).
    await spool.checkWritable();
    const rescanned = await spool.rescanIfRequested().catch((error: Error) => void log.warn({ err: error.message }, 'spool rescan failed'));
    if (!redisUp) return;
    beats += 1;
    if (rescanned || beats % republishEvery === 0) publishDeadLetters();
    const stats = spool.stats();
    fleet.spoolDepths(new Map(mailboxes.map((m) => {
      const s = stats.get(m);
      return [m, s ? s.queued + s.sending + s.deferred : 0];
    })));
    await registry.heartbeat({ agentId: config.agentId, host, pid: process.pid, version: AGENT_VERSION, spoolDepth: spool.depth(), mailboxes, startedAt }, config.heartbeatMs * 3).catch(() => undefined);
    for (const mailbox of mailboxes) {
      const used = await ledger.used(mailbox).catch(() => undefined);
      if (used !== undefined) recipients.set(mailbox, used);
    }
  };
  redis.on('ready', () => {
    void beat();
    publishDeadLetters();
  });
  // Retry/purge requests from the coordinator, on a connection of their own (XREAD BLOCK).
  const commands = new CommandConsumer(redis, redis.duplicate(), config.agentId, spool, log);
  commands.start();
  timers.push(setInterval(() => void beat(), config.heartbeatMs));
  log.info({ relayPort, metricsPort, mailboxes, spoolDepth: spool.depth(), redis: redisWhere, version: AGENT_VERSION }, 'agent started');

  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= (async () => {
    // One deadline for the whole stop: a Redis that stops answering keeps its TCP connection
    // open and never fails a command, so every Redis wait below is bounded by what is left.
    const deadline = performance.now() + config.shutdownTimeoutMs;
    const left = () => Math.max(0, deadline - performance.now());
    accepting.value = false;
    log.info({ spoolDepth: spool.depth() }, 'stopping: no new mail; finishing messages in flight');
    for (const timer of timers) clearInterval(timer);
    const orderly = (async () => {
      await Promise.allSettled([
        relay?.close(),
        ...[...senders.values()].map((s) => s.stop(socketDeadlineMs(config.shutdownTimeoutMs))),
      ]);
      await settlesWithin(commands.stop(), left());
      const released = await slots.closeWithin(left());
      if (redisUp) await settlesWithin(fleet.batch.flush(), left());
      if (released && redisUp) await settlesWithin(registry.remove(config.agentId), left());
    })();
    if (!(await settlesWithin(orderly, left()))) {
      log.warn({ shutdownTimeoutMs: config.shutdownTimeoutMs, redis: redisWhere }, 'shutdown deadline reached with Redis calls unanswered: connections dropped; held slots expire after the lease TTL');
    }
    // Dropping the connections fails whatever still waits for Redis: the workers finish now.
    await closeRedisWithin(redis, left());
    await slots.closeWithin(0);
    await settlesWithin(orderly, DROPPED_REDIS_GRACE_MS);
    tracker.stopped();
    await status?.close();
    await spool.close();
    log.info({ spoolDepth: spool.depth() }, 'stopped; unsent messages stay in the spool');
  })());

  return {
    agentId: config.agentId,
    config,
    relayPort,
    metricsPort,
    async send(mail) {
      if (!accepting.value) throw new AgentStoppedError();
      const composed = await composeMail(mail, host);
      const mailbox = composed.envelope.from.toLowerCase();
      if (!senders.has(mailbox)) throw new InvalidMessageError(`sender ${composed.envelope.from} is not a configured mailbox`);
      const header = await spool.accept({ mailbox, envelope: composed.envelope, raw: composed.raw, messageId: composed.messageId, origin: 'api' });
      const delivery = tracker.track(header.id);
      return { id: header.id, messageId: header.messageId, delivered: () => delivery };
    },
    deadLetters: {
      list: () => spool.listDead(),
      retry: (ids) => spool.retryDead(ids),
      purge: (ids) => spool.purgeDead(ids),
    },
    spoolDepth: () => spool.depth(),
    stop,
  };
}

/** A dropped connection whose server does not answer the close is destroyed after this (ioredis waits 2 s). */
const DISCONNECT_TIMEOUT_MS = 200;

/** After the shutdown deadline dropped the Redis connections: time for workers to record what their last calls did. */
const DROPPED_REDIS_GRACE_MS = 1_000;

/**
 * When, within `shutdownTimeoutMs`, sockets still open are destroyed: the rest of the time is
 * kept for releasing slots and leaving the registry (a quarter of it, at most 2 s).
 */
function socketDeadlineMs(shutdownTimeoutMs: number): number {
  return shutdownTimeoutMs - Math.min(2_000, shutdownTimeoutMs / 4);
}

/** `https://graph.microsoft.com/.default` for the Graph host a mailbox sends through. */
function graphScope(upstream: MailboxUpstream): string {
  return `${new URL(upstream.type === 'graph' ? upstream.graphUrl : 'https://graph.microsoft.com').origin}/.default`;
}

function tokenProviderFor(settings: AgentConfig['mailboxes'][number], custom?: Record<string, AccessTokenProvider>): { tokenProvider?: AccessTokenProvider } {
  const auth = settings.upstream.auth;
  if (auth?.type !== 'oauth2') return {};
  const given = custom?.[settings.address] ?? custom?.[settings.address.toLowerCase()];
  if (given) return { tokenProvider: given };
  return {
    tokenProvider: new ClientCredentialsTokenProvider({
      tenantId: auth.tenantId, authorityHost: auth.authorityHost, tokenUrl: auth.tokenUrl,
      clientId: auth.clientId, clientSecret: auth.clientSecret, certificate: auth.certificate,
      scope: auth.scope ?? graphScope(settings.upstream), refreshAheadMs: auth.refreshAheadMs,
    }),
  };
}
