import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentConfigInput } from '@smtp-slots/agent';
import { getFreePort } from '@smtp-slots/testkit';
import { stringify } from 'yaml';
import { parseMetrics, type MetricSample } from './prometheus-text.js';

/** The built agent CLI (the test script builds before running e2e tests). */
export const AGENT_CLI = fileURLToPath(new URL('../../../packages/agent/dist/cli.js', import.meta.url));

export function assertAgentBuilt(): void {
  if (!existsSync(AGENT_CLI)) throw new Error(`${AGENT_CLI} is missing: run \`pnpm build\` first`);
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface AgentProcessOptions {
  /** Folder for this agent's config, spool and log. */
  dir: string;
  /** The config; relay.port and metrics.port are filled with free ports unless given. */
  config: AgentConfigInput;
  env?: NodeJS.ProcessEnv;
}

/**
 * One `smtp-slots-agent` process started from the built CLI with a YAML config in its own
 * folder. Restarting keeps the config, ports and spool: like a front-end server rebooting.
 */
export class AgentProcess {
  readonly configFile: string;
  readonly logFile: string;
  readonly spoolDir: string;
  relayPort = 0;
  metricsPort = 0;
  private child: ChildProcess | undefined;
  private exitedPromise: Promise<{ code: number | null; signal: NodeJS.Signals | null }> = Promise.resolve({ code: null, signal: null });

  private constructor(private readonly options: AgentProcessOptions) {
    mkdirSync(options.dir, { recursive: true });
    this.configFile = join(options.dir, 'agent.yaml');
    this.logFile = join(options.dir, 'agent.log');
    this.spoolDir = (options.config.spool as { dir?: string } | undefined)?.dir ?? join(options.dir, 'spool');
  }

  /** Writes the config, starts the process and waits until relay and /healthz answer. */
  static async start(options: AgentProcessOptions): Promise<AgentProcess> {
    assertAgentBuilt();
    const agent = new AgentProcess(options);
    const relay = (options.config.relay ?? {}) as { port?: number };
    const metrics = (options.config.metrics ?? {}) as { port?: number };
    agent.relayPort = relay.port || (await getFreePort());
    agent.metricsPort = metrics.port || (await getFreePort());
    const config = {
      ...options.config,
      relay: { ...options.config.relay, port: agent.relayPort },
      metrics: { ...options.config.metrics, port: agent.metricsPort },
      spool: { ...options.config.spool, dir: agent.spoolDir },
    };
    writeFileSync(agent.configFile, stringify(config), { mode: 0o600 });
    await agent.launch();
    return agent;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process again with the same config and spool. */
  async restart(): Promise<void> {
    if (this.running) throw new Error('agent is still running');
    await this.launch();
  }

  /** SIGTERM (graceful drain); resolves with the exit code. SIGKILL after `graceMs`. */
  async stop(graceMs = 20_000): Promise<number | null> {
    if (!this.running) return (await this.exitedPromise).code;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    const { code } = await this.exitedPromise;
    clearTimeout(timer);
    return code;
  }

  /** SIGKILL: a crash, seen from outside (no cleanup, leases stay in Redis). */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    await this.exitedPromise;
  }

  async metrics(): Promise<MetricSample[]> {
    const response = await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`);
    return parseMetrics(await response.text());
  }

  async health(): Promise<{ status: string; redis: string; spoolDepth: number; mailboxes: Record<string, unknown> }> {
    return (await (await fetch(`http://127.0.0.1:${this.metricsPort}/healthz`)).json()) as never;
  }

  /** Files in a spool state directory (counted from disk, not from the agent). */
  spoolFiles(state: 'queued' | 'sending' | 'deferred' | 'dead'): string[] {
    const dir = join(this.spoolDir, state);
    return existsSync(dir) ? readdirSync(dir) : [];
  }

  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  private async launch(): Promise<void> {
    const output = createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(process.execPath, [AGENT_CLI, '--config', this.configFile], {
      env: { ...process.env, ...this.options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(output, { end: false });
    child.stderr.pipe(output, { end: false });
    live.add(child);
    this.child = child;
    this.exitedPromise = new Promise((resolve) => child.once('exit', (code, signal) => {
      live.delete(child);
      setTimeout(() => output.end(), 50);
      resolve({ code, signal });
    }));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (!this.running) throw new Error(`agent exited during start:\n${this.log().split('\n').slice(-15).join('\n')}`);
      if ((await canConnect(this.relayPort)) && (await answers(this.metricsPort))) return;
      if (Date.now() > deadline) throw new Error(`agent not ready after 20 s:\n${this.log().split('\n').slice(-15).join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
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

async function answers(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
  } catch {
    return false;
  }
}
