/**
 * Exactly-once restore replays a store's changelog records (the Redis field and encoded value of
 * each change, null for a delete) with `PersistedStore.apply`: the replayed store holds what the
 * original held, and records the replay as changes (so that Redis catches up at the next commit).
 */
import { describe, expect, it } from 'vitest';
import { Serdes } from '../../src/serdes/serdes.ts';
import { createInMemoryStore } from '../../src/state/memory-stores.ts';
import { persistedStore, type PersistedStore } from '../../src/state/redis-codec.ts';
import type { KeyValueStore, SessionStore, StateStore, StoreSpec, VersionedKeyValueStore, WindowStore } from '../../src/state/store.ts';

function persisted(spec: StoreSpec): { store: StateStore; persisted: PersistedStore } {
  const store = createInMemoryStore(spec);
  const bound = persistedStore('trib:{app:0_0}', store, spec)!;
  bound.changes.enabled = true;
  return { store, persisted: bound };
}

/** What a commit writes to the changelog: the pending changes as (field, value | null), then taken. */
function changelog(bound: PersistedStore): Array<[string, string | null]> {
  const records = bound.changes.peek().map((c): [string, string | null] => [bound.field(c), c.value === null ? null : bound.encodeValue(c.value)]);
  expect(bound.changes.take()).toHaveLength(records.length);
  return records;
}

function replay(spec: StoreSpec, records: Array<[string, string | null]>): { store: StateStore; persisted: PersistedStore } {
  const target = persisted(spec);
  for (const [field, value] of records) target.persisted.apply(field, value);
  return target;
}

describe('PersistedStore.apply (changelog replay)', () => {
  it('a key-value store replays puts and deletes, recorded as changes', () => {
    const spec: StoreSpec = { name: 'totals', type: 'key-value', keySerde: Serdes.string(), valueSerde: Serdes.json(), timestamped: true };
    const { store, persisted: bound } = persisted(spec);
    const kv = store as KeyValueStore<string, unknown>;
    kv.put('a', { value: { count: 1 }, timestamp: 10 });
    kv.put('b', { value: { count: 1 }, timestamp: 11 });
    const log = changelog(bound);
    kv.put('a', { value: { count: 2 }, timestamp: 12 });
    kv.delete('b');
    log.push(...changelog(bound));
    const copy = replay(spec, log);
    expect((copy.store as KeyValueStore<string, unknown>).all()).toEqual(kv.all());
    expect(copy.persisted.changes.peek().map((c) => [c.key, c.value])).toEqual([['a', { value: { count: 2 }, timestamp: 12 }], ['b', null]]);
  });

  it('window stores (with and without duplicates) and session stores replay to the same contents', () => {
    const windows: StoreSpec = { name: 'w', type: 'window', retentionMs: 1_000, windowSizeMs: 100 };
    const duplicates: StoreSpec = { ...windows, name: 'd', retainDuplicates: true };
    const sessions: StoreSpec = { name: 's', type: 'session', retentionMs: 1_000 };
    for (const spec of [windows, duplicates]) {
      const { store, persisted: bound } = persisted(spec);
      const w = store as WindowStore<string, number>;
      w.put('x', 1, 0);
      w.put('x', 2, 0);
      w.put('y', 3, 100);
      if (!spec.retainDuplicates) w.put('y', null, 100);
      w.put('z', 4, 2_000);
      const copy = replay(spec, changelog(bound));
      expect((copy.store as WindowStore<string, number>).all()).toEqual(w.all());
    }
    const { store, persisted: bound } = persisted(sessions);
    const s = store as SessionStore<string, number>;
    s.put({ key: 'u', window: { start: 0, end: 10 } }, 1);
    s.remove({ key: 'u', window: { start: 0, end: 10 } });
    s.put({ key: 'u', window: { start: 0, end: 20 } }, 2);
    const copy = replay(sessions, changelog(bound));
    expect((copy.store as SessionStore<string, number>).all()).toEqual(s.all());
  });

  it('a versioned store replays its versions, deletions included, to the same history', () => {
    const spec: StoreSpec = { name: 'v', type: 'key-value', versioned: { historyRetentionMs: 100, segmentIntervalMs: 10 }, keySerde: Serdes.string(), valueSerde: Serdes.string() };
    const { store, persisted: bound } = persisted(spec);
    const v = store as VersionedKeyValueStore<string, string>;
    v.put('a', 'a0', 0);
    v.put('a', 'a5', 50);
    v.put('a', null, 30);
    v.put('b', 'b1', 10);
    const log = changelog(bound);
    v.put('c', 'c2', 200);
    log.push(...changelog(bound));
    const copy = replay(spec, log).store as VersionedKeyValueStore<string, string>;
    for (const [key, at] of [['a', 25], ['a', 35], ['a', 60], ['b', 150], ['c', 200]] as const) expect(copy.get(key, at)).toEqual(v.get(key, at));
    expect(copy.get('a', 35)).toBeUndefined();
    expect(copy.get('a', 120)).toEqual({ value: 'a5', timestamp: 50 });
    expect(copy.all()).toEqual(v.all());
  });
});
