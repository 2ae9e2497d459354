import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Postfix's load generator (Debian package `postfix`), when installed. */
export const SMTP_SOURCE = ['/usr/sbin/smtp-source', '/usr/lib/postfix/smtp-source'].find((path) => existsSync(path));

export interface SmtpSourceRun {
  sessions: number;
  messages: number;
  /** Body bytes per message (smtp-source adds its own few header lines). */
  bodyBytes: number;
  from: string;
  to: string;
}

/**
 * Sends `messages` over `sessions` parallel SMTP sessions that stay connected (`-d`) with
 * Postfix's `smtp-source`; resolves with messages per second. It aborts on any reply other than
 * the expected one, so a finished run means every message got its `250`.
 */
export async function smtpSourceRate(port: number, run: SmtpSourceRun): Promise<number> {
  if (!SMTP_SOURCE) throw new Error('smtp-source is not installed (Debian package postfix)');
  const args = ['-d', '-s', String(run.sessions), '-m', String(run.messages), '-l', String(run.bodyBytes), '-f', run.from, '-t', run.to, `127.0.0.1:${port}`];
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    execFile(SMTP_SOURCE!, args, { timeout: 300_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`smtp-source failed: ${stderr.trim() || error.message}`));
      else resolve();
    });
  });
  return (run.messages / (performance.now() - started)) * 1000;
}
