import type { UpstreamSettings } from '../config.js';
import { dataBytes, SmtpClient, type Reply } from './smtp-client.js';
import { TokenRequestError, type AccessTokenProvider } from './token-provider.js';
import { UpstreamError } from './upstream-error.js';

/** A recipient the server refused at RCPT TO, with its reply. */
export interface RecipientRefusal {
  recipient: string;
  error: UpstreamError;
}

/** How one message went on an open session. `reusable`: the session can carry the next message. */
export type SendResult =
  /** The server took the message (250 after the final dot) for `accepted`; `refused` got RCPT errors. */
  | { kind: 'accepted'; response: string; accepted: string[]; refused: RecipientRefusal[] }
  /** Every recipient was refused at RCPT TO; no DATA was sent. */
  | { kind: 'recipients-refused'; refused: RecipientRefusal[]; reusable: boolean }
  /** The gate said no: the transaction was reset before DATA, nothing of the message went out. */
  | { kind: 'held-back'; reusable: boolean }
  | {
      kind: 'failed';
      error: UpstreamError;
      /** Every byte of the message (the final dot included) was handed to the socket. */
      dataSent: boolean;
      reusable: boolean;
    };

export interface OpenOptions {
  /** Aborting destroys the socket at once (the lease was lost or shutdown hit its deadline). */
  signal: AbortSignal;
  tokenProvider?: AccessTokenProvider;
  /** Ask the token provider for a fresh token (the last one was refused). */
  forceNewToken?: boolean;
  /** EHLO name. */
  name: string;
  /** The lease's write fence (`Lease.checkLive`): asked before every byte written. */
  writeFence?: () => boolean;
}

const OPEN = Promise.resolve(true);
type Envelope = { from: string; to: string[] };
const positive = (reply: Reply) => reply.code >= 200 && reply.code < 300;
const isAscii = (text: string) => Buffer.byteLength(text) === text.length;

/**
 * One authenticated upstream SMTP connection. Messages may be handed over before the previous
 * one is answered: MAIL FROM and RCPT TO of the next message follow the previous final dot on the
 * wire (RFC 2920 pipelining), so the upstream's latency is paid once per message, not once per
 * command. Closing can be awaited (a slot is released only after the socket has closed), and the
 * lease's abort signal destroys the socket at once.
 */
export class UpstreamSession {
  /** Resolves when the transaction in progress has written its last byte: the next MAIL FROM may follow. */
  private wire: Promise<void> = Promise.resolve();
  private readonly onAbort = () => this.client.destroy(this.client.fault('aborted', 'the lease ended'));

  private constructor(private readonly client: SmtpClient, private readonly signal: AbortSignal) {
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  get localPort(): number | undefined {
    return this.client.localPort;
  }

  /** Connects, says EHLO (STARTTLS when offered or required) and authenticates; fails with an UpstreamError. */
  static async open(settings: UpstreamSettings, options: OpenOptions): Promise<UpstreamSession> {
    const { host, port, secure, requireTLS, rejectUnauthorized, connectTimeoutMs, socketTimeoutMs } = settings;
    const connection = { host, port, secure, requireTLS, rejectUnauthorized, connectTimeoutMs, socketTimeoutMs, name: options.name, ...(options.writeFence ? { writeFence: options.writeFence } : {}) };
    const client = await SmtpClient.connect(connection, options.signal).catch((error: unknown) => {
      throw UpstreamError.from(error, 'connect', 'connection');
    });
    const session = new UpstreamSession(client, options.signal);
    try {
      const auth = settings.auth;
      if (auth?.type === 'oauth2') {
        if (!options.tokenProvider) throw UpstreamError.fault('auth', 'token', 'no token provider for XOAUTH2');
        const token = await options.tokenProvider.getToken({ forceRenew: options.forceNewToken ?? false });
        await client.authenticate({ user: auth.user, token });
      } else if (auth) {
        await client.authenticate({ user: auth.user, pass: auth.pass });
      }
      return session;
    } catch (error) {
      await session.destroy();
      // The token provider's own errors (TokenRequestError) mean no token to log in with.
      throw UpstreamError.from(error, 'auth', error instanceof TokenRequestError && error.refused ? 'token-refused' : 'token');
    }
  }

  /**
   * Sends one message; never throws (the outcome is in the result). MAIL FROM and RCPT TO go out
   * as soon as the previous message's bytes are written, DATA once `gates.data` resolves true
   * (false: RSET instead, nothing of the message is sent), the message bytes once the server said
   * 354 and `gates.body` resolves true (false: the session is destroyed, the server discards the
   * unfinished message).
   */
  async send(envelope: Envelope, raw: Buffer, gates: { data?: Promise<boolean>; body?: Promise<boolean> } = {}): Promise<SendResult> {
    const previous = this.wire;
    let release!: () => void;
    this.wire = new Promise((resolve) => (release = resolve));
    try {
      await previous;
      return await this.transaction(envelope, raw, gates.data ?? OPEN, gates.body ?? OPEN, release);
    } finally {
      release();
    }
  }

  /** QUIT politely and wait until the socket has closed (destroying it after `graceMs`). */
  async quit(graceMs = 5_000): Promise<void> {
    if (!this.client.broken) {
      this.client.quit();
      const timer = setTimeout(() => this.client.destroy(), graceMs);
      await this.client.closed;
      clearTimeout(timer);
    }
    await this.destroy();
  }

  /** Destroys the socket and waits for it to be closed. */
  async destroy(): Promise<void> {
    this.signal.removeEventListener('abort', this.onAbort);
    this.client.destroy();
    await this.client.closed;
  }

  private async transaction(envelope: Envelope, raw: Buffer, dataGate: Promise<boolean>, bodyGate: Promise<boolean>, wireDone: () => void): Promise<SendResult> {
    const { client } = this;
    let dataSent = false;
    try {
      const pipelining = client.extensions.has('PIPELINING');
      const bytes = dataBytes(raw);
      const commands = [
        { stage: 'mail' as const, line: `MAIL FROM:<${envelope.from}>${this.mailParameters(envelope, raw, bytes.length)}` },
        ...envelope.to.map((to) => ({ stage: 'rcpt' as const, line: `RCPT TO:<${to}>` })),
      ];
      const pending = pipelining ? client.pipeline(commands) : await this.oneByOne(commands);
      // A connection that breaks meanwhile does not wait for the gate (a rate token, say).
      const open = await Promise.race([dataGate.catch(() => false), client.closed.then(() => false)]);
      // Pipelined, DATA reaches the server before it has answered MAIL FROM: its reply follows theirs.
      let data = open && pipelining ? client.command('data', 'DATA') : undefined;
      const [mail, ...rcpts] = await Promise.all(pending);
      if (!positive(mail!)) {
        await this.endTransaction(data);
        return { kind: 'failed', error: UpstreamError.refused('mail', mail!), dataSent, reusable: !client.broken };
      }
      const refused: RecipientRefusal[] = [];
      const accepted: string[] = [];
      envelope.to.forEach((recipient, i) => {
        const reply = rcpts[i]!;
        if (positive(reply)) accepted.push(recipient);
        else refused.push({ recipient, error: UpstreamError.refused('rcpt', reply) });
      });
      if (accepted.length === 0 || !open) {
        await this.endTransaction(data);
        return accepted.length === 0 ? { kind: 'recipients-refused', refused, reusable: !client.broken } : { kind: 'held-back', reusable: !client.broken };
      }
      data ??= client.command('data', 'DATA');
      const go = await data;
      if (go.code !== 354) {
        this.reset();
        return { kind: 'failed', error: UpstreamError.refused('data', go), dataSent, reusable: !client.broken };
      }
      if (!(await bodyGate.catch(() => false))) {
        const error = UpstreamError.fault('data', 'aborted', 'the session closes before this message');
        client.destroy(error);
        return { kind: 'failed', error, dataSent, reusable: false };
      }
      const final = client.data(bytes, () => (dataSent = true));
      // Without PIPELINING the next MAIL FROM waits for this reply (RFC 5321 4.3.2; Exim enforces it).
      if (pipelining) wireDone();
      const reply = await final;
      if (!positive(reply)) return { kind: 'failed', error: UpstreamError.refused('data', reply), dataSent, reusable: !client.broken };
      return { kind: 'accepted', response: reply.text, accepted, refused };
    } catch (error) {
      // Replies that never came fail with the stage of their command; anything else is a broken connection.
      return { kind: 'failed', error: UpstreamError.from(error, dataSent ? 'data' : 'mail', 'connection'), dataSent, reusable: false };
    }
  }

  /** Without pipelining: each command waits for the previous reply; nothing after a refused MAIL FROM. */
  private async oneByOne(commands: Array<{ stage: 'mail' | 'rcpt'; line: string }>): Promise<Array<Promise<Reply>>> {
    const replies: Reply[] = [];
    for (const { stage, line } of commands) {
      replies.push(await this.client.command(stage, line));
      if (!positive(replies[0]!)) break;
    }
    return replies.map((reply) => Promise.resolve(reply));
  }

  /**
   * Leaves a transaction that will send no message. A DATA already on the wire may have been
   * accepted (354) after all: only closing the connection keeps the server from taking an empty message.
   */
  private async endTransaction(data: Promise<Reply> | undefined): Promise<void> {
    if (data && (await data).code === 354) {
      this.client.destroy(this.client.fault('protocol', 'DATA accepted without a recipient'));
      return;
    }
    this.reset();
  }

  /** `size`: the DATA bytes (CRLF line ends; stuffed dots and terminator make it a slight over-estimate, as RFC 1870 allows). */
  private mailParameters(envelope: Envelope, raw: Buffer, size: number): string {
    const { extensions } = this.client;
    let parameters = '';
    if (extensions.has('SIZE')) parameters += ` SIZE=${size}`;
    if (extensions.has('8BITMIME') && raw.some((byte) => byte > 0x7f)) parameters += ' BODY=8BITMIME';
    if (extensions.has('SMTPUTF8') && ![envelope.from, ...envelope.to].every(isAscii)) parameters += ' SMTPUTF8';
    return parameters;
  }

  /**
   * Ends an open transaction; the next MAIL FROM queues behind it. A refused RSET ends the
   * session, with an error that carries no reply code: it must not pass for a refusal of the
   * next message, whose commands were already on the wire.
   */
  private reset(): void {
    this.client.command('rset', 'RSET').then(
      (reply) => positive(reply) || this.client.destroy(this.client.fault('protocol', `RSET refused: ${reply.text}`)),
      () => undefined,
    );
  }
}
