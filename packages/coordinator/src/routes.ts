import type { RequestHandler } from 'express';
import type { FleetHandlers } from './handlers/fleet.js';

/** One row of the route table. `admin` routes need the Bearer token. */
export interface Route {
  method: 'get' | 'put' | 'post' | 'delete';
  path: string;
  admin?: boolean;
  handler: RequestHandler;
}

export interface RouteHandlers {
  live: RequestHandler;
  ready: RequestHandler;
  metrics: RequestHandler;
  events: RequestHandler;
  agents: RequestHandler;
  mailboxes: {
    list: RequestHandler;
    get: RequestHandler;
    putConfig: RequestHandler;
    pause: RequestHandler;
    resume: RequestHandler;
    forceRelease: RequestHandler;
  };
  fleet: FleetHandlers;
}

/** Every endpoint of the coordinator. */
export function routeTable(h: RouteHandlers): Route[] {
  return [
    { method: 'get', path: '/healthz', handler: h.live },
    { method: 'get', path: '/readyz', handler: h.ready },
    { method: 'get', path: '/metrics', handler: h.metrics },
    { method: 'get', path: '/api/events', handler: h.events },
    { method: 'get', path: '/api/agents', handler: h.agents },
    { method: 'get', path: '/api/mailboxes', handler: h.mailboxes.list },
    { method: 'get', path: '/api/mailboxes/:address', handler: h.mailboxes.get },
    { method: 'put', path: '/api/mailboxes/:address/config', admin: true, handler: h.mailboxes.putConfig },
    { method: 'post', path: '/api/mailboxes/:address/pause', admin: true, handler: h.mailboxes.pause },
    { method: 'post', path: '/api/mailboxes/:address/resume', admin: true, handler: h.mailboxes.resume },
    { method: 'delete', path: '/api/mailboxes/:address/leases/:slot', admin: true, handler: h.mailboxes.forceRelease },
    { method: 'get', path: '/api/mailboxes/:address/history', handler: h.fleet.history },
    { method: 'get', path: '/api/messages', handler: h.fleet.messages },
    { method: 'get', path: '/api/dead-letters', handler: h.fleet.deadLetters.list },
    { method: 'get', path: '/api/dead-letters/commands', handler: h.fleet.deadLetters.commands },
    { method: 'post', path: '/api/dead-letters/retry', admin: true, handler: h.fleet.deadLetters.retry },
    { method: 'post', path: '/api/dead-letters/purge', admin: true, handler: h.fleet.deadLetters.purge },
  ];
}
