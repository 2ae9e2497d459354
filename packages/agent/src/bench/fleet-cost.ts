import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_TRAIL_SETTINGS, type TrailSettings } from '@smtp-slots/core';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createFleetRecords, type FleetRecords } from '../fleet/fleet-records.js';
import { NO_OBSERVER } from '../sender/sender-observer.js';
import { Spool } from '../spool/spool.js';

/*
 * What the fleet records (trail, history, counters) cost per message, measured on a real Redis
 * with a real spool (in /dev/shm when there is one, so fsync does not dominate the run):
 *   - Redis memory per 10,000 trail entries (one message each: accepted, sending, sent);
 *   - commands, round trips and Redis server time per message of a plain delivery, against the
 *     counter write the agent made before (one HINCRBY).
 */

type Row = [string, string];
const N = 10_000;
/** What the write batch sends (the trail script, counters, history); none of them runs inside a script. */
const AGENT_COMMANDS = new Set(['evalsha', 'eval', 'hincrby', 'pexpire']);

const raw = (n: number) => Buffer.from(
  `From: bench@contoso.example\r\nTo: rcpt-${n}@fabrikam.example\r\nSubject: Invoice ${n} for October\r\nMessage-ID: <bench.${n}@app.contoso.example>\r\n\r\nbody ${n}\r\n`,
);

async function redisFigures(redis: Redis): Promise<{ memory: number; usec: number }> {
  const memory = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0);
  const stats = await redis.info('commandstats');
  // Only the commands the agent sends: commands a script runs are counted again on their own.
  const usec = [...stats.matchAll(/cmdstat_(\w+):calls=\d+,usec=(\d+)/g)].filter(([, name]) => AGENT_COMMANDS.has(name!)).reduce((sum, m) => sum + Number(m[2]), 0);
  return { memory, usec };
}

/** One message's life as the sender drives it: accepted, a slot granted, claimed, sent, counted. */
async function deliverOne(spool: Spool, fleet: FleetRecords, mailbox: string, n: number, recordFleet: boolean): Promise<void> {
  await spool.accept({ mailbox, envelope: { from: mailbox, to: [`rcpt-${n}@fabrikam.example`] }, raw: raw(n), messageId: `<bench.${n}@app.contoso.example>`, origin: 'relay' });
  const message = (await spool.claim(mailbox))!;
  if (recordFleet) fleet.observer.slotGranted(mailbox, 0.004);
  await spool.delivered(message, undefined, `250 2.0.0 OK <bench.${n}@app.contoso.example> [Hostname=EXSIM01] Queued mail for delivery`);
  if (recordFleet) fleet.observer.sent(mailbox);
  fleet.count(mailbox, 'sent');
  await fleet.batch.flush();
}

async function run(redisUrl: string, label: string, settings: TrailSettings, recordFleet: boolean, count: number): Promise<{ commands: number; pipelines: number; usec: number; memory: number }> {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dir = mkdtempSync(join(base, 'smtp-slots-fleet-bench-'));
  const redis = new Redis(redisUrl);
  const { spool } = await Spool.open(dir);
  const mailbox = `${label}-${process.pid}@contoso.example`;
  const fleet = createFleetRecords({ redis, agentId: 'bench-agent', trail: settings, spool, metrics: NO_OBSERVER, log: pino({ level: 'silent' }) });
  try {
    await deliverOne(spool, fleet, mailbox, -1, recordFleet); // defines the scripts on the connection
    const before = { ...fleet.batch.stats };
    const figures = await redisFigures(redis);
    for (let n = 0; n < count; n++) await deliverOne(spool, fleet, mailbox, n, recordFleet);
    const after = await redisFigures(redis);
    return {
      commands: (fleet.batch.stats.commands - before.commands) / count,
      pipelines: (fleet.batch.stats.pipelines - before.pipelines) / count,
      usec: (after.usec - figures.usec) / count,
      memory: after.memory - figures.memory,
    };
  } finally {
    await spool.close();
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Rows for the agent benchmark table. */
export async function fleetRecordCost(redisUrl: string): Promise<Row[]> {
  const countersOnly = await run(redisUrl, 'counters', { ...DEFAULT_TRAIL_SETTINGS, enabled: false }, false, 2_000);
  const plain = await run(redisUrl, 'trail', DEFAULT_TRAIL_SETTINGS, true, N);
  const hashed = await run(redisUrl, 'hashed', { ...DEFAULT_TRAIL_SETTINGS, recipients: 'hashed', subject: 'hashed' }, true, N);
  const per = (r: { commands: number; pipelines: number; usec: number }) => `${r.commands.toFixed(1)} commands in ${r.pipelines.toFixed(1)} round trips, ${r.usec.toFixed(0)} µs Redis time`;
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return [
    ['fleet records: Redis memory per 10,000 trail entries (plain recipients and subject)', mib(plain.memory)],
    ['fleet records: Redis memory per 10,000 trail entries (hashed recipients and subject)', mib(hashed.memory)],
    ['per delivered message, counters only (trail off, no history)', per(countersOnly)],
    ['per delivered message, trail + history + counters', per(plain)],
    ['  added by trail + history', `${(plain.commands - countersOnly.commands).toFixed(1)} commands, ${(plain.pipelines - countersOnly.pipelines).toFixed(1)} round trips, ${(plain.usec - countersOnly.usec).toFixed(0)} µs Redis time`],
  ];
}
