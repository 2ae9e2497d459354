/** One proxied connection (times are performance.now() of the proxy's process). */
export interface MeteredConnection {
  /** The client's EHLO name (which agent); empty until it said EHLO. */
  label: string;
  /** The client's local port. */
  clientPort: number;
  openedAt: number;
  /** When the client's last byte arrived: the end of "in use". */
  lastDataAt: number;
  closedAt: number | undefined;
  /** Every chunk the client wrote: when, and its first bytes. */
  writes: Array<{ at: number; text: string }>;
}

/** A stretch of time with more connections in use than the limit. */
export interface Overlap {
  from: number;
  to: number;
  peak: number;
  /** Every connection in use at some instant of the stretch. */
  connections: MeteredConnection[];
}

/** Sweeps the in-use intervals [open, last byte]; an end at the same instant as a start counts first (a hand-off is no overlap). */
export function overlapsAbove(connections: MeteredConnection[], limit: number): Overlap[] {
  const edges: Array<[at: number, delta: 1 | -1, connection: MeteredConnection]> = [];
  // A connection that never carried a byte was never in use (peakOverlap nets it out the same way).
  for (const c of connections) if (c.lastDataAt > c.openedAt) edges.push([c.openedAt, 1, c], [c.lastDataAt, -1, c]);
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const active = new Set<MeteredConnection>();
  const overlaps: Overlap[] = [];
  let current: Overlap | undefined;
  for (const [at, delta, connection] of edges) {
    if (delta === 1) active.add(connection);
    else active.delete(connection);
    if (active.size > limit) {
      current ??= { from: at, to: at, peak: 0, connections: [] };
      current.peak = Math.max(current.peak, active.size);
      for (const c of active) if (!current.connections.includes(c)) current.connections.push(c);
    } else if (current) {
      current.to = at;
      overlaps.push(current);
      current = undefined;
    }
  }
  return overlaps;
}

/** The longest silence of the client before one of its writes (a frozen or starved sender shows here). */
export function longestPause(connection: MeteredConnection): { ms: number; before: string; at: number } {
  let previous = connection.openedAt;
  let longest = { ms: 0, before: '', at: connection.openedAt };
  for (const write of connection.writes) {
    if (write.at - previous > longest.ms) longest = { ms: write.at - previous, before: write.text, at: write.at };
    previous = write.at;
  }
  return longest;
}

/** Lines for a test's output: each overlap, its connections, and `notes` (say, the agent's log lines of that time). */
export function describeOverlaps(overlaps: Overlap[], wallOffset: number, notes: (c: MeteredConnection) => string[] = () => []): string {
  const clock = (at: number) => new Date(at + wallOffset).toISOString().slice(11, 23);
  const printable = (text: string) => JSON.stringify(text.split('\r\n')[0]);
  const lines: string[] = [];
  for (const overlap of overlaps) {
    lines.push(`in use ${overlap.peak} from ${clock(overlap.from)} to ${clock(overlap.to)} (${Math.round(overlap.to - overlap.from)} ms):`);
    for (const c of overlap.connections) {
      const pause = longestPause(c);
      const last = c.writes.at(-1);
      lines.push(
        `  ${c.label || '?'} port ${c.clientPort}: opened ${clock(c.openedAt)}, last byte ${clock(c.lastDataAt)} ${last ? printable(last.text) : '(none)'}, ` +
        `closed ${c.closedAt === undefined ? 'never' : clock(c.closedAt)}; longest silence ${Math.round(pause.ms)} ms, then ${printable(pause.before)} at ${clock(pause.at)}`,
      );
      for (const note of notes(c)) lines.push(`    ${note}`);
    }
  }
  return lines.join('\n');
}
