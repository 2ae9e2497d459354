import type { AddressInfo, Socket } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { findMessageId } from '../spool/message-id.js';

/** A reply the scripted upstream gives instead of accepting; `drop` cuts the connection instead of replying. */
export type ScriptedReply = { code: number; text: string } | 'drop';

export interface ScriptedUpstreamOptions {
  /** Accepted credentials (PLAIN/LOGIN); omit for no AUTH. */
  users?: Record<string, string>;
  /** XOAUTH2 tokens accepted per user. */
  tokens?: Record<string, string[]>;
  /** The reply to a refused AUTH. Default `535 5.7.3 Authentication unsuccessful`. */
  authRefusal?: { code: number; text: string };
  /** Delay before answering the end of DATA. */
  latencyMs?: number;
  /** Decides the reply at the end of DATA (undefined: accept). */
  onMessage?: (message: { messageId: string | undefined; subject: string; to: string[]; raw: Buffer; attempt: number }) => ScriptedReply | undefined;
  /** Decides the reply to RCPT TO (undefined: accept). */
  onRecipient?: (recipient: string) => { code: number; text: string } | undefined;
  /** AUTH mechanisms offered. Default PLAIN, LOGIN and XOAUTH2. */
  authMethods?: string[];
  /** Leave PIPELINING out of the EHLO reply (commands must then wait for each reply). */
  hidePipelining?: boolean;
  /** TLS from the first byte with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
}

/**
 * A real SMTP server for unit tests of the sender: counts concurrent sessions (peak), records
 * every accepted message by Message-ID, and answers what a test scripts.
 */
export class ScriptedUpstream {
  open = 0;
  peak = 0;
  sessions = 0;
  readonly received: Array<{ messageId: string | undefined; to: string[]; subject: string; raw: Buffer }> = [];
  /** The AUTH mechanism of each successful login. */
  readonly logins: string[] = [];
  readonly attempts = new Map<string, number>();
  authFailures = 0;
  port = 0;
  private readonly server: SMTPServer;

  constructor(private readonly options: ScriptedUpstreamOptions = {}) {
    const auth = Boolean(options.users || options.tokens);
    this.server = new SMTPServer({
      logger: false,
      disableReverseLookup: true,
      authOptional: !auth,
      authMethods: options.authMethods ?? ['PLAIN', 'LOGIN', 'XOAUTH2'],
      hidePIPELINING: options.hidePipelining ?? false,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS', ...(auth ? [] : ['AUTH'])],
      ...(options.tls ? { secure: true, key: options.tls.key, cert: options.tls.cert } : {}),
      onAuth: (credentials, _session, callback) => {
        const user = credentials.username ?? '';
        const ok = credentials.method === 'XOAUTH2'
          ? (options.tokens?.[user] ?? []).includes(credentials.accessToken ?? '')
          : options.users?.[user] !== undefined && options.users[user] === credentials.password;
        if (ok) {
          this.logins.push(credentials.method);
          return callback(null, { user });
        }
        this.authFailures += 1;
        const refusal = options.authRefusal ?? { code: 535, text: '5.7.3 Authentication unsuccessful' };
        return callback(Object.assign(new Error(refusal.text), { responseCode: refusal.code }));
      },
      onRcptTo: (address, _session, callback) => {
        const reply = options.onRecipient?.(address.address);
        if (reply) return callback(Object.assign(new Error(reply.text), { responseCode: reply.code }));
        return callback();
      },
      onData: (stream, session: SMTPServerSession, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks);
          const messageId = findMessageId(raw);
          const subject = /^subject:\s*(.*)$/im.exec(raw.toString('latin1'))?.[1]?.trim() ?? '';
          const to = session.envelope.rcptTo.map((r) => r.address);
          const key = messageId ?? subject;
          const attempt = (this.attempts.get(key) ?? 0) + 1;
          this.attempts.set(key, attempt);
          setTimeout(() => {
            const reply = options.onMessage?.({ messageId, subject, to, raw, attempt });
            if (reply === 'drop') {
              // The message arrived complete; the reply never leaves (the "unknown outcome" case).
              this.received.push({ messageId, to, subject, raw });
              this.destroySession(session);
              return;
            }
            if (reply) return callback(Object.assign(new Error(reply.text), { responseCode: reply.code }));
            this.received.push({ messageId, to, subject, raw });
            return callback(null, 'OK queued');
          }, options.latencyMs ?? 0);
        });
      },
    });
    this.server.on('error', () => undefined);
    // Counted at the TCP level: what the provider would count, whatever the SMTP state.
    this.server.server.on('connection', (socket: Socket) => {
      this.open += 1;
      this.sessions += 1;
      this.peak = Math.max(this.peak, this.open);
      socket.once('close', () => (this.open -= 1));
    });
  }

  private destroySession(session: SMTPServerSession): void {
    for (const connection of (this.server as unknown as { connections: Set<{ id: string; _socket: { destroy(): void } }> }).connections) {
      if (connection.id === session.id) connection._socket.destroy();
    }
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
    return this;
  }

  /** How many times each Message-ID was accepted. */
  counts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const m of this.received) counts.set(m.messageId ?? '', (counts.get(m.messageId ?? '') ?? 0) + 1);
    return counts;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
