import type { Server } from 'node:http';
import type { AddressInfo, Server as NetServer } from 'node:net';
import type { Faults, FaultPatch } from './faults.js';
import { createHttpApi } from './http-api.js';
import type { UserStats } from './mailbox-state.js';
import type { AcceptedMessage } from './message-log.js';
import { resolveOptions, type ExchangeSimOptions } from './options.js';
import { SimState, type SimStats, type StatsOptions } from './sim-state.js';
import { closeSmtpFront, createSmtpFront } from './smtp-front.js';
import { selfSignedCertificate } from './tls-cert.js';

/** A running simulator. */
export interface ExchangeSim {
  /** Interface both listeners are bound to. */
  readonly host: string;
  readonly smtpPort: number;
  /** Undefined when started with `httpPort: false`. */
  readonly httpPort: number | undefined;
  /** `http://host:httpPort`, or undefined without the HTTP listener. */
  readonly httpUrl: string | undefined;
  /** The server name used in the greeting and in `[Hostname=...]`. */
  readonly hostname: string;
  /** PEM of the self-signed STARTTLS certificate (trust it with `tls: { ca }`); undefined without STARTTLS. */
  readonly certificate: string | undefined;
  /** Live stats, the same document `GET /stats` returns. */
  stats(options?: StatsOptions): SimStats;
  /** One user's stats (`GET /stats/users/:address`); undefined for a user never seen. */
  userStats(user: string, options?: StatsOptions): UserStats | undefined;
  /** Zeroes counters, message logs, peaks and the rate/quota windows (`POST /admin/reset`). */
  resetStats(): void;
  /** Changes faults globally or for one user; `null` clears a value. Returns what is now in effect. */
  setFaults(patch: FaultPatch, user?: string): Faults;
  /** The faults in effect globally or for one user. */
  getFaults(user?: string): Faults;
  /** Holds `count` sessions of `user` from outside (`POST /admin/occupy`). */
  occupy(user: string, count: number, options?: { front?: boolean }): { user: string; ids: string[]; countedSessions: number };
  /** Ends sessions held from outside; all of the user's when `ids` is omitted (`POST /admin/release`). */
  releaseOccupied(user: string, ids?: string[]): { user: string; released: number; countedSessions: number };
  /** Calls `listener` for every accepted message; returns an unsubscribe function. */
  onMessage(listener: (message: AcceptedMessage) => void): () => void;
  /** Cuts all connections and closes both listeners. */
  stop(): Promise<void>;
}

/**
 * Starts an Exchange Online SMTP submission double: SMTP on `options.port` and the JSON
 * stats/admin API on `options.httpPort` (both default to port 0, i.e. a free port).
 */
export async function startExchangeSim(options: ExchangeSimOptions = {}): Promise<ExchangeSim> {
  const resolved = resolveOptions(options);
  const sim = new SimState(resolved);
  const tls = resolved.starttls ? await selfSignedCertificate(resolved.hostname) : undefined;
  const smtp = createSmtpFront(sim, tls);
  // smtp-server re-emits socket errors of clients (resets, aborted handshakes) on the server.
  smtp.on('error', () => undefined);
  const http = resolved.httpPort === false ? undefined : createHttpApi(sim);

  try {
    await listen(smtp.server, resolved.port, resolved.host);
    if (http && resolved.httpPort !== false) await listen(http, resolved.httpPort, resolved.host);
  } catch (error) {
    await closeSmtpFront(smtp).catch(() => undefined);
    if (http?.listening) await new Promise((resolve) => http.close(resolve));
    throw error;
  }

  const smtpPort = (smtp.server.address() as AddressInfo).port;
  const httpPort = http ? (http.address() as AddressInfo).port : undefined;
  const urlHost = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host;
  let stopping: Promise<void> | undefined;

  return {
    host: resolved.host,
    smtpPort,
    httpPort,
    httpUrl: httpPort === undefined ? undefined : `http://${urlHost}:${httpPort}`,
    hostname: resolved.hostname,
    certificate: tls?.cert,
    stats: (statsOptions) => sim.stats(statsOptions),
    userStats: (user, statsOptions) => sim.userStats(user, statsOptions),
    resetStats: () => sim.reset(),
    setFaults: (patch, user) => sim.setFaults(patch, user),
    getFaults: (user) => sim.faults.get(user === undefined ? undefined : sim.mailbox(user)?.user.address ?? user),
    occupy: (user, count, occupyOptions) => sim.occupy(user, count, occupyOptions?.front ?? false),
    releaseOccupied: (user, ids) => sim.release(user, ids),
    onMessage: (listener) => sim.onMessage(listener),
    stop: () => {
      stopping ??= Promise.all([
        closeSmtpFront(smtp),
        http
          ? new Promise<void>((resolve) => {
              http.close(() => resolve());
              http.closeAllConnections();
            })
          : undefined,
      ]).then(() => undefined);
      return stopping;
    },
  };
}

function listen(server: Server | NetServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
