import { describe, expect, it } from 'vitest';
import { InMemoryWindowStore } from '../../src/state/memory-window.ts';
import { createInMemoryStore } from '../../src/state/memory-stores.ts';

const store = (retentionMs = 100, windowSizeMs = 10, retainDuplicates = false): InMemoryWindowStore<string, string> =>
  new InMemoryWindowStore<string, string>('w', { retentionMs, windowSizeMs, retainDuplicates });

describe('InMemoryWindowStore', () => {
  it('keeps one value per key and window start; a null put deletes it', () => {
    const s = store();
    s.put('a', 'one', 0);
    s.put('a', 'two', 0);
    s.put('a', 'ten', 10);
    expect(s.fetch('a', 0)).toBe('two');
    expect(s.fetch('a', 0, 10)).toEqual([{ key: 0, value: 'two' }, { key: 10, value: 'ten' }]);
    s.put('a', null, 0);
    expect(s.fetch('a', 0)).toBeUndefined();
    expect(s.fetch('a', 0, 100)).toEqual([{ key: 10, value: 'ten' }]);
  });

  it('fetches a time range inclusively, by window start', () => {
    const s = store();
    for (const t of [30, 10, 20, 0]) s.put('k', `v${t}`, t);
    expect(s.fetch('k', 10, 20).map((e) => e.key)).toEqual([10, 20]);
    expect(s.fetch('k', 0, 100).map((e) => e.key)).toEqual([0, 10, 20, 30]);
    expect(s.fetch('other', 0, 100)).toEqual([]);
  });

  it('fetchAll and all order by window start, then key, and report windows of the store size', () => {
    const s = store(100, 10);
    s.put('b', 'b0', 0);
    s.put('a', 'a5', 5);
    s.put('a', 'a0', 0);
    expect(s.all()).toEqual([
      { key: { key: 'a', window: { start: 0, end: 10 } }, value: 'a0' },
      { key: { key: 'b', window: { start: 0, end: 10 } }, value: 'b0' },
      { key: { key: 'a', window: { start: 5, end: 15 } }, value: 'a5' },
    ]);
    expect(s.fetchAll(1, 5).map((e) => e.value)).toEqual(['a5']);
  });

  it('drops windows that start at or before observed stream time minus retention', () => {
    const s = store(100);
    s.put('a', 'zero', 0);
    s.put('a', 'one', 1);
    expect(s.observedStreamTime).toBe(1);
    s.put('b', 'hundred', 100);
    expect(s.fetch('a', 0)).toBeUndefined();
    expect(s.fetch('a', 1)).toBe('one');
    expect(s.all().map((e) => e.value)).toEqual(['one', 'hundred']);
    s.put('a', 'late', 0);
    expect(s.fetch('a', 0, 100)).toEqual([{ key: 1, value: 'one' }]);
  });

  it('observed stream time is the largest window start put, whatever the key', () => {
    const s = store(10);
    s.put('a', 'x', 50);
    s.put('b', 'y', 45);
    s.put('c', 'z', 40);
    expect(s.observedStreamTime).toBe(50);
    expect(s.fetch('c', 40)).toBeUndefined();
    expect(s.fetch('b', 45)).toBe('y');
  });

  it('with retainDuplicates keeps every put, in insertion order, and ignores null puts', () => {
    const s = store(100, 10, true);
    s.put('k', 'first', 5);
    s.put('k', 'second', 5);
    s.put('k', 'early', 2);
    s.put('k', null, 5);
    expect(s.fetch('k', 0, 10)).toEqual([
      { key: 2, value: 'early' },
      { key: 5, value: 'first' },
      { key: 5, value: 'second' },
    ]);
    expect(s.fetch('k', 5)).toBe('first');
    expect(s.fetchAll(0, 10).map((e) => e.value)).toEqual(['early', 'first', 'second']);
  });

  it('records puts, deletes and expiries in its change log with the window start, only when enabled', () => {
    const s = store(10, 10);
    s.put('a', 'untracked', 0);
    expect(s.changes.size).toBe(0);
    s.changes.enabled = true;
    s.put('a', 'v', 5);
    s.put('b', 'w', 5);
    s.put('b', null, 5);
    expect(s.changes.take()).toEqual([
      { id: '5|a', key: 'a', value: 'v', windowStart: 5 },
      { id: '5|b', key: 'b', value: null, windowStart: 5 },
    ]);
    s.put('c', 'x', 20);
    expect(s.changes.take()).toEqual([
      { id: '0|a', key: 'a', value: null, windowStart: 0 },
      { id: '5|a', key: 'a', value: null, windowStart: 5 },
      { id: '20|c', key: 'c', value: 'x', windowStart: 20 },
    ]);
  });

  it('records duplicates with their sequence and restores them without recording', () => {
    const s = store(100, 0, true);
    s.changes.enabled = true;
    s.put('k', 'a', 1);
    s.put('k', 'b', 1);
    expect(s.changes.take()).toEqual([
      { id: '1|k|1', key: 'k', value: 'a', windowStart: 1, sequence: 1 },
      { id: '1|k|2', key: 'k', value: 'b', windowStart: 1, sequence: 2 },
    ]);
    const copy = store(100, 0, true);
    copy.changes.enabled = true;
    copy.restore('k', 1, 'b', 2);
    copy.restore('k', 1, 'a', 1);
    expect(copy.changes.size).toBe(0);
    expect(copy.fetch('k', 0, 5).map((e) => e.value)).toEqual(['a', 'b']);
    copy.put('k', 'c', 1);
    expect(copy.changes.take()).toEqual([{ id: '1|k|3', key: 'k', value: 'c', windowStart: 1, sequence: 3 }]);
  });

  it('restore follows retention like put', () => {
    const s = store(10);
    s.restore('a', 100, 'new');
    s.restore('a', 50, 'old');
    expect(s.observedStreamTime).toBe(100);
    expect(s.fetch('a', 0, 200)).toEqual([{ key: 100, value: 'new' }]);
  });

  it('non-string keys keep their identity and order numerically', () => {
    const s = new InMemoryWindowStore<number | string, string>('w', { retentionMs: 100, windowSizeMs: 1 });
    s.put(10, 'ten', 0);
    s.put(9, 'nine', 0);
    s.put('9', 'text', 0);
    expect(s.fetch(9, 0)).toBe('nine');
    expect(s.fetch('9', 0)).toBe('text');
    expect(s.fetchAll(0, 0).slice(0, 2).map((e) => e.key.key)).toEqual([9, 10]);
  });

  it('is what createInMemoryStore makes for a window spec', () => {
    const made = createInMemoryStore({ name: 'joins', type: 'window', retentionMs: 20, windowSizeMs: 10, retainDuplicates: true });
    expect(made).toBeInstanceOf(InMemoryWindowStore);
    expect((made as InMemoryWindowStore<string, number>).retainDuplicates).toBe(true);
    expect(() => createInMemoryStore({ name: 'bad', type: 'window' })).toThrow(/retentionMs/);
  });
});
