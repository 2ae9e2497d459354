import { connect, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { peakOverlap, type UpstreamConnection } from '@smtp-slots/testkit';

/**
 * A TCP proxy in front of a real upstream (the Exchange simulator) that records every connection
 * as testkit's CountingServer does, so a test can tell how many were open at once (what the
 * provider counts) and how many were in use at once (open until the client's last byte: a frozen
 * holder's idle socket is open but no longer used).
 */
export class MeteredProxy {
  readonly connections: UpstreamConnection[] = [];
  port = 0;
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<this> {
    this.server = createServer((client) => {
      const record: UpstreamConnection = { label: '', openedAt: performance.now(), lastDataAt: performance.now(), closedAt: undefined };
      this.connections.push(record);
      const upstream = connect(this.target);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('error', () => undefined);
      }
      client.on('data', (data) => {
        record.lastDataAt = performance.now();
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

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
