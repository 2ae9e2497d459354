import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, startCoordinator, type RunningCoordinator } from '@smtp-slots/coordinator';
import { startExchangeSim, type ExchangeSim } from '@smtp-slots/exchange-sim';
import type { DemoOptions } from './args.js';
import { resolvePackageCli, startAgentFleet, stopAgentFleet, type AgentProcess } from '@smtp-slots/testkit/launch';
import { LocalRedis } from './local-redis.js';

/** The shared mailbox every agent sends through. */
export const DEMO_MAILBOX = 'reports@contoso.example';
const UPSTREAM_PASSWORD_ENV = 'DEMO_UPSTREAM_PASSWORD';
const CLIENT_SECRET_ENV = 'DEMO_CLIENT_SECRET';
/** The app registration the simulator's token endpoint knows (Graph transport). */
const DEMO_APP = 'smtp-slots-demo';
const DEMO_TENANT = 'contoso-demo';
/** Lease lifetime in the demo's agents (production default 15 s). */
export const DEMO_LEASE_TTL_MS = 5_000;

/** Everything the demo started, and how to reach it. */
export interface DemoStack {
  workDir: string;
  redisUrl: string;
  sim: ExchangeSim;
  coordinator: RunningCoordinator;
  agents: AgentProcess[];
  /** Bearer token for the dashboard's admin actions (pause, resume, force-release). */
  adminToken: string;
  /** Where the admin token is written (mode 0600): secrets go to files, never to the terminal or logs. */
  adminTokenFile: string;
  /** Stops agents first (they drain and release their slots), then the rest. Idempotent. */
  stop(): Promise<void>;
}

/** Reports progress: `label` names the part (empty for a note), `detail` says where it runs. */
export type StepLogger = (label: string, detail: string) => void;

/**
 * Starts Redis (unless one is given), the Exchange Online simulator, the coordinator with the
 * dashboard and the agent processes. Whatever started is stopped again if a later part fails.
 */
export async function startDemoStack(options: DemoOptions, step: StepLogger): Promise<DemoStack> {
  const workDir = mkdtempSync(join(tmpdir(), 'smtp-slots-demo-'));
  const cleanups: Array<() => Promise<void>> = [];
  const unwind = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };
  try {
    let redisUrl = options.redisUrl;
    if (redisUrl === undefined) {
      const redis = await LocalRedis.start({ dir: join(workDir, 'redis') });
      cleanups.push(() => redis.stop());
      redisUrl = redis.url;
      step('redis-server', `${redisUrl} (private, no persistence)`);
    } else step('redis', `${redactUrl(redisUrl)} (from REDIS_URL)`);

    const upstreamPassword = randomBytes(12).toString('base64url');
    const clientSecret = randomBytes(12).toString('base64url');
    const sim = await startExchangeSim({
      users: [{ address: DEMO_MAILBOX, password: upstreamPassword }],
      apps: [{ clientId: DEMO_APP, clientSecret }],
      graphConcurrency: options.limit,
      limit: options.limit,
      ratePerMinute: options.ratePerMinute,
      faults: { latencyMs: options.latencyMs },
    });
    cleanups.push(() => sim.stop());
    step('exchange simulator', options.transport === 'graph'
      ? `Graph sendMail at ${sim.httpUrl}/v1.0 (${options.limit} requests in flight per mailbox, then 429 MailboxConcurrency; stats ${sim.httpUrl}/stats)`
      : `smtp://127.0.0.1:${sim.smtpPort} (${options.limit} sessions per mailbox, then 432 4.3.2; stats ${sim.httpUrl}/stats)`);

    const adminToken = randomBytes(18).toString('base64url');
    const adminTokenFile = join(workDir, 'admin-token');
    writeFileSync(adminTokenFile, `${adminToken}\n`, { mode: 0o600 });
    const coordinator = await startDemoCoordinator(redisUrl, options.port, adminToken);
    cleanups.push(() => coordinator.close());
    step('coordinator', `${coordinator.url}/ (dashboard, /api, /metrics)`);
    if (options.redisUrl !== undefined && (await resumeIfPaused(coordinator.url, adminToken))) {
      step('', `${DEMO_MAILBOX} was left paused in this Redis by an earlier run: resumed it through the API`);
    }

    const agents = await startAgentFleet({
      cli: resolvePackageCli('@smtp-slots/agent', import.meta.url),
      count: options.agents,
      dir: workDir,
      env: { [UPSTREAM_PASSWORD_ENV]: upstreamPassword, [CLIENT_SECRET_ENV]: clientSecret, SMTP_SLOTS_LOG_LEVEL: 'info' },
      config: (index) => ({
        agentId: `frontend-${index}`,
        redis: { url: redisUrl },
        relay: { host: '127.0.0.1' }, // port 0: the agent binds a free one and logs it
        metrics: { host: '127.0.0.1' },
        sender: { workers: options.workers },
        // A fresh Redis looks exactly like one that lost its data, so the first grant waits one lease
        // TTL (connections opened under lost leases must drain first). A short TTL keeps that brief.
        slots: { leaseTtlMs: DEMO_LEASE_TTL_MS },
        heartbeatMs: 1_000,
        mailboxes: [
          {
            address: DEMO_MAILBOX,
            upstream: options.transport === 'graph'
              ? {
                  type: 'graph',
                  graphUrl: sim.httpUrl!,
                  // The simulator listens on loopback http; the token is asked for Graph's real scope.
                  auth: {
                    type: 'oauth2', tenantId: DEMO_TENANT, clientId: DEMO_APP, clientSecret: `\${${CLIENT_SECRET_ENV}}`,
                    tokenUrl: `${sim.httpUrl!}/${DEMO_TENANT}/oauth2/v2.0/token`, scope: 'https://graph.microsoft.com/.default',
                  },
                }
              : {
                  host: '127.0.0.1',
                  port: sim.smtpPort,
                  auth: { type: 'password', user: DEMO_MAILBOX, pass: `\${${UPSTREAM_PASSWORD_ENV}}` },
                },
            limit: options.limit,
            ratePerMinute: options.ratePerMinute,
          },
        ],
      }),
    });
    cleanups.push(() => stopAgentFleet(agents));
    const relays = agents.map((agent) => agent.relayPort).join(', ');
    step('agents', `${options.agents} processes x ${options.workers} workers = ${options.agents * options.workers} senders; relays on 127.0.0.1 ports ${relays}`);
    if (options.redisUrl === undefined) {
      step('', `a new Redis looks like one that lost its data: no slot is granted for one lease TTL (${DEMO_LEASE_TTL_MS / 1000} s), mail queues meanwhile`);
    }

    let stopping: Promise<void> | undefined;
    return {
      workDir,
      redisUrl,
      sim,
      coordinator,
      agents,
      adminToken,
      adminTokenFile,
      stop: () => {
        stopping ??= unwind();
        return stopping;
      },
    };
  } catch (error) {
    await unwind();
    rmSync(workDir, { recursive: true, force: true });
    throw error;
  }
}

/** The coordinator on the preferred port (8080 unless told otherwise), or any free port when that one is taken. */
async function startDemoCoordinator(redisUrl: string, port: number | undefined, adminToken: string): Promise<RunningCoordinator> {
  const start = (p: number) => {
    const parsed = parseConfig({ redis: { url: redisUrl }, http: { host: '127.0.0.1', port: p }, adminToken, logLevel: 'silent' });
    if (!parsed.ok || parsed.help) throw new Error(`coordinator config: ${parsed.ok ? 'unexpected help' : parsed.problems.join('; ')}`);
    return startCoordinator(parsed.config);
  };
  return start(port ?? ((await isPortFree(8080)) ? 8080 : 0));
}

/** A shared Redis may hold the demo mailbox paused from an earlier run (e.g. from the dashboard). */
async function resumeIfPaused(baseUrl: string, adminToken: string): Promise<boolean> {
  const url = `${baseUrl}/api/mailboxes/${encodeURIComponent(DEMO_MAILBOX)}`;
  const response = await fetch(url);
  if (!response.ok) return false; // 404: never used in this Redis
  const detail = (await response.json()) as { paused?: boolean };
  if (!detail.paused) return false;
  const resumed = await fetch(`${url}/resume`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}` } });
  return resumed.ok;
}

/** True when nothing listens on 127.0.0.1:`port` right now. */
function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
