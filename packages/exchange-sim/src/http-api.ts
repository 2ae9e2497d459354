import { createServer, type IncomingMessage, type Server } from 'node:http';
import { handleTokenRequest, TOKEN_PATH } from './entra/token-endpoint.js';
import { ExchangeSimError } from './errors.js';
import { handleSendMail, SEND_MAIL_PATH } from './graph/send-mail.js';
import { readBody, sendJson } from './http-io.js';
import type { SimState } from './sim-state.js';

interface RequestContext {
  params: string[];
  query: URLSearchParams;
  body: Record<string, unknown>;
}

interface Route {
  method: 'GET' | 'POST';
  path: RegExp;
  handle(sim: SimState, request: RequestContext): unknown;
}

const MAX_BODY_BYTES = 64 * 1024;

const wantsMessageIds = (query: URLSearchParams) => query.get('messageIds') !== 'false';

const optionalString = (body: Record<string, unknown>, key: string): string | undefined => {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ExchangeSimError('INVALID_REQUEST', `${key} must be a string`);
  return value;
};

const requiredString = (body: Record<string, unknown>, key: string): string => {
  const value = optionalString(body, key);
  if (value === undefined) throw new ExchangeSimError('INVALID_REQUEST', `${key} is required`);
  return value;
};

/** The HTTP endpoints (documented in README.md). */
const routes: Route[] = [
  { method: 'GET', path: /^\/healthz$/, handle: () => ({ ok: true }) },
  { method: 'GET', path: /^\/stats$/, handle: (sim, { query }) => sim.stats({ messageIds: wantsMessageIds(query) }) },
  {
    method: 'GET',
    path: /^\/stats\/users\/([^/]+)$/,
    handle: (sim, { params, query }) => {
      const address = decodeURIComponent(params[0] ?? '');
      const stats = sim.userStats(address, { messageIds: wantsMessageIds(query) });
      if (!stats) throw new ExchangeSimError('NOT_FOUND', `no stats for user ${JSON.stringify(address)}`);
      return stats;
    },
  },
  {
    method: 'POST',
    path: /^\/admin\/reset$/,
    handle: (sim) => {
      sim.reset();
      return { ok: true };
    },
  },
  {
    method: 'GET',
    path: /^\/admin\/faults$/,
    handle: (sim, { query }) => {
      const user = query.get('user');
      if (user === null) return { faults: sim.faults.get(), overrides: sim.faults.overrides() };
      const address = sim.mailbox(user)?.user.address;
      if (!address) throw new ExchangeSimError('NOT_FOUND', `unknown user ${JSON.stringify(user)}`);
      return { user: address, faults: sim.faults.get(address) };
    },
  },
  {
    method: 'POST',
    path: /^\/admin\/faults$/,
    handle: (sim, { body }) => {
      const user = optionalString(body, 'user');
      const faults = sim.setFaults(body, user, 'INVALID_REQUEST');
      return user === undefined ? { faults } : { user: sim.mailbox(user)?.user.address, faults };
    },
  },
  {
    method: 'POST',
    path: /^\/admin\/occupy$/,
    handle: (sim, { body }) => {
      const front = body['front'] ?? false;
      if (typeof front !== 'boolean') throw new ExchangeSimError('INVALID_REQUEST', 'front must be a boolean');
      return sim.occupy(requiredString(body, 'user'), body['count'] as number, front, 'INVALID_REQUEST');
    },
  },
  {
    method: 'POST',
    path: /^\/admin\/tokens\/revoke$/,
    handle: (sim, { body }) => ({ revoked: sim.tokens.revoke(optionalString(body, 'clientId')) }),
  },
  {
    method: 'POST',
    path: /^\/admin\/release$/,
    handle: (sim, { body }) => {
      const ids = body['ids'];
      if (ids !== undefined && (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string'))) {
        throw new ExchangeSimError('INVALID_REQUEST', 'ids must be an array of strings');
      }
      return sim.release(requiredString(body, 'user'), ids as string[] | undefined, 'INVALID_REQUEST');
    },
  },
];

/**
 * Builds the HTTP server for `sim` without listening: the stats/admin API, the Entra ID token
 * endpoint and the Graph sendMail double.
 */
export function createHttpApi(sim: SimState): Server {
  return createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://exchange-sim').pathname;
    const tenant = TOKEN_PATH.exec(path)?.[1];
    const graphUser = request.method === 'POST' ? SEND_MAIL_PATH.exec(path)?.[1] : undefined;
    const service =
      tenant !== undefined
        ? handleTokenRequest(sim, request, response, decodeURIComponent(tenant), path)
        : graphUser !== undefined
          ? handleSendMail(sim, request, response, decodeURIComponent(graphUser))
          : undefined;
    if (service) {
      service.catch(() => {
        if (!response.headersSent) sendJson(response, 500, { error: { code: 'INTERNAL', message: 'simulator error' } });
        else response.destroy();
      });
      return;
    }
    handle(sim, request)
      .then((result) => sendJson(response, 200, result))
      .catch((error: unknown) => {
        const known = error instanceof ExchangeSimError;
        const status = known ? (error.code === 'NOT_FOUND' ? 404 : 400) : 500;
        const code = known ? error.code : 'INTERNAL';
        const message = error instanceof Error ? error.message : String(error);
        sendJson(response, status, { error: { code, message } });
      });
  });
}

async function handle(sim: SimState, request: IncomingMessage): Promise<unknown> {
  const url = new URL(request.url ?? '/', 'http://exchange-sim');
  const candidates = routes.filter((r) => r.path.test(url.pathname));
  if (candidates.length === 0) throw new ExchangeSimError('NOT_FOUND', `no route ${url.pathname}`);
  const route = candidates.find((r) => r.method === request.method);
  if (!route) throw new ExchangeSimError('INVALID_REQUEST', `${request.method ?? ''} not allowed on ${url.pathname}`);
  const params = route.path.exec(url.pathname)?.slice(1) ?? [];
  const body = request.method === 'POST' ? await readJsonBody(request) : {};
  return route.handle(sim, { params, query: url.searchParams, body });
}

async function readJsonBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(request, MAX_BODY_BYTES);
  if (!raw) throw new ExchangeSimError('INVALID_REQUEST', 'request body too large');
  const text = raw.toString('utf8').trim();
  if (!text) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new ExchangeSimError('INVALID_REQUEST', 'request body is not valid JSON', { cause });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ExchangeSimError('INVALID_REQUEST', 'request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}
