import { describe, expect, it } from 'vitest';
import { counterTotal, decodeHeaderWords, formatCount, formatDuration, groupByMailbox, historyColumns, messagesPerMinute, ratePressure, rejections, share, slotTiles, timeAgo } from './static/format.js';

const holder = (slot: number, token: number, expiresInMs = 15_000) => ({ slot, token, host: 'web-1', worker: `w${slot}`, heldForMs: 2_000, expiresInMs });

describe('slot tiles', () => {
  it('shows one tile per slot with holders, free and cool-down slots', () => {
    const tiles = slotTiles({ limit: 3, effectiveLimit: 2, holders: [holder(1, 7)] }, 0, 0);
    expect(tiles.map((t) => [t.slot, t.state, t.label])).toEqual([
      [1, 'held', 'web-1·w1'],
      [2, 'free', undefined],
      [3, 'blocked', undefined],
    ]);
  });

  it('keeps showing a slot held above a lowered limit', () => {
    const tiles = slotTiles({ limit: 1, effectiveLimit: 1, holders: [holder(1, 1), holder(3, 2)] }, 0, 0);
    expect(tiles.map((t) => t.state)).toEqual(['held', 'over', 'held']);
  });

  it('counts held-for up and expires-in down between refreshes and flags a missed renewal', () => {
    const longest = new Map([[7, 15_000]]);
    const [fresh] = slotTiles({ limit: 1, effectiveLimit: 1, holders: [holder(1, 7, 15_000)] }, 1_000, 4_000, longest);
    expect(fresh).toMatchObject({ state: 'held', heldForMs: 5_000, expiresInMs: 12_000 });
    const [late] = slotTiles({ limit: 1, effectiveLimit: 1, holders: [holder(1, 7, 15_000)] }, 1_000, 13_000, longest);
    expect(late).toMatchObject({ state: 'expiring', expiresInMs: 3_000 });
  });
});

describe('figures', () => {
  it('splits 432s from other rejections', () => {
    expect(rejections({ sent: 9, 'rejections:432': 3, 'rejections:421': 1, 'rejections:554': 2 })).toEqual({ code432: 3, other: 3 });
  });

  it('sums a counter over its reply codes', () => {
    expect(counterTotal({ sent: 9, failed: 1, 'failed:554': 2, 'failed:550': 1, failedish: 5 }, 'failed')).toBe(4);
    expect(counterTotal(undefined, 'failed')).toBe(0);
  });

  it('computes messages per minute once samples span 5 s', () => {
    expect(messagesPerMinute([{ at: 0, sent: 0 }, { at: 1_000, sent: 5 }])).toBeNull();
    expect(messagesPerMinute([{ at: 0, sent: 10 }, { at: 30_000, sent: 25 }])).toBe(30);
  });

  it('formats durations, counts and shares', () => {
    expect([formatDuration(999), formatDuration(75_000), formatDuration(3_960_000)]).toEqual(['0s', '1m 15s', '1h 6m']);
    expect([formatCount(999), formatCount(1234), formatCount(12_345), formatCount(2_500_000)]).toEqual(['999', '1.23k', '12.3k', '2.5M']);
    expect([share(5, 10), share(20, 10), share(1, 0)]).toEqual([0.5, 1, 0]);
    expect(ratePressure({ perMinute: 30, availableNow: 0, nextFreeInMs: 1000 })).toBe(0.5);
    expect(ratePressure({ perMinute: 30, availableNow: 1, nextFreeInMs: 0 })).toBe(0);
  });
});

describe('fleet views', () => {
  it('turns history points into chart columns, spool gaps kept as null', () => {
    const point = (at: string, sent: number, spoolDepth: number | null) => ({ at, sent, deferred: 1, failed: 0, rejections432: 2, slotGrants: 3, slotWaitSeconds: 0.5, spoolDepth });
    const columns = historyColumns([point('2026-01-01T10:00:00.000Z', 4, 7), point('2026-01-01T10:01:00.000Z', 0, null)]);
    expect(columns.x).toEqual([1767261600, 1767261660]);
    expect(columns.sent).toEqual([4, 0]);
    expect(columns.rejections432).toEqual([2, 2]);
    expect(columns.slotWaitSeconds).toEqual([0.5, 0.5]);
    expect(columns.spoolDepth).toEqual([7, null]);
  });

  it('groups dead letters by mailbox, newest first', () => {
    const letter = (mailbox: string, failedAt: string) => ({ mailbox, failedAt });
    expect(groupByMailbox([letter('b@x', '2026-01-01T10:00:00Z'), letter('a@x', '2026-01-01T09:00:00Z'), letter('b@x', '2026-01-01T11:00:00Z')])).toEqual([
      ['a@x', [letter('a@x', '2026-01-01T09:00:00Z')]],
      ['b@x', [letter('b@x', '2026-01-01T11:00:00Z'), letter('b@x', '2026-01-01T10:00:00Z')]],
    ]);
  });

  it('decodes RFC 2047 encoded words in a subject, leaving plain and broken text alone', () => {
    expect(decodeHeaderWords('=?UTF-8?Q?Rechnung_f=C3=BCr_M=C3=A4rz?=')).toBe('Rechnung für März');
    expect(decodeHeaderWords('=?utf-8?B?0J/RgNC40LLQtdGC?= =?UTF-8?Q?_world?=')).toBe('Привет world');
    expect(decodeHeaderWords('=?ISO-8859-1?Q?Caf=E9?= au lait')).toBe('Café au lait');
    expect(decodeHeaderWords('Q3 report =?x-unknown?Q?abc?=')).toBe('Q3 report =?x-unknown?Q?abc?=');
    expect(decodeHeaderWords('plain <b>text</b>')).toBe('plain <b>text</b>');
  });

  it('tells the age of an ISO time', () => {
    expect(timeAgo('2026-01-01T10:00:00.000Z', Date.parse('2026-01-01T10:02:05.000Z'))).toBe('2m 5s ago');
    expect(timeAgo('not a time', 0)).toBe('–');
  });
});
