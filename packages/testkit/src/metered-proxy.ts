import { connect, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { peakOverlap } from './counting-server.js';
import { overlapsAbove, type MeteredConnection, type Overlap } from './overlaps.js';

/**
 * A TCP proxy in front of a real upstream (the Exchange simulator) that records every connection
 * and every chunk the client wrote, so a test can tell how many were open at once (what the
 * provider counts), how many were in use at once (open until the client's last byte: a frozen
 * holder's idle socket is open but no longer used), and, above a limit, which ones and why.
 */
export class MeteredProxy {
  readonly connections: MeteredConnection[] = [];
  port = 0;
  /** Date.now() − performance.now(): proxy times as wall clock, to compare with the agents' logs. */
  readonly wallOffset = Date.now() - performance.now();
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<this> {
    this.server = createServer((client) => {
      const now = performance.now();
      const record: MeteredConnection = { label: '', clientPort: client.remotePort ?? 0, openedAt: now, lastDataAt: now, closedAt: undefined, writes: [] };
      this.connections.push(record);
      const upstream = connect(this.target);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('error', () => undefined);
      }
      client.on('data', (data) => {
        record.lastDataAt = performance.now();
        const text = data.subarray(0, 40).toString('latin1');
        record.writes.push({ at: record.lastDataAt, text });
        // The EHLO name says which agent this is.
        if (!record.label) record.label = /^(?:EHLO|HELO) (\S+)/.exec(text)?.[1] ?? '';
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
    return peakOverlap(this.connections.map((c) => [c.openedAt, c.closedAt ?? Infinity]));
  }

  /** Most connections in use at once, one counting from open to the client's last byte. */
  peakInUse(): number {
    return peakOverlap(this.connections.map((c) => [c.openedAt, c.lastDataAt]));
  }

  /** Every stretch of time with more than `limit` connections in use, with those connections. */
  overlapsAbove(limit: number): Overlap[] {
    return overlapsAbove(this.connections, limit);
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
