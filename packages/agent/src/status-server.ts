import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { SpoolIoProblem } from './spool/spool-health.js';

/** The spool's writability as readiness sees it. */
export interface SpoolReadiness {
  writable: boolean;
  problem?: SpoolIoProblem;
}

/**
 * `/metrics` (Prometheus text), `/healthz` (liveness, JSON) and `/readyz` (readiness: 503 while
 * the spool cannot store mail or Redis does not answer PING) on the agent's metrics address. Nothing here changes state, and
 * nothing here shows a secret.
 */
export class StatusServer {
  private readonly server: Server;

  constructor(registry: Registry, health: () => Record<string, unknown>, redisReady: () => Promise<void>, spool: () => SpoolReadiness) {
    this.server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/metrics') {
        registry.metrics().then(
          (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
          (error: Error) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${error.message}\n`),
        );
        return;
      }
      if (path === '/healthz') {
        // Alive as long as the process answers; Redis trouble shows in the body, not the status.
        response.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(health())}\n`);
        return;
      }
      if (path === '/readyz') {
        const { writable, problem } = spool();
        if (!writable) {
          // Mail cannot be made durable: the relay answers 4xx, so send the apps elsewhere.
          response.writeHead(503, { 'content-type': 'application/json' }).end(`${JSON.stringify({
            status: 'unavailable', spool: 'unwritable',
            error: { code: 'SPOOL_UNWRITABLE', message: `the spool cannot store messages (${problem?.code ?? 'error'} during ${problem?.operation ?? 'a write'}): the relay answers 4xx until a write succeeds` },
          })}\n`);
          return;
        }
        redisReady().then(
          () => response.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify({ status: 'ready', redis: 'up', spool: 'writable' })}\n`),
          (error: Error) => response.writeHead(503, { 'content-type': 'application/json' }).end(`${JSON.stringify({
            status: 'unavailable', redis: 'down', spool: 'writable', error: { code: 'REDIS_UNAVAILABLE', message: `redis is not reachable: ${error.message}` },
          })}\n`),
        );
        return;
      }
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz or /readyz\n');
    });
    this.server.keepAliveTimeout = 5_000;
  }

  async listen(port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
