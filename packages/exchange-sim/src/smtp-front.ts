import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import type { SimState } from './sim-state.js';
import { Reply, ReplyCode } from './replies.js';
import { decideSubmission } from './submission.js';

type Connection = SMTPServer['connections'] extends Set<infer C> ? C : never;

/** What the front end knows about one SMTP connection. */
interface SessionRecord {
  connection: Connection;
  /** Authenticated user (lower-case address) once AUTH succeeded. */
  user: string | undefined;
  /** Its place in the user's ranking has been given up (QUIT, server close, or socket close). */
  ended: boolean;
  /** The socket is gone. */
  closed: boolean;
}

export interface TlsMaterial {
  key: string;
  cert: string;
}

/** Roughly Exchange Online's 35 MB message size limit. */
const MAX_MESSAGE_BYTES = 35 * 1024 * 1024;

const smtpError = (responseCode: number, message: string): Error => Object.assign(new Error(message), { responseCode });

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The SMTP side: an smtp-server instance whose handlers apply Exchange's rules to `sim`.
 * It does not listen yet.
 */
export function createSmtpFront(sim: SimState, tls: TlsMaterial | undefined): SMTPServer {
  const { options } = sim;
  const records = new Map<string, SessionRecord>();

  /** Gives up the session's place in the ranking; a drop (not clean) may leave a ghost behind. */
  const endSession = (record: SessionRecord, clean: boolean): void => {
    if (record.ended || record.user === undefined) return;
    record.ended = true;
    const ghostMs = clean ? 0 : sim.faults.get(record.user).ghostMs;
    sim.mailbox(record.user)?.ranking.endSession(record.connection.session.id, ghostMs);
  };

  const server: SMTPServer = new SMTPServer({
    name: options.hostname,
    banner: 'Microsoft ESMTP MAIL Service ready (exchange-sim)',
    logger: false,
    disableReverseLookup: true,
    authMethods: ['LOGIN', 'PLAIN', 'XOAUTH2'],
    authRequiredMessage: Reply.notAuthenticated,
    // Exchange requires TLS before AUTH; without --starttls the simulator allows AUTH in clear text.
    disabledCommands: tls ? [] : ['STARTTLS'],
    allowInsecureAuth: !tls,
    ...(tls ? { key: tls.key, cert: tls.cert } : {}),
    size: MAX_MESSAGE_BYTES,
    rejectOversized: true,
    socketTimeout: options.socketTimeoutMs,
    closeTimeout: 1000,

    onConnect(session, callback) {
      const connection = [...server.connections].find((c) => c.session === session);
      if (connection) {
        const record: SessionRecord = { connection, user: undefined, ended: false, closed: false };
        records.set(session.id, record);
        // Every reply passes here: QUIT's 221 and a 421 end the session for ranking purposes
        // before the socket is gone, so a client that reconnects at once is not ranked behind itself.
        const send = connection.send.bind(connection);
        connection.send = (code, data, context) => {
          if (code === 221 || code === 421) endSession(record, true);
          if (code === 530) sim.countNotAuthenticated();
          send(code, data, context);
        };
      }
      callback();
    },

    onAuth(auth, session, callback) {
      const username = auth.username ?? '';
      sim.directory
        .authenticate({ method: auth.method, username, password: auth.password, accessToken: auth.accessToken })
        .then((decision) => {
          if (!decision.ok) {
            sim.countAuthFailure(username);
            return callback(smtpError(decision.responseCode, decision.message));
          }
          const record = records.get(session.id);
          const mailbox = sim.mailbox(decision.user.address);
          if (!record || record.closed || !mailbox) return callback(smtpError(ReplyCode.authUnsuccessful, Reply.authUnsuccessful));
          record.user = decision.user.address;
          mailbox.ranking.addSession(session.id);
          mailbox.count('sessionsTotal');
          callback(null, { user: decision.user.address });
        })
        .catch((error: unknown) => callback(error instanceof Error ? error : new Error(String(error))));
    },

    onMailFrom(address, session, callback) {
      const user = userOf(session);
      if (options.enforceSender && address.address.toLowerCase() !== user) {
        sim.mailbox(user)?.count('rejectedSender');
        return callback(smtpError(ReplyCode.sendAsDenied, Reply.sendAsDenied));
      }
      callback();
    },

    onRcptTo(address, session, callback) {
      const user = userOf(session);
      if (sim.faults.isUnknownRecipient(user, address.address)) {
        sim.mailbox(user)?.count('rejectedRecipients');
        return callback(smtpError(ReplyCode.recipientNotFound, Reply.recipientNotFound));
      }
      callback();
    },

    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', () => undefined); // the client left mid-message; onClose cleans up
      stream.on('end', () => {
        void (async () => {
          const user = userOf(session);
          const record = records.get(session.id);
          const mailbox = sim.mailbox(user);
          if (!record || !mailbox) return callback(smtpError(ReplyCode.authUnsuccessful, Reply.authUnsuccessful));
          const latency = sim.faults.latencyFor(user);
          if (latency > 0) await sleep(latency);
          if (record.closed) return;
          const envelope = session.envelope;
          const outcome = decideSubmission(sim, mailbox, {
            sessionId: session.id,
            from: envelope.mailFrom ? envelope.mailFrom.address : '',
            to: envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks),
          });
          if (outcome.kind === 'accept') return callback(null, outcome.message);
          if (outcome.kind === 'reject') return callback(smtpError(outcome.responseCode, outcome.message));
          // Drop: the message is recorded, the client never hears back (a lost 250).
          record.connection._socket.destroy();
        })().catch((error: unknown) => callback(error instanceof Error ? error : new Error(String(error))));
      });
    },

    onClose(session) {
      const record = records.get(session.id);
      if (!record) return;
      records.delete(session.id);
      record.closed = true;
      endSession(record, false);
    },
  });

  server.server.on('connection', (socket) => {
    // Replies leave at once instead of waiting behind Nagle for the ACK of the previous one.
    socket.setNoDelay(true);
    sim.tcpOpened();
    socket.once('close', () => sim.tcpClosed());
  });
  return server;
}

/** The authenticated user of a session (smtp-server only runs MAIL/DATA handlers after AUTH). */
function userOf(session: SMTPServerSession): string {
  return typeof session.user === 'string' ? session.user : '';
}

/** Cuts every open SMTP connection and stops listening. */
export async function closeSmtpFront(server: SMTPServer): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const connection of server.connections) connection._socket.destroy();
  await closed;
}
