import { createServer, type Server } from 'node:net';

/**
 * Holds a port whose Redis was killed, so that no other test's process binds it meanwhile:
 * sentinels, cluster peers and clients keep reconnecting to a dead node's address, and a
 * stranger answering there would be reconfigured or written to. Accepts and drops connections
 * (the node looks down). Call the returned function to free the port again (before a restart).
 */
export async function guardPort(port: number): Promise<() => Promise<void>> {
  const server: Server = createServer((socket) => socket.destroy());
  server.on('error', () => undefined);
  const bound = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (!bound) return async () => undefined; // somebody was faster; nothing to hold
  server.unref();
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}
