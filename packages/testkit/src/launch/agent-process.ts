import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, closeSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { stringify } from 'yaml';
import { NodeService, type ExitStatus } from './node-service.js';

/**
 * An agent config as written to the process's YAML file. `AgentConfigInput` from
 * `@smtp-slots/agent` fits it; testkit sits below the agent, so it names only the keys it reads.
 */
export interface AgentLaunchConfig {
  relay?: { port?: unknown; [key: string]: unknown };
  metrics?: { port?: unknown; [key: string]: unknown };
  spool?: { dir?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface AgentProcessOptions {
  /** The agent's built CLI: `resolvePackageCli('@smtp-slots/agent', import.meta.url)`. */
  cli: string;
  /** Folder for this agent's config, log and (unless the config names one) spool. */
  dir: string;
  /**
   * The agent's config. A relay or metrics port left out is written as 0: the agent binds a free
   * port itself and the launcher reads the bound ports from the agent's `agent started` log line
   * (so the log level must be `info` or lower). Ports picked beforehand and bound later can be
   * taken in between by any other process on the machine; with both ports given, readiness is
   * read from /healthz alone and any log level will do.
   */
  config: AgentLaunchConfig;
  /** Extra environment (e.g. secrets the config references as `${NAME}`). */
  env?: NodeJS.ProcessEnv;
  /** Shown in errors; the folder's name by default. */
  name?: string;
  startTimeoutMs?: number;
}

/** The spool states, one folder each. */
export type SpoolState = 'queued' | 'sending' | 'deferred' | 'dead';

/** What the agent reports once it listens (see the agent's main loop). */
interface StartedLine {
  msg?: string;
  relayPort?: number;
  metricsPort?: number;
}

/**
 * One `smtp-slots-agent` process from the built CLI, with its YAML config, JSON log and spool in
 * its own folder. Restarting keeps the config and the spool (a front-end server rebooting); ports
 * that were left to the agent are bound afresh and read again.
 */
export class AgentProcess {
  readonly name: string;
  readonly configFile: string;
  readonly logFile: string;
  readonly spoolDir: string;
  /** The relay's bound port (updated by every start). */
  relayPort = 0;
  /** The /metrics and /healthz port; 0 when metrics are disabled. */
  metricsPort = 0;
  private service: NodeService | undefined;

  private constructor(private readonly options: AgentProcessOptions) {
    mkdirSync(options.dir, { recursive: true });
    this.name = options.name ?? basename(options.dir);
    this.configFile = join(options.dir, 'agent.yaml');
    this.logFile = join(options.dir, 'agent.log');
    this.spoolDir = options.config.spool?.dir ?? join(options.dir, 'spool');
  }

  /** Writes the config, starts the process and resolves once the relay and /healthz answer. */
  static async start(options: AgentProcessOptions): Promise<AgentProcess> {
    const agent = new AgentProcess(options);
    const { config } = options;
    writeFileSync(agent.configFile, stringify({
      ...config,
      relay: { ...config.relay, port: config.relay?.port ?? 0 },
      metrics: { ...config.metrics, port: config.metrics?.port ?? 0 },
      spool: { ...config.spool, dir: agent.spoolDir },
    }), { mode: 0o600 });
    await agent.launch();
    return agent;
  }

  get pid(): number | undefined {
    return this.service?.pid;
  }

  get running(): boolean {
    return this.service !== undefined && this.service.exitStatus === undefined;
  }

  /** Starts the process again with the same config and spool. */
  async restart(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is still running`);
    await this.launch();
  }

  /** SIGTERM (the agent drains: finishes or requeues in-flight mail, releases slots); SIGKILL after `graceMs`. */
  async stop(graceMs = 30_000): Promise<ExitStatus | undefined> {
    return this.service?.stop(graceMs);
  }

  /** SIGKILL: a crash seen from outside (no cleanup, leases stay in Redis). */
  async kill(): Promise<ExitStatus | undefined> {
    return this.service?.kill();
  }

  /** The Prometheus text of /metrics. */
  async metricsText(): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`);
    if (!response.ok) throw new Error(`${this.name} /metrics answered ${response.status}`);
    return response.text();
  }

  async health(): Promise<{ status: string; redis: string; spoolDepth: number; mailboxes: Record<string, unknown> }> {
    return (await (await fetch(`http://127.0.0.1:${this.metricsPort}/healthz`)).json()) as never;
  }

  /** Files in one spool state folder, counted on disk (not asked from the agent). */
  spoolFiles(state: SpoolState): string[] {
    const dir = join(this.spoolDir, state);
    return existsSync(dir) ? readdirSync(dir) : [];
  }

  /** The whole log (all starts). */
  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  /** The last lines of the log, for error messages. */
  tail(lines = 15): string {
    return this.log().trimEnd().split('\n').slice(-lines).join('\n') || '(no log)';
  }

  private async launch(): Promise<void> {
    const logStart = existsSync(this.logFile) ? statSync(this.logFile).size : 0;
    const service = NodeService.start({
      name: this.name,
      script: this.options.cli,
      args: ['--config', this.configFile],
      env: { ...process.env, ...this.options.env },
      logFile: this.logFile,
    });
    this.service = service;
    const timeoutMs = this.options.startTimeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const exit = service.exitStatus;
      if (exit) throw new Error(`${this.name} exited during start (code ${exit.code}, signal ${exit.signal}):\n${this.tail()}`);
      const started = startedLine(readFrom(this.logFile, logStart)) ?? this.givenPorts();
      if (started && (await this.ready(started))) return;
      if (Date.now() > deadline) {
        await service.kill();
        throw new Error(`${this.name} was not ready after ${timeoutMs} ms (no "agent started" line at info level, or /healthz silent):\n${this.tail()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Both ports from the config, when it names them (then no log line is needed). */
  private givenPorts(): StartedLine | undefined {
    const relayPort = this.options.config.relay?.port;
    const metricsPort = this.options.config.metrics?.port;
    const given = (port: unknown): port is number => typeof port === 'number' && port > 0;
    return given(relayPort) && given(metricsPort) ? { relayPort, metricsPort } : undefined;
  }

  private async ready(started: StartedLine): Promise<boolean> {
    this.relayPort = started.relayPort ?? 0;
    this.metricsPort = started.metricsPort ?? 0;
    if (this.metricsPort === 0) return true;
    try {
      return (await fetch(`http://127.0.0.1:${this.metricsPort}/healthz`)).ok;
    } catch {
      return false;
    }
  }
}

/** The `agent started` line among complete JSON log lines; undefined until it was written. */
function startedLine(text: string): StartedLine | undefined {
  for (const line of text.split('\n').slice(0, -1)) {
    if (!line.includes('"agent started"')) continue;
    try {
      const parsed = JSON.parse(line) as StartedLine;
      if (parsed.msg === 'agent started') return parsed;
    } catch {
      // not a JSON line (e.g. a stack trace on stderr)
    }
  }
  return undefined;
}

/** The file's text from byte `offset` on ('' while it does not exist). */
function readFrom(file: string, offset: number): string {
  if (!existsSync(file)) return '';
  const fd = openSync(file, 'r');
  try {
    const length = Math.max(0, statSync(file).size - offset);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, offset);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}
