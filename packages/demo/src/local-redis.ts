import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { getFreePort, ping } from '@smtp-slots/testkit';

/**
 * A private redis-server for the demo: loopback only, no persistence, its own process group (so
 * Ctrl-C stops it after the agents have drained, not before).
 */
export class LocalRedis {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    private readonly exited: Promise<void>,
  ) {}

  static async start(options: { dir: string; port?: number }): Promise<LocalRedis> {
    const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      throw new Error('redis-server is not installed: run ./scripts/demo.sh (it installs it) or set REDIS_URL');
    }
    mkdirSync(options.dir, { recursive: true });
    const port = options.port ?? (await getFreePort());
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', options.dir, '--save', '', '--appendonly', 'no',
        '--protected-mode', 'yes', '--loglevel', 'warning'],
      { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const kill = () => child.kill('SIGKILL');
    process.once('exit', kill);
    void exited.then(() => process.off('exit', kill));
    const deadline = Date.now() + 10_000;
    while (!(await ping(port))) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}: ${stderr.trim()}`);
      if (Date.now() > deadline) {
        kill();
        throw new Error(`redis-server did not answer on port ${port}: ${stderr.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return new LocalRedis(child, port, exited);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(timer);
  }
}
