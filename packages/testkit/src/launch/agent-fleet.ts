import { join } from 'node:path';
import { AgentProcess, type AgentLaunchConfig } from './agent-process.js';

export interface FleetOptions {
  /** The agent's built CLI: `resolvePackageCli('@smtp-slots/agent', import.meta.url)`. */
  cli: string;
  /** Agent processes to start (each plays one front-end server). */
  count: number;
  /** Folder for configs, spools and logs (one subfolder `agent-<index>` per agent). */
  dir: string;
  /** Builds agent `index`'s config (1-based); ports left out are bound by the agent (see AgentProcess). */
  config: (index: number) => AgentLaunchConfig;
  /** Extra environment for the agents (e.g. secrets their configs reference as `${NAME}`). */
  env?: NodeJS.ProcessEnv;
  startTimeoutMs?: number;
}

/**
 * Starts agent processes from the built `smtp-slots-agent` CLI, each with its own config, spool
 * and log folder, and resolves when every relay listens and every /healthz answers. If one fails
 * to start, the others are stopped again.
 */
export async function startAgentFleet(options: FleetOptions): Promise<AgentProcess[]> {
  const starts = Array.from({ length: options.count }, (_, i) => AgentProcess.start({
    cli: options.cli,
    dir: join(options.dir, `agent-${i + 1}`),
    config: options.config(i + 1),
    env: options.env,
    startTimeoutMs: options.startTimeoutMs,
  }));
  const results = await Promise.allSettled(starts);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  if (failed) {
    await stopAgentFleet(started);
    throw failed.reason;
  }
  return started;
}

/** SIGTERM to every agent at once (each drains: finishes or requeues in-flight mail, releases slots). */
export async function stopAgentFleet(agents: AgentProcess[], graceMs = 30_000): Promise<void> {
  await Promise.all(agents.map((agent) => agent.stop(graceMs)));
}
