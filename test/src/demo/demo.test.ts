import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot } from '../docs/repo-files.js';

const cli = join(repoRoot, 'packages/demo/dist/cli.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The demo as a user runs it, with its own private redis-server (REDIS_URL removed). */
function startDemo(args: string[]) {
  const env = { ...process.env };
  delete env['REDIS_URL'];
  const child = spawn(process.execPath, [cli, ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<Run>((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
  const demo = { child, done, output: () => stdout };
  started.add(demo);
  return demo;
}

const started = new Set<{ child: ReturnType<typeof spawn>; done: Promise<Run> }>();
// A failed assertion must not leave a demo (and its agents, Redis, coordinator) running.
afterEach(async () => {
  for (const demo of started) {
    if (demo.child.exitCode === null && demo.child.signalCode === null) demo.child.kill('SIGINT');
    await demo.done;
  }
  started.clear();
});

/** `label   value` from the summary block. */
function summaryValue(stdout: string, label: string): string {
  const line = stdout.split('\n').find((l) => l.trimStart().startsWith(`${label} `));
  if (!line) throw new Error(`no "${label}" line in:\n${stdout}`);
  return line.trim().slice(label.length).trim();
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the demo', () => {
  it('--once: 4 agents x 3 workers deliver every message with no 432 and at most 3 upstream connections', async () => {
    const run = await startDemo(['--once', '--messages', '60', '--port', '0']).done;
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(summaryValue(run.stdout, 'senders')).toBe('4 agents x 3 workers = 12 competing for 3 slots');
    expect(summaryValue(run.stdout, 'delivered')).toBe('60/60 (0 duplicates)');
    expect(summaryValue(run.stdout, '432s seen by the upstream')).toBe('0 (expected 0)');
    const peak = Number(/^(\d+) /.exec(summaryValue(run.stdout, 'peak concurrent connections'))?.[1]);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(3);
    expect(summaryValue(run.stdout, 'slot wait p50 / p99')).toMatch(/^<= [\d.]+ s \/ <= ([\d.]+ s|\+Inf), mean [\d.]+ s \([1-9]\d* grants/);
    expect(summaryValue(run.stdout, 'message wait p50 / p99')).toMatch(/^\d+\.\d+ s \/ \d+\.\d+ s /);
    expect(summaryValue(run.stdout, 'result')).toBe('OK');
  });

  it('--transport graph: the same batch through Graph sendMail, at most 4 requests in flight, no 429 MailboxConcurrency', async () => {
    const run = await startDemo(['--once', '--transport', 'graph', '--messages', '60', '--port', '0']).done;
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(summaryValue(run.stdout, 'delivered')).toBe('60/60 (0 duplicates)');
    expect(summaryValue(run.stdout, '429 MailboxConcurrency')).toBe('0 (expected 0)');
    const peak = Number(/^(\d+) /.exec(summaryValue(run.stdout, 'peak requests in flight'))?.[1]);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(4);
    expect(summaryValue(run.stdout, 'result')).toBe('OK');
  });

  it('keeps the dashboard up until SIGINT, then stops every process it started', async () => {
    const demo = startDemo(['--messages', '12', '--port', '0']);
    const deadline = Date.now() + 60_000;
    while (!demo.output().includes('Ctrl-C stops it all') && demo.child.exitCode === null && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(demo.output()).toContain('Ctrl-C stops it all');
    const dashboard = summaryValue(demo.output(), 'dashboard');
    const tokenLine = summaryValue(demo.output(), 'admin token (dashboard)');
    // The token itself never reaches the terminal: the summary names a private file.
    expect(tokenLine).toMatch(/^in \//);
    const tokenFile = tokenLine.slice(3);
    expect(statSync(tokenFile).mode & 0o077).toBe(0);
    const token = readFileSync(tokenFile, 'utf8').trim();
    expect(demo.output()).not.toContain(token);

    // The running system answers: the page, live agents, and an admin action with the printed token.
    expect((await fetch(dashboard)).status).toBe(200);
    const response = await fetch(new URL('/api/agents', dashboard));
    const { agents } = (await response.json()) as { agents: Array<{ pid: number; alive: boolean }> };
    expect(agents).toHaveLength(4);
    expect(agents.every((agent) => agent.alive && isAlive(agent.pid))).toBe(true);
    const pause = await fetch(new URL('/api/mailboxes/reports@contoso.example/pause', dashboard), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(pause.status).toBeLessThan(300);

    demo.child.kill('SIGINT');
    const run = await demo.done;
    expect(run.code, run.stdout + run.stderr).toBe(0);
    for (const agent of agents) expect(isAlive(agent.pid), `agent pid ${agent.pid} still runs`).toBe(false);
    await expect(fetch(dashboard)).rejects.toThrow();
  });
});
