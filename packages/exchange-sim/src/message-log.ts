/** One accepted message, as handed to `onMessage` listeners. */
export interface AcceptedMessage {
  /** Authenticated user (lower-case address). */
  user: string;
  /** The Message-ID header, angle brackets included, or undefined when the message had none. */
  messageId: string | undefined;
  from: string;
  to: string[];
  size: number;
  /** The message as received (dot-unstuffed). */
  raw: Buffer;
  acceptedAt: number;
  /** When the 30/min carry-over releases it (equal to acceptedAt unless delayed). */
  releaseAt: number;
  /** How many times this Message-ID had been accepted before (0 for the first time). */
  previousCopies: number;
  /** SMTP submission or Graph sendMail. */
  via: 'smtp' | 'graph';
  /** The app whose token sent it (Graph only). */
  clientId?: string;
}

/** Accepted messages of one user, counted by Message-ID. */
export class MessageLog {
  #byId = new Map<string, number>();
  accepted = 0;
  withoutMessageId = 0;
  bytes = 0;

  /** Records a message; returns how many copies of its Message-ID were recorded before. */
  record(messageId: string | undefined, size: number): number {
    this.accepted++;
    this.bytes += size;
    if (messageId === undefined) {
      this.withoutMessageId++;
      return 0;
    }
    const before = this.#byId.get(messageId) ?? 0;
    this.#byId.set(messageId, before + 1);
    return before;
  }

  /** Distinct Message-IDs in the order first received. */
  messageIds(): string[] {
    return [...this.#byId.keys()];
  }

  /** Message-IDs received more than once, each once. */
  duplicateMessageIds(): string[] {
    return [...this.#byId].filter(([, n]) => n > 1).map(([id]) => id);
  }

  /** Extra copies: accepted messages with a Message-ID minus distinct Message-IDs. */
  duplicates(): number {
    return this.accepted - this.withoutMessageId - this.#byId.size;
  }

  reset(): void {
    this.#byId = new Map();
    this.accepted = 0;
    this.withoutMessageId = 0;
    this.bytes = 0;
  }
}
