/**
 * A child process for the spool's crash tests: runs a fixed scenario that takes every message
 * through every state move, and kills itself with SIGKILL right before the Nth file step.
 *
 *   node spool-crash-child.js <spool dir> <journal file> <crash at step, 0 = never> <scenario|recover>
 *
 * The journal (appended synchronously, so it survives the kill) tells the parent what was
 * promised: `accepted <messageId> <to,...>` once accept() resolved (the relay's 250), and
 * `upstream <messageId> <to,...>` before the spool hears that the upstream took those recipients.
 * Without a crash it ends with `steps <count>`.
 */
import { appendFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Attempt } from '../spool/spool-file.js';
import { SpoolIo, type SpoolStep } from '../spool/spool-io.js';
import { Spool, type SpoolMessage } from '../spool/spool.js';

const [dir, journal, crashArg, mode] = process.argv.slice(2) as [string, string, string, 'scenario' | 'recover'];
const crashAt = Number(crashArg);
const MAILBOX = 'crash@contoso.example';
let steps = 0;
const note = (line: string) => appendFileSync(journal, `${line}\n`);

const io = new SpoolIo((step: SpoolStep, path: string) => {
  steps += 1;
  if (steps === crashAt) {
    note(`crash ${steps} ${step} ${basename(path)}`);
    process.kill(process.pid, 'SIGKILL');
  }
});

const attempt = (code: number, response: string, recipients?: string[]): Attempt => ({
  at: new Date().toISOString(), kind: 'temporary', code, response, ...(recipients ? { recipients } : {}),
});

async function claim(spool: Spool, n: number): Promise<SpoolMessage> {
  const message = await spool.claim(MAILBOX);
  if (message?.header.messageId !== `<m${n}@crash>`) throw new Error(`claimed ${message?.header.messageId ?? 'nothing'}, expected m${n}`);
  return message;
}

/** The upstream took the message for these recipients (said before the spool records it). */
function upstream(message: SpoolMessage, recipients = message.header.envelope.to): void {
  note(`upstream ${message.header.messageId} ${recipients.join(',')}`);
}

async function scenario(spool: Spool): Promise<void> {
  const accept = async (n: number, to: string[]) => {
    const raw = Buffer.from(`Message-ID: <m${n}@crash>\r\nSubject: ${n}\r\n\r\nbody ${n}\r\n`);
    const header = await spool.accept({ mailbox: MAILBOX, envelope: { from: MAILBOX, to }, raw, messageId: `<m${n}@crash>`, origin: 'relay' });
    note(`accepted ${header.messageId} ${to.join(',')}`);
  };
  await accept(1, ['a1@x.example', 'b1@x.example', 'c1@x.example']);
  await accept(2, ['a2@x.example']);
  await accept(3, ['a3@x.example']);
  await accept(4, ['a4@x.example', 'b4@x.example', 'c4@x.example']);
  await accept(5, ['a5@x.example', 'b5@x.example']);
  await accept(6, ['a6@x.example']);

  // m1: a1 accepted, b1 later, c1 refused for good: the split.
  const m1 = await claim(spool, 1);
  upstream(m1, ['a1@x.example']);
  await spool.partiallyDelivered(m1,
    { recipients: ['b1@x.example'], attempt: attempt(452, '452 4.2.2 over quota', ['b1@x.example']), nextAttemptAt: Date.now() + 60_000 },
    { recipients: ['c1@x.example'], attempt: attempt(550, '550 5.1.1 unknown', ['c1@x.example']) });
  // m2: a temporary failure, then delivered.
  const m2 = await claim(spool, 2);
  await spool.defer(m2, attempt(451, '451 4.4.0 later'), 0, { countsAsFailure: true });
  // m3: refused for good, retried from the dead letters, put back once, then delivered.
  const m3 = await claim(spool, 3);
  await spool.bury(m3, attempt(550, '550 5.7.1 no'), 'rejected');
  await spool.retryDead([m3.header.id]);
  // m4: RCPT refused for a4 (for good) and b4, c4 (for now): bounce copy, then deferral.
  const m4 = await claim(spool, 4);
  await spool.bounceRecipients(m4, ['a4@x.example'], attempt(550, '550 5.1.1 unknown', ['a4@x.example']));
  await spool.defer(m4, attempt(452, '452 4.2.2 later'), Date.now() + 60_000, { countsAsFailure: true, recipients: ['b4@x.example', 'c4@x.example'] });
  // m5: delivered to a5, b5 bounced.
  const m5 = await claim(spool, 5);
  upstream(m5, ['a5@x.example']);
  await spool.delivered(m5, { recipients: ['b5@x.example'], attempt: attempt(550, '550 5.1.1 unknown', ['b5@x.example']) });
  // m6: the connection broke after the final dot: maybe delivered.
  const m6 = await claim(spool, 6);
  upstream(m6);
  await spool.defer(m6, attempt(0, 'connection lost after the final dot'), Date.now() + 60_000, { countsAsFailure: true, possibleDuplicate: true });
  // m2 again (due now), then m3: put back once, then delivered.
  const again2 = await claim(spool, 2);
  upstream(again2);
  await spool.delivered(again2);
  const again3 = await claim(spool, 3);
  await spool.putBack(again3);
  const last3 = await claim(spool, 3);
  upstream(last3);
  await spool.delivered(last3);
  // m7-m9 arrive together: their renames share one fsync of queued/ (group commit), so a kill
  // lands between a rename and the shared fsync, and inside the batch.
  await Promise.all([7, 8, 9].map((n) => accept(n, [`a${n}@x.example`])));
}

const { spool } = await Spool.open(dir, { io });
if (mode === 'scenario') await scenario(spool);
await spool.close();
note(`steps ${steps}`);
