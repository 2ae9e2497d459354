import { createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** One connection as the upstream saw it (times are performance.now() of this process). */
export interface UpstreamConnection {
  /** First line the client sent (who it is); empty until a line arrived. */
  label: string;
  openedAt: number;
  /** Last time a byte arrived: when the holder last used the connection. */
  lastDataAt: number;
  closedAt: number | undefined;
}

/**
 * A TCP server that plays "the upstream": it counts how many connections are open at once and
 * records, per connection, who it is and when it was last used. Tests assert on `peak` (what the
 * real provider would have seen) or `peakInUse` (open until the last byte).
 */
export class CountingServer {
  readonly connections: UpstreamConnection[] = [];
  open = 0;
  peak = 0;
  total = 0;
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((socket) => {
      const record: UpstreamConnection = { label: '', openedAt: performance.now(), lastDataAt: performance.now(), closedAt: undefined };
      this.connections.push(record);
      this.sockets.add(socket);
      this.open += 1;
      this.total += 1;
      if (this.open > this.peak) this.peak = this.open;
      let head = '';
      socket.on('error', () => undefined);
      socket.on('data', (data) => {
        record.lastDataAt = performance.now();
        if (!record.label) {
          head += data.toString();
          const eol = head.indexOf('\n');
          if (eol >= 0) record.label = head.slice(0, eol);
        }
      });
      socket.on('close', () => {
        record.closedAt = performance.now();
        this.sockets.delete(socket);
        this.open -= 1;
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    return this;
  }

  resetPeak(): void {
    this.peak = this.open;
  }

  /** Most connections that were in use at once, a connection counting from open to its last byte. */
  peakInUse(filter: (c: UpstreamConnection) => boolean = () => true): number {
    return peakOverlap(this.connections.filter(filter).map((c) => [c.openedAt, c.lastDataAt]));
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** Most of the `[from, to]` intervals that overlap at one instant; an end at the same instant as a start counts first (a hand-off is no overlap). */
export function peakOverlap(intervals: Array<[from: number, to: number]>): number {
  const edges: Array<[number, number]> = [];
  for (const [from, to] of intervals) edges.push([from, 1], [to, -1]);
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let peak = 0;
  for (const [, delta] of edges) peak = Math.max(peak, (now += delta));
  return peak;
}
