import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Event types with their own label value; anything else counts as `other`. */
const KNOWN_EVENT_TYPES = ['grant', 'release', 'expire', 'lost', 'force-release', 'pause', 'resume', 'config', 'rejection'];
const ERROR_KINDS = ['http_5xx', 'redis_read', 'event_malformed', 'sse_dropped', 'redis_connection'];

/** The coordinator's own health: HTTP traffic, SSE clients, events, errors. */
export class CoordinatorMetrics {
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'method' | 'route'>;
  private readonly events: Counter<'type'>;
  private readonly errors: Counter<'kind'>;

  constructor(registry: Registry, sseClients: () => number) {
    collectDefaultMetrics({ register: registry, prefix: 'smtp_slots_coordinator_' });
    // These default gauges end in _total, which promtool (rightly) rejects for non-counters.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      registry.removeSingleMetric(`smtp_slots_coordinator_${name}`);
    }
    this.requests = new Counter({
      name: 'smtp_slots_coordinator_http_requests_total',
      help: 'HTTP requests answered, by route pattern and status code.',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'smtp_slots_coordinator_http_request_duration_seconds',
      help: 'Time to answer an HTTP request (event streams excluded).',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    new Gauge({
      name: 'smtp_slots_coordinator_sse_clients',
      help: 'Open /api/events streams.',
      registers: [registry],
      collect() {
        this.set(sseClients());
      },
    });
    this.events = new Counter({
      name: 'smtp_slots_coordinator_events_received_total',
      help: 'Slot events received from the Redis events channel, by type.',
      labelNames: ['type'],
      registers: [registry],
    });
    for (const type of [...KNOWN_EVENT_TYPES, 'other']) this.events.inc({ type }, 0);
    this.errors = new Counter({
      name: 'smtp_slots_coordinator_errors_total',
      help: 'Errors and warnings, by kind.',
      labelNames: ['kind'],
      registers: [registry],
    });
    for (const kind of ERROR_KINDS) this.errors.inc({ kind }, 0);
  }

  eventReceived(type: string): void {
    this.events.inc({ type: KNOWN_EVENT_TYPES.includes(type) ? type : 'other' });
  }

  error(kind: (typeof ERROR_KINDS)[number]): void {
    this.errors.inc({ kind });
  }

  /** Counts every request under its route pattern (bounded), never the raw URL. */
  middleware(): RequestHandler {
    return (req, res, next) => {
      const started = performance.now();
      res.on('close', () => {
        const route = routeLabel(req.route as { path?: unknown } | undefined, req.path, res.statusCode);
        this.requests.inc({ method: req.method, route, status: String(res.statusCode) });
        if (route !== '/api/events') this.duration.observe({ method: req.method, route }, (performance.now() - started) / 1000);
        if (res.statusCode >= 500) this.error('http_5xx');
      });
      next();
    };
  }
}

function routeLabel(route: { path?: unknown } | undefined, path: string, status: number): string {
  if (route && typeof route.path === 'string') return route.path;
  if (status === 404) return 'unmatched';
  return path.startsWith('/api/') ? 'unmatched' : 'static';
}
