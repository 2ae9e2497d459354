import { pino, type DestinationStream, type Logger } from 'pino';

/** Keys whose values never reach a log line, wherever they appear (two levels deep). */
const SECRET_KEYS = ['pass', 'password', 'clientSecret', 'accessToken', 'access_token', 'token', 'authorization', 'auth'];

export const REDACT_PATHS = SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);

/** The agent's JSON logger (stdout), secrets redacted. */
export function createLogger(level: string, bindings: Record<string, unknown>, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'smtp-slots-agent', ...bindings },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}
