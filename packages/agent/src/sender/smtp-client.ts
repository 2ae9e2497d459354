import { isIP, connect as netConnect, type Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { UpstreamError, type UpstreamFault, type UpstreamStage } from './upstream-error.js';

/** One complete server reply; `text` holds every line of a multi-line reply, joined by "\n". */
export interface Reply {
  code: number;
  text: string;
}

export type Credentials = { user: string; pass: string } | { user: string; token: string };

export interface SmtpClientOptions {
  host: string;
  port: number;
  /** TLS from the first byte (port 465). */
  secure: boolean;
  /** Fail unless the server offers STARTTLS (plain connections only). */
  requireTLS: boolean;
  rejectUnauthorized: boolean;
  /** EHLO name. */
  name: string;
  /** Connect, TLS and greeting together. */
  connectTimeoutMs: number;
  /** No byte from the server for this long while a reply is due: the connection is given up. */
  socketTimeoutMs: number;
  /**
   * Asked before every write (and before a STARTTLS handshake): false means the lease this
   * connection runs under has ended, and the socket is destroyed instead of written to.
   */
  writeFence?: () => boolean;
}

/** A reply line is at most 512 octets (RFC 5321 4.5.3.1.5); allow generous slack, not unbounded memory. */
const MAX_LINE = 16 * 1024;
/** Lines of one multi-line reply (an EHLO reply has a dozen). */
const MAX_REPLY_LINES = 1_000;
const CRLF = Buffer.from('\r\n');

/**
 * A minimal SMTP client that can PIPELINE (RFC 2920): every command registers the reply it
 * expects in write order, so several commands can be on the wire at once and each caller
 * awaits its own reply. nodemailer's smtp-connection waits for each MAIL, RCPT and DATA reply
 * in turn; at an upstream's real latency those round trips cost a tenth of the throughput.
 */
export class SmtpClient {
  /** EHLO keywords, upper case (`PIPELINING`, `STARTTLS`, `SIZE`, ...). */
  extensions = new Map<string, string>();
  private socket: Socket | TLSSocket;
  private readonly raw: Socket;
  /** Replies due, in write order, each with the stage of the command that waits for it. */
  private readonly pending: Array<{ stage: UpstreamStage; resolve: (reply: Reply) => void; reject: (error: UpstreamError) => void }> = [];
  /** The stage of the last command written: where a broken connection is noticed. */
  private stage: UpstreamStage = 'connect';
  private lines: string[] = [];
  private partial = '';
  private readonly decoder = new StringDecoder('utf8');
  private failure: UpstreamError | undefined;
  /** Resolves once the TCP socket has closed. */
  readonly closed: Promise<void>;
  private readonly onData = (chunk: Buffer) => this.read(chunk);
  private readonly onTimeout = () => this.fail(this.fault('timeout', 'Timeout waiting for the server'));

  private constructor(socket: Socket, private readonly options: SmtpClientOptions) {
    this.raw = socket;
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.once('close', () => this.fail(this.fault('connection', 'Connection closed unexpectedly')));
    this.attach(socket);
  }

  /** Connects, reads the greeting, says EHLO and upgrades with STARTTLS when offered or required. */
  static async connect(options: SmtpClientOptions, signal: AbortSignal): Promise<SmtpClient> {
    // SNI carries host names only (RFC 6066).
    const tls = { host: options.host, port: options.port, rejectUnauthorized: options.rejectUnauthorized, ...(isIP(options.host) ? {} : { servername: options.host }) };
    const socket = options.secure ? tlsConnect(tls) : netConnect({ host: options.host, port: options.port });
    const client = new SmtpClient(socket, options);
    const onAbort = () => client.destroy(client.fault('aborted', 'aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => client.destroy(client.fault('timeout', 'Connection timeout')), options.connectTimeoutMs);
    try {
      if (signal.aborted) throw UpstreamError.fault('connect', 'aborted', 'aborted before connecting');
      // Until the greeting arrives, a failure (TCP, TLS from the first byte) is one of connecting.
      const greeting = await client.expect('connect');
      if (greeting.code !== 220) throw UpstreamError.refused('greeting', greeting);
      await client.hello();
      if (!options.secure && (client.extensions.has('STARTTLS') || options.requireTLS)) {
        if (!client.extensions.has('STARTTLS')) throw UpstreamError.fault('starttls', 'tls', 'STARTTLS is required but the server does not offer it');
        const reply = await client.command('starttls', 'STARTTLS');
        if (reply.code !== 220) throw UpstreamError.refused('starttls', reply);
        await client.upgrade(tls);
        await client.hello();
      }
      return client;
    } catch (error) {
      client.destroy();
      await client.closed;
      throw error;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** This end's TCP port (how the upstream, or a proxy before it, tells connections apart). */
  get localPort(): number | undefined {
    return this.raw.localPort;
  }

  get broken(): boolean {
    return this.failure !== undefined;
  }

  /** Writes the commands in one go; one promise per command, for its reply, in order. */
  pipeline(commands: Array<{ stage: UpstreamStage; line: string }>): Array<Promise<Reply>> {
    const replies = commands.map(({ stage }) => this.expect(stage));
    this.write(Buffer.from(commands.map(({ line }) => `${line}\r\n`).join('')));
    return replies;
  }

  command(stage: UpstreamStage, line: string): Promise<Reply> {
    return this.pipeline([{ stage, line }])[0]!;
  }

  /**
   * Writes message bytes (already dot-stuffed and terminated); the promise is the reply to the
   * final dot. `onHanded` runs as soon as the socket took the bytes, before anything else can
   * run: from then on the server may have the final dot, even if the connection fails before
   * the write's own callback (a pipelined next command shut out by the fence, say).
   */
  data(bytes: Buffer, onHanded: () => void): Promise<Reply> {
    const reply = this.expect('data');
    if (this.write(bytes)) onHanded();
    return reply;
  }

  /** QUIT; our side of the connection ends once the server has answered. */
  quit(): void {
    this.command('quit', 'QUIT').then(() => this.socket.end(), () => undefined);
  }

  /** AUTH PLAIN (or LOGIN when PLAIN is not offered: Exchange Online offers LOGIN and XOAUTH2), or XOAUTH2. */
  async authenticate(credentials: Credentials): Promise<void> {
    const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
    const offered = (this.extensions.get('AUTH') ?? '').toUpperCase().split(' ');
    let reply: Reply;
    if ('token' in credentials) {
      reply = await this.command('auth', `AUTH XOAUTH2 ${base64(`user=${credentials.user}\x01auth=Bearer ${credentials.token}\x01\x01`)}`);
      // A refused token gets a 334 with an error document; an empty line ends the exchange with the final code.
      if (reply.code === 334) reply = await this.command('auth', '');
    } else if (offered.includes('PLAIN') || !offered.includes('LOGIN')) {
      reply = await this.command('auth', `AUTH PLAIN ${base64(`\0${credentials.user}\0${credentials.pass}`)}`);
    } else {
      reply = await this.command('auth', 'AUTH LOGIN');
      if (reply.code === 334) reply = await this.command('auth', base64(credentials.user));
      if (reply.code === 334) reply = await this.command('auth', base64(credentials.pass));
    }
    if (reply.code !== 235) throw UpstreamError.refused('auth', reply);
  }

  /** Ends the connection at once (lease lost, shutdown deadline, protocol error). */
  destroy(error?: UpstreamError): void {
    this.fail(error ?? this.fault('connection', 'Connection destroyed'));
  }

  /** A failure without a reply, at the stage the client is in. */
  fault(fault: UpstreamFault, text: string): UpstreamError {
    return UpstreamError.fault(this.stage, fault, text);
  }

  /** True when the socket took the bytes; false when the connection had failed or the fence shut. */
  private write(bytes: Buffer): boolean {
    if (this.failure || !this.fenceOpen()) return false; // the expectations just registered were already rejected
    this.socket.write(bytes);
    return true;
  }

  /** The write fence: when it is shut, the connection fails here and nothing more goes out. */
  private fenceOpen(): boolean {
    if (!this.options.writeFence || this.options.writeFence()) return true;
    this.fail(this.fault('aborted', 'the lease ended before this write'));
    return false;
  }

  private expect(stage: UpstreamStage): Promise<Reply> {
    const failure = this.failure;
    if (!failure) this.stage = stage;
    const reply = failure ? Promise.reject(failure.at(stage)) : new Promise<Reply>((resolve, reject) => this.pending.push({ stage, resolve, reject }));
    // A pipelined reply nobody awaits any more (the transaction ended early) must not surface as unhandled.
    reply.catch(() => undefined);
    if (!failure) this.socket.setTimeout(this.options.socketTimeoutMs);
    return reply;
  }

  private async hello(): Promise<void> {
    let reply = await this.command('ehlo', `EHLO ${this.options.name}`);
    if (reply.code >= 500) reply = await this.command('ehlo', `HELO ${this.options.name}`);
    if (reply.code !== 250) throw UpstreamError.refused('ehlo', reply);
    this.extensions = new Map(reply.text.split('\n').slice(1).map((line) => {
      const [keyword = '', ...params] = line.slice(4).trim().split(/\s+/);
      return [keyword.toUpperCase(), params.join(' ')];
    }));
  }

  private async upgrade(tls: { host: string; port: number; rejectUnauthorized: boolean; servername?: string }): Promise<void> {
    // Bytes after the 220 would be plaintext injected ahead of the encrypted session.
    if (this.partial !== '' || this.lines.length > 0) throw UpstreamError.fault('starttls', 'protocol', 'Data after the STARTTLS reply');
    // The handshake writes on its own (ClientHello): the fence is asked first.
    if (!this.fenceOpen()) throw this.failure!.at('starttls');
    this.detach(this.socket);
    const secured = tlsConnect({ ...tls, socket: this.raw });
    this.socket = secured;
    this.attach(secured);
    let onSecure!: () => void;
    const handshake = new Promise<void>((resolve) => secured.once('secureConnect', (onSecure = resolve)));
    // A stalled handshake ends with the connect timeout or the abort signal: both close the socket.
    const closed = this.closed.then(() => Promise.reject(this.failure?.at('starttls') ?? UpstreamError.fault('starttls', 'tls', 'Connection closed during the TLS handshake')));
    try {
      await Promise.race([handshake, closed]);
    } finally {
      closed.catch(() => undefined);
      secured.off('secureConnect', onSecure);
    }
  }

  private attach(socket: Socket): void {
    socket.on('data', this.onData);
    socket.on('error', (error: NodeJS.ErrnoException) => this.fail(this.fault(isTlsError(error) ? 'tls' : 'connection', error.message)));
    // On the socket the bytes go through, so that writing a large message counts as activity.
    socket.on('timeout', this.onTimeout);
    // Commands and the final dot are small writes: Nagle plus delayed ACKs would stall each ~40 ms.
    if (socket === this.raw) socket.setNoDelay(true);
  }

  private detach(socket: Socket): void {
    socket.off('data', this.onData);
    socket.off('timeout', this.onTimeout);
    socket.setTimeout(0);
  }

  private read(chunk: Buffer): void {
    const text = this.partial + this.decoder.write(chunk);
    const lines = text.split('\n');
    this.partial = lines.pop()!;
    if (this.partial.length > MAX_LINE) return this.fail(this.fault('protocol', 'Reply line too long'));
    for (const rawLine of lines) {
      const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
      const match = /^(\d{3})([ -]|$)/.exec(line);
      if (!match) return this.fail(this.fault('protocol', `Invalid reply line: ${line.slice(0, 100)}`));
      this.lines.push(line);
      if (this.lines.length > MAX_REPLY_LINES) return this.fail(this.fault('protocol', 'Reply too long'));
      if (match[2] === '-') continue;
      const reply = { code: Number(match[1]), text: this.lines.join('\n') };
      this.lines = [];
      const waiter = this.pending.shift();
      // Not the reply of any command: it must not pass for the answer to the next message's.
      if (!waiter) return this.fail(this.fault('protocol', `Unexpected reply: ${reply.text.slice(0, 200)}`));
      waiter.resolve(reply);
    }
    if (this.pending.length === 0) this.socket.setTimeout(0); // idle between messages is the caller's business
  }

  private fail(error: UpstreamError): void {
    this.failure ??= error;
    for (const waiter of this.pending.splice(0)) waiter.reject(this.failure.at(waiter.stage));
    this.socket.destroy();
    this.raw.destroy();
  }
}

/** Certificate and handshake failures (`DEPTH_ZERO_SELF_SIGNED_CERT`, `ERR_TLS_CERT_ALTNAME_INVALID`, `ERR_SSL_...`). */
const isTlsError = (error: NodeJS.ErrnoException) => /CERT|SSL|TLS|VERIFY/.test(error.code ?? '');

/** The message as DATA content: CRLF line ends, leading dots doubled, then CRLF "." CRLF. */
export function dataBytes(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let from = 0;
  for (let i = 0; i < raw.length; i += 1) {
    const byte = raw[i];
    if (byte === 0x0a && raw[i - 1] !== 0x0d) {
      parts.push(raw.subarray(from, i), CRLF);
      from = i + 1;
    } else if (byte === 0x2e && (i === 0 || raw[i - 1] === 0x0a)) {
      parts.push(raw.subarray(from, i), DOT);
      from = i;
    }
  }
  parts.push(raw.subarray(from), raw.length > 0 && raw[raw.length - 1] === 0x0a ? END : NEWLINE_END);
  return Buffer.concat(parts);
}

const DOT = Buffer.from('.');
const END = Buffer.from('.\r\n');
const NEWLINE_END = Buffer.from('\r\n.\r\n');
