import { UpstreamError } from './upstream-error.js';

/**
 * Maps a Graph sendMail error response onto the SMTP reply of the same meaning, so that the one
 * classifier (reply-classifier.ts) decides (table "Reply classification" in the agent README):
 * 429 MailboxConcurrency → 432 (the Graph 432: feedback, no retry budget spent), other 429 and
 * 503 → 451 (and the mailbox waits for Retry-After), 401 → 535, 403 access denied → 530 5.7.x
 * (pause), quota → 554 5.2.x (pause), 413 → 552 (dead letter), other 4xx → 550, 5xx → 451.
 */
export function graphFailure(status: number, body: string, retryAfter: string | null): { error: UpstreamError; retryAfterMs?: number; concurrency?: boolean } {
  const { code, message } = graphError(body);
  const said = `Graph ${status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`;
  const retryAfterMs = parseRetryAfter(retryAfter);
  const refused = (smtp: number, enhanced: string) => UpstreamError.refused('request', { code: smtp, text: `${smtp} ${enhanced} ${said}` });
  if (status === 429 && /MailboxConcurrency/i.test(message)) return { error: refused(432, '4.3.2'), concurrency: true };
  if (status === 429 || status === 503) return { error: refused(451, '4.7.500'), ...(retryAfterMs !== undefined ? { retryAfterMs } : { retryAfterMs: 1_000 }) };
  if (status === 401) return { error: refused(535, '5.7.3') };
  if (/QuotaExceeded/i.test(code)) return { error: refused(554, /mailbox is full|ShutoffQuota/i.test(message) ? '5.2.2' : '5.2.0') };
  if (status === 403) return { error: refused(530, '5.7.60') };
  if (status === 413) return { error: refused(552, '5.3.4') };
  if (status >= 500) return { error: refused(451, '4.3.2') };
  return { error: refused(550, '5.6.0') };
}

function graphError(body: string): { code: string; message: string } {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    return { code: String(parsed.error?.code ?? ''), message: String(parsed.error?.message ?? '') };
  } catch {
    return { code: '', message: body.slice(0, 200) };
  }
}

/** Seconds (or an HTTP date) to milliseconds; undefined when absent or unreadable. */
function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
