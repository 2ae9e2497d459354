/**
 * Redis work per acquire+release, per renewal and per message's limits, counted by Redis itself
 * (INFO commandstats: every command, also those a script calls) and its CPU time (/proc), on a
 * fresh redis-server per column. Prints one table: the baseline (BENCH_BASELINE_SRC, another
 * checkout's packages/core/src; else the figures recorded before this change), this code, and
 * the goal. Run alone: node --import tsx --conditions=source bench/redis-cost.ts
 *   BENCH_COST_ROUNDS  acquire+release rounds per column (default 3000)
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { parseInfo, RedisProcess } from '@smtp-slots/testkit';
import * as current from '../src/index.js';

const ROUNDS = Number(process.env['BENCH_COST_ROUNDS'] ?? 3000);
const BASELINE_SRC = process.env['BENCH_BASELINE_SRC'];
type Core = typeof current;

interface Cost {
  commandsPerCycle: number;
  infoPerCycle: number;
  cpuPerCycle: number;
  commandsPerRenewal: number;
  commandsPerMessage: number;
  cpuPerMessage: number;
}

function cpuMicros(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // utime + stime, USER_HZ = 100
}

/** Commands Redis ran since the last reset, by name, without the INFO that reads them. */
async function commands(admin: Redis): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const [key, value] of parseInfo(await admin.info('commandstats'))) {
    const calls = /calls=(\d+)/.exec(value);
    if (key.startsWith('cmdstat_') && calls) out.set(key.slice('cmdstat_'.length), Number(calls[1]));
  }
  return out;
}
const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

async function measure(core: Core): Promise<Cost> {
  const server = await RedisProcess.start();
  const admin = new Redis(server.url);
  // The agent's connection options; a core without them (the baseline) ignores the extra field.
  const redis = new Redis(server.url, (core as Partial<Core>).SLOT_CONNECTION_OPTIONS ?? {});
  try {
    const slots = new core.SlotClient({ redis, holder: { agentId: 'bench', host: 'bench', pid: process.pid }, epochGraceMs: 0 });
    const mailbox = 'cost@example.test';
    const cycle = async () => (await slots.acquire(mailbox, { worker: 'w' })).release();
    for (let i = 0; i < 300; i++) await cycle(); // warm: scripts loaded, run id known, grace over

    await admin.config('RESETSTAT');
    let cpu = cpuMicros(server.pid);
    for (let i = 0; i < ROUNDS; i++) await cycle();
    const cpuPerCycle = (cpuMicros(server.pid) - cpu) / ROUNDS;
    const byName = await commands(admin);
    const commandsPerCycle = (total(byName) - (byName.get('config') ?? 0)) / ROUNDS;
    const infoPerCycle = (byName.get('info') ?? 0) / ROUNDS;

    // Renewals: one lease renewed every 20 ms for 2 s, nothing else on this Redis meanwhile.
    const renewing = new core.SlotClient({ redis, holder: { agentId: 'bench', host: 'bench', pid: process.pid }, epochGraceMs: 0, leaseTtlMs: 3000, renewIntervalMs: 20 });
    let renewals = 0;
    renewing.on('renewed', () => (renewals += 1));
    const lease = await renewing.acquire('renew@example.test', { worker: 'r' });
    await admin.config('RESETSTAT');
    await new Promise((r) => setTimeout(r, 2000));
    const renewCommands = total(await commands(admin));
    await lease.release();
    await renewing.close();

    // A message's limits: rate token + recipient reservation (two scripts), or one MessageBudget call.
    const budget = 'MessageBudget' in core ? new (core as Core).MessageBudget(redis) : undefined;
    const rate = new core.RateLimiter(redis);
    const ledger = new core.RecipientLedger(redis);
    const message = async () => {
      if (budget) await budget.take(mailbox, { perMinute: 6_000_000, recipients: 1, perDay: 100_000_000 });
      else await Promise.all([rate.take(mailbox, 6_000_000), ledger.reserve(mailbox, 1, 100_000_000)]);
    };
    await admin.config('RESETSTAT');
    cpu = cpuMicros(server.pid);
    for (let i = 0; i < ROUNDS; i++) await message();
    const cpuPerMessage = (cpuMicros(server.pid) - cpu) / ROUNDS;
    const messageCommands = await commands(admin);
    await slots.close();
    return {
      commandsPerCycle, infoPerCycle, cpuPerCycle,
      commandsPerRenewal: renewals > 0 ? renewCommands / renewals : NaN,
      commandsPerMessage: (total(messageCommands) - (messageCommands.get('config') ?? 0)) / ROUNDS,
      cpuPerMessage,
    };
  } finally {
    redis.disconnect();
    admin.disconnect();
    await server.stop();
  }
}

/** Figures of the code before this change (28 commands, ~150 µs per pair; issue 16), when no baseline checkout is given. */
const RECORDED: Cost = { commandsPerCycle: 28, infoPerCycle: 1, cpuPerCycle: 150, commandsPerRenewal: 8, commandsPerMessage: NaN, cpuPerMessage: NaN };

const baseline = BASELINE_SRC ? await measure((await import(pathToFileURL(resolve(BASELINE_SRC, 'index.ts')).href)) as Core) : RECORDED;
const after = await measure(current);
const f = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : '–');
const rows: Array<[string, (c: Cost) => string, string]> = [
  ['Redis commands per acquire+release, uncontended (incl. inside Lua)', (c) => f(c.commandsPerCycle), '≤ 8'],
  ['INFO calls per acquire+release', (c) => f(c.infoPerCycle, 2), '0'],
  ['redis-server CPU per acquire+release (µs)', (c) => f(c.cpuPerCycle, 0), '≤ 65 (redis-semaphore)'],
  ['Redis commands per renewal', (c) => f(c.commandsPerRenewal), 'small'],
  ['Redis commands per message: rate token + recipients', (c) => f(c.commandsPerMessage), 'one script call'],
  ['redis-server CPU per message: rate token + recipients (µs)', (c) => f(c.cpuPerMessage, 0), ''],
];
const header = ['', BASELINE_SRC ? 'before (baseline checkout)' : 'before (recorded)', 'after', 'goal'];
const table = [header, ...rows.map(([label, cell, goal]) => [label, cell(baseline), cell(after), goal])];
const widths = header.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
const line = (row: string[]) => `| ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ')} |`;
process.stdout.write([
  '',
  `Redis cost, ${ROUNDS} uncontended acquire+release rounds and ${ROUNDS} messages per column, one fresh redis-server each, node ${process.version}`,
  '',
  line(header),
  `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
  ...table.slice(1).map(line),
  '',
].join('\n'));
process.exit(0);
