import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Counts requests in progress per socket so shutdown can close every socket that is not
 * serving one, including connections opened but never used (clients pre-connect), which
 * `server.closeIdleConnections()` leaves alone.
 */
export class ConnectionTracker {
  private readonly active = new Map<Socket, number>();
  private draining = false;

  constructor(server: Server) {
    server.on('connection', (socket: Socket) => {
      this.active.set(socket, 0);
      socket.once('close', () => this.active.delete(socket));
    });
    server.on('request', (req, res) => {
      const socket = req.socket;
      this.active.set(socket, (this.active.get(socket) ?? 0) + 1);
      res.once('close', () => {
        if (!this.active.has(socket)) return;
        const left = (this.active.get(socket) ?? 1) - 1;
        this.active.set(socket, left);
        // Shutting down: a socket whose last request just ended is not reused.
        if (left === 0 && this.draining) socket.destroySoon();
      });
    });
  }

  /** Destroys idle sockets now and every other one as soon as its request ends. */
  drain(): void {
    this.draining = true;
    for (const [socket, requests] of this.active) if (requests === 0) socket.destroy();
  }
}
