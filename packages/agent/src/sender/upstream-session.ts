import { connect as netConnect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { UpstreamSettings } from '../config.js';
import type { AccessTokenProvider } from './token-provider.js';

/** An SMTP error as smtp-connection reports it. */
export type SmtpError = Error & { code?: string; response?: string; responseCode?: number; command?: string };

/** A recipient the server refused at RCPT TO, with its reply. */
export interface RecipientRefusal {
  recipient: string;
  error: SmtpError;
}

/** How one message went on an open session. */
export type SendResult =
  /** The server took the message (250 after the final dot) for `accepted`; `refused` got RCPT errors. */
  | { kind: 'accepted'; response: string; accepted: string[]; refused: RecipientRefusal[] }
  /** Every recipient was refused at RCPT TO; no DATA was sent. */
  | { kind: 'recipients-refused'; refused: RecipientRefusal[] }
  | {
      kind: 'failed';
      error: SmtpError;
      /** Every byte of the message (the final dot included) was handed to the socket. */
      dataSent: boolean;
      /** The session can carry another message (the server answered; nothing broke). */
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
}

/** A failure while opening: connect, greeting, TLS or AUTH. `stage` tells which. */
export class SessionOpenError extends Error {
  constructor(readonly stage: 'connect' | 'auth', readonly error: SmtpError) {
    super(error.message);
    this.name = 'SessionOpenError';
  }
}

/**
 * One upstream SMTP connection over a socket this class owns, so that closing can be awaited
 * (a slot is released only after the socket has closed) and destroyed at once on lease loss.
 */
export class UpstreamSession {
  private readonly closed: Promise<void>;
  private failure: SmtpError | undefined;
  private readonly onAbort = () => this.socket.destroy();

  private constructor(
    private readonly socket: Socket,
    private readonly connection: SMTPConnection,
    private readonly signal: AbortSignal,
  ) {
    this.closed = new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
    connection.on('error', (error: SmtpError) => (this.failure ??= error));
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Connects, says EHLO (STARTTLS when offered or required) and authenticates. */
  static async open(settings: UpstreamSettings, options: OpenOptions): Promise<UpstreamSession> {
    const { signal } = options;
    if (signal.aborted) throw new SessionOpenError('connect', Object.assign(new Error('aborted before connecting'), { code: 'EABORTED' }));
    const tlsOptions = { rejectUnauthorized: settings.rejectUnauthorized, servername: settings.host };
    const socket: Socket = settings.secure
      ? tlsConnect({ host: settings.host, port: settings.port, ...tlsOptions })
      : netConnect({ host: settings.host, port: settings.port });
    const connection = new SMTPConnection({
      host: settings.host,
      port: settings.port,
      connection: socket,
      secure: settings.secure,
      secured: settings.secure,
      requireTLS: settings.requireTLS,
      tls: tlsOptions,
      name: options.name,
      connectionTimeout: settings.connectTimeoutMs,
      greetingTimeout: settings.connectTimeoutMs,
      socketTimeout: settings.socketTimeoutMs,
      logger: false,
    });
    socket.on('error', () => undefined); // reported through smtp-connection or the connect step
    // Commands and the message's final dot are small writes: Nagle plus delayed ACKs would stall each ~40 ms.
    socket.setNoDelay(true);
    const session = new UpstreamSession(socket, connection, signal);
    try {
      await session.step('connect', (done) => {
        const ready = () => connection.connect(done);
        if (settings.secure) socket.once('secureConnect', ready);
        else socket.once('connect', ready);
        socket.once('error', (error) => done(error as SmtpError));
        const timer = setTimeout(() => done(Object.assign(new Error('Connection timeout'), { code: 'ETIMEDOUT' })), settings.connectTimeoutMs);
        socket.once('close', () => clearTimeout(timer));
        connection.once('connect', () => clearTimeout(timer));
      });
      const auth = settings.auth;
      if (auth?.type === 'oauth2') {
        const provider = options.tokenProvider;
        if (!provider) throw new SessionOpenError('auth', Object.assign(new Error('no token provider for XOAUTH2'), { code: 'EAUTH' }));
        let forceRenew = options.forceNewToken ?? false;
        const oauth2 = {
          // smtp-connection asks again with renew=true when the server answers 334 with an error.
          getToken: (renew: boolean, callback: (error: Error | null, token?: string) => void) => {
            provider.getToken({ forceRenew: renew || forceRenew }).then((token) => callback(null, token), (error: Error) => callback(error));
            forceRenew = false;
          },
          buildXOAuth2Token: (token: string) => Buffer.from(`user=${auth.user}\x01auth=Bearer ${token}\x01\x01`).toString('base64'),
        };
        await session.step('auth', (done) => connection.login({ oauth2 } as unknown as SMTPConnection.AuthenticationOAuth2, done));
      } else if (auth) {
        await session.step('auth', (done) => connection.login({ credentials: { user: auth.user, pass: auth.pass } }, done));
      }
      return session;
    } catch (error) {
      await session.destroy();
      throw error;
    }
  }

  /**
   * Sends one message; never throws (the outcome is in the result). With a `gate`, MAIL FROM,
   * RCPT TO and DATA go out at once but the message bytes wait until the gate resolves true;
   * false aborts the transaction (error code ESTREAM; the session is then not reusable).
   */
  async send(envelope: { from: string; to: string[] }, raw: Buffer, gate?: Promise<boolean>): Promise<SendResult> {
    if (this.failure || this.signal.aborted || this.socket.destroyed) {
      return { kind: 'failed', error: this.failure ?? connectionError('connection is closed'), dataSent: false, reusable: false };
    }
    let dataSent = false;
    const body = gate ? new Readable({ read: () => undefined }) : Readable.from([raw]);
    if (gate) {
      gate.then(
        (open) => (open ? (body.push(raw), body.push(null)) : body.destroy(new Error('message held back before its data'))),
        (error: Error) => body.destroy(error),
      );
    }
    body.once('end', () => (dataSent = true));
    return new Promise<SendResult>((resolve) => {
      let settled = false;
      const finish = (result: SendResult) => {
        if (settled) return;
        settled = true;
        this.connection.off('error', onBroken);
        this.connection.off('end', onEnd);
        resolve(result);
      };
      // A broken connection never calls send's callback: listen for it separately.
      const onBroken = (error: SmtpError) => finish({ kind: 'failed', error, dataSent, reusable: false });
      const onEnd = () => finish({ kind: 'failed', error: this.failure ?? connectionError('connection closed'), dataSent, reusable: false });
      this.connection.once('error', onBroken);
      this.connection.once('end', onEnd);
      this.connection.send({ from: envelope.from, to: envelope.to, size: raw.length }, body, (error, info) => {
        if (error) {
          const refused = (error as SmtpError & { rejectedErrors?: SmtpError[] }).rejectedErrors;
          if (error.code === 'EENVELOPE' && error.command === 'RCPT TO' && refused?.length) {
            finish({ kind: 'recipients-refused', refused: refused.map(toRefusal) });
            return;
          }
          finish({ kind: 'failed', error, dataSent, reusable: Boolean(error.responseCode) && !this.socket.destroyed });
          return;
        }
        finish({ kind: 'accepted', response: info.response, accepted: info.accepted, refused: (info.rejectedErrors ?? []).map(toRefusal) });
      });
    });
  }

  /** RSET after a refused message so that the next one starts clean. */
  async reset(): Promise<boolean> {
    if (this.failure || this.socket.destroyed) return false;
    return this.step('connect', (done) => this.connection.reset(done)).then(() => true, () => false);
  }

  /** QUIT politely and wait until the socket has closed (destroying it after `graceMs`). */
  async quit(graceMs = 5_000): Promise<void> {
    if (!this.socket.destroyed && !this.failure) {
      this.connection.quit();
      const timer = setTimeout(() => this.socket.destroy(), graceMs);
      await this.closed;
      clearTimeout(timer);
    }
    await this.destroy();
  }

  /** Destroys the socket and waits for it to be closed. */
  async destroy(): Promise<void> {
    this.signal.removeEventListener('abort', this.onAbort);
    this.socket.destroy();
    this.connection.close();
    await this.closed;
  }

  private step(stage: 'connect' | 'auth', run: (done: (error?: SmtpError | null) => void) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const done = (error?: SmtpError | null) => {
        if (settled) return;
        settled = true;
        this.connection.off('error', done);
        this.connection.off('end', onEnd);
        if (error) reject(new SessionOpenError(stage, error));
        else resolve();
      };
      const onEnd = () => done(this.failure ?? connectionError('connection closed'));
      this.connection.once('error', done);
      this.connection.once('end', onEnd);
      run(done);
    });
  }
}

const toRefusal = (error: SmtpError): RecipientRefusal => ({ recipient: (error as SmtpError & { recipient?: string }).recipient ?? '', error });
const connectionError = (message: string): SmtpError => Object.assign(new Error(message), { code: 'ECONNECTION' });
