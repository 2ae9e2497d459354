import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getFreePort, waitFor } from '@smtp-slots/testkit';
import nodemailer from 'nodemailer';
import { stringify } from 'yaml';
import type { AgentConfigInput } from '../config.js';

const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));

/** A built agent process for the benchmark (relay and metrics on free ports). */
export interface BenchAgent {
  child: ChildProcess;
  relayPort: number;
  metricsPort: number;
  /** Resident set size from /proc, in bytes. */
  rss(): number;
  stop(): Promise<void>;
}

export async function startBenchAgent(dir: string, config: AgentConfigInput): Promise<BenchAgent> {
  mkdirSync(dir, { recursive: true });
  const relayPort = await getFreePort();
  const metricsPort = await getFreePort();
  const file = join(dir, 'agent.yaml');
  writeFileSync(file, stringify({ ...config, relay: { ...config.relay, port: relayPort }, metrics: { port: metricsPort }, spool: { dir: join(dir, 'spool') }, logLevel: 'warn' }));
  const child = spawn(process.execPath, [CLI, '--config', file], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`agent exited with ${child.exitCode} (config ${file})`);
    return (await fetch(`http://127.0.0.1:${metricsPort}/healthz`).catch(() => undefined))?.ok;
  }, { timeoutMs: 20_000, message: 'agent ready' }).catch((error: Error) => {
    child.kill('SIGKILL');
    throw error;
  });
  return {
    child,
    relayPort,
    metricsPort,
    rss: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

/** Submits `count` messages over `threads` reused SMTP connections spread over the relays; resolves with the elapsed ms. */
export async function submit(relays: number[], from: string, count: number, threads: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: threads }, async (_, i) => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: relays[i % relays.length], secure: false, ignoreTLS: true, pool: true, maxConnections: 1, maxMessages: Infinity });
    for (let n = next++; n < count; n = next++) {
      await transport.sendMail({ from, to: `rcpt-${n}@fabrikam.example`, subject: `bench ${n}`, text: `message ${n} ${'x'.repeat(200)}` });
    }
    transport.close();
  }));
  return performance.now() - started;
}
