import nodemailer, { type Transporter } from 'nodemailer';

export interface SubmitOptions {
  /** Relay ports to submit to; thread i starts on relays[i % n] and moves on after a failure. */
  relays: number[];
  /** Messages to submit (numbered 0..count-1). */
  count: number;
  /** Concurrent SMTP client connections (application threads). */
  threads: number;
  /** Envelope and header sender (a mailbox the agents send for). */
  from: string;
  /** Makes Message-IDs unique per run: `<runId.n@e2e.smtp-slots.test>`. */
  runId: string;
  /** Recipients of message n. Default one: `rcpt-n@fabrikam.example`. */
  recipients?: (n: number) => string[];
  /** Subject of message n. Default `<runId> #<n>`. */
  subject?: (n: number) => string;
  /** Local relay AUTH, when the relays require it. */
  auth?: { user: string; pass: string };
  /** Attempts per message before it counts as failed (each on the next relay). Default 10. */
  attempts?: number;
  /** Pause between attempts. Default 200 ms. */
  retryDelayMs?: number;
  /** Body size in bytes (approximately). Default ~200. */
  bodyBytes?: number;
}

export interface SubmitResult {
  /** Message-IDs of the messages a relay answered 250 for. */
  accepted: string[];
  /** Messages that no relay accepted within the attempts, with the last error. */
  failed: Array<{ n: number; messageId: string; error: string }>;
  /** Attempts that failed and were retried (on another relay). */
  retries: number;
  /**
   * Message-IDs accepted after an earlier attempt failed once connected (say, the relay was
   * killed after it spooled the message, before its 250 arrived): the application's own retry
   * may have made a duplicate that no agent can know of.
   */
  resubmitted: string[];
}

export const messageIdFor = (runId: string, n: number): string => `<${runId}.${n}@e2e.smtp-slots.test>`;

/**
 * Plays the applications: `threads` SMTP clients, each reusing one connection, submitting
 * numbered messages with known Message-IDs to the agents' relays, retrying elsewhere on failure
 * (as a client with several relays configured would).
 */
export async function submitMessages(options: SubmitOptions): Promise<SubmitResult> {
  const { relays, count, threads, from, runId, attempts = 10, retryDelayMs = 200 } = options;
  const recipients = options.recipients ?? ((n: number) => [`rcpt-${n}@fabrikam.example`]);
  const subject = options.subject ?? ((n: number) => `${runId} #${n}`);
  const body = 'x'.repeat(Math.max(0, (options.bodyBytes ?? 200) - 40));
  const result: SubmitResult = { accepted: [], failed: [], retries: 0, resubmitted: [] };
  let next = 0;

  const thread = async (index: number): Promise<void> => {
    const transports = new Map<number, Transporter>();
    const transportFor = (port: number): Transporter => {
      let transport = transports.get(port);
      if (!transport) {
        transport = nodemailer.createTransport({
          host: '127.0.0.1', port, secure: false, ignoreTLS: true, pool: true, maxConnections: 1, maxMessages: Infinity,
          connectionTimeout: 5_000, greetingTimeout: 5_000, socketTimeout: 15_000, ...(options.auth ? { auth: options.auth } : {}),
        });
        transports.set(port, transport);
      }
      return transport;
    };
    let relay = index % relays.length;
    try {
      for (let n = next++; n < count; n = next++) {
        const messageId = messageIdFor(runId, n);
        let lastError = '';
        let done = false;
        let unclear = false;
        for (let attempt = 0; attempt < attempts && !done; attempt += 1) {
          const port = relays[relay % relays.length]!;
          try {
            await transportFor(port).sendMail({ from, to: recipients(n), subject: subject(n), text: `message ${n} ${body}`, messageId });
            result.accepted.push(messageId);
            if (unclear) result.resubmitted.push(messageId);
            done = true;
          } catch (error) {
            lastError = (error as Error).message;
            result.retries += 1;
            // Failed while connecting or before the greeting (`CONN`): that relay cannot have taken the message.
            unclear ||= (error as { command?: string }).command !== 'CONN';
            transportFor(port).close();
            transports.delete(port);
            relay += 1;
            await new Promise((r) => setTimeout(r, retryDelayMs));
          }
        }
        if (!done) result.failed.push({ n, messageId, error: lastError });
      }
    } finally {
      for (const transport of transports.values()) transport.close();
    }
  };

  await Promise.all(Array.from({ length: threads }, (_, i) => thread(i)));
  return result;
}
