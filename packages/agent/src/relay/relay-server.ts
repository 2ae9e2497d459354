import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerOptions } from 'smtp-server';
import { EMAIL_PATTERN, isLoopback, type AgentConfig } from '../config.js';
import { SpoolWriteError } from '../errors.js';
import { checkRelayUser } from './relay-auth.js';
import { closeSession, SessionDeadlines } from './session-deadlines.js';

/** Longest command line the relay reads (generous beyond RFC 5321's 512 for AUTH PLAIN). */
const MAX_COMMAND_LINE_BYTES = 4096;

/** An SMTP reply to refuse something with, e.g. `smtpError(550, '5.7.1 ...')`. */
function smtpError(code: number, text: string): Error & { responseCode: number } {
  return Object.assign(new Error(text), { responseCode: code });
}

/** What the relay hands over once it has a complete message. */
export interface RelayedMessage {
  mailbox: string;
  envelope: { from: string; to: string[] };
  raw: Buffer;
}

/** Why the relay refused something (a bounded set, for metrics). */
export type RelayRejection = 'unknown_sender' | 'bad_address' | 'too_big' | 'too_many_recipients' | 'auth_failed' | 'spool_full' | 'spool_error' | 'session_timeout' | 'stopping';

/** RFC 3463 4.3.1 "mail system full": the client keeps the message and retries later. */
const SPOOL_FULL_REPLY = '4.3.1 Insufficient system storage, try again later';

export interface RelayServerOptions {
  relay: AgentConfig['relay'];
  /** Configured sender addresses (any case). */
  mailboxes: string[];
  /** Name in the greeting and EHLO. */
  name: string;
  /** Stores the message; the relay answers 250 only after this resolves. Returns the spool id. */
  store: (message: RelayedMessage) => Promise<string>;
  /** False while the spool cannot store mail: MAIL FROM is answered 452 before any data is sent. */
  spoolWritable?: () => boolean;
}

/**
 * The local SMTP relay: apps that only speak SMTP point at it instead of the provider. It is no
 * open relay: only configured senders (MAIL FROM) are accepted, with AUTH when configured.
 *
 * Events: 'accepted' (spool id, mailbox), 'rejected' (RelayRejection, detail).
 */
export class RelayServer extends EventEmitter {
  private readonly server: SMTPServer;
  private readonly senders: Map<string, string>;
  private accepting = true;
  private readonly deadlines: SessionDeadlines;

  constructor(private readonly options: RelayServerOptions) {
    super();
    this.senders = new Map(options.mailboxes.map((m) => [m.toLowerCase(), m.toLowerCase()]));
    const { relay } = options;
    const auth = relay.users.length > 0;
    const tls = relay.tls ? { key: readFileSync(relay.tls.key), cert: readFileSync(relay.tls.cert) } : undefined;
    const serverOptions: SMTPServerOptions = {
      name: options.name,
      banner: 'smtp-slots agent relay',
      size: relay.maxMessageBytes,
      rejectOversized: true,
      authOptional: !auth,
      authMethods: ['PLAIN', 'LOGIN'],
      // Loopback traffic never leaves the machine; elsewhere offer STARTTLS when configured.
      allowInsecureAuth: !tls || isLoopback(relay.host),
      disabledCommands: [...(auth ? [] : ['AUTH']), ...(tls ? [] : ['STARTTLS'])],
      hideSTARTTLS: !tls,
      ...(tls ?? {}),
      logger: false,
      // Clients are local apps: a reverse DNS lookup per connection would only add latency.
      disableReverseLookup: true,
      closeTimeout: 5_000,
      // RFC 5321 lines are at most 512 octets; smtp-server's default (16 KiB) would let a client
      // without CRLF hold a buffer until the idle timeout. Past this it answers 421 and closes.
      maxCommandLength: MAX_COMMAND_LINE_BYTES,
      // Beyond this many sockets smtp-server greets with 421 and closes, instead of taking more.
      maxClients: relay.maxConnections,
      // Idle only: it restarts with every byte, so sessionTimeoutMs bounds byte-at-a-time clients.
      socketTimeout: relay.socketTimeoutMs,
      onConnect: (session, callback) => {
        this.deadlines.start(session.id);
        callback();
      },
      onClose: (session) => this.deadlines.end(session.id),
      onAuth: (credentials, _session, callback) => {
        if (credentials.username && typeof credentials.password === 'string' && checkRelayUser(relay.users, credentials.username, credentials.password)) {
          callback(null, { user: credentials.username });
          return;
        }
        this.emit('rejected', 'auth_failed', credentials.username ?? '');
        callback(smtpError(535, '5.7.8 Authentication credentials invalid'));
      },
      onMailFrom: (address, _session, callback) => {
        if (!this.accepting) return callback(smtpError(421, '4.3.2 Relay is shutting down, try again later'));
        if (this.options.spoolWritable && !this.options.spoolWritable()) {
          this.emit('rejected', 'spool_full', 'spool unwritable');
          return callback(smtpError(452, SPOOL_FULL_REPLY));
        }
        if (!EMAIL_PATTERN.test(address.address)) {
          this.emit('rejected', 'bad_address', 'sender');
          return callback(smtpError(553, `5.1.7 Bad sender address syntax: <${address.address}>`));
        }
        if (!this.senders.has(address.address.toLowerCase())) {
          this.emit('rejected', 'unknown_sender', '');
          return callback(
            smtpError(550, `5.7.1 Sender <${address.address}> is not a mailbox this relay sends for (MAIL FROM must be a configured mailbox address)`),
          );
        }
        callback();
      },
      onRcptTo: (address, session, callback) => {
        if (!EMAIL_PATTERN.test(address.address)) {
          this.emit('rejected', 'bad_address', 'recipient');
          return callback(smtpError(553, `5.1.3 Bad recipient address syntax: <${address.address}>`));
        }
        if (session.envelope.rcptTo.length >= relay.maxRecipients) {
          this.emit('rejected', 'too_many_recipients', '');
          return callback(smtpError(452, `4.5.3 Too many recipients (at most ${relay.maxRecipients} per message)`));
        }
        callback();
      },
      onData: (stream, session, callback) => {
        void this.deadlines.whileStoring(session.id, this.receive(stream, session.envelope)).then(
          (id) => callback(null, `2.0.0 Queued as ${id}`),
          (error: Error & { responseCode?: number }) => callback(error),
        );
      },
    };
    this.server = new SMTPServer(serverOptions);
    this.server.on('error', (error) => this.emit('warning', error));
    this.deadlines = new SessionDeadlines(relay.sessionTimeoutMs, (id) => {
      this.emit('rejected', 'session_timeout', id);
      closeSession(this.server, id, 421, '4.4.2 Session time limit exceeded, reconnect to send more');
    });
  }

  private async receive(stream: SMTPServerDataStream, envelope: { mailFrom: false | { address: string }; rcptTo: Array<{ address: string }> }): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) if (!stream.sizeExceeded) chunks.push(chunk as Buffer);
    if (stream.sizeExceeded) {
      this.emit('rejected', 'too_big', '');
      throw smtpError(552, `5.3.4 Message exceeds the maximum size of ${this.options.relay.maxMessageBytes} bytes`);
    }
    if (!this.accepting) {
      this.emit('rejected', 'stopping', '');
      throw smtpError(421, '4.3.2 Relay is shutting down, try again later');
    }
    const from = envelope.mailFrom ? envelope.mailFrom.address : '';
    try {
      const id = await this.options.store({
        mailbox: this.senders.get(from.toLowerCase()) ?? from.toLowerCase(),
        envelope: { from, to: envelope.rcptTo.map((r) => r.address) },
        raw: Buffer.concat(chunks),
      });
      this.emit('accepted', id, from.toLowerCase());
      return id;
    } catch (error) {
      // Nothing was promised: the client keeps the message and retries.
      if (error instanceof SpoolWriteError && error.diskFull) {
        this.emit('rejected', 'spool_full', error.message);
        throw smtpError(452, SPOOL_FULL_REPLY);
      }
      this.emit('rejected', 'spool_error', (error as Error).message);
      throw smtpError(451, '4.3.0 Could not store the message, try again later');
    }
  }

  /** Starts listening; resolves with the bound port (useful with port 0). */
  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.server.once('error', onError);
      this.server.listen(this.options.relay.port, this.options.relay.host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    return (this.server.server.address() as AddressInfo).port;
  }

  /** Stops taking new mail; sessions in the middle of DATA finish storing first. */
  async close(): Promise<void> {
    this.accepting = false;
    this.deadlines.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
