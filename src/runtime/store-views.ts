import type { Windowed } from '../serdes/serdes.ts';
import { compareKeys } from '../state/key-id.ts';
import type { KeyValue, KeyValueStore, ReadOnlyKeyValueStore, ReadOnlySessionStore, ReadOnlyVersionedKeyValueStore, ReadOnlyWindowStore, SessionStore, StateStore, ValueAndTimestamp, VersionedKeyValueStore, VersionedRecord, WindowStore } from '../state/store.ts';

/**
 * Read-only views over one store's instances in the tasks a process runs (interactive queries):
 * a lookup asks each instance, a scan merges them in key (or window, then key) order. Timestamped
 * (DSL) stores show values only. `stores` is called on every read, so the views follow rebalances.
 */

function unwrapper<V>(timestamped: boolean): (value: unknown) => V {
  return timestamped ? (value) => (value as ValueAndTimestamp<V>).value : (value) => value as V;
}

function byWindowThenKey<K>(a: KeyValue<Windowed<K>, unknown>, b: KeyValue<Windowed<K>, unknown>): number {
  return a.key.window.start - b.key.window.start || compareKeys(a.key.key, b.key.key);
}

/** A key-value store over its instances. */
export function keyValueView<K, V>(instances: () => StateStore[], timestamped: boolean): ReadOnlyKeyValueStore<K, V> {
  const unwrap = unwrapper<V>(timestamped);
  const stores = (): KeyValueStore<K, unknown>[] => instances() as KeyValueStore<K, unknown>[];
  const merge = (lists: KeyValue<K, unknown>[][]): KeyValue<K, V>[] =>
    lists.flat().sort((a, b) => compareKeys(a.key, b.key)).map((e) => ({ key: e.key, value: unwrap(e.value) }));
  return {
    get: (key) => {
      for (const store of stores()) {
        const value = store.get(key);
        if (value !== undefined) return unwrap(value);
      }
      return undefined;
    },
    range: (from, to) => merge(stores().map((s) => s.range(from, to))),
    all: () => merge(stores().map((s) => s.all())),
    approximateNumEntries: () => stores().reduce((n, s) => n + s.approximateNumEntries(), 0),
  };
}

/** A window store over its instances. */
export function windowView<K, V>(instances: () => StateStore[], timestamped: boolean): ReadOnlyWindowStore<K, V> {
  const unwrap = unwrapper<V>(timestamped);
  const stores = (): WindowStore<K, unknown>[] => instances() as WindowStore<K, unknown>[];
  function fetch(key: K, windowStart: number): V | undefined;
  function fetch(key: K, timeFrom: number, timeTo: number): KeyValue<number, V>[];
  function fetch(key: K, from: number, to?: number): V | undefined | KeyValue<number, V>[] {
    if (to === undefined) {
      for (const store of stores()) {
        const value = store.fetch(key, from);
        if (value !== undefined) return unwrap(value);
      }
      return undefined;
    }
    return stores().flatMap((s) => s.fetch(key, from, to)).sort((a, b) => a.key - b.key).map((e) => ({ key: e.key, value: unwrap(e.value) }));
  }
  return {
    fetch,
    fetchAll: (from, to) => stores().flatMap((s) => s.fetchAll(from, to)).sort(byWindowThenKey).map((e) => ({ key: e.key, value: unwrap(e.value) })),
    all: () => stores().flatMap((s) => s.all()).sort(byWindowThenKey).map((e) => ({ key: e.key, value: unwrap(e.value) })),
  };
}

/** A session store over its instances. */
export function sessionView<K, V>(instances: () => StateStore[]): ReadOnlySessionStore<K, V> {
  const stores = (): SessionStore<K, V>[] => instances() as SessionStore<K, V>[];
  return {
    fetch: (key) => stores().flatMap((s) => s.fetch(key)).sort(byWindowThenKey),
    findSessions: (key, earliestEnd, latestStart) => stores().flatMap((s) => s.findSessions(key, earliestEnd, latestStart)).sort(byWindowThenKey),
    fetchSession: (key, start, end) => {
      for (const store of stores()) {
        const value = store.fetchSession(key, start, end);
        if (value !== undefined) return value;
      }
      return undefined;
    },
    all: () => stores().flatMap((s) => s.all()).sort(byWindowThenKey),
  };
}

/** A versioned store over its instances: a key lives in one task's store, so the first that knows it answers. */
export function versionedView<K, V>(instances: () => StateStore[]): ReadOnlyVersionedKeyValueStore<K, V> {
  const stores = (): VersionedKeyValueStore<K, V>[] => instances() as VersionedKeyValueStore<K, V>[];
  function get(key: K): VersionedRecord<V> | undefined;
  function get(key: K, asOfTimestamp: number): VersionedRecord<V> | undefined;
  function get(key: K, asOfTimestamp?: number): VersionedRecord<V> | undefined {
    for (const store of stores()) {
      const found = asOfTimestamp === undefined ? store.get(key) : store.get(key, asOfTimestamp);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  return {
    get,
    getVersions: (key, query) => {
      for (const store of stores()) {
        const versions = store.getVersions(key, query);
        if (versions.length > 0) return versions;
      }
      return [];
    },
  };
}
