/* global atob, TextDecoder */
// Pure helpers shared by the page and its unit tests (no DOM access here).

/** Below this share of the longest remaining time seen for a lease, its tile shows "expiring". */
export const EXPIRING_SHARE = 0.25;

/** 1234 → "1s", 75_000 → "1m 15s", 4_000_000 → "1h 6m". */
export function formatDuration(ms) {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  const hours = Math.floor(minutes / 60);
  return `${hours}h ${minutes % 60}m`;
}

/** 12_345 → "12.3k". */
export function formatCount(value) {
  if (value < 1000) return String(value);
  if (value < 1_000_000) return `${(value / 1000).toFixed(value < 10_000 ? 2 : 1)}k`;
  return `${(value / 1_000_000).toFixed(1)}M`;
}

/**
 * The slot tiles of a mailbox: one per slot up to the larger of the configured and effective
 * limits (and any slot still held above them after a limit was lowered).
 * `now` and `fetchedAt` are local ms, used to count held-for and expires-in between refreshes.
 * `longestExpiry` maps a lease token to the longest expires-in seen for it (≈ the lease TTL).
 */
export function slotTiles(mailbox, fetchedAt, now, longestExpiry) {
  const elapsed = Math.max(0, now - fetchedAt);
  const held = new Map(mailbox.holders.map((holder) => [holder.slot, holder]));
  const highestHeld = mailbox.holders.reduce((max, holder) => Math.max(max, holder.slot), 0);
  const count = Math.max(mailbox.limit, mailbox.effectiveLimit, highestHeld);
  const tiles = [];
  for (let slot = 1; slot <= count; slot++) {
    const holder = held.get(slot);
    if (!holder) {
      // blocked: within the configured limit but not granted during a 432 cool-down;
      // over: above a lowered limit, shown only because a higher slot is still held.
      const state = slot <= mailbox.effectiveLimit ? 'free' : slot <= mailbox.limit ? 'blocked' : 'over';
      tiles.push({ slot, state });
      continue;
    }
    const expiresInMs = Math.max(0, holder.expiresInMs - elapsed);
    const longest = Math.max(longestExpiry?.get(holder.token) ?? 0, holder.expiresInMs);
    tiles.push({
      slot,
      state: expiresInMs < longest * EXPIRING_SHARE ? 'expiring' : 'held',
      holder,
      label: `${holder.host}·${holder.worker}`,
      heldForMs: holder.heldForMs + elapsed,
      expiresInMs,
    });
  }
  return tiles;
}

/** 432 rejections and all other upstream rejections from a mailbox's counters. */
export function rejections(counters) {
  let code432 = 0;
  let other = 0;
  for (const [name, value] of Object.entries(counters ?? {})) {
    const match = /^rejections?(?::(.*))?$/.exec(name);
    if (!match) continue;
    if (match[1] === '432') code432 += value;
    else other += value;
  }
  return { code432, other };
}

/** A counter summed over its codes: `failed` plus every `failed:<code>`. */
export function counterTotal(counters, name) {
  let total = 0;
  for (const [key, value] of Object.entries(counters ?? {})) if (key === name || key.startsWith(`${name}:`)) total += value;
  return total;
}

/**
 * Messages per minute from (local ms, sent counter) samples, oldest first. Null until the
 * samples span at least `minSpanMs`.
 */
export function messagesPerMinute(samples, minSpanMs = 5000) {
  if (samples.length < 2) return null;
  const first = samples[0];
  const last = samples[samples.length - 1];
  const span = last.at - first.at;
  if (span < minSpanMs) return null;
  return Math.max(0, ((last.sent - first.sent) / span) * 60_000);
}

/** Share (0..1) of a budget in use, for the rate and quota bars. */
export function share(used, total) {
  if (!(total > 0)) return 0;
  return Math.min(1, Math.max(0, used / total));
}

/**
 * How close the shared rate limit is (0..1): the wait until the next message may start, over
 * the spacing the limit imposes (GCRA without bursts: one message every 60 s / perMinute).
 */
export function ratePressure(rate) {
  if (!(rate.perMinute > 0)) return 0;
  return share(rate.nextFreeInMs, 60_000 / rate.perMinute);
}

/** "12m 3s ago" for an ISO time, counted from `now` (local ms). */
export function timeAgo(iso, now) {
  const at = Date.parse(iso);
  return Number.isNaN(at) ? '–' : `${formatDuration(now - at)} ago`;
}

/**
 * The history API's per-minute points as the columns a chart takes: `x` in Unix seconds, then
 * one array per figure. Spool depth stays null for minutes no agent reported in (a gap, not 0).
 */
export function historyColumns(points) {
  const columns = { x: [], sent: [], failed: [], deferred: [], rejections432: [], slotWaitSeconds: [], spoolDepth: [] };
  for (const point of points) {
    columns.x.push(Math.floor(Date.parse(point.at) / 1000));
    columns.sent.push(point.sent);
    columns.failed.push(point.failed);
    columns.deferred.push(point.deferred);
    columns.rejections432.push(point.rejections432);
    columns.slotWaitSeconds.push(point.slotWaitSeconds);
    columns.spoolDepth.push(point.spoolDepth);
  }
  return columns;
}

/** Dead letters by mailbox (sorted by address), newest failure first within each. */
export function groupByMailbox(deadLetters) {
  const groups = new Map();
  for (const letter of deadLetters) {
    if (!groups.has(letter.mailbox)) groups.set(letter.mailbox, []);
    groups.get(letter.mailbox).push(letter);
  }
  for (const letters of groups.values()) letters.sort((a, b) => b.failedAt.localeCompare(a.failedAt));
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b));
}

const ENCODED_WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;

/**
 * A header as people read it: RFC 2047 encoded words (`=?UTF-8?Q?Rechnung_f=C3=BCr?=`) decoded.
 * The agents store the Subject as written; a word that cannot be decoded is left as it is.
 */
export function decodeHeaderWords(text) {
  // Whitespace between two adjacent encoded words is not part of the text (RFC 2047, 6.2).
  return text.replace(/(\?=)\s+(?==\?)/g, '$1').replace(ENCODED_WORD, (word, charset, encoding, data) => {
    try {
      const bytes = encoding.toUpperCase() === 'B' ? Uint8Array.from(atob(data), (c) => c.charCodeAt(0)) : quotedBytes(data);
      return new TextDecoder(charset.split('*')[0]).decode(bytes);
    } catch {
      return word;
    }
  });
}

/** The bytes of a "Q"-encoded word: `_` is a space, `=XX` a byte in hex. */
function quotedBytes(data) {
  const bytes = [];
  for (let i = 0; i < data.length; i++) {
    const hex = data.slice(i + 1, i + 3);
    if (data[i] === '_') bytes.push(0x20);
    else if (data[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(data.charCodeAt(i));
  }
  return Uint8Array.from(bytes);
}
