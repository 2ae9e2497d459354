import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort } from './free-port.js';

export interface RedisProcessOptions {
  /** Port to listen on; a free one when omitted. */
  port?: number;
  /** Extra redis-server arguments, e.g. ['--cluster-enabled', 'yes']. */
  args?: string[];
  /** Binary to run (`redis-server` or `redis-sentinel`). */
  binary?: string;
  /** Config file text, written to the data dir and passed first (sentinel needs one). */
  configText?: string;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Fails with an actionable message when redis-server is not installed. */
export function assertRedisServerInstalled(binary = 'redis-server'): void {
  const probe = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(`${binary} is not installed: run ./scripts/test.sh (it installs the Debian package redis-server) or apt-get install redis-server`);
  }
}

/** Answers true when something speaking RESP answers PING on the port. */
export function ping(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('close', () => done(false)); // closed without a PONG (done() ignores repeats)
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

/**
 * A real redis-server child process on its own port and data dir, with no persistence unless
 * asked. Tests kill, pause and restart it to prove the invariants under faults.
 */
export class RedisProcess {
  readonly dir = mkdtempSync(join(tmpdir(), 'smtp-slots-redis-'));
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  port = 0;

  private constructor(private readonly options: RedisProcessOptions) {}

  static async start(options: RedisProcessOptions = {}): Promise<RedisProcess> {
    const redis = new RedisProcess(options);
    redis.port = options.port ?? (await getFreePort());
    await redis.launch();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private async launch(): Promise<void> {
    const binary = this.options.binary ?? 'redis-server';
    assertRedisServerInstalled(binary);
    const args: string[] = [];
    if (this.options.configText !== undefined) {
      const { writeFileSync } = await import('node:fs');
      const file = join(this.dir, 'redis.conf');
      writeFileSync(file, this.options.configText);
      args.push(file);
    }
    args.push('--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'no',
      '--daemonize', 'no', '--protected-mode', 'no', '--loglevel', 'warning', ...(this.options.args ?? []));
    const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    live.add(child);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => {
      live.delete(child);
      resolve();
    }));
    const deadline = Date.now() + 10_000;
    while (!(await ping(this.port))) {
      if (child.exitCode !== null) throw new Error(`${binary} exited with ${child.exitCode}: ${stderr.trim()}`);
      if (Date.now() > deadline) throw new Error(`${binary} did not answer PING on ${this.port}: ${stderr.trim()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** SIGKILL: the process dies at once, all in-memory data is gone. */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  /** SIGSTOP: the process stops answering but keeps its sockets (a network partition, seen from clients). */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Starts again on the same port and arguments; without persistence it comes back empty. */
  async restart(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) await this.kill();
    await this.launch();
  }

  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGCONT');
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child?.kill('SIGKILL'), 3_000);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
