import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { RedisConnectionConfig } from '@smtp-slots/core';

export interface FleetEvent {
  process: string;
  type: 'ready' | 'grant' | 'lost' | 'error';
  worker?: number;
  slot?: number;
  reason?: string;
  code?: string;
}

/** Several OS processes running slot-worker.ts; collects their events. */
export class WorkerFleet {
  readonly events: FleetEvent[] = [];
  private readonly children: ChildProcess[] = [];

  constructor(private readonly options: {
    processes: number;
    workers: number;
    redis: RedisConnectionConfig;
    mailbox: string;
    leaseTtlMs: number;
    upstreamPort: number;
    holdMs: number;
  }) {}

  start(): this {
    const script = fileURLToPath(new URL('./slot-worker.ts', import.meta.url));
    const cwd = fileURLToPath(new URL('../..', import.meta.url));
    for (let p = 0; p < this.options.processes; p += 1) {
      const { processes: _p, ...rest } = this.options;
      const env = { ...process.env, SLOT_WORKER_CONFIG: JSON.stringify({ ...rest, name: `p${p}` }) };
      const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', script], { cwd, env, stdio: ['ignore', 'pipe', 'inherit'] });
      createInterface({ input: child.stdout! }).on('line', (line) => {
        try {
          this.events.push(JSON.parse(line) as FleetEvent);
        } catch {
          // not an event line
        }
      });
      this.children.push(child);
    }
    return this;
  }

  count(type: FleetEvent['type'], from = 0): number {
    return this.events.slice(from).filter((e) => e.type === type).length;
  }

  /** Processes that got at least one grant among events[from..]. */
  processesGranted(from = 0): Set<string> {
    return new Set(this.events.slice(from).filter((e) => e.type === 'grant').map((e) => e.process));
  }

  /** `p0: 3 grant, 1 lost(epoch), ...` for failure messages. */
  summary(from = 0): string {
    const counts = new Map<string, number>();
    for (const e of this.events.slice(from)) {
      const key = `${e.process} ${e.type}${e.reason ?? e.code ? `(${e.reason ?? e.code})` : ''}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return [...counts].sort().map(([k, n]) => `${k} ×${n}`).join(', ') || 'no events';
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 8_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    })));
  }
}
