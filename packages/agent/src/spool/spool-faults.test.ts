import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@smtp-slots/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { SpoolWriteError } from '../errors.js';
import { encodeSpoolFile, type Attempt, type SpoolHeader } from './spool-file.js';
import { SpoolIo, type SpoolStep } from './spool-io.js';
import { newSpoolId } from './spool-paths.js';
import { Spool, type SettledEvent } from './spool.js';

const MAILBOX = 'faults@contoso.example';
const opened: Spool[] = [];
const newDir = () => mkdtempSync(join(tmpdir(), 'agent-spool-faults-'));
const files = (dir: string, state: string) => readdirSync(join(dir, state)).filter((n) => !n.startsWith('.')).sort();
const attempt = (code: number, response: string): Attempt => ({ at: new Date().toISOString(), kind: 'temporary', code, response });
const errno = (code: string) => Object.assign(new Error(`${code}: injected`), { code });

afterEach(async () => {
  for (const spool of opened.splice(0)) await spool.close();
});

/**
 * A step hook whose rules decide, per step and path, to fail it with an errno (as often as
 * `times` says) or to hold it until released. Only steps after `arm()` count.
 */
function faults() {
  const rules: Array<{ step: SpoolStep; match: (path: string) => boolean; code?: string; times: number; hold?: Promise<void>; reached?: () => void }> = [];
  let armed = false;
  const io = new SpoolIo(async (step, path) => {
    if (!armed) return;
    const rule = rules.find((r) => r.step === step && r.times > 0 && r.match(path));
    if (!rule) return;
    rule.times -= 1;
    rule.reached?.();
    if (rule.hold) await rule.hold;
    if (rule.code) throw errno(rule.code);
  });
  return {
    io,
    arm: () => void (armed = true),
    fail(step: SpoolStep, code: string, times = 1, match: (path: string) => boolean = () => true) {
      rules.push({ step, code, times, match });
    },
    /** Holds the next matching step; resolves `reached` when it is there. */
    hold(step: SpoolStep, match: (path: string) => boolean = () => true) {
      let release!: () => void;
      let reached!: () => void;
      const hold = new Promise<void>((resolve) => (release = resolve));
      const at = new Promise<void>((resolve) => (reached = resolve));
      rules.push({ step, times: 1, match, hold, reached });
      return { release, reached: at };
    },
  };
}

async function openSpool(dir: string, io: SpoolIo): Promise<Spool> {
  const { spool } = await Spool.open(dir, { io, retryDelays: { initialMs: 20, maxMs: 100 } });
  opened.push(spool);
  return spool;
}
const accept = (spool: Spool, n: number, to = ['a@x.example']) => spool.accept({
  mailbox: MAILBOX, envelope: { from: MAILBOX, to }, raw: Buffer.from(`Message-ID: <f${n}@test>\r\n\r\nbody ${n}\r\n`), messageId: `<f${n}@test>`, origin: 'relay',
});

describe('spool I/O errors (injected ENOSPC and EIO)', () => {
  for (const [step, code] of [['write', 'ENOSPC'], ['fsync', 'EIO'], ['rename', 'ENOSPC'], ['dir-fsync', 'EIO']] as const) {
    it(`accept rejects and leaves nothing behind when ${step} fails with ${code}; the next write recovers`, async () => {
      const dir = newDir();
      const f = faults();
      const spool = await openSpool(dir, f.io);
      f.arm();
      f.fail(step, code);
      const failed = await accept(spool, 1).catch((error: unknown) => error);
      expect(failed).toBeInstanceOf(SpoolWriteError);
      expect(failed).toMatchObject({ errno: code, diskFull: code === 'ENOSPC' });
      expect(files(dir, 'queued')).toEqual([]);
      expect(files(dir, 'tmp')).toEqual([]);
      expect(spool.depth()).toBe(0);
      expect(spool.health.writable).toBe(false);
      expect(spool.health.lastProblem).toMatchObject({ code, operation: 'accept' });

      await accept(spool, 2);
      expect(spool.health.writable).toBe(true);
      expect(files(dir, 'queued')).toHaveLength(1);
    });
  }

  it('the probe marks an unwritable spool writable again once a write succeeds', async () => {
    const dir = newDir();
    const f = faults();
    const spool = await openSpool(dir, f.io);
    f.arm();
    f.fail('write', 'ENOSPC', 2);
    await expect(accept(spool, 1)).rejects.toBeInstanceOf(SpoolWriteError);
    expect(await spool.checkWritable()).toBe(false);
    expect(await spool.checkWritable()).toBe(true);
    expect(spool.health.writable).toBe(true);
    expect(files(dir, 'tmp')).toEqual([]);
  });

  it('an I/O error removing a delivered message does not leave it "sending": the move is retried', async () => {
    const dir = newDir();
    const f = faults();
    const spool = await openSpool(dir, f.io);
    const header = await accept(spool, 1);
    const message = (await spool.claim(MAILBOX))!;
    const settled = new Promise<SettledEvent>((resolve) => spool.once('settled', resolve));
    const problems: string[] = [];
    spool.health.on('io-error', (code: string, operation: string) => problems.push(`${code} ${operation}`));
    f.arm();
    f.fail('unlink', 'EIO', 2, (p) => p.includes('sending'));
    await spool.delivered(message);
    // The first try failed: the message is still on disk in sending/, and known as such.
    expect(files(dir, 'sending')).toEqual([header.id]);
    expect(spool.stats().get(MAILBOX)).toMatchObject({ sending: 1 });
    expect(spool.pendingMoves()).toBe(1);
    expect(await settled).toMatchObject({ id: header.id, status: 'sent' });
    await waitFor(() => spool.pendingMoves() === 0, { timeoutMs: 5_000, message: 'the move retried' });
    expect(files(dir, 'sending')).toEqual([]);
    expect(spool.depth()).toBe(0);
    expect(problems).toEqual(['EIO settle', 'EIO settle']);
    expect(spool.health.writable).toBe(true);
  });

  it('a deferral that cannot be written (disk full) keeps the message and completes when space is back', async () => {
    const dir = newDir();
    const f = faults();
    const spool = await openSpool(dir, f.io);
    const header = await accept(spool, 1);
    const message = (await spool.claim(MAILBOX))!;
    f.arm();
    f.fail('write', 'ENOSPC', 3);
    await spool.defer(message, attempt(451, '451 4.4.0 later'), 0, { countsAsFailure: true });
    expect(files(dir, 'sending')).toEqual([header.id]);
    expect(spool.readyCount(MAILBOX)).toBe(0);
    // Not claimable while the move is pending: nobody sends it twice.
    expect(await spool.claim(MAILBOX)).toBeUndefined();
    await waitFor(() => spool.pendingMoves() === 0, { timeoutMs: 5_000, message: 'the deferral written after the retries' });
    expect(files(dir, 'deferred')).toEqual([header.id]);
    expect(files(dir, 'sending')).toEqual([]);
    const again = (await spool.claim(MAILBOX))!;
    expect(again.header.attempts.map((a) => a.response)).toEqual(['451 4.4.0 later']);
  });

  it('a failed put-back and a failed burial are retried, never dropped', async () => {
    const dir = newDir();
    const f = faults();
    const spool = await openSpool(dir, f.io);
    await accept(spool, 1);
    await accept(spool, 2);
    const one = (await spool.claim(MAILBOX))!;
    const two = (await spool.claim(MAILBOX))!;
    f.arm();
    f.fail('rename', 'EIO', 1, (p) => p.includes('queued'));
    f.fail('write', 'EIO', 1);
    await spool.putBack(one);
    await spool.bury(two, attempt(550, '550 no'), 'rejected');
    await waitFor(() => spool.pendingMoves() === 0, { timeoutMs: 5_000, message: 'moves retried' });
    expect(files(dir, 'queued')).toEqual([one.header.id]);
    expect(files(dir, 'dead')).toEqual([two.header.id]);
    expect(files(dir, 'sending')).toEqual([]);
    expect(spool.stats().get(MAILBOX)).toMatchObject({ queued: 1, sending: 0, dead: 1 });
  });
});

describe('rescan racing the spool\'s own moves', () => {
  it('a message accepted while a rescan runs is neither dropped nor queued twice', async () => {
    const dir = newDir();
    const f = faults();
    const spool = await openSpool(dir, f.io);
    // A file another process dropped into queued/: the rescan reads its header (and is held there).
    const foreign: SpoolHeader = {
      id: newSpoolId(), rev: 0, mailbox: MAILBOX, envelope: { from: MAILBOX, to: ['b@x.example'] }, messageId: '<foreign@test>', size: 1,
      receivedAt: Date.now(), lifetimeStart: Date.now(), origin: 'api', attempts: [], failures: 0,
    };
    writeFileSync(join(dir, 'queued', foreign.id), encodeSpoolFile(foreign, Buffer.from('x')));
    f.arm();
    const held = f.hold('read', (p) => p.endsWith(foreign.id));
    const scanning = spool.rescan();
    await held.reached;
    const accepted = await accept(spool, 1);
    held.release();
    await scanning;
    expect(spool.readyCount(MAILBOX)).toBe(2);
    expect(spool.stats().get(MAILBOX)).toMatchObject({ queued: 2 });
    const ids = [(await spool.claim(MAILBOX))?.header.id, (await spool.claim(MAILBOX))?.header.id];
    expect(ids.sort()).toEqual([accepted.id, foreign.id].sort());
    expect(await spool.claim(MAILBOX)).toBeUndefined();
  });

  it('a rescan during an accept does not hand the message out before the accept is done', async () => {
    const dir = newDir();
    const f = faults();
    const spool = await openSpool(dir, f.io);
    f.arm();
    const held = f.hold('dir-fsync', (p) => p.endsWith('queued'));
    const accepting = accept(spool, 1);
    await held.reached;
    // The file is in queued/ but not yet durable: a rescan must leave it to the accept.
    await spool.rescan();
    expect(spool.readyCount(MAILBOX)).toBe(0);
    held.release();
    const header = await accepting;
    const claimed = (await spool.claim(MAILBOX))!;
    expect(claimed.header.id).toBe(header.id);
    await spool.rescan();
    expect(await spool.claim(MAILBOX)).toBeUndefined();
    expect(files(dir, 'sending')).toEqual([header.id]);
    expect(spool.stats().get(MAILBOX)).toMatchObject({ queued: 0, sending: 1 });
  });
});
