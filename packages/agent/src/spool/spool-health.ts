import { EventEmitter } from 'node:events';
import { ioErrorCode } from './spool-io.js';

/** The last spool write that failed, as /healthz shows it (no paths, no message data). */
export interface SpoolIoProblem {
  /** errno name (ENOSPC, EIO, ...) or `other`. */
  code: string;
  /** What the spool was doing: `accept`, `claim`, `settle`, `probe`. */
  operation: string;
  /** ISO time of the failure. */
  at: string;
}

/**
 * Whether the spool can make messages durable right now. A failed write marks it unwritable
 * (the relay then answers 4xx and /readyz 503); the next write that succeeds, including the
 * periodic probe, marks it writable again.
 *
 * Events: 'io-error' (code, operation) for every failed write; 'writable' (boolean) on a change.
 */
export class SpoolHealth extends EventEmitter {
  private isWritable = true;
  private problem: SpoolIoProblem | undefined;

  get writable(): boolean {
    return this.isWritable;
  }

  /** The most recent failure while unwritable (undefined once writes succeed again). */
  get lastProblem(): SpoolIoProblem | undefined {
    return this.isWritable ? undefined : this.problem;
  }

  failed(error: unknown, operation: string): void {
    const code = ioErrorCode(error);
    this.problem = { code, operation, at: new Date().toISOString() };
    this.emit('io-error', code, operation);
    if (this.isWritable) {
      this.isWritable = false;
      this.emit('writable', false);
    }
  }

  succeeded(): void {
    if (this.isWritable) return;
    this.isWritable = true;
    this.emit('writable', true);
  }
}
