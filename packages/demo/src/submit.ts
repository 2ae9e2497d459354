import { createTransport } from 'nodemailer';

export interface Relay {
  host: string;
  port: number;
}

export interface SubmitOptions {
  relays: Relay[];
  /** Envelope sender: the shared mailbox the agents route by. */
  from: string;
  count: number;
  /** SMTP client connections per relay (an app's sending threads on that server). */
  connectionsPerRelay: number;
  /** Makes Message-IDs unique to this run. */
  runId: string;
  /** Called with each Message-ID as soon as its relay answered 250. */
  onEachAccepted?: (messageId: string) => void;
}

export interface SubmitResult {
  /** Message-IDs the relays accepted (250), without angle brackets. */
  accepted: string[];
  /** Messages a relay refused or that failed to submit, with the reason. */
  failed: Array<{ messageId: string; error: string }>;
}

/** The Message-ID of message `index` in run `runId` (without angle brackets). */
export const demoMessageId = (runId: string, index: number): string => `demo-${runId}-${index}@smtp-slots.demo`;

/**
 * Sends `count` messages round-robin to the relays, as apps on several front-end servers would:
 * plain SMTP to 127.0.0.1:2525-style relays, several connections each.
 */
export async function submitBatch(options: SubmitOptions): Promise<SubmitResult> {
  const transports = options.relays.map((relay) =>
    createTransport({
      host: relay.host,
      port: relay.port,
      secure: false,
      ignoreTLS: true,
      pool: true,
      maxConnections: options.connectionsPerRelay,
      maxMessages: Infinity,
    }),
  );
  const accepted: string[] = [];
  const failed: SubmitResult['failed'] = [];
  try {
    await Promise.all(
      Array.from({ length: options.count }, async (_, index) => {
        const messageId = demoMessageId(options.runId, index);
        const transport = transports[index % transports.length]!;
        try {
          await transport.sendMail({
            from: options.from,
            to: `recipient-${index}@example.net`,
            subject: `smtp-slots demo message ${index + 1} of ${options.count}`,
            text: `Message ${index + 1} of ${options.count}, submitted to relay ${(index % transports.length) + 1}.\n`,
            messageId: `<${messageId}>`,
          });
          accepted.push(messageId);
          options.onEachAccepted?.(messageId);
        } catch (error) {
          failed.push({ messageId, error: (error as Error).message });
        }
      }),
    );
  } finally {
    for (const transport of transports) transport.close();
  }
  return { accepted, failed };
}
