/** Backoff of retried state moves. */
export interface PendingMoveDelays {
  initialMs: number;
  maxMs: number;
}

interface PendingMove {
  run: () => Promise<void>;
  failures: number;
  timer?: NodeJS.Timeout;
  running?: boolean;
}

/**
 * State moves of messages in sending/ that hit an I/O error after their outcome was known (the
 * upstream's 250, a deferral, a bounce). The move is retried with backoff until it succeeds.
 * Meanwhile the message stays in sending/ on disk and in memory: nothing claims or rescans it,
 * and a crash before the move succeeds requeues it as a possible duplicate (never loses it).
 */
export class PendingMoves {
  private readonly pending = new Map<string, PendingMove>();
  private closed = false;

  constructor(
    private readonly delays: PendingMoveDelays,
    /** Every failed try (first or retried), for health and metrics. */
    private readonly onFailure: (error: unknown) => void,
  ) {}

  /** True while a move of this message waits for its retry. */
  has(id: string): boolean {
    return this.pending.has(id);
  }

  get size(): number {
    return this.pending.size;
  }

  /**
   * Runs `move` now. An I/O error schedules retries and resolves (the outcome is kept, the
   * message is safe in sending/); any other error is a bug in the caller and rejects.
   */
  async run(id: string, move: () => Promise<void>): Promise<void> {
    try {
      await move();
    } catch (error) {
      if (!isIoError(error)) throw error;
      this.onFailure(error);
      const entry: PendingMove = { run: move, failures: 1 };
      this.pending.set(id, entry);
      this.schedule(id, entry);
    }
  }

  /** Retries every pending move now (the disk has space again). */
  retryNow(): void {
    for (const [id, entry] of this.pending) {
      clearTimeout(entry.timer);
      void this.attempt(id, entry);
    }
  }

  /** Stops retrying; the messages stay in sending/ and are recovered at the next start. */
  close(): void {
    this.closed = true;
    for (const entry of this.pending.values()) clearTimeout(entry.timer);
  }

  private schedule(id: string, entry: PendingMove): void {
    if (this.closed) return;
    const delay = Math.min(this.delays.maxMs, this.delays.initialMs * 2 ** (entry.failures - 1));
    entry.timer = setTimeout(() => void this.attempt(id, entry), delay);
    entry.timer.unref();
  }

  private async attempt(id: string, entry: PendingMove): Promise<void> {
    if (this.closed || this.pending.get(id) !== entry || entry.running) return;
    entry.timer = undefined;
    entry.running = true;
    try {
      await entry.run();
      this.pending.delete(id);
    } catch (error) {
      this.onFailure(error);
      entry.failures += 1;
      this.schedule(id, entry);
    } finally {
      entry.running = false;
    }
  }
}

/** An errno failure of the file system (ENOSPC, EIO, ...), as opposed to a logic error. */
export function isIoError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}
