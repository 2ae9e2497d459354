import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Checks local AUTH credentials in constant time (no early exit on the first wrong byte). */
export function checkRelayUser(users: Array<{ user: string; pass: string }>, user: string, pass: string): boolean {
  let ok = false;
  for (const entry of users) {
    const match = timingSafeEqual(digest(entry.user), digest(user)) && timingSafeEqual(digest(entry.pass), digest(pass));
    ok = ok || match;
  }
  return ok;
}
