import { describe, expect, it } from 'vitest';
import { SessionRanking } from './session-ranking.js';

describe('SessionRanking', () => {
  it('ranks by authentication order and moves later sessions up when earlier ones end', () => {
    const ranking = new SessionRanking(() => 0);
    ['a', 'b', 'c', 'd'].forEach((id) => ranking.addSession(id));
    expect(['a', 'b', 'c', 'd'].map((id) => ranking.rankOf(id))).toEqual([1, 2, 3, 4]);
    ranking.endSession('b', 0);
    expect(ranking.rankOf('d')).toBe(3);
    expect(ranking.rankOf('b')).toBeUndefined();
    expect(ranking.peakSessions).toBe(4);
  });

  it('puts outside sessions at the back, or at the front when asked', () => {
    const ranking = new SessionRanking(() => 0);
    ranking.addSession('a');
    const [back] = ranking.occupy(1, false);
    const front = ranking.occupy(2, true);
    expect(ranking.rankOf('a')).toBe(3);
    ranking.addSession('b');
    expect(ranking.rankOf('b')).toBe(5);
    expect(ranking.release([back!])).toBe(1);
    expect(ranking.rankOf('b')).toBe(4);
    expect(ranking.externalIds()).toEqual(front);
    expect(ranking.counts()).toEqual({ sessions: 2, external: 2, ghosts: 0, counted: 4 });
    expect(ranking.peakSessions).toBe(2);
    expect(ranking.peakCounted).toBe(5);
  });

  it('keeps a dropped session in place as a ghost until its period ends', () => {
    let now = 1000;
    const ranking = new SessionRanking(() => now);
    ranking.addSession('a');
    ranking.addSession('b');
    ranking.endSession('a', 500);
    expect(ranking.rankOf('b')).toBe(2);
    expect(ranking.counts()).toMatchObject({ sessions: 1, ghosts: 1, counted: 2 });
    now += 499;
    expect(ranking.rankOf('b')).toBe(2);
    now += 1;
    expect(ranking.rankOf('b')).toBe(1);
    expect(ranking.counts()).toMatchObject({ ghosts: 0, counted: 1 });
  });
});
