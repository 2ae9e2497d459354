import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@smtp-slots/testkit';
import nodemailer from 'nodemailer';
import { describe, expect, inject, it } from 'vitest';
import { useAgentScenarios } from '../support/agent-scenario.js';

const scenarios = useAgentScenarios();

/** A real 1 MiB tmpfs (needs root and mount rights; the test is skipped where that fails). */
function mountSmallDisk(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'smtp-slots-full-disk-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return dir;
}
const disk = mountSmallDisk();

/** Writes zeros into `file` until the file system says ENOSPC. */
function fill(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(16 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}

describe.runIf(disk)('agent: spool on a full disk (a real 1 MiB tmpfs)', () => {
  it('answers 452 4.3.1 (never 250) while full, reports it, and takes mail again by itself when space is back', async () => {
    scenarios.after(async () => {
      spawnSync('umount', ['-l', disk!]);
      rmSync(disk!, { recursive: true, force: true });
    });
    const { mailbox, fleet, ...s } = await scenarios.start({ agents: 1, redisUrl: inject('redisUrl'), extra: { spool: { dir: join(disk!, 'spool') }, heartbeatMs: 300 } });
    const agent = fleet.agents[0]!;
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: agent.relayPort, secure: false, ignoreTLS: true });
    const readyz = async () => {
      const response = await fetch(`http://127.0.0.1:${agent.metricsPort}/readyz`);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    await waitFor(async () => (await readyz()).status === 200, { timeoutMs: 15_000, message: 'agent ready' });

    fill(join(disk!, 'filler'));
    const refused = await transport.sendMail({ from: mailbox.address, to: 'a@fabrikam.example', subject: 'full', text: 'x'.repeat(20_000) }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ responseCode: 452 });
    expect((refused as Error).message).toMatch(/4\.3\.1/);
    const again = await transport.sendMail({ from: mailbox.address, to: 'a@fabrikam.example', subject: 'still full', text: 'y' }).catch((e: unknown) => e);
    expect(again).toMatchObject({ responseCode: 452 });

    expect(await fleet.metric('smtp_slots_spool_writable')).toBe(0);
    expect(await fleet.metric('smtp_slots_spool_write_errors_total', { code: 'ENOSPC' })).toBeGreaterThanOrEqual(1);
    expect(await fleet.metric('smtp_slots_relay_messages_total', { result: 'spool_full' })).toBe(2);
    expect(await fleet.metric('smtp_slots_relay_messages_total', { result: 'accepted' })).toBe(0);
    expect(await agent.health()).toMatchObject({ status: 'ok', spool: { writable: false, lastError: { code: 'ENOSPC' } } });
    expect(await readyz()).toMatchObject({ status: 503, body: { spool: 'unwritable', error: { code: 'SPOOL_UNWRITABLE' } } });
    expect(fleet.spoolDepth()).toBe(0);

    rmSync(join(disk!, 'filler'));
    await waitFor(async () => (await readyz()).status === 200, { timeoutMs: 15_000, message: '/readyz ready once space is back' });
    expect(await fleet.metric('smtp_slots_spool_writable')).toBe(1);
    const good = await s.submit({ count: 3, threads: 1 });
    expect(good.failed).toEqual([]);
    await s.waitForDelivery(good.accepted, { timeoutMs: 30_000 });
    expect(agent.tail(200)).toMatch(/spool writable again/);
    transport.close();
  }, 90_000);
});
