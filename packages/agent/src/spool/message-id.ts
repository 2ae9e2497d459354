import { randomBytes } from 'node:crypto';

/** The header block of a raw RFC 5322 message (everything before the first empty line). */
function headerBlock(raw: Buffer): string {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  const end = [crlf, lf].filter((i) => i >= 0).sort((a, b) => a - b)[0] ?? raw.length;
  return raw.subarray(0, Math.min(end, 256 * 1024)).toString('latin1');
}

/** The Message-ID header's value (angle brackets included), or undefined. */
export function findMessageId(raw: Buffer): string | undefined {
  const unfolded = headerBlock(raw).replace(/\r?\n[ \t]+/g, ' ');
  const match = /^message-id:[ \t]*(.+?)[ \t]*$/im.exec(unfolded);
  return match?.[1];
}

/**
 * Makes sure the message carries a Message-ID, adding one when absent (as MTAs do): retries
 * and duplicate detection rely on it staying the same across attempts.
 */
export function ensureMessageId(raw: Buffer, domain: string): { raw: Buffer; messageId: string } {
  const existing = findMessageId(raw);
  if (existing) return { raw, messageId: existing };
  const messageId = `<${Date.now().toString(36)}.${randomBytes(8).toString('hex')}@${domain}>`;
  return { raw: Buffer.concat([Buffer.from(`Message-ID: ${messageId}\r\n`), raw]), messageId };
}
