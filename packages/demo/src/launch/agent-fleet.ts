import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { AgentConfigInput } from '@smtp-slots/agent';
import { getFreePort } from '@smtp-slots/testkit';
import { stringify } from 'yaml';
import { NodeService, resolvePackageCli } from './node-service.js';

export interface FleetOptions {
  /** Agent processes to start (each plays one front-end server). */
  count: number;
  /** Folder for configs, spools and logs (one subfolder per agent). */
  dir: string;
  /** Builds agent `index`'s config (1-based); relay and metrics ports are filled in. */
  config: (index: number, ports: { relay: number; metrics: number }) => AgentConfigInput;
  /** Extra environment for the agents (e.g. secrets their configs reference as `${NAME}`). */
  env?: NodeJS.ProcessEnv;
  startTimeoutMs?: number;
}

/** One running agent process and where to reach it. */
export interface FleetMember {
  name: string;
  service: NodeService;
  relayPort: number;
  metricsPort: number;
  configFile: string;
  logFile: string;
}

/**
 * Starts agent processes from the built `smtp-slots-agent` CLI, each with its own config, spool
 * and log file, and waits until every relay accepts connections and every /healthz answers.
 */
export async function startAgentFleet(options: FleetOptions): Promise<FleetMember[]> {
  const script = resolvePackageCli('@smtp-slots/agent');
  const members: FleetMember[] = [];
  try {
    for (let index = 1; index <= options.count; index++) {
      const name = `agent-${index}`;
      const home = join(options.dir, name);
      mkdirSync(home, { recursive: true });
      const ports = { relay: await getFreePort(), metrics: await getFreePort() };
      const configFile = join(home, 'agent.yaml');
      writeFileSync(configFile, stringify(options.config(index, ports)), { mode: 0o600 });
      const logFile = join(home, 'agent.log');
      const service = NodeService.start({
        name,
        script,
        args: ['--config', configFile],
        env: { ...process.env, ...options.env },
        logFile,
      });
      members.push({ name, service, relayPort: ports.relay, metricsPort: ports.metrics, configFile, logFile });
    }
    await Promise.all(members.map((member) => waitUntilReady(member, options.startTimeoutMs ?? 30_000)));
    return members;
  } catch (error) {
    await stopAgentFleet(members);
    throw error;
  }
}

/** SIGTERM to every agent at once (each drains: finishes or requeues in-flight mail, releases slots). */
export async function stopAgentFleet(members: FleetMember[], graceMs = 30_000): Promise<void> {
  await Promise.all(members.map((member) => member.service.stop(graceMs)));
}

async function waitUntilReady(member: FleetMember, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const exit = member.service.exitStatus;
    if (exit) throw new Error(`${member.name} exited during start (code ${exit.code}):\n${tail(member.logFile)}`);
    if ((await canConnect(member.relayPort)) && (await healthy(member.metricsPort))) return;
    if (Date.now() > deadline) throw new Error(`${member.name} was not ready after ${timeoutMs} ms:\n${tail(member.logFile)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function healthy(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
  } catch {
    return false;
  }
}

/** The last lines of a log file, for error messages. */
export function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
