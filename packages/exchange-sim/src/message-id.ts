/** Reads the Message-ID header of a raw RFC 5322 message (folded headers allowed); undefined if absent. */
export function readMessageId(raw: Buffer): string | undefined {
  let end = raw.indexOf('\r\n\r\n');
  if (end < 0) end = raw.indexOf('\n\n');
  const header = raw.subarray(0, end < 0 ? raw.length : end).toString('utf8');
  const unfolded = header.replace(/\r?\n[ \t]+/g, ' ');
  const match = /^message-id[ \t]*:[ \t]*(.*)$/im.exec(unfolded);
  const value = match?.[1]?.trim();
  return value ? value : undefined;
}
