/** Addresses in the To, Cc and Bcc headers of a MIME message: where Graph's MIME sendMail takes the recipients from. */
export function mimeRecipients(raw: Buffer): string[] {
  let end = raw.indexOf('\r\n\r\n');
  if (end < 0) end = raw.indexOf('\n\n');
  const header = raw.subarray(0, end < 0 ? raw.length : end).toString('utf8').replace(/\r?\n[ \t]+/g, ' ');
  const found: string[] = [];
  for (const match of header.matchAll(/^(?:to|cc|bcc)[ \t]*:(.*)$/gim)) {
    for (const address of (match[1] ?? '').matchAll(/[^\s<>",;:]+@[^\s<>",;:]+/g)) found.push(address[0].toLowerCase());
  }
  return [...new Set(found)];
}
