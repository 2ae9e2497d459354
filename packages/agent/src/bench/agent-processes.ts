import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getFreePort } from '@smtp-slots/testkit';
import { AgentProcess } from '@smtp-slots/testkit/launch';
import nodemailer from 'nodemailer';
import type { AgentConfigInput } from '../config.js';

/** The bench measures the built agent, as it ships. */
const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;

/** A built agent process for the benchmark (relay and metrics on free ports). */
export interface BenchAgent {
  relayPort: number;
  metricsPort: number;
  /** Resident set size from /proc, in bytes. */
  rss(): number;
  stop(): Promise<void>;
}

/** `cli`: another checkout's built agent (a baseline to compare with); this one's by default. */
export async function startBenchAgent(dir: string, config: AgentConfigInput, cli = CLI): Promise<BenchAgent> {
  // Ports given up front: readiness comes from /healthz, so the log can stay at warn (no line per message).
  const relay = { ...config.relay, port: await getFreePort() };
  const agent = await AgentProcess.start({
    cli,
    dir,
    config: { ...config, relay, metrics: { port: await getFreePort() }, spool: { dir: join(dir, 'spool') }, logLevel: 'warn' },
    startTimeoutMs: 20_000,
  });
  return {
    relayPort: agent.relayPort,
    metricsPort: agent.metricsPort,
    rss: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${agent.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024,
    stop: async () => {
      await agent.stop();
    },
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
