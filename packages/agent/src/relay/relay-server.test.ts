import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { smtpDialog, waitFor } from '@smtp-slots/testkit';
import nodemailer from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../config.js';
import { ensureMessageId } from '../spool/message-id.js';
import { SpoolIo } from '../spool/spool-io.js';
import { Spool, type SpoolOptions } from '../spool/spool.js';
import { RelayServer } from './relay-server.js';

const MAILBOX = 'Reports@Contoso.example';
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function startRelay(relay: Record<string, unknown> = {}, spoolOptions: SpoolOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'agent-relay-'));
  const { spool } = await Spool.open(dir, spoolOptions);
  const config = agentConfigSchema.parse({ relay: { port: 0, maxMessageBytes: 4096, maxRecipients: 3, ...relay }, mailboxes: [{ address: MAILBOX, upstream: { host: 'h' } }] });
  const server = new RelayServer({
    relay: config.relay,
    mailboxes: [MAILBOX],
    name: 'relay.test',
    spoolWritable: () => spool.health.writable,
    store: async ({ mailbox, envelope, raw }) => {
      const withId = ensureMessageId(raw, 'relay.test');
      return (await spool.accept({ mailbox, envelope, raw: withId.raw, messageId: withId.messageId, origin: 'relay' })).id;
    },
  });
  const port = await server.listen();
  cleanup.push(async () => {
    await server.close();
    await spool.close();
  });
  return { dir, port, spool, server };
}

const transport = (port: number, auth?: { user: string; pass: string }) =>
  nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, auth, connectionTimeout: 5_000 });

function greeting(port: number): Promise<{ line: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    cleanup.push(async () => void socket.destroy());
    socket.once('error', reject);
    socket.once('data', (chunk) => resolve({ line: chunk.toString('latin1').split('\r\n')[0]!, socket }));
  });
}

/** A raw client: sends bytes, collects every reply, and notes when the relay closed the socket. */
function rawClient(port: number) {
  const socket = connect(port, '127.0.0.1');
  cleanup.push(async () => void socket.destroy());
  let text = '';
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined); // a reset after the relay closed is expected here
  socket.on('data', (chunk) => (text += chunk.toString('latin1')));
  const replies = () => text.split('\r\n').filter((line) => line !== '');
  return {
    socket,
    closed,
    replies,
    /** Resolves once `count` reply lines arrived (or rejects if the socket closes first). */
    waitReplies: (count: number) => new Promise<string[]>((resolve, reject) => {
      const check = () => {
        if (replies().length >= count) {
          socket.off('data', check);
          resolve(replies());
        }
      };
      socket.on('data', check);
      void closed.then(() => (replies().length >= count ? resolve(replies()) : reject(new Error(`closed after ${JSON.stringify(replies())}`))));
      check();
    }),
  };
}

describe('RelayServer', () => {
  it('answers 421 to connections past relay.maxConnections and serves the ones before', async () => {
    const { port } = await startRelay({ maxConnections: 3 });
    const first = await Promise.all([greeting(port), greeting(port), greeting(port)]);
    for (const g of first) expect(g.line).toMatch(/^220 /);
    const extra = await greeting(port);
    expect(extra.line).toMatch(/^421 /);
  });

  it('answers 250 only once the message is in the spool, routed by MAIL FROM (any case)', async () => {
    const { port, dir, spool } = await startRelay();
    const info = await transport(port).sendMail({ from: 'reports@contoso.example', to: 'a@x.example, b@x.example', subject: 'hi', text: 'hello' });
    expect(info.response).toMatch(/^250 2\.0\.0 Queued as /);
    const files = readdirSync(join(dir, 'queued'));
    expect(files).toHaveLength(1);
    const message = (await spool.claim('reports@contoso.example'))!;
    expect(message.header.envelope.to).toEqual(['a@x.example', 'b@x.example']);
    expect(message.header.messageId).toBe(info.messageId);
  });

  it('adds a Message-ID when the client sent none', async () => {
    const { port, spool } = await startRelay();
    const replies = await smtpDialog(port, ['EHLO c', `MAIL FROM:<${MAILBOX}>`, 'RCPT TO:<a@x.example>', 'DATA', 'Subject: bare\r\n\r\nno id\r\n.', 'QUIT']);
    expect(replies[4]).toMatch(/^250 /);
    const message = (await spool.claim(MAILBOX.toLowerCase()))!;
    expect(message.header.messageId).toMatch(/^<.+@relay\.test>$/);
    expect(message.raw.toString()).toContain(`Message-ID: ${message.header.messageId}`);
  });

  it('refuses unknown senders with 550 and a clear text (no open relay)', async () => {
    const { port, dir } = await startRelay();
    const error = await transport(port).sendMail({ from: 'someone@else.example', to: 'a@x.example', text: 'x' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ responseCode: 550 });
    expect(String((error as Error).message)).toContain('is not a mailbox this relay sends for');
    expect(readdirSync(join(dir, 'queued'))).toHaveLength(0);
  });

  it('refuses oversized messages with 552 and keeps nothing of them', async () => {
    const { port, dir } = await startRelay();
    const error = await transport(port).sendMail({ from: MAILBOX, to: 'a@x.example', text: 'x'.repeat(10_000) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ responseCode: 552 });
    expect(readdirSync(join(dir, 'queued'))).toHaveLength(0);
  });

  it('refuses malformed addresses and too many recipients', async () => {
    const { port } = await startRelay();
    const replies = await smtpDialog(port, [
      'EHLO c', 'MAIL FROM:<not an address>', 'MAIL FROM:<user@nodot>', `MAIL FROM:<${MAILBOX}>`,
      'RCPT TO:<bad@nodot>', 'RCPT TO:<a@x.example>', 'RCPT TO:<b@x.example>', 'RCPT TO:<c@x.example>', 'RCPT TO:<d@x.example>', 'QUIT',
    ]);
    expect(replies[1]).toMatch(/^501 /);
    expect(replies[2]).toMatch(/^553 5\.1\.7 /);
    expect(replies[3]).toMatch(/^250 /);
    expect(replies[4]).toMatch(/^553 5\.1\.3 /);
    expect(replies.slice(5, 8).every((r) => r.startsWith('250'))).toBe(true);
    expect(replies[8]).toMatch(/^452 4\.5\.3 /);
  });

  it('requires AUTH when users are configured', async () => {
    const users = [{ user: 'app', pass: 'correct horse' }];
    const { port } = await startRelay({ users });
    const anonymous = await smtpDialog(port, ['EHLO c', `MAIL FROM:<${MAILBOX}>`, 'QUIT']);
    expect(anonymous[1]).toMatch(/^530 /);
    const wrong = await transport(port, { user: 'app', pass: 'wrong' }).sendMail({ from: MAILBOX, to: 'a@x.example', text: 'x' }).catch((e: unknown) => e);
    expect(wrong).toMatchObject({ responseCode: 535 });
    const ok = await transport(port, users[0]).sendMail({ from: MAILBOX, to: 'a@x.example', text: 'x' });
    expect(ok.response).toMatch(/^250 /);
  });

  it('keeps nothing of a message whose client disconnects in the middle of DATA, and serves the next client', async () => {
    const { port, dir, server, spool } = await startRelay();
    const rejected: string[] = [];
    server.on('rejected', (reason: string) => rejected.push(reason));
    const client = rawClient(port);
    await client.waitReplies(1);
    client.socket.write(`EHLO c\r\nMAIL FROM:<${MAILBOX}>\r\nRCPT TO:<a@x.example>\r\nDATA\r\n`);
    await waitFor(() => client.replies().some((line) => line.startsWith('354 ')), { message: '354 for DATA' });
    client.socket.write('Subject: half\r\n\r\nonly the first part of the body');
    client.socket.destroy();

    const next = await transport(port).sendMail({ from: MAILBOX, to: 'b@x.example', subject: 'whole', text: 'after the broken one' });
    expect(next.response).toMatch(/^250 /);
    expect(readdirSync(join(dir, 'queued'))).toHaveLength(1); // only the complete message
    for (const state of ['sending', 'deferred', 'dead', 'corrupt', 'tmp']) expect(readdirSync(join(dir, state)), state).toEqual([]);
    expect((await spool.claim(MAILBOX.toLowerCase()))!.raw.toString()).toContain('Subject: whole');
    expect(rejected).toEqual([]);
  });

  it('closes a connection whose command line is overlong (no CRLF after 10,000 bytes), and serves the next client', async () => {
    const { port, dir } = await startRelay();
    const client = rawClient(port);
    await client.waitReplies(1);
    client.socket.write('MAIL FROM:<' + 'x'.repeat(10_000));
    await client.closed;
    const replies = client.replies();
    expect(replies).toHaveLength(2);
    expect(replies[1]).toMatch(/^[45]\d\d .*too long/i);

    const next = await transport(port).sendMail({ from: MAILBOX, to: 'b@x.example', text: 'after the overlong line' });
    expect(next.response).toMatch(/^250 /);
    expect(readdirSync(join(dir, 'queued'))).toHaveLength(1);
  }, 15_000);

  it('answers 452 4.3.1 (never 250) while the spool cannot store mail, and 250 again once it can', async () => {
    let full = true;
    const io = new SpoolIo((step, path) => {
      if (full && step === 'write' && path.includes('/tmp/')) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    });
    const { port, dir, server, spool } = await startRelay({}, { io });
    const rejected: string[] = [];
    server.on('rejected', (reason: string) => rejected.push(reason));
    const first = await transport(port).sendMail({ from: MAILBOX, to: 'a@x.example', text: 'disk is full' }).catch((e: unknown) => e);
    expect(first).toMatchObject({ responseCode: 452 });
    expect((first as Error).message).toMatch(/452 4\.3\.1 Insufficient system storage/);
    // Now refused at MAIL FROM, before the client sends its data.
    const early = await smtpDialog(port, ['EHLO c', `MAIL FROM:<${MAILBOX}>`, 'QUIT']);
    expect(early[1]).toMatch(/^452 4\.3\.1 /);
    expect(rejected).toEqual(['spool_full', 'spool_full']);
    for (const state of ['queued', 'tmp']) expect(readdirSync(join(dir, state)), state).toEqual([]);

    full = false;
    expect(await spool.checkWritable()).toBe(true);
    const ok = await transport(port).sendMail({ from: MAILBOX, to: 'a@x.example', text: 'space is back' });
    expect(ok.response).toMatch(/^250 /);
    expect(readdirSync(join(dir, 'queued'))).toHaveLength(1);
  });

  it('answers 451 4.3.0 when the spool fails with an I/O error other than a full disk', async () => {
    const io = new SpoolIo((step) => {
      if (step === 'fsync') throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
    });
    const { port, dir } = await startRelay({}, { io });
    const failed = await transport(port).sendMail({ from: MAILBOX, to: 'a@x.example', text: 'x' }).catch((e: unknown) => e);
    expect(failed).toMatchObject({ responseCode: 451 });
    expect(readdirSync(join(dir, 'queued'))).toEqual([]);
  });

  it('takes 1,000 RCPT in one transaction: the first maxRecipients get 250, the rest 452 4.5.3, and the message goes to those', async () => {
    const { port, spool } = await startRelay({ maxRecipients: 500 });
    const rcpts = Array.from({ length: 1_000 }, (_, i) => `RCPT TO:<r${i}@x.example>`);
    const replies = await smtpDialog(port, ['EHLO c', `MAIL FROM:<${MAILBOX}>`, ...rcpts, 'DATA', 'Subject: many\r\n\r\nbody\r\n.', 'QUIT']);
    const rcptReplies = replies.slice(2, 1_002);
    expect(rcptReplies.filter((r) => r.startsWith('250 '))).toHaveLength(500);
    expect(rcptReplies.slice(500).every((r) => /^452 4\.5\.3 Too many recipients \(at most 500/.test(r))).toBe(true);
    expect(replies[1_003]).toMatch(/^250 /);
    const stored = (await spool.claim(MAILBOX.toLowerCase()))!;
    expect(stored.header.envelope.to).toHaveLength(500);
    expect(stored.header.envelope.to.at(-1)).toBe('r499@x.example');
  }, 30_000);

  it('closes an idle client with 421 after relay.socketTimeoutMs', async () => {
    const { port } = await startRelay({ socketTimeoutMs: 1_000 });
    const client = rawClient(port);
    await client.waitReplies(1);
    await client.closed;
    expect(client.replies().at(-1)).toMatch(/^421 /);
  }, 15_000);

  it('a client trickling one byte at a time cannot hold its connection: 421 4.4.2 at relay.sessionTimeoutMs', async () => {
    const { port, server } = await startRelay({ socketTimeoutMs: 60_000, sessionTimeoutMs: 1_000 });
    const rejected: string[] = [];
    server.on('rejected', (reason: string) => rejected.push(reason));
    const client = rawClient(port);
    await client.waitReplies(1);
    // Always well within the idle timeout, never a complete command.
    const bytes = 'NOOP'.repeat(10_000);
    let sent = 0;
    const trickle = setInterval(() => client.socket.write(bytes[sent++]!), 100);
    await client.closed;
    clearInterval(trickle);
    expect(client.replies().at(-1)).toMatch(/^421 4\.4\.2 Session time limit exceeded/);
    expect(rejected).toEqual(['session_timeout']);
    // Others are still served.
    const next = await transport(port).sendMail({ from: MAILBOX, to: 'b@x.example', text: 'after the slow one' });
    expect(next.response).toMatch(/^250 /);
  }, 15_000);
});
