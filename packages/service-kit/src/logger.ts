import { pino, type DestinationStream, type Logger } from 'pino';

/** Keys whose values never reach a log line, wherever they appear (two levels deep). */
const SECRET_KEYS = ['pass', 'password', 'clientSecret', 'accessToken', 'access_token', 'token', 'adminToken', 'authorization', 'auth'];

export const REDACT_PATHS = SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);

export interface ServiceLoggerOptions {
  /** `smtp-slots-agent`, `smtp-slots-coordinator`: the `service` field of every line. */
  service: string;
  level: string;
  /** Fields on every line, e.g. `{ agentId }`. */
  bindings?: Record<string, unknown>;
  /** Default stdout. */
  destination?: DestinationStream;
}

/** A service's JSON logger: ISO timestamps, the service name on every line, secrets redacted. */
export function createServiceLogger(options: ServiceLoggerOptions): Logger {
  const settings = {
    level: options.level,
    base: { service: options.service, ...options.bindings },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
