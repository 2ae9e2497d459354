import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { MeteredProxy, waitFor } from '@smtp-slots/testkit';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { ScriptedUpstream } from '../testing/scripted-upstream.js';

// The child runs from source (testing/ is not part of the build), as the other test children do.
const agentDir = join(dirname(fileURLToPath(import.meta.url)), '../..');
const child = join(agentDir, 'src/testing/fenced-sender-child.ts');
const LEASE_TTL_MS = 1_500;

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

describe('write fence (real Redis lease, real SMTP server, a starved sender process)', () => {
  it('replies read after the lease deadline passed (before the deadline timer ran) lead to no write: the socket is destroyed, the lease ends', { timeout: 60_000 }, async () => {
    // The replies to message 1's final dot and message 2's commands arrive while the sender is
    // busy; when it gets back to its event loop it reads them before it runs the deadline timer.
    const server = await new ScriptedUpstream({ users: { 'sender@contoso.example': 'secret' }, latencyMs: 300 }).start();
    cleanup.push(() => server.stop());
    const proxy = await new MeteredProxy({ host: '127.0.0.1', port: server.port }).start();
    cleanup.push(() => proxy.stop());
    const mailbox = `fence-${randomBytes(4).toString('hex')}@contoso.example`;
    const proc = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', child, inject('redisUrl'), mailbox, String(proxy.port), String(LEASE_TTL_MS)], {
      cwd: agentDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanup.push(async () => proc.exitCode === null && proc.kill('SIGKILL'));
    let stdout = '';
    let stderr = '';
    let blockedAt = Infinity;
    proc.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.startsWith('blocking\n')) blockedAt = Math.min(blockedAt, performance.now());
    });
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once('close', (code) => resolve(code)));

    await waitFor(() => server.attempts.size === 1, { timeoutMs: 30_000, intervalMs: 2, message: 'message 1 at the server, its reply pending' });
    proc.kill('SIGUSR1');
    expect(await exited, stderr).toBe(0);

    const result = JSON.parse(stdout.split('\n')[1]!) as { one: string; two: { kind: string; dataSent?: boolean }; lost?: string };
    // The reply to message 1 was read after the deadline, before the deadline timer ran ...
    expect(result.one).toBe('accepted');
    // ... and nothing more went out: message 2's bytes (due on its 354) never reached the upstream.
    const connection = proxy.connections.find((c) => c.label === 'fence.test')!;
    expect(connection.writes.filter((w) => w.at > blockedAt).map((w) => w.text)).toEqual([]);
    expect(server.received.map((m) => m.messageId)).toEqual(['<m1@contoso.example>']);
    expect(result.two).toEqual({ kind: 'failed', dataSent: false });
    expect(result.lost).toBe('deadline');
  });
});
