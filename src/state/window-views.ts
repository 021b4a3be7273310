import type { KeyValue, ReadOnlyWindowStore, ValueAndTimestamp } from './store.ts';

/** A read-only, value-only view of a timestamped window store (the DSL's), for interactive queries and the test driver. */
export function valueOnlyWindowView<K, V>(store: ReadOnlyWindowStore<K, ValueAndTimestamp<V>>): ReadOnlyWindowStore<K, V> {
  function fetch(key: K, windowStart: number): V | undefined;
  function fetch(key: K, timeFrom: number, timeTo: number): KeyValue<number, V>[];
  function fetch(key: K, from: number, to?: number): V | undefined | KeyValue<number, V>[] {
    if (to === undefined) return store.fetch(key, from)?.value;
    return store.fetch(key, from, to).map((e) => ({ key: e.key, value: e.value.value }));
  }
  return {
    fetch,
    fetchAll: (timeFrom, timeTo) => store.fetchAll(timeFrom, timeTo).map((e) => ({ key: e.key, value: e.value.value })),
    all: () => store.all().map((e) => ({ key: e.key, value: e.value.value })),
  };
}

/** A read-only view of a window store: the same reads, no writes. */
export function readOnlyWindowView<K, V>(store: ReadOnlyWindowStore<K, V>): ReadOnlyWindowStore<K, V> {
  function fetch(key: K, windowStart: number): V | undefined;
  function fetch(key: K, timeFrom: number, timeTo: number): KeyValue<number, V>[];
  function fetch(key: K, from: number, to?: number): V | undefined | KeyValue<number, V>[] {
    return to === undefined ? store.fetch(key, from) : store.fetch(key, from, to);
  }
  return { fetch, fetchAll: (from, to) => store.fetchAll(from, to), all: () => store.all() };
}
