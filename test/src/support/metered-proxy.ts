import { connect, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** One client connection through the proxy (performance.now() of this process). */
export interface MeteredConnection {
  openedAt: number;
  /** Last byte from the client: when its holder last used the connection. */
  lastClientDataAt: number;
  closedAt: number | undefined;
}

/**
 * A TCP proxy in front of the upstream that records every connection, so a test can tell how
 * many were open at once (what the provider counts) and how many were in use at once (open until
 * the client's last byte: a frozen holder's idle socket is open but no longer used).
 */
export class MeteredProxy {
  readonly connections: MeteredConnection[] = [];
  port = 0;
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<this> {
    this.server = createServer((client) => {
      const record: MeteredConnection = { openedAt: performance.now(), lastClientDataAt: performance.now(), closedAt: undefined };
      this.connections.push(record);
      const upstream = connect(this.target);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('error', () => undefined);
      }
      client.on('data', (data) => {
        record.lastClientDataAt = performance.now();
        upstream.write(data);
      });
      upstream.on('data', (data) => client.write(data));
      const end = () => {
        record.closedAt ??= performance.now();
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('close', end);
      upstream.on('close', end);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    return this;
  }

  /** Most connections open at once. */
  peakOpen(): number {
    return peak(this.connections.map((c) => [c.openedAt, c.closedAt ?? Infinity]));
  }

  /** Most connections in use at once, one counting from open to the client's last byte. */
  peakInUse(): number {
    return peak(this.connections.map((c) => [c.openedAt, c.lastClientDataAt]));
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

function peak(intervals: Array<[number, number]>): number {
  const edges: Array<[number, number]> = [];
  for (const [from, to] of intervals) edges.push([from, 1], [to, -1]);
  // An end at the same instant as a start counts first: a hand-off is not an overlap.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, delta] of edges) most = Math.max(most, (now += delta));
  return most;
}
