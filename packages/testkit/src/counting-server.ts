import { createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP server that plays "the upstream": it counts how many connections are open at once.
 * Tests assert on `peak`, which is what the real provider would have seen.
 */
export class CountingServer {
  open = 0;
  peak = 0;
  total = 0;
  /** Connections open per label sent by the client as its first line (optional). */
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      this.open += 1;
      this.total += 1;
      if (this.open > this.peak) this.peak = this.open;
      socket.on('error', () => undefined);
      socket.on('data', () => undefined);
      socket.on('close', () => {
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

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
