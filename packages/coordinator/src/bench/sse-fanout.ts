/**
 * `pnpm bench`: SSE fan-out. Runs the coordinator CLI as its own process, opens N `GET
 * /api/events` streams (the dashboards) and drives real grant/release events through Redis
 * (SlotClient acquire + release). Reports the coordinator's CPU (from /proc) and RSS, and checks
 * that every dashboard saw every event.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { SlotClient } from '@smtp-slots/core';
import { getFreePort, RedisProcess, sleep, waitFor } from '@smtp-slots/testkit';

const DASHBOARDS = [0, 300];
const WINDOW_MS = 10_000;
const CYCLES_PER_SECOND = 50; // one grant + one release event each
const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const TICKS = 100; // USER_HZ on Linux

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

function rssMiB(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(line?.[1] ?? 0) / 1024;
}

/** One dashboard: counts the events of its stream. */
function openStream(port: number): { events: () => number; close: () => void } {
  let events = 0;
  const req = request({ host: '127.0.0.1', port, path: '/api/events' }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      for (let at = chunk.indexOf('data: '); at !== -1; at = chunk.indexOf('data: ', at + 6)) events++;
    });
  });
  req.end();
  return { events: () => events, close: () => req.destroy() };
}

const rows: string[] = [];
for (const count of DASHBOARDS) {
  const server = await RedisProcess.start();
  const port = await getFreePort();
  const coordinator = spawn(process.execPath, [CLI, '--redis', server.url, '--port', String(port)], { stdio: 'ignore', env: { ...process.env, SMTP_SLOTS_LOG_LEVEL: 'silent' } });
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.ok === true, { timeoutMs: 20_000 });
  const streams = Array.from({ length: count }, () => openStream(port));
  await waitFor(async () => (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).includes(`smtp_slots_coordinator_sse_clients ${count}`), { timeoutMs: 20_000 }).catch(() => sleep(2000));
  const redis = new Redis(server.url);
  const client = new SlotClient({ redis, holder: { agentId: 'bench', host: 'bench', pid: process.pid }, epochGraceMs: 0 });
  const pid = coordinator.pid!;
  const rssBefore = rssMiB(pid);
  const ticksBefore = cpuTicks(pid);
  const started = performance.now();
  let cycles = 0;
  let peakRss = rssBefore;
  while (performance.now() - started < WINDOW_MS) {
    const lease = await client.acquire(`mailbox${cycles % 20}@bench.test`, { worker: 'w1' });
    await lease.release();
    cycles++;
    peakRss = Math.max(peakRss, rssMiB(pid));
    const due = started + (cycles * 1000) / CYCLES_PER_SECOND;
    await sleep(Math.max(0, due - performance.now()));
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = (cpuTicks(pid) - ticksBefore) / TICKS / seconds;
  await sleep(500);
  const delivered = streams.reduce((sum, s) => sum + s.events(), 0);
  const expected = cycles * 2 * count;
  rows.push(
    `| ${count} | ${((cycles * 2) / seconds).toFixed(0)} | ${((cycles * 2 * count) / seconds).toFixed(0)} | ${(cpu * 100).toFixed(1)} % | ${rssBefore.toFixed(0)} / ${peakRss.toFixed(0)} | ${count === 0 ? '-' : `${((delivered / expected) * 100).toFixed(1)} %`} |`,
  );
  for (const stream of streams) stream.close();
  await client.close();
  await redis.quit();
  coordinator.kill('SIGTERM');
  await new Promise((resolve) => coordinator.once('exit', resolve));
  await server.stop();
}

process.stdout.write(
  [
    `SSE fan-out (coordinator process, ${WINDOW_MS / 1000} s of real grant/release events; no earlier figure, measured only)`,
    '',
    '| dashboards | events/s in | SSE messages/s out | coordinator CPU (one core = 100 %) | RSS MiB idle / peak | events delivered |',
    '|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
  ].join('\n'),
);
