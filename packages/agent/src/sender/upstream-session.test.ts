import { createServer, type Server, type Socket } from 'node:net';
import { selfSignedCertificate } from '@smtp-slots/exchange-sim';
import { waitFor } from '@smtp-slots/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import type { UpstreamSettings } from '../config.js';
import { ScriptedUpstream, type ScriptedUpstreamOptions } from '../testing/scripted-upstream.js';
import { classifyFailure } from './reply-classifier.js';
import { dataBytes } from './smtp-client.js';
import { UpstreamError } from './upstream-error.js';
import { UpstreamSession } from './upstream-session.js';

const USER = 'sender@contoso.example';
const PASS = 'secret';
const message = (n: number, body = `message ${n}`) =>
  Buffer.from(`From: ${USER}\r\nTo: rcpt@fabrikam.example\r\nSubject: test ${n}\r\nMessage-ID: <m${n}@contoso.example>\r\n\r\n${body}\r\n`);
const envelope = (...to: string[]) => ({ from: USER, to: to.length ? to : ['rcpt@fabrikam.example'] });
const never = new AbortController().signal;

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function upstream(options: ScriptedUpstreamOptions = {}): Promise<ScriptedUpstream> {
  const server = await new ScriptedUpstream({ users: { [USER]: PASS }, ...options }).start();
  cleanup.push(() => server.stop());
  return server;
}

/** `auth` null: no AUTH. */
function settings(port: number, auth: UpstreamSettings['auth'] | null = { type: 'password', user: USER, pass: PASS }): UpstreamSettings {
  return { host: '127.0.0.1', port, secure: false, requireTLS: false, rejectUnauthorized: true, connectTimeoutMs: 5_000, socketTimeoutMs: 5_000, ...(auth ? { auth } : {}) } as UpstreamSettings;
}

async function open(port: number, auth?: UpstreamSettings['auth'] | null, signal = never): Promise<UpstreamSession> {
  const session = await UpstreamSession.open(settings(port, auth), { signal, name: 'agent.test' });
  cleanup.push(() => session.destroy());
  return session;
}

describe('dataBytes', () => {
  it('doubles leading dots, turns bare LF into CRLF and ends with CRLF.CRLF', () => {
    expect(dataBytes(Buffer.from('a\r\n.b\r\n..c\r\n')).toString()).toBe('a\r\n..b\r\n...c\r\n.\r\n');
    expect(dataBytes(Buffer.from('.first\nsecond\n.')).toString()).toBe('..first\r\nsecond\r\n..\r\n.\r\n');
    expect(dataBytes(Buffer.from('no newline at the end')).toString()).toBe('no newline at the end\r\n.\r\n');
  });
});

describe('UpstreamSession (real SMTP server)', () => {
  it('sends several messages on one session, message bytes intact (dots, 8-bit)', async () => {
    const server = await upstream();
    const session = await open(server.port);
    const tricky = message(2, '.leading dot\r\n.\r\n..two dots\r\nGrüße');
    const results = await Promise.all([session.send(envelope(), message(1)), session.send(envelope(), tricky), session.send(envelope(), message(3))]);
    expect(results.map((r) => r.kind)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(server.received.map((m) => m.messageId)).toEqual(['<m1@contoso.example>', '<m2@contoso.example>', '<m3@contoso.example>']);
    expect(server.received[1]!.raw.equals(tricky)).toBe(true);
    expect(server.logins).toEqual(['PLAIN']);
    await session.quit();
    await waitFor(() => server.open === 0, { timeoutMs: 5_000, message: 'the server saw the socket close' });
  });

  it('pipelines: the next MAIL FROM and RCPT TO are on the wire before the previous message is answered', async () => {
    // The reply to the first final dot is held until the next MAIL FROM arrives (or 3 s pass).
    let held: (() => void) | undefined;
    let timer: NodeJS.Timeout | undefined;
    let mailBeforeReply = false;
    const server = await RawSmtpServer.start({
      extensions: ['PIPELINING'],
      onDot: (n, reply) => (n === 1 ? ((held = reply), (timer = setTimeout(reply, 3_000))) : reply()),
      onLine: (verb) => {
        if (verb === 'MAIL' && held) {
          mailBeforeReply = true;
          clearTimeout(timer);
          held();
          held = undefined;
        }
        return undefined;
      },
    });
    const session = await open(server.port, null);
    const first = session.send(envelope(), message(1));
    const second = session.send(envelope(), message(2));
    expect((await first).kind).toBe('accepted');
    expect((await second).kind).toBe('accepted');
    expect(mailBeforeReply).toBe(true);
    await session.quit();
  });

  it('without PIPELINING the next MAIL FROM waits for the reply to the final dot', async () => {
    // The reply to the first dot is held for 300 ms: a MAIL FROM arriving meanwhile breaks RFC 5321.
    let held: (() => void) | undefined;
    let mailBeforeReply = false;
    const server = await RawSmtpServer.start({
      extensions: [],
      onDot: (n, reply) => (n === 1 ? ((held = reply), setTimeout(() => (held?.(), (held = undefined)), 300)) : reply()),
      onLine: (verb) => void (verb === 'MAIL' && held && (mailBeforeReply = true)),
    });
    const session = await open(server.port, null);
    const results = await Promise.all([session.send(envelope(), message(1)), session.send(envelope(), message(2))]);
    expect(results.map((r) => r.kind)).toEqual(['accepted', 'accepted']);
    expect(mailBeforeReply).toBe(false);
  });

  it('a refused RSET ends the session without passing for a refusal of the next message', async () => {
    const server = await RawSmtpServer.start({
      extensions: ['PIPELINING'],
      onLine: (verb) => (verb === 'RCPT' ? '550 5.1.1 no such user' : verb === 'DATA' ? '554 5.5.1 no valid recipients' : verb === 'RSET' ? '503 5.5.1 not now' : undefined),
    });
    const session = await open(server.port, null);
    const [refused, next] = await Promise.all([session.send(envelope('gone@fabrikam.example'), message(1)), session.send(envelope(), message(2))]);
    expect(refused).toMatchObject({ kind: 'recipients-refused' });
    expect(next).toMatchObject({ kind: 'failed', dataSent: false, reusable: false, error: { fault: 'protocol' } });
    expect(next.kind === 'failed' && next.error.replyCode).toBeUndefined();
  });

  it('every failure is an UpstreamError naming its stage, with the reply\'s codes or the fault', async () => {
    const refusing = await RawSmtpServer.start({ extensions: [], onLine: (verb) => (verb === 'EHLO' || verb === 'HELO' ? '550 5.7.1 not you' : undefined) });
    const ehlo = await UpstreamSession.open(settings(refusing.port, null), { signal: never, name: 'agent.test' }).catch((error: unknown) => error);
    expect(ehlo).toBeInstanceOf(UpstreamError);
    expect(ehlo).toMatchObject({ stage: 'ehlo', replyCode: 550, enhancedCode: '5.7.1', text: '550 5.7.1 not you', fault: undefined });

    const server = await RawSmtpServer.start({
      extensions: ['PIPELINING'],
      onLine: (verb, line, socket) => {
        if (verb === 'MAIL' && line.includes('denied@')) return '550 5.7.60 not allowed to send as';
        if (verb === 'MAIL' && line.includes('drop@')) return void socket.destroy(), '';
        const data = server.log.filter((v) => v === 'DATA').length;
        if (verb === 'DATA' && data === 1) return '503 5.5.1 no valid sender'; // after the refused MAIL FROM
        if (verb === 'DATA' && data === 2) return '554 5.2.0 quota exceeded';
        return undefined;
      },
    });
    const session = await open(server.port, null);
    const send = (from: string) => session.send({ from, to: ['rcpt@fabrikam.example'] }, message(1));
    expect(await send('denied@contoso.example')).toMatchObject({ kind: 'failed', error: { stage: 'mail', replyCode: 550, enhancedCode: '5.7.60' } });
    expect(await send(USER)).toMatchObject({ kind: 'failed', dataSent: false, error: { stage: 'data', replyCode: 554, enhancedCode: '5.2.0' } });
    expect(await send('drop@contoso.example')).toMatchObject({ kind: 'failed', dataSent: false, reusable: false, error: { stage: 'mail', fault: 'connection', replyCode: undefined } });
  });

  it('a TLS handshake that stalls after the 220 to STARTTLS ends with the connect timeout', async () => {
    const server = await RawSmtpServer.start({
      extensions: ['STARTTLS'],
      // Answer 220, then read nothing more: the client's ClientHello gets no answer.
      onLine: (verb, _line, socket) => (verb === 'STAR' ? (socket.write('220 go ahead\r\n'), socket.pause(), '') : undefined),
    });
    const stalled = await UpstreamSession.open({ ...settings(server.port, null), connectTimeoutMs: 300 }, { signal: never, name: 'agent.test' }).catch((error: unknown) => error);
    expect(stalled).toMatchObject({ stage: 'starttls', fault: 'timeout' });
  });

  it('falls back to one command at a time when the server does not offer PIPELINING; LOGIN when PLAIN is not offered', async () => {
    const server = await upstream({ hidePipelining: true, authMethods: ['LOGIN'] });
    const session = await open(server.port);
    const results = await Promise.all([session.send(envelope(), message(1)), session.send(envelope(), message(2))]);
    expect(results.map((r) => r.kind)).toEqual(['accepted', 'accepted']);
    expect(server.logins).toEqual(['LOGIN']);
    expect(server.received).toHaveLength(2);
  });

  it('refused recipients: some → the rest get the message; all → no DATA, the session stays usable', async () => {
    const server = await upstream({ onRecipient: (rcpt) => (rcpt.startsWith('gone') ? { code: 550, text: '5.1.10 Recipient not found' } : undefined) });
    const session = await open(server.port);
    const some = await session.send(envelope('gone@fabrikam.example', 'here@fabrikam.example'), message(1));
    expect(some).toMatchObject({ kind: 'accepted', accepted: ['here@fabrikam.example'] });
    expect(some.kind === 'accepted' && some.refused.map((r) => [r.recipient, r.error.replyCode])).toEqual([['gone@fabrikam.example', 550]]);
    const all = await session.send(envelope('gone@fabrikam.example'), message(2));
    expect(all).toMatchObject({ kind: 'recipients-refused', reusable: true });
    const after = await session.send(envelope(), message(3));
    expect(after.kind).toBe('accepted');
    expect(server.received.map((m) => m.messageId)).toEqual(['<m1@contoso.example>', '<m3@contoso.example>']);
  });

  it('a closed data gate resets the transaction (nothing sent, session usable); a closed body gate ends the session before any message byte', async () => {
    const server = await upstream();
    const session = await open(server.port);
    expect(await session.send(envelope(), message(1), { data: Promise.resolve(false) })).toEqual({ kind: 'held-back', reusable: true });
    expect((await session.send(envelope(), message(2))).kind).toBe('accepted');
    const cut = await session.send(envelope(), message(3), { body: Promise.resolve(false) });
    expect(cut).toMatchObject({ kind: 'failed', dataSent: false, reusable: false });
    expect((await session.send(envelope(), message(4))).kind).toBe('failed');
    expect(server.received.map((m) => m.messageId)).toEqual(['<m2@contoso.example>']);
  });

  it('a reply to the final dot tells failure apart from a connection lost after it (unknown outcome)', async () => {
    const server = await upstream({ onMessage: ({ subject }) => (subject === 'test 1' ? { code: 550, text: '5.7.1 Rejected' } : subject === 'test 2' ? 'drop' : undefined) });
    const session = await open(server.port);
    const refused = await session.send(envelope(), message(1));
    expect(refused).toMatchObject({ kind: 'failed', dataSent: true, reusable: true, error: { replyCode: 550, stage: 'data' } });
    const lost = await session.send(envelope(), message(2));
    expect(lost).toMatchObject({ kind: 'failed', dataSent: true, reusable: false, error: { fault: 'connection' } });
  });

  it('XOAUTH2: a good token logs in; a refused one fails at the auth stage with the final 535', async () => {
    const server = await upstream({ tokens: { [USER]: ['good-token'] } });
    const auth = (token: string) => ({ tokenProvider: { getToken: async () => token }, signal: never, name: 'agent.test' });
    const oauth = { type: 'oauth2', user: USER } as unknown as UpstreamSettings['auth'];
    const good = await UpstreamSession.open(settings(server.port, oauth), auth('good-token'));
    cleanup.push(() => good.destroy());
    expect((await good.send(envelope(), message(1))).kind).toBe('accepted');
    const refused = await UpstreamSession.open(settings(server.port, oauth), auth('stale-token')).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UpstreamError);
    expect(refused).toMatchObject({ stage: 'auth', replyCode: 535 });
    expect(server.logins).toEqual(['XOAUTH2']);
    await waitFor(() => server.open === 1, { timeoutMs: 5_000, message: 'the refused session closed' });
  });

  it('TLS from the first byte: the certificate is checked unless told otherwise; requireTLS without STARTTLS fails', async () => {
    const server = await upstream({ tls: await selfSignedCertificate('localhost') });
    const trusting = await UpstreamSession.open({ ...settings(server.port), rejectUnauthorized: false, secure: true }, { signal: never, name: 'agent.test' });
    cleanup.push(() => trusting.destroy());
    expect((await trusting.send(envelope(), message(1))).kind).toBe('accepted');
    const checking = await UpstreamSession.open({ ...settings(server.port), secure: true }, { signal: never, name: 'agent.test' }).catch((error: unknown) => error);
    expect(checking).toMatchObject({ stage: 'connect', fault: 'tls' });
    const plain = await upstream();
    const required = await UpstreamSession.open({ ...settings(plain.port), requireTLS: true }, { signal: never, name: 'agent.test' }).catch((error: unknown) => error);
    expect(required).toMatchObject({ stage: 'starttls', fault: 'tls' });
    expect(plain.received).toHaveLength(0);
  });

  it('a write fence shut at the next message\'s first write leaves the previous message possibly delivered (its final dot was handed over)', async () => {
    const server = await upstream();
    // Writes: EHLO, AUTH PLAIN, then message 1's MAIL+RCPT, DATA and body; the sixth is message 2's
    // MAIL+RCPT, which runs in the same burst as message 1's body write (pipelining).
    let writes = 0;
    const session = await UpstreamSession.open(settings(server.port), { signal: never, name: 'agent.test', writeFence: () => ++writes <= 5 });
    cleanup.push(() => session.destroy());
    const [one, two] = await Promise.all([session.send(envelope(), message(1)), session.send(envelope(), message(2))]);
    expect(writes).toBe(6);
    expect(one).toMatchObject({ kind: 'failed', dataSent: true, reusable: false, error: { fault: 'aborted' } });
    // Unknown outcome: retried as a possible duplicate, its recipients kept in the ledger (not handed back).
    expect(one.kind === 'failed' && classifyFailure(one.error, one.dataSent).disposition).toBe('unknown-outcome');
    expect(two).toMatchObject({ kind: 'failed', dataSent: false, reusable: false });
    // The upstream may well have taken message 1: it must count as a possible duplicate, not as unsent.
    await waitFor(() => server.received.length === 1, { timeoutMs: 5_000, message: 'message 1 reached the server' });
    expect(server.received.map((m) => m.messageId)).toEqual(['<m1@contoso.example>']);
  });

  it('an abort signal destroys the socket at once', async () => {
    const server = await upstream({ latencyMs: 2_000 });
    const controller = new AbortController();
    const session = await open(server.port, undefined, controller.signal);
    const sending = session.send(envelope(), message(1));
    await waitFor(() => server.attempts.size === 1, { timeoutMs: 5_000, message: 'the message is in, its reply is due' });
    controller.abort();
    expect(await sending).toMatchObject({ kind: 'failed', dataSent: true, reusable: false });
    await session.destroy();
    await waitFor(() => server.open === 0, { timeoutMs: 5_000, message: 'the server saw the socket close' });
  });
});

/** What a raw server does with one command line: the reply to write (CRLF added), or nothing. */
type LineHandler = (verb: string, line: string, socket: Socket) => string | undefined;

/**
 * A bare SMTP server over TCP for protocol corner cases smtp-server will not produce. It answers
 * the greeting, EHLO (with `extensions`), DATA's 354 and the final dot itself; `onLine` decides the
 * rest (default: 250). `beforeDotReply` may hold the reply to a final dot (returns a function that
 * sends it later).
 */
class RawSmtpServer {
  port = 0;
  readonly log: string[] = [];
  private constructor(private readonly server: Server) {}

  static async start(options: { extensions: string[]; onLine?: LineHandler; onDot?: (n: number, reply: () => void) => void }): Promise<RawSmtpServer> {
    const raw: RawSmtpServer = new RawSmtpServer(createServer((socket) => raw.serve(socket, options)));
    await new Promise<void>((resolve) => raw.server.listen(0, '127.0.0.1', resolve));
    raw.port = (raw.server.address() as { port: number }).port;
    cleanup.push(() => raw.stop());
    return raw;
  }

  private readonly sockets = new Set<Socket>();

  private serve(socket: Socket, options: { extensions: string[]; onLine?: LineHandler; onDot?: (n: number, reply: () => void) => void }): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    let buffer = '';
    let inData = false;
    let messages = 0;
    socket.write('220 raw ready\r\n');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      let end: number;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (inData) {
          if (line !== '.') continue;
          inData = false;
          messages += 1;
          this.log.push(`<dot ${messages}>`);
          const reply = () => this.log.push(`250 for ${messages}`) && socket.write('250 2.0.0 queued\r\n');
          if (options.onDot) options.onDot(messages, reply);
          else reply();
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        this.log.push(verb);
        const answer = options.onLine?.(verb, line, socket);
        if (answer !== undefined) {
          if (answer !== '') socket.write(`${answer}\r\n`);
        } else if (verb === 'EHLO') socket.write(['raw', ...options.extensions].map((e, i, all) => `250${i === all.length - 1 ? ' ' : '-'}${e}\r\n`).join(''));
        else if (verb === 'DATA') {
          inData = true;
          socket.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('250 ok\r\n');
      }
    });
    socket.on('error', () => undefined);
  }

  private async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy(); // a paused one would never see the client's FIN
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
