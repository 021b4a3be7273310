import { describe, expect, it } from 'vitest';
import { InMemorySessionStore } from '../../src/state/memory-session.ts';
import { createInMemoryStore } from '../../src/state/memory-stores.ts';
import type { Windowed } from '../../src/serdes/serdes.ts';

const session = (key: string, start: number, end: number): Windowed<string> => ({ key, window: { start, end } });

describe('InMemorySessionStore', () => {
  it('stores aggregates per key and session, and fetches one exact session', () => {
    const s = new InMemorySessionStore<string, number>('s', { retentionMs: 1_000 });
    s.put(session('a', 0, 10), 2);
    s.put(session('a', 0, 10), 3);
    s.put(session('a', 100, 100), 1);
    expect(s.fetchSession('a', 0, 10)).toBe(3);
    expect(s.fetchSession('a', 0, 11)).toBeUndefined();
    expect(s.fetch('a')).toEqual([
      { key: session('a', 0, 10), value: 3 },
      { key: session('a', 100, 100), value: 1 },
    ]);
  });

  it('findSessions returns sessions with end >= earliestEnd and start <= latestStart, by start', () => {
    const s = new InMemorySessionStore<string, number>('s', { retentionMs: 1_000 });
    s.put(session('k', 0, 5), 1);
    s.put(session('k', 20, 30), 2);
    s.put(session('k', 50, 50), 3);
    expect(s.findSessions('k', 6, 49).map((e) => e.value)).toEqual([2]);
    expect(s.findSessions('k', 5, 50).map((e) => e.value)).toEqual([1, 2, 3]);
    expect(s.findSessions('k', 31, 100).map((e) => e.value)).toEqual([3]);
    expect(s.findSessions('other', 0, 100)).toEqual([]);
  });

  it('remove and a null put delete a session', () => {
    const s = new InMemorySessionStore<string, number>('s', { retentionMs: 1_000 });
    s.put(session('k', 0, 5), 1);
    s.put(session('k', 10, 15), 2);
    s.remove(session('k', 0, 5));
    s.put(session('k', 10, 15), null);
    expect(s.fetch('k')).toEqual([]);
  });

  it('all() orders by session start, then key', () => {
    const s = new InMemorySessionStore<string, number>('s', { retentionMs: 1_000 });
    s.put(session('b', 0, 0), 1);
    s.put(session('a', 5, 9), 2);
    s.put(session('a', 0, 3), 3);
    expect(s.all().map((e) => `${e.key.key}@${e.key.window.start}/${e.key.window.end}`)).toEqual(['a@0/3', 'b@0/0', 'a@5/9']);
  });

  it('drops sessions that end at or before observed stream time minus retention', () => {
    const s = new InMemorySessionStore<string, number>('s', { retentionMs: 10 });
    s.put(session('a', 0, 5), 1);
    s.put(session('b', 0, 6), 2);
    s.put(session('c', 15, 15), 3);
    expect(s.observedStreamTime).toBe(15);
    expect(s.fetch('a')).toEqual([]);
    expect(s.fetchSession('b', 0, 6)).toBe(2);
    s.put(session('a', 0, 4), 9);
    expect(s.fetch('a')).toEqual([]);
  });

  it('records puts, removals and expiries with start and end, only when enabled', () => {
    const s = new InMemorySessionStore<string, number>('s', { retentionMs: 10 });
    s.put(session('a', 0, 1), 1);
    expect(s.changes.size).toBe(0);
    s.changes.enabled = true;
    s.put(session('b', 2, 3), 2);
    s.remove(session('b', 2, 3));
    s.put(session('c', 20, 20), 3);
    const changes = s.changes.take();
    expect(changes).toContainEqual({ id: '2|3|b', key: 'b', value: null, windowStart: 2, windowEnd: 3 });
    expect(changes).toContainEqual({ id: '0|1|a', key: 'a', value: null, windowStart: 0, windowEnd: 1 });
    expect(changes).toContainEqual({ id: '20|20|c', key: 'c', value: 3, windowStart: 20, windowEnd: 20 });
    expect(changes).toHaveLength(3);
  });

  it('restores sessions without recording them', () => {
    const s = new InMemorySessionStore<string, number>('s', { retentionMs: 10 });
    s.changes.enabled = true;
    s.restore(session('a', 0, 30), 7);
    s.restore(session('a', 0, 5), 1);
    expect(s.changes.size).toBe(0);
    expect(s.fetch('a')).toEqual([{ key: session('a', 0, 30), value: 7 }]);
  });

  it('is what createInMemoryStore makes for a session spec', () => {
    expect(createInMemoryStore({ name: 'sessions', type: 'session', retentionMs: 5 })).toBeInstanceOf(InMemorySessionStore);
  });
});
