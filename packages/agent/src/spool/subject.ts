/** Subjects longer than this are cut (they are for lists, not for reading the message). */
const MAX_SUBJECT = 300;

/**
 * The Subject header of a raw message, unfolded and as written (encoded words stay encoded), or
 * undefined when it has none. Only the header block is looked at.
 */
export function subjectOf(raw: Buffer): string | undefined {
  const ends = [raw.indexOf('\r\n\r\n'), raw.indexOf('\n\n')].filter((i) => i >= 0);
  const head = raw.subarray(0, ends.length > 0 ? Math.min(...ends) : Math.min(raw.length, 64 * 1024)).toString('utf8');
  const match = /^subject:[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(head);
  if (!match) return undefined;
  return match[1]!.replace(/\r?\n[ \t]+/g, ' ').trim().slice(0, MAX_SUBJECT);
}
