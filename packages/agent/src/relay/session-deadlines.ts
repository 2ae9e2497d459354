import type { SMTPServer } from 'smtp-server';

/**
 * One deadline per relay connection (relay.sessionTimeoutMs). The idle timeout restarts with
 * every byte, so without this a client sending one byte a second would hold its connection, and
 * one of relay.maxConnections, forever. A connection whose message is being stored is closed only
 * after the store finished and its reply went out: cutting it then would make the client retry a
 * message already in the spool (a duplicate).
 */
export class SessionDeadlines {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly storing = new Map<string, Promise<unknown>>();

  constructor(private readonly timeoutMs: number, private readonly expire: (sessionId: string) => void) {}

  start(sessionId: string): void {
    const timer = setTimeout(() => this.onDeadline(sessionId), this.timeoutMs);
    timer.unref();
    this.timers.set(sessionId, timer);
  }

  end(sessionId: string): void {
    clearTimeout(this.timers.get(sessionId));
    this.timers.delete(sessionId);
    this.storing.delete(sessionId);
  }

  /** Marks the session busy storing a message until `work` settles; returns `work`. */
  whileStoring<T>(sessionId: string, work: Promise<T>): Promise<T> {
    const done = work.then(() => undefined, () => undefined).then(() => new Promise<void>((resolve) => setImmediate(resolve)));
    this.storing.set(sessionId, done);
    void done.then(() => this.storing.get(sessionId) === done && this.storing.delete(sessionId));
    return work;
  }

  close(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private onDeadline(sessionId: string): void {
    if (!this.timers.has(sessionId)) return;
    const busy = this.storing.get(sessionId);
    if (busy) {
      void busy.then(() => this.onDeadline(sessionId));
      return;
    }
    this.timers.delete(sessionId);
    this.expire(sessionId);
  }
}

/** The parts of smtp-server's connection object used to end a session with a reply. */
interface SmtpConnectionLike {
  id: string;
  send(code: number, text: string): void;
  close(): void;
}

/** Answers `code text` on a session's connection and closes it (no-op when it is gone). */
export function closeSession(server: SMTPServer, sessionId: string, code: number, text: string): void {
  for (const connection of server.connections as Set<SmtpConnectionLike>) {
    if (connection.id !== sessionId) continue;
    connection.send(code, text);
    connection.close();
    return;
  }
}
