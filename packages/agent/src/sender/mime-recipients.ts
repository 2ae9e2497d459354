/**
 * Graph's MIME sendMail takes the recipients from the To/Cc/Bcc headers, not from an envelope.
 * Envelope recipients that no header names (a relay client's Bcc) are added as a Bcc header, so
 * every envelope recipient gets the message, as over SMTP.
 */
export function withEnvelopeRecipients(raw: Buffer, recipients: readonly string[]): Buffer {
  let end = raw.indexOf('\r\n\r\n');
  if (end < 0) end = raw.indexOf('\n\n');
  const header = raw.subarray(0, end < 0 ? raw.length : end).toString('utf8').replace(/\r?\n[ \t]+/g, ' ');
  const named = new Set<string>();
  for (const match of header.matchAll(/^(?:to|cc|bcc)[ \t]*:(.*)$/gim)) {
    for (const address of (match[1] ?? '').matchAll(/[^\s<>",;:]+@[^\s<>",;:]+/g)) named.add(address[0].toLowerCase());
  }
  const missing = recipients.filter((r) => !named.has(r.toLowerCase()));
  if (missing.length === 0) return raw;
  return Buffer.concat([Buffer.from(`Bcc: ${missing.join(', ')}\r\n`), raw]);
}
