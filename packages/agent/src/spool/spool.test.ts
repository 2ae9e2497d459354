import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SpoolLockedError } from '../errors.js';
import { DeadLetterStore } from './dead-letters.js';
import { decodeSpoolFile, type Attempt } from './spool-file.js';
import { Spool } from './spool.js';

const MAILBOX = 'reports@contoso.example';
const open: Spool[] = [];
const newDir = () => mkdtempSync(join(tmpdir(), 'agent-spool-'));
const files = (dir: string, state: string) => readdirSync(join(dir, state)).sort();
const raw = (n: number) => Buffer.from(`Message-ID: <m${n}@test>\r\nSubject: ${n}\r\n\r\nbody ${n}\r\n`);
const attempt = (code: number, response: string): Attempt => ({ at: new Date().toISOString(), kind: 'temporary', code, response });

async function openSpool(dir: string): Promise<Spool> {
  const { spool } = await Spool.open(dir);
  open.push(spool);
  return spool;
}
const accept = (spool: Spool, n: number, to = ['a@x.example']) =>
  spool.accept({ mailbox: MAILBOX, envelope: { from: MAILBOX, to }, raw: raw(n), messageId: `<m${n}@test>`, origin: 'relay' });

afterEach(async () => {
  for (const spool of open.splice(0)) await spool.close();
});

describe('Spool', () => {
  it('keeps an accepted message on disk until it is delivered, in FIFO order', async () => {
    const dir = newDir();
    const spool = await openSpool(dir);
    const first = await accept(spool, 1);
    await accept(spool, 2);
    expect(files(dir, 'queued')).toHaveLength(2);
    expect(spool.readyCount(MAILBOX)).toBe(2);

    const claimed = await spool.claim(MAILBOX);
    expect(claimed?.header.id).toBe(first.id);
    expect(claimed?.raw.toString()).toContain('body 1');
    expect(files(dir, 'sending')).toEqual([first.id]);

    const settled = new Promise((resolve) => spool.once('settled', resolve));
    await spool.delivered(claimed!);
    expect(await settled).toMatchObject({ id: first.id, status: 'sent', messageId: '<m1@test>' });
    expect(files(dir, 'sending')).toEqual([]);
    expect(spool.depth()).toBe(1);
  });

  it('resumes after a crash: in-flight messages go back to the queue', async () => {
    const dir = newDir();
    const spool = await openSpool(dir);
    await accept(spool, 1);
    await accept(spool, 2);
    const inFlight = await spool.claim(MAILBOX);
    // Simulate the process dying: the lock file stays behind with a pid that no longer exists.
    writeFileSync(join(dir, 'agent.lock'), '999999\n');
    open.splice(0);

    const { spool: again, recovered } = await Spool.open(dir);
    open.push(again);
    expect(recovered.requeued).toBe(1);
    expect(again.stalePid).toBe(999999);
    expect(files(dir, 'sending')).toEqual([]);
    expect(again.readyCount(MAILBOX)).toBe(2);
    expect((await again.claim(MAILBOX))?.header.id).toBe(inFlight?.header.id);
  });

  it('marks a message found in flight at start-up as a possible duplicate, on disk', async () => {
    const dir = newDir();
    const spool = await openSpool(dir);
    await accept(spool, 1);
    const inFlight = (await spool.claim(MAILBOX))!;
    writeFileSync(join(dir, 'agent.lock'), '999999\n');
    open.splice(0);

    const { spool: again } = await Spool.open(dir);
    open.push(again);
    const onDisk = decodeSpoolFile('queued', readFileSync(join(dir, 'queued', inFlight.header.id))).header;
    expect(onDisk).toMatchObject({ possibleDuplicate: true, rev: inFlight.header.rev + 1 });
    expect((await again.claim(MAILBOX))?.header.possibleDuplicate).toBe(true);
  });

  it('refuses a spool that a live process owns', async () => {
    const dir = newDir();
    writeFileSync(join(dir, 'agent.lock'), `${process.ppid}\n`);
    await expect(Spool.open(dir)).rejects.toBeInstanceOf(SpoolLockedError);
  });

  it('defers with the reply recorded, and makes the message ready again when due', async () => {
    const dir = newDir();
    const spool = await openSpool(dir);
    await accept(spool, 1);
    const message = (await spool.claim(MAILBOX))!;
    await spool.defer(message, attempt(451, '451 4.4.0 try later'), Date.now() + 150, { countsAsFailure: true });
    expect(files(dir, 'deferred')).toEqual([message.header.id]);
    expect(spool.readyCount(MAILBOX)).toBe(0);
    await spool.waitForReady(MAILBOX);
    const again = (await spool.claim(MAILBOX))!;
    expect(again.header.failures).toBe(1);
    expect(again.header.attempts.map((a) => a.response)).toEqual(['451 4.4.0 try later']);
  });

  it('buries permanent failures with every reply; dead letters can be retried and purged', async () => {
    const dir = newDir();
    const spool = await openSpool(dir);
    await accept(spool, 1);
    const one = (await spool.claim(MAILBOX))!;
    await spool.defer(one, attempt(421, '421 4.3.2 busy'), 0, { countsAsFailure: true });
    const again = (await spool.claim(MAILBOX))!;
    const dead = await spool.bury(again, attempt(550, '550 5.7.1 no'), 'rejected');
    expect(dead.attempts.map((a) => a.code)).toEqual([421, 550]);
    await accept(spool, 2);
    const two = (await spool.claim(MAILBOX))!;
    await spool.bury(two, attempt(554, '554 5.6.0 bad'), 'rejected');

    const letters = await spool.listDead();
    expect(letters.map((l) => l.id)).toEqual([one.header.id, two.header.id]);
    expect(letters[0]!.attempts[1]!.response).toBe('550 5.7.1 no');

    expect(await spool.retryDead([one.header.id])).toEqual([one.header.id]);
    const retried = (await spool.claim(MAILBOX))!;
    expect(retried.header.failures).toBe(0);
    expect(retried.header.attempts).toHaveLength(2);
    expect(await spool.purgeDead()).toEqual([two.header.id]);
    expect(files(dir, 'dead')).toEqual([]);
  });

  it('tells each step of a message\'s life as an event (the fleet trail and dead-letter index are built from them)', async () => {
    const spool = await openSpool(newDir());
    const seen: string[] = [];
    spool.on('accepted', (h) => seen.push(`accepted ${h.subject}`));
    spool.on('claimed', () => seen.push('claimed'));
    spool.on('deferred', (_h, a: Attempt) => seen.push(`deferred ${a.response}`));
    spool.on('dead', (h) => seen.push(`dead ${h.deadReason}`));
    spool.on('requeued', (hs: { id: string }[]) => seen.push(`requeued ${hs.length}`));
    spool.on('purged', (gone: { mailbox: string }[]) => seen.push(`purged ${gone.map((g) => g.mailbox).join()}`));
    spool.on('settled', (e: { status: string; reply?: string }) => seen.push(`settled ${e.status} ${e.reply ?? ''}`.trim()));
    const one = await accept(spool, 1);
    await spool.defer((await spool.claim(MAILBOX))!, attempt(451, '451 4.3.111 later'), 0, { countsAsFailure: true });
    await spool.bury((await spool.claim(MAILBOX))!, attempt(554, '554 5.6.0 bad'), '554 5.6.0 bad');
    await spool.retryDead([one.id]);
    await spool.delivered((await spool.claim(MAILBOX))!, undefined, '250 2.0.0 OK <m1@test>');
    await accept(spool, 2);
    await spool.bury((await spool.claim(MAILBOX))!, undefined, 'too many recipients');
    await spool.purgeDead();
    expect(seen).toEqual([
      'accepted 1', 'claimed', 'deferred 451 4.3.111 later', 'claimed', 'dead 554 5.6.0 bad', 'settled dead', 'requeued 1',
      'claimed', 'settled sent 250 2.0.0 OK <m1@test>', 'accepted 2', 'claimed', 'dead too many recipients', 'settled dead', `purged ${MAILBOX}`,
    ]);
  });

  it('splits recipients with different outcomes into their own copies', async () => {
    const dir = newDir();
    const spool = await openSpool(dir);
    await accept(spool, 1, ['ok@x.example', 'gone@x.example', 'later@x.example']);
    const message = (await spool.claim(MAILBOX))!;
    await spool.partiallyDelivered(
      message,
      { recipients: ['later@x.example'], attempt: attempt(452, '452 4.2.2 over quota'), nextAttemptAt: 0 },
      { recipients: ['gone@x.example'], attempt: attempt(550, '550 5.1.1 unknown user') },
    );
    const [deadFile] = files(dir, 'dead');
    const dead = decodeSpoolFile('x', readFileSync(join(dir, 'dead', deadFile!)));
    expect(dead.header.envelope.to).toEqual(['gone@x.example']);
    expect(dead.header.splitFrom).toBe(message.header.id);
    const pending = (await spool.claim(MAILBOX))!;
    expect(pending.header.envelope.to).toEqual(['later@x.example']);
    expect(pending.header.messageId).toBe('<m1@test>');
    expect(pending.raw.equals(message.raw)).toBe(true);
  });

  it('after a crash between writing a new copy and removing the old one, the newer copy wins', async () => {
    const dir = newDir();
    const spool = await openSpool(dir);
    await accept(spool, 1);
    const message = (await spool.claim(MAILBOX))!;
    await spool.defer(message, attempt(451, '451 later'), 0, { countsAsFailure: true });
    // Put an older copy back into sending/ as if the unlink had not happened.
    writeFileSync(join(dir, 'sending', message.header.id), readFileSync(join(dir, 'deferred', message.header.id)).toString().replace('"rev":1', '"rev":0'));
    await spool.close();
    open.splice(0);
    const again = await openSpool(dir);
    expect(files(dir, 'sending')).toEqual([]);
    expect(files(dir, 'deferred')).toEqual([message.header.id]);
    expect((await again.claim(MAILBOX))?.header.attempts).toHaveLength(1);
  });

  it('picks up dead letters that the CLI requeued while the agent runs', async () => {
    const dir = newDir();
    const spool = await openSpool(dir);
    await accept(spool, 1);
    await spool.bury((await spool.claim(MAILBOX))!, attempt(550, '550 no'), 'rejected');
    const cli = new DeadLetterStore(dir);
    expect((await cli.list()).map((l) => l.reason)).toEqual(['rejected']);
    await cli.retry();
    expect(spool.readyCount(MAILBOX)).toBe(0);
    expect(await spool.rescanIfRequested()).toBe(true);
    expect(await spool.rescanIfRequested()).toBe(false);
    expect(spool.readyCount(MAILBOX)).toBe(1);
    expect(spool.stats().get(MAILBOX)).toMatchObject({ queued: 1, dead: 0 });
  });

  it('moves unreadable files aside instead of failing to start', async () => {
    const dir = newDir();
    const spool = await openSpool(dir);
    const header = await accept(spool, 1);
    await spool.close();
    open.splice(0);
    renameSync(join(dir, 'queued', header.id), join(dir, 'queued', `${header.id}`));
    writeFileSync(join(dir, 'queued', header.id), 'garbage');
    const { spool: again, recovered } = await Spool.open(dir);
    open.push(again);
    expect(recovered.corrupt).toHaveLength(1);
    expect(existsSync(join(dir, 'corrupt', header.id))).toBe(true);
  });
});
