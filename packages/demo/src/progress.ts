import type { Writable } from 'node:stream';

export interface ProgressSnapshot {
  /** Messages the relays answered 250 for (safely in a spool). */
  accepted: number;
  /** Messages the upstream received. */
  delivered: number;
  /** Upstream connections open right now. */
  connections: number;
}

export interface ProgressReporter {
  update(snapshot: ProgressSnapshot): void;
  /** Ends the bar's line (TTY) so that the summary starts on a fresh one. */
  finish(): void;
}

const WIDTH = 30;

/**
 * A redrawn bar on a terminal; on anything else (CI logs, pipes) a plain line per 10% step so the
 * output stays readable.
 */
export function createProgress(out: Writable & { isTTY?: boolean }, total: number): ProgressReporter {
  if (out.isTTY) return new BarProgress(out, total);
  return new LineProgress(out, total);
}

class BarProgress implements ProgressReporter {
  private last = '';
  constructor(
    private readonly out: Writable,
    private readonly total: number,
  ) {}

  update({ accepted, delivered, connections }: ProgressSnapshot): void {
    const filled = Math.round((WIDTH * Math.min(delivered, this.total)) / this.total);
    const bar = '█'.repeat(filled) + '░'.repeat(WIDTH - filled);
    const line = `  ${bar} ${delivered}/${this.total} delivered · ${accepted} accepted · ${connections} upstream connection${connections === 1 ? '' : 's'} open`;
    if (line === this.last) return;
    this.last = line;
    this.out.write(`\r\x1b[2K${line}`);
  }

  finish(): void {
    if (this.last !== '') this.out.write('\n');
  }
}

class LineProgress implements ProgressReporter {
  private step = -1;
  constructor(
    private readonly out: Writable,
    private readonly total: number,
  ) {}

  update({ accepted, delivered, connections }: ProgressSnapshot): void {
    const step = Math.floor((10 * Math.min(delivered, this.total)) / this.total);
    if (step <= this.step) return;
    this.step = step;
    this.out.write(`  progress: ${delivered}/${this.total} delivered, ${accepted} accepted, ${connections} upstream connections open\n`);
  }

  finish(): void {}
}
