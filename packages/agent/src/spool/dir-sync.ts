import { plainSpoolIo, type SpoolIo } from './spool-io.js';

/**
 * fsyncs a directory so that renames and unlinks in it survive a power loss. Concurrent callers
 * share one fsync: a caller that arrives while one runs waits for the next, which covers every
 * rename that happened before it started (group commit).
 */
export class DirSync {
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;

  constructor(private readonly dir: string, private readonly io: SpoolIo = plainSpoolIo) {}

  sync(): Promise<void> {
    if (!this.running) {
      this.running = this.fsync().finally(() => (this.running = undefined));
      return this.running;
    }
    // The running fsync may have started before our rename: queue exactly one more behind it.
    this.next ??= this.running.then(
      () => this.startNext(),
      () => this.startNext(),
    );
    return this.next;
  }

  private startNext(): Promise<void> {
    this.next = undefined;
    return this.sync();
  }

  private fsync(): Promise<void> {
    return this.io.syncDir(this.dir);
  }
}
