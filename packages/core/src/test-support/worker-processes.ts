import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SlotWorkerConfig, WorkerMessage } from './slot-worker.js';

const FIXTURE = fileURLToPath(new URL('./slot-worker.ts', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));

/** A slot-worker.ts child process and everything it reported. */
export class WorkerProcess {
  readonly messages: WorkerMessage[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(readonly config: SlotWorkerConfig) {
    this.child = fork(FIXTURE, [], {
      cwd: PACKAGE_DIR,
      execArgv: ['--import', 'tsx', '--conditions=source'],
      env: { ...process.env, SLOT_WORKER: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (m: WorkerMessage) => this.messages.push(m));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  of<T extends WorkerMessage['type']>(type: T): Array<Extract<WorkerMessage, { type: T }>> {
    return this.messages.filter((m): m is Extract<WorkerMessage, { type: T }> => m.type === type);
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Asks 'hold' workers to close their connection and release. */
  release(): void {
    if (this.child.connected) this.child.send({ type: 'release' });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGCONT');
      this.child.kill('SIGKILL');
    }
    await this.exited;
  }
}
